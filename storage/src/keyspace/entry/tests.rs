//! Unit tests of the entry layout.
use super::*;

fn make(key: &[u8], value: &[u8], expire: Option<i64>, spare: usize) -> Entry {
    Entry::new_string(NewString {
        key,
        value,
        encoding: Encoding::for_value(value),
        expire,
        spare,
        lru: 0x00ab_cdef,
    })
}

#[test]
fn layout_round_trips() {
    for expire in [None, Some(-5), Some(i64::MAX)] {
        for spare in [0, 7] {
            let e = make(b"key", b"value", expire, spare);
            let v = e.view();
            assert_eq!(v.key(), b"key");
            assert_eq!(v.value(), b"value");
            assert_eq!(v.expire(), expire);
            assert_eq!(v.lru(), 0x00ab_cdef);
            assert_eq!(v.spare(), spare);
            assert_eq!(v.encoding(), Encoding::Embstr);
            assert_eq!(v.value_type(), ValueType::String);
            assert_eq!(v.ext(), Ext::default());
        }
    }
    let e = make(b"", b"", None, 0);
    assert_eq!((e.view().key(), e.view().value()), (&b""[..], &b""[..]));
}

#[test]
fn extension_fields_round_trip() {
    for ext in [
        Ext {
            mc: Some((0xdead_beef, u64::MAX - 3)),
            version: None,
        },
        Ext {
            mc: None,
            version: Some(42),
        },
        Ext {
            mc: Some((1, 2)),
            version: Some(3),
        },
    ] {
        for expire in [None, Some(77)] {
            let n = NewString {
                key: b"k",
                value: b"v",
                encoding: Encoding::Embstr,
                expire,
                spare: 3,
                lru: 9,
            };
            let e = Entry::new_string_ext(n, ext);
            let v = e.view();
            assert_eq!(
                (v.key(), v.value(), v.expire(), v.ext()),
                (&b"k"[..], &b"v"[..], expire, ext)
            );
            // Moving the value to a new key keeps the extension fields.
            let e = e.rekey(b"other");
            assert_eq!((e.view().key(), e.view().ext()), (&b"other"[..], ext));
        }
    }
    // A plain string pays nothing for the room.
    let plain = make(b"k", b"v", None, 0);
    assert_eq!(plain.view().alloc_size(), HEADER + 2);
}

#[test]
fn in_place_updates() {
    let e = make(b"k", b"12", Some(10), 0);
    let p = e.into_raw();
    let mut m = unsafe { Mut::from_ptr(p) };
    assert!(m.set_value_in_place(b"34", Encoding::Int));
    assert!(!m.set_value_in_place(b"345", Encoding::Int));
    assert!(m.set_expire_in_place(20));
    m.set_lru(7);
    let e = unsafe { Entry::from_raw(p) };
    assert_eq!(
        (e.view().value(), e.view().expire(), e.view().lru()),
        (&b"34"[..], Some(20), 7)
    );
    assert!(e.view().is_shared());
    let e = make(b"k", b"ab", None, 4);
    let p = e.into_raw();
    let mut m = unsafe { Mut::from_ptr(p) };
    assert!(m.set_value_in_place(b"abcdef", Encoding::Raw));
    assert!(!m.set_value_in_place(b"abcdefg", Encoding::Raw));
    let e = unsafe { Entry::from_raw(p) };
    assert_eq!(e.view().value(), b"abcdef");
    assert_eq!(e.view().spare(), 0);
}

#[test]
fn big_strings_are_boxed_and_grow_in_place() {
    let big = vec![b'x'; BIG_STRING + 1];
    let e = make(b"k", &big, None, 0);
    assert_eq!(e.view().entry_kind(), kind::BIG_STRING);
    assert_eq!(e.view().value(), &big[..]);
    assert_eq!(e.view().encoding_name(), "raw");
    let p = e.into_raw();
    let mut m = unsafe { Mut::from_ptr(p) };
    assert!(m.write_at(big.len() + 10, b"tail"));
    let e = unsafe { Entry::from_raw(p) };
    let v = e.view().value();
    assert_eq!(v.len(), big.len() + 14);
    assert_eq!(&v[big.len()..big.len() + 10], &[0; 10]);
    assert_eq!(&v[v.len() - 4..], b"tail");
    let copy = e.clone_as(b"copy", 0);
    assert_eq!(copy.view().value(), e.view().value());
    let moved = e.rekey(b"moved");
    assert_eq!(moved.view().value(), copy.view().value());
    assert_eq!(moved.view().key(), b"moved");
}

#[test]
fn encodings() {
    assert_eq!(Encoding::for_value(b"123"), Encoding::Int);
    assert_eq!(Encoding::for_value(b"-9223372036854775808"), Encoding::Int);
    assert_eq!(Encoding::for_value(b"0123"), Encoding::Embstr);
    assert_eq!(Encoding::for_value(&[b'a'; 44]), Encoding::Embstr);
    assert_eq!(Encoding::for_value(&[b'a'; 45]), Encoding::Raw);
    assert!(make(b"k", b"9999", None, 0).view().is_shared());
    assert!(!make(b"k", b"10000", None, 0).view().is_shared());
    assert!(!make(b"k", b"9999", None, 0)
        .clone_as(b"c", 0)
        .view()
        .is_shared());
}

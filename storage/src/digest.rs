//! `DEBUG DIGEST` and `DEBUG DIGEST-VALUE`: redis-server's SHA-1 digests of the dataset and
//! of single values, so a test suite can compare two servers (or a server before and after
//! a reload) value by value.
//!
//! The algorithm is redis-server's (`debug.c`): `xor(d, data)` xors SHA1(data) into `d`;
//! `mix(d, data)` does that and then replaces `d` by SHA1(`d`), so mixing is
//! order-sensitive and xoring is not. A value's digest mixes its type number, then:
//! a string's bytes; a list's elements in order; for sets, the xor of the members; for
//! sorted sets and hashes, the xor of each element's own digest (member then `%.17g`
//! score; field then value); for streams, each entry's `ms.seq` ID, fields and values in
//! order. A key with a TTL xors in `!!expire!!`. The dataset digest mixes each non-empty
//! database's number (big-endian u32) and xors in `mix(key)` followed by the value's digest
//! for every key, so key order does not matter.

use sha1::{Digest, Sha1};

use crate::keyspace::entry::{ValueType, View};
use crate::keyspace::Keyspace;
use crate::types::Hash;

/// A 20-byte digest.
pub type Digest20 = [u8; 20];

fn xor(d: &mut Digest20, data: &[u8]) {
    let h = Sha1::digest(data);
    for (a, b) in d.iter_mut().zip(h.iter()) {
        *a ^= b;
    }
}

fn mix(d: &mut Digest20, data: &[u8]) {
    xor(d, data);
    let h = Sha1::digest(&d[..]);
    d.copy_from_slice(&h);
}

/// redis-server's type numbers (`OBJ_STRING` …), which the digest mixes in.
fn type_number(t: ValueType) -> u32 {
    match t {
        ValueType::String => 0,
        ValueType::List => 1,
        ValueType::Set => 2,
        ValueType::ZSet => 3,
        ValueType::Hash => 4,
        ValueType::Stream => 6,
    }
}

/// The digest of one value (`DEBUG DIGEST-VALUE`), mixed into `d`.
pub fn value_digest(v: &View<'_>, d: &mut Digest20) {
    mix(d, &type_number(v.value_type()).to_be_bytes());
    match v.value_type() {
        ValueType::String => mix(d, v.value()),
        ValueType::Hash => {
            if let Some(h) = v.collection::<Hash>() {
                for (f, x) in h.iter() {
                    let mut e = [0u8; 20];
                    mix(&mut e, f);
                    mix(&mut e, x);
                    xor(d, &e);
                }
            }
        }
        // The other types mix in their elements once they are stored (see the module doc).
        ValueType::List | ValueType::Set | ValueType::ZSet | ValueType::Stream => {
            crate::types::digest_elements(v, d, &mut DigestOps { mix, xor });
        }
    }
    if v.expire().is_some() {
        xor(d, b"!!expire!!");
    }
}

/// The two operations a type's elements are digested with, handed to the type modules.
pub struct DigestOps {
    /// Order-sensitive: xor SHA1(data) in, then hash the digest.
    pub mix: fn(&mut Digest20, &[u8]),
    /// Order-insensitive: xor SHA1(data) in.
    pub xor: fn(&mut Digest20, &[u8]),
}

/// The digest of every database (`DEBUG DIGEST`): 40 zeros for an empty dataset.
pub fn dataset_digest(ks: &Keyspace) -> Digest20 {
    let mut fin = [0u8; 20];
    for (i, db) in ks.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix(&mut fin, &(i as u32).to_be_bytes());
        for v in db.iter() {
            let mut d = [0u8; 20];
            mix(&mut d, v.key());
            value_digest(&v, &mut d);
            xor(&mut fin, &d);
        }
    }
    fin
}

/// A digest in lower-case hex, as DEBUG prints it.
pub fn hex(d: &Digest20) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

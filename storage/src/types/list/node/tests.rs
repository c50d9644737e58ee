//! The node format against a `Vec` model.

use super::*;
use proptest::prelude::*;

fn items(n: &Node) -> Vec<Vec<u8>> {
    n.view().iter().map(|e| e.to_vec()).collect()
}

#[test]
fn shares_prefixes_with_the_base() {
    let mut n = Node::new();
    n.push_back(b"value:000000");
    let one = n.size();
    n.push_back(b"value:000123");
    // One head byte, three bytes of rest, one back-length byte.
    assert_eq!(n.size() - one, 5);
    let two = n.size();
    n.push_back(b"value:000001");
    assert_eq!(n.size() - two, 3);
    n.push_front(b"other");
    n.push_back(b"");
    n.push_back(&[b'x'; 300]);
    assert_eq!(
        items(&n),
        vec![
            b"other".to_vec(),
            b"value:000000".to_vec(),
            b"value:000123".to_vec(),
            b"value:000001".to_vec(),
            vec![],
            vec![b'x'; 300]
        ]
    );
    let rev: Vec<Vec<u8>> = n.view().iter().rev().map(|e| e.to_vec()).collect();
    assert_eq!(rev.len(), 6);
    assert_eq!(rev[0], vec![b'x'; 300]);
    assert_eq!(rev[5], b"other");
    assert!(n.view().get(3).unwrap().eq_bytes(b"value:000001"));
    assert!(!n.view().get(3).unwrap().eq_bytes(b"value:000002"));
}

#[test]
fn long_shared_prefixes_use_the_extension_byte() {
    let a = [b'a'; 40];
    let mut b = a;
    b[39] = b'b';
    let mut n = Node::new();
    n.push_back(&a);
    n.push_back(&b);
    n.push_back(&a[..20]);
    assert_eq!(items(&n), vec![a.to_vec(), b.to_vec(), a[..20].to_vec()]);
    assert_eq!(n.view().base().len(), BASE_MAX);
}

#[test]
fn split_append_and_remove() {
    let mut n = Node::new();
    for i in 0..10 {
        n.push_back(format!("e{i}").as_bytes());
    }
    let right = n.split_off(4);
    assert_eq!(n.len(), 4);
    assert_eq!(right.len(), 6);
    assert!(right.view().get(0).unwrap().eq_bytes(b"e4"));
    let mut other = Node::new();
    other.push_back(b"zzz");
    other.push_back(b"e1");
    n.append(other.view());
    n.append(right.view());
    assert_eq!(n.len(), 12);
    assert_eq!(n.remove_matching(b"e1", 0, false), 2);
    n.remove_front(2);
    n.remove_back(3);
    let got: Vec<String> = items(&n)
        .into_iter()
        .map(|v| String::from_utf8(v).unwrap())
        .collect();
    assert_eq!(got, vec!["e3", "zzz", "e4", "e5", "e6"]);
}

proptest! {
    #[test]
    fn behaves_like_a_vec(ops in proptest::collection::vec((0u8..9, any::<u16>(), proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..60)), 0..80)) {
        let mut n = Node::new();
        let mut model: Vec<Vec<u8>> = Vec::new();
        for (op, at, e) in ops {
            let i = if model.is_empty() { 0 } else { at as usize % (model.len() + 1) };
            let pos = n.view().pos_of(i);
            match op {
                0 => { n.push_back(&e); model.push(e); }
                1 => { n.push_front(&e); model.insert(0, e); }
                2 => { n.insert_at(pos, &e); model.insert(i, e); }
                3 if i < model.len() => { n.remove_at(pos); model.remove(i); }
                4 if i < model.len() => { n.replace_at(pos, &e); model[i] = e; }
                5 => { n.remove_front(i); model.drain(..i); }
                6 => { n.remove_back(i); let k = model.len() - i; model.truncate(k); }
                7 => {
                    let want = model.get(i).cloned().unwrap_or_default();
                    let max = usize::from(at as u8 % 3);
                    let from_back = at & 256 != 0;
                    let positions: Vec<usize> = model.iter().enumerate().filter(|(_, x)| **x == want).map(|(k, _)| k).collect();
                    let take = if max == 0 { positions.len() } else { positions.len().min(max) };
                    let gone: Vec<usize> = if from_back { positions[positions.len() - take..].to_vec() } else { positions[..take].to_vec() };
                    prop_assert_eq!(n.remove_matching(&want, max, from_back), take);
                    for k in gone.into_iter().rev() { model.remove(k); }
                }
                8 => {
                    let right = n.split_off(i);
                    let tail = model.split_off(i);
                    prop_assert_eq!(items(&right), tail.clone());
                    n.append(right.view());
                    model.extend(tail);
                }
                _ => {}
            }
            prop_assert_eq!(n.len(), model.len());
            prop_assert_eq!(items(&n), model.clone());
            let rev: Vec<Vec<u8>> = n.view().iter().rev().map(|e| e.to_vec()).collect();
            let mut m = model.clone();
            m.reverse();
            prop_assert_eq!(rev, m);
        }
    }
}

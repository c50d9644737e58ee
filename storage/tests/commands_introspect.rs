//! COMMAND INFO / DOCS reply shapes that only show in RESP3.

mod common;
use cachegate_protocols::resp::Frame;
use common::*;

#[test]
fn command_info_without_subcommands_is_an_empty_set() {
    let mut h = Harness::new();
    h.resp3 = true;
    let Frame::Array(entries) = h.run(&["COMMAND", "INFO", "get", "object"]) else {
        panic!("not an array");
    };
    let Frame::Array(get) = &entries[0] else {
        panic!("not an entry");
    };
    assert_eq!(get[9], Frame::Set(vec![]));
    let Frame::Array(object) = &entries[1] else {
        panic!("not an entry");
    };
    assert!(matches!(&object[9], Frame::Array(subs) if subs.len() == 5));
}

#[test]
fn command_docs_history_is_a_set_of_pairs() {
    let mut h = Harness::new();
    h.resp3 = true;
    let Frame::Map(docs) = h.run(&["COMMAND", "DOCS", "exists", "get"]) else {
        panic!("not a map");
    };
    let field = |d: &Frame, name: &str| match d {
        Frame::Map(fields) => fields
            .iter()
            .find(|(k, _)| *k == Frame::bulk(name))
            .map(|(_, v)| v.clone()),
        _ => None,
    };
    let history = field(&docs[0].1, "history").expect("EXISTS has a history");
    let Frame::Set(changes) = history else {
        panic!("history is not a set");
    };
    let Frame::Array(first) = &changes[0] else {
        panic!("not a pair");
    };
    assert_eq!(first[0], Frame::bulk("3.0.3"));
    assert_eq!(field(&docs[1].1, "history"), None, "GET has no history");
}

//! Prints the slowest single insert while a keyspace grows to 4M keys: resizes are
//! incremental, so no insert should pay for rehashing the whole index.
use cachegate_storage::clock::SystemClock;
use cachegate_storage::keyspace::entry::Encoding;
use cachegate_storage::keyspace::Ttl;
use cachegate_storage::Store;
use std::time::Instant;

fn main() {
    let mut store = Store::new(1, Box::new(SystemClock));
    let db = store.keyspace.db_mut(0);
    let value = [b'v'; 64];
    let (mut worst, mut at) = (0u128, 0usize);
    let start = Instant::now();
    for i in 0..4_000_000usize {
        let key = format!("key:{i:012}");
        let t = Instant::now();
        let found = db.find(key.as_bytes());
        db.set_string(key.as_bytes(), found, &value, Encoding::Raw, Ttl::Clear, 0);
        let e = t.elapsed().as_micros();
        if e > worst {
            (worst, at) = (e, i);
        }
    }
    println!(
        "4M inserts in {:?}; slowest insert {worst} us (insert #{at})",
        start.elapsed()
    );
}

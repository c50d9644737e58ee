//! Bytes per item of the memcached store: 1M items with 16-byte keys and 64-byte values.
//!
//! Prints two measurements: the growth of the process's resident set (what the OS sees,
//! allocator overhead and all) and the store's own accounting (items as a glibc-style
//! allocator rounds them, plus the index), each divided by the item count.
//!
//! ```text
//! cargo run --release -p cachegate-storage --example mc_memory [items]
//! ```

use cachegate_storage::clock::SystemClock;
use cachegate_storage::mc::{Expiry, McConfig, McStore, StoreMode, StoreOutcome, StoreRequest};

/// Resident set size in bytes, from /proc/self/statm (Linux).
fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn main() {
    let items: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let config = McConfig {
        max_bytes: 8 << 30,
        ..McConfig::default()
    };
    let store = McStore::new(config, Box::new(SystemClock));
    let value = [b'v'; 64];
    let before = rss();
    for i in 0..items {
        let key = format!("key:{i:012}");
        let outcome = store.store(StoreRequest {
            key: key.as_bytes(),
            flags: 0,
            exptime: Expiry::Never,
            value: &value,
            mode: StoreMode::Set,
            cas: None,
        });
        assert_eq!(outcome, StoreOutcome::Stored);
    }
    let after = rss();
    let st = store.stats();
    let per = |b: u64| b as f64 / items as f64;
    println!("items                 {}", st.curr_items);
    println!("key + value           {:.1} B/item", per(items * 80));
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "RSS growth            {:.1} B/item",
            per(a.saturating_sub(b))
        );
    }
    println!("store accounting      {:.1} B/item", per(st.malloced));
    println!("  of which index      {:.1} B/item", per(st.hash_bytes));
    println!("  item bytes (stats)  {:.1} B/item", per(st.bytes));
}

//! What SCAN, HSCAN, SSCAN and ZSCAN share (redis-server's `scanGenericCommand`): the
//! `[MATCH pattern] [COUNT count] [TYPE type]` options and the reply shape.

use cachegate_config::glob::{Case, Pattern};
use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::{self, is};
use super::CommandError;

/// Parsed scan options.
pub struct ScanOpts<'a> {
    /// COUNT (default 10).
    pub count: i64,
    /// MATCH, unless it is `*` (which matches everything).
    pub pattern: Option<Pattern>,
    /// TYPE (SCAN only), as a C string.
    pub type_filter: Option<&'a [u8]>,
}

impl<'a> ScanOpts<'a> {
    /// Parses options from argument `from` on; `allow_type` for SCAN.
    pub fn parse(args: &Args<'a>, from: usize, allow_type: bool) -> Result<Self, CommandError> {
        let mut o = ScanOpts {
            count: 10,
            pattern: None,
            type_filter: None,
        };
        let mut i = from;
        while i < args.len() {
            let remaining = args.len() - i;
            let opt = args.get(i);
            if is(opt, "COUNT") && remaining >= 2 {
                o.count = args::int(args.get(i + 1))?;
                if o.count < 1 {
                    return Err(CommandError::Syntax);
                }
            } else if is(opt, "MATCH") && remaining >= 2 {
                let p = args.get(i + 1);
                o.pattern = (p != b"*").then(|| Pattern::new(p, Case::Sensitive));
            } else if allow_type && is(opt, "TYPE") && remaining >= 2 {
                o.type_filter = Some(args::cstr(args.get(i + 1)));
            } else {
                return Err(CommandError::Syntax);
            }
            i += 2;
        }
        Ok(o)
    }

    /// True if `item` passes MATCH.
    pub fn matches(&self, item: &[u8]) -> bool {
        match &self.pattern {
            Some(p) => p.matches(item),
            None => true,
        }
    }
}

/// Writes a scan reply: the next cursor (as a bulk string) and the flat list of items.
pub fn reply<I: AsRef<[u8]>>(out: &mut ReplyBuf, cursor: u64, items: &[I]) {
    out.array(2);
    let mut n = itoa::Buffer::new();
    out.bulk(n.format(cursor).as_bytes());
    out.array(items.len());
    for i in items {
        out.bulk(i.as_ref());
    }
}

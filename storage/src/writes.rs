//! The write stream: what every change to the keyspace reports, as it happens (DESIGN
//! decisions 6 and 14).
//!
//! A command that changes the keyspace
//!
//! * counts **dirty** ([`WriteStream::dirty`], `rdb_changes_since_last_save`);
//! * signals each key it modified with `Store::signal_modified(db, key)` — what WATCH,
//!   keyspace notifications, blocked clients and client tracking hang off;
//! * emits its **replayable form** into this batch's stream: the commands that, replayed on
//!   another store in order, make the same change. By default that is the command as sent;
//!   a handler whose command would not replay identically (relative TTLs, random choices,
//!   floats, blocking forms) gives its replacement with [`WriteStream::propagate`] — the
//!   rules redis-server 7.0 follows with `rewriteClientCommandVector` and `alsoPropagate`.
//!   Keys the server deletes on its own (a lookup finding an expired key, the active expiry
//!   cycle) are emitted as `DEL` with [`WriteStream::also_propagate`].
//!
//! The stream is RESP, one multibulk per command, with `SELECT` inserted whenever the
//! database changes, which is what the AOF and the replication stream carry. Nothing reads
//! it in production yet; it is recorded only while [`WriteStream::enabled`] is set (the
//! AOF and replicas will set it; tests do), so a server with neither pays one branch per
//! write, as redis-server skips propagation without AOF or replicas.

use cachegate_protocols::resp::request::Args;

/// The write stream of a store; see the module doc.
#[derive(Debug, Default)]
pub struct WriteStream {
    /// Changes since the last save (`server.dirty`).
    pub dirty: u64,
    /// Record the replayable forms (otherwise only `dirty` and signals are kept).
    pub enabled: bool,
    /// RESP commands not yet taken by a consumer.
    buf: Vec<u8>,
    /// The database the last command in the stream applies to.
    db: Option<usize>,
    /// The replacement form of the command running now, if its handler gave one.
    replacement: Vec<u8>,
    /// The handler gave a replacement (possibly empty: propagate nothing).
    replaced: bool,
    /// `dirty` when the command running now started.
    dirty_before: u64,
    /// Commands in the current call's replacement.
    replacement_count: usize,
    /// The command running now is emitted even if it changed nothing (FLUSHALL on an empty
    /// server still reaches replicas, as in redis-server).
    forced: bool,
}

/// Appends `argv` to `out` as a RESP multibulk.
pub fn encode_command<'a>(out: &mut Vec<u8>, argv: impl ExactSizeIterator<Item = &'a [u8]>) {
    encode_counted(out, argv.len(), argv)
}

/// [`encode_command`] for an iterator of known length `n`.
fn encode_counted<'a>(out: &mut Vec<u8>, n: usize, argv: impl Iterator<Item = &'a [u8]>) {
    out.push(b'*');
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(buf.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

impl WriteStream {
    fn select(&mut self, db: usize) {
        if self.db != Some(db) {
            let mut n = itoa::Buffer::new();
            encode_command(
                &mut self.buf,
                [&b"SELECT"[..], n.format(db).as_bytes()].into_iter(),
            );
            self.db = Some(db);
        }
    }

    /// Marks the start of a command.
    pub(crate) fn begin_call(&mut self) {
        self.dirty_before = self.dirty;
        self.replaced = false;
        self.replacement.clear();
        self.replacement_count = 0;
        self.forced = false;
    }

    /// Ends a command run in database `db` with arguments `args`: if it changed anything,
    /// its replayable form joins the stream.
    pub(crate) fn end_call(&mut self, db: usize, args: &Args<'_>) {
        if !self.enabled || (self.dirty == self.dirty_before && !self.forced) {
            return;
        }
        if self.replaced {
            if self.replacement_count > 0 {
                self.select(db);
                self.buf.extend_from_slice(&self.replacement);
            }
        } else {
            self.select(db);
            encode_counted(&mut self.buf, args.len(), args.iter());
        }
    }

    /// Counts `n` changes.
    pub fn add_dirty(&mut self, n: u64) {
        self.dirty += n;
    }

    /// Gives (part of) the replayable form of the command running now, in place of the
    /// command as sent; call it once per command of the replacement, in order. Calling
    /// [`WriteStream::propagate_nothing`] instead leaves the command out of the stream.
    pub fn propagate(&mut self, argv: &[&[u8]]) {
        self.replaced = true;
        if self.enabled {
            encode_command(&mut self.replacement, argv.iter().copied());
            self.replacement_count += 1;
        }
    }

    /// Emits the command running now even if it changes nothing (`forceCommandPropagation`).
    pub fn force(&mut self) {
        self.forced = true;
    }

    /// The command running now changes nothing another store needs to replay.
    pub fn propagate_nothing(&mut self) {
        self.replaced = true;
    }

    /// Emits `argv` for database `db` now, whether or not the command running changes
    /// anything (a key the server deleted because it expired).
    pub fn also_propagate(&mut self, db: usize, argv: &[&[u8]]) {
        if self.enabled {
            self.select(db);
            encode_command(&mut self.buf, argv.iter().copied());
        }
    }

    /// The database a consumer resuming the stream after [`WriteStream::take`] must be in,
    /// if any command was emitted.
    pub fn current_db(&self) -> Option<usize> {
        self.db
    }

    /// Takes what the stream holds (RESP commands).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// What the stream holds, without taking it.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachegate_protocols::resp::request::lay_out;

    #[test]
    fn commands_are_resp_with_select_on_db_change() {
        let mut w = WriteStream {
            enabled: true,
            ..WriteStream::default()
        };
        let (base, spans) = lay_out(&[b"SET", b"k", b"v"]);
        let args = Args::new(&base, &spans);
        w.begin_call();
        w.end_call(0, &args);
        assert!(w.pending().is_empty(), "nothing changed, nothing emitted");
        w.begin_call();
        w.add_dirty(1);
        w.end_call(0, &args);
        w.begin_call();
        w.add_dirty(1);
        w.propagate(&[b"SET", b"k", b"v", b"PXAT", b"5"]);
        w.end_call(0, &args);
        w.also_propagate(3, &[b"DEL", b"x"]);
        assert_eq!(
            String::from_utf8_lossy(&w.take()),
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n\
             *5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$4\r\nPXAT\r\n$1\r\n5\r\n\
             *2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$3\r\nDEL\r\n$1\r\nx\r\n"
        );
        assert_eq!(w.dirty, 2);
    }
}

//! [`Socket`]: the streams connection tasks serve (TCP and Unix), read by readiness so that
//! an idle connection holds no input buffer.
//!
//! A task waits for [`Socket::readable`] and only then makes sure it has a buffer to read
//! into; after the bytes are handled and the connection goes quiet the buffer is given back.
//! This is what Redis does with its query buffer, and what lets thousands of idle
//! connections cost a few hundred bytes each instead of a 16 KiB buffer each.

use std::future::Future;
use std::io;

use bytes::BytesMut;
use tokio::io::AsyncWrite;
use tokio::net::{TcpStream, UnixStream};

/// A stream a connection task reads by readiness and writes asynchronously.
pub trait Socket: AsyncWrite + Unpin + Send + 'static {
    /// Resolves when the socket may have bytes to read (or has closed).
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_;
    /// Reads what is available into `buf` without waiting; `WouldBlock` if nothing is.
    fn try_read_into(&self, buf: &mut BytesMut) -> io::Result<usize>;
    /// Reads what is available into a slice without waiting.
    fn try_read_into_slice(&self, buf: &mut [u8]) -> io::Result<usize>;
}

impl Socket for TcpStream {
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        TcpStream::readable(self)
    }
    fn try_read_into(&self, buf: &mut BytesMut) -> io::Result<usize> {
        self.try_read_buf(buf)
    }
    fn try_read_into_slice(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_read(buf)
    }
}

impl Socket for UnixStream {
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        UnixStream::readable(self)
    }
    fn try_read_into(&self, buf: &mut BytesMut) -> io::Result<usize> {
        self.try_read_buf(buf)
    }
    fn try_read_into_slice(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_read(buf)
    }
}

/// What one read attempt found.
pub enum Read {
    /// This many bytes were appended.
    Data(usize),
    /// Nothing yet (a spurious wake-up).
    Nothing,
    /// The peer closed the connection, or it failed.
    Closed,
}

/// Waits until `sock` is readable, then reads into `buf`, first giving it room for at least
/// `min_room` bytes. A buffer with no allocation yet is only given one once bytes have
/// really arrived: readiness can be reported when there is nothing to read (a socket's
/// first registration does), and an idle connection must not pay a buffer for it.
pub async fn read_some<S: Socket>(sock: &S, buf: &mut BytesMut, min_room: usize) -> Read {
    if sock.readable().await.is_err() {
        return Read::Closed;
    }
    if buf.capacity() == 0 {
        let mut first = [0u8; 1024];
        let mut probe = BytesMut::new();
        return match sock.try_read_into_slice(&mut first) {
            Ok(0) => Read::Closed,
            Ok(n) => {
                probe.reserve(min_room.max(n));
                probe.extend_from_slice(&first[..n]);
                *buf = probe;
                // A full probe means more may be waiting: take it now, so a read here gets
                // what one read into a real buffer would have (the reference servers'
                // replies depend on what one read brings).
                let more = if n == first.len() {
                    sock.try_read_into(buf).unwrap_or(0)
                } else {
                    0
                };
                Read::Data(n + more)
            }
            Err(e) => no_data(&e),
        };
    }
    if buf.capacity() - buf.len() < min_room {
        buf.reserve(min_room);
    }
    match sock.try_read_into(buf) {
        Ok(0) => Read::Closed,
        Ok(n) => Read::Data(n),
        Err(e) => no_data(&e),
    }
}

/// A failed non-blocking read: nothing yet, or the connection is gone.
fn no_data(e: &io::Error) -> Read {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Read::Nothing,
        _ => Read::Closed,
    }
}

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
}

impl Socket for TcpStream {
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        TcpStream::readable(self)
    }
    fn try_read_into(&self, buf: &mut BytesMut) -> io::Result<usize> {
        self.try_read_buf(buf)
    }
}

impl Socket for UnixStream {
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        UnixStream::readable(self)
    }
    fn try_read_into(&self, buf: &mut BytesMut) -> io::Result<usize> {
        self.try_read_buf(buf)
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
/// `min_room` bytes.
pub async fn read_some<S: Socket>(sock: &S, buf: &mut BytesMut, min_room: usize) -> Read {
    if sock.readable().await.is_err() {
        return Read::Closed;
    }
    if buf.capacity() - buf.len() < min_room {
        buf.reserve(min_room);
    }
    match sock.try_read_into(buf) {
        Ok(0) => Read::Closed,
        Ok(n) => Read::Data(n),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Read::Nothing,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Read::Nothing,
        Err(_) => Read::Closed,
    }
}

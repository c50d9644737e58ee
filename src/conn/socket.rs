//! [`Socket`]: the streams connection tasks serve (TCP and Unix), read by readiness so that
//! an idle connection holds no input buffer.
//!
//! A task waits for [`Socket::readable`] and only then makes sure it has a buffer to read
//! into; after the bytes are handled and the connection goes quiet the buffer is given back.
//! This is what Redis does with its query buffer, and what lets thousands of idle
//! connections cost a few hundred bytes each instead of a 16 KiB buffer each.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

/// A stream a connection task reads by readiness and writes asynchronously.
pub trait Socket: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// Resolves when the socket may have bytes to read (or has closed).
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_;
}

impl Socket for TcpStream {
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        TcpStream::readable(self)
    }
}

impl Socket for UnixStream {
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        UnixStream::readable(self)
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
pub async fn read_some<S: Socket>(sock: &mut S, buf: &mut BytesMut, min_room: usize) -> Read {
    if sock.readable().await.is_err() {
        return Read::Closed;
    }
    if buf.capacity() == 0 {
        let mut first = [0u8; 1024];
        let mut probe = ReadBuf::new(&mut first);
        return match poll_once(pin!(std::future::poll_fn(|cx| {
            std::pin::Pin::new(&mut *sock).poll_read(cx, &mut probe)
        }))) {
            Poll::Ready(Ok(())) => {
                let n = probe.filled().len();
                if n == 0 {
                    return Read::Closed;
                }
                buf.reserve(min_room.max(n));
                buf.extend_from_slice(probe.filled());
                // A full probe means more may be waiting: take it now, so a read here gets
                // what one read into a real buffer would have (the reference servers'
                // replies depend on what one read brings).
                let more = if n == first.len() {
                    match poll_once(pin!(sock.read_buf(buf))) {
                        Poll::Ready(Ok(m)) => m,
                        _ => 0,
                    }
                } else {
                    0
                };
                Read::Data(n + more)
            }
            Poll::Ready(Err(e)) => no_data(&e),
            Poll::Pending => Read::Nothing,
        };
    }
    if buf.capacity() - buf.len() < min_room {
        buf.reserve(min_room);
    }
    match poll_once(pin!(sock.read_buf(buf))) {
        Poll::Ready(Ok(0)) => Read::Closed,
        Poll::Ready(Ok(n)) => Read::Data(n),
        Poll::Ready(Err(e)) => no_data(&e),
        Poll::Pending => Read::Nothing,
    }
}

/// Polls a read once, without waiting: the socket has just been reported readable.
///
/// Reading through `poll_read` rather than `try_read` matters: tokio's `poll_read` takes
/// a short read as proof the socket is drained and clears its readiness, where `try_read`
/// keeps it until a read fails with `WouldBlock` — one wasted `recvfrom` per request.
/// A read that does find nothing (a spurious wake-up) clears the readiness and registers
/// the no-op waker, which the next `readable()` replaces with the task's own.
fn poll_once<T>(fut: std::pin::Pin<&mut impl Future<Output = T>>) -> Poll<T> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// A failed non-blocking read: nothing yet, or the connection is gone.
fn no_data(e: &io::Error) -> Read {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Read::Nothing,
        _ => Read::Closed,
    }
}

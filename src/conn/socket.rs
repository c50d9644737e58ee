//! [`Socket`]: the streams connection tasks serve (TCP and Unix), and [`poll_read_some`],
//! the one way they are read, built so that an idle connection holds no input buffer and
//! its task's future stays small.
//!
//! A read is polled, not awaited: the connection task polls its socket, its mailbox and
//! its timer from one `poll_fn`, so what it keeps while it waits is a few references —
//! tokio's `readable()` and `Notify::notified()` futures are over two hundred bytes
//! together, and every idle connection would carry them. An empty buffer is lent one from
//! the thread's cache (`conn::pool`) only for the read, and keeps it only if bytes came:
//! readiness can be reported when there is nothing to read (a socket's first registration
//! does), and an idle connection must not pay a 16 KiB buffer for it. Once the bytes are
//! handled the connection gives the buffer back.
//!
//! Reading through `poll_read` matters for speed too: tokio takes a short read as proof
//! the socket is drained and clears its readiness, so the next poll waits for the kernel's
//! next event instead of trying a read that fails with `WouldBlock` — one wasted `recvfrom`
//! per request with `try_read`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};
use tokio_util::io::poll_read_buf;

use super::pool;

/// A stream a connection task reads by polling and writes asynchronously.
pub trait Socket: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl Socket for TcpStream {}

impl Socket for UnixStream {}

/// What one read found.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// This many bytes were appended.
    Data(usize),
    /// The peer closed the connection, or it failed.
    Closed,
}

/// Reads what `sock` has into `buf`, first giving it room for at least `min_room` bytes;
/// `Pending` (with the task's waker registered) while there is nothing to read.
pub fn poll_read_some<S: Socket>(
    sock: &mut S,
    buf: &mut BytesMut,
    min_room: usize,
    cx: &mut Context<'_>,
) -> Poll<Read> {
    // An empty buffer without the full room reads into one from the thread's cache, which
    // goes back at once if nothing came: making room here would allocate it for every
    // connection that merely waits.
    if buf.is_empty() && buf.capacity() < min_room {
        let mut fresh = pool::take_input(min_room);
        return match poll_read_buf(Pin::new(sock), cx, &mut fresh) {
            Poll::Ready(Ok(n)) if n > 0 => {
                *buf = fresh;
                Poll::Ready(Read::Data(n))
            }
            other => {
                pool::give_input(&mut fresh);
                match other {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(e)) => failed(&e, cx),
                    Poll::Ready(Ok(_)) => Poll::Ready(Read::Closed),
                }
            }
        };
    }
    if buf.capacity() - buf.len() < min_room {
        buf.reserve(min_room);
    }
    match poll_read_buf(Pin::new(sock), cx, buf) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Ok(0)) => Poll::Ready(Read::Closed),
        Poll::Ready(Ok(n)) => Poll::Ready(Read::Data(n)),
        Poll::Ready(Err(e)) => failed(&e, cx),
    }
}

/// A failed read: interrupted (try again) or the connection is gone.
fn failed(e: &io::Error, cx: &mut Context<'_>) -> Poll<Read> {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        _ => Poll::Ready(Read::Closed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// Waits for what [`poll_read_some`] reads.
    async fn read_some<S: Socket>(sock: &mut S, buf: &mut BytesMut, min_room: usize) -> Read {
        std::future::poll_fn(|cx| poll_read_some(sock, buf, min_room, cx)).await
    }

    #[tokio::test]
    async fn an_empty_buffer_gets_one_only_when_bytes_arrive() {
        let (mut a, mut b) = UnixStream::pair().expect("socket pair");
        let mut buf = BytesMut::new();
        let waited = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            read_some(&mut a, &mut buf, 4096),
        )
        .await;
        assert!(waited.is_err(), "nothing was sent, so the read waits");
        assert_eq!(buf.capacity(), 0, "waiting holds no buffer");
        b.write_all(b"PING\r\n").await.expect("write");
        assert_eq!(read_some(&mut a, &mut buf, 4096).await, Read::Data(6));
        assert_eq!(&buf[..], b"PING\r\n");
        assert!(buf.capacity() >= 4096);
    }

    #[tokio::test]
    async fn a_partial_request_is_kept_and_read_onto() {
        let (mut a, mut b) = UnixStream::pair().expect("socket pair");
        b.write_all(b"*1\r\n$4\r\nPI").await.expect("write");
        let mut buf = BytesMut::new();
        assert_eq!(read_some(&mut a, &mut buf, 64).await, Read::Data(10));
        b.write_all(b"NG\r\n").await.expect("write");
        assert_eq!(read_some(&mut a, &mut buf, 64).await, Read::Data(4));
        assert_eq!(&buf[..], b"*1\r\n$4\r\nPING\r\n");
    }

    #[tokio::test]
    async fn a_closed_peer_reads_as_closed_with_or_without_a_buffer() {
        let (mut a, b) = UnixStream::pair().expect("socket pair");
        drop(b);
        let mut empty = BytesMut::new();
        assert_eq!(read_some(&mut a, &mut empty, 16).await, Read::Closed);
        let (mut a, b) = UnixStream::pair().expect("socket pair");
        drop(b);
        let mut held = BytesMut::with_capacity(64);
        assert_eq!(read_some(&mut a, &mut held, 16).await, Read::Closed);
    }
}

//! [`Socket`]: the streams connection tasks serve (TCP and Unix), and [`poll_read_some`],
//! the one way they are read, built so that an idle connection holds no input buffer and
//! its task's future stays small.
//!
//! A read is polled, not awaited: the connection task polls its socket, its mailbox and
//! its timer from one `poll_fn`, so what it keeps while it waits is a few references —
//! tokio's `readable()` and `Notify::notified()` futures are over two hundred bytes
//! together, and every idle connection would carry them. An empty buffer is only given an
//! allocation once bytes have really arrived (the first bytes land in a stack array):
//! readiness can be reported when there is nothing to read (a socket's first registration
//! does), and an idle connection must not pay a 16 KiB buffer for it. After the bytes are
//! handled and the connection goes quiet the buffer is given back, as Redis does with its
//! query buffer.
//!
//! Reading through `poll_read` matters for speed too: tokio takes a short read as proof
//! the socket is drained and clears its readiness, so the next poll waits for the kernel's
//! next event instead of trying a read that fails with `WouldBlock` — one wasted `recvfrom`
//! per request with `try_read`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_util::io::poll_read_buf;

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

/// Bytes an empty buffer's first read takes on the stack before the buffer is allocated.
const PROBE: usize = 1024;

/// Reads what `sock` has into `buf`, first giving it room for at least `min_room` bytes;
/// `Pending` (with the task's waker registered) while there is nothing to read.
pub fn poll_read_some<S: Socket>(
    sock: &mut S,
    buf: &mut BytesMut,
    min_room: usize,
    cx: &mut Context<'_>,
) -> Poll<Read> {
    if buf.capacity() == 0 {
        let mut first = [0u8; PROBE];
        let mut probe = ReadBuf::new(&mut first);
        match Pin::new(&mut *sock).poll_read(cx, &mut probe) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return failed(&e, cx),
            Poll::Ready(Ok(())) => {}
        }
        let n = probe.filled().len();
        if n == 0 {
            return Poll::Ready(Read::Closed);
        }
        buf.reserve(min_room.max(n));
        buf.extend_from_slice(probe.filled());
        // A full probe means more may be waiting: take it now, so a read here gets what
        // one read into a real buffer would have (the reference servers' replies depend
        // on what one read brings). What it finds or fails with, the next read sees again.
        let more = if n == PROBE {
            match poll_read_buf(Pin::new(sock), cx, buf) {
                Poll::Ready(Ok(m)) => m,
                _ => 0,
            }
        } else {
            0
        };
        return Poll::Ready(Read::Data(n + more));
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
    async fn an_empty_buffer_is_allocated_only_when_bytes_arrive() {
        let (mut a, mut b) = UnixStream::pair().expect("socket pair");
        let mut buf = BytesMut::new();
        let waited = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            read_some(&mut a, &mut buf, 4096),
        )
        .await;
        assert!(waited.is_err(), "nothing was sent, so the read waits");
        assert_eq!(buf.capacity(), 0);
        b.write_all(b"PING\r\n").await.expect("write");
        assert_eq!(read_some(&mut a, &mut buf, 4096).await, Read::Data(6));
        assert_eq!(&buf[..], b"PING\r\n");
        assert!(buf.capacity() >= 4096);
    }

    #[tokio::test]
    async fn a_full_probe_takes_the_rest_in_the_same_read() {
        let (mut a, mut b) = UnixStream::pair().expect("socket pair");
        let sent = vec![b'x'; 3 * PROBE];
        b.write_all(&sent).await.expect("write");
        let mut buf = BytesMut::new();
        assert_eq!(
            read_some(&mut a, &mut buf, 16 * 1024).await,
            Read::Data(sent.len())
        );
        assert_eq!(&buf[..], &sent[..]);
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

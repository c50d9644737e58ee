//! [`Mailbox`]: how the rest of the server reaches a Redis connection (DESIGN decision 15).
//!
//! Each connection owns one, registered with its entry in the client registry; its task
//! waits on it beside its socket. Whoever holds the keyspace (another connection's batch,
//! CLIENT KILL, CLIENT UNBLOCK) posts [`Mail`] without waiting: a served blocked command's
//! reply, a kill; pub/sub messages, tracking invalidations and MONITOR lines will come the
//! same way.
//!
//! A mailbox is a small queue and the waiting task's waker behind one mutex: an idle
//! connection's costs under a hundred bytes, where a tokio channel preallocates a block of
//! slots, and the task polls it ([`Mailbox::poll_take`]) beside its socket without holding
//! a `Notify` future. It is bounded: past [`MAILBOX_LIMIT`] queued messages a post fails
//! and the poster decides (a kill is always accepted).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

/// Messages a mailbox holds at most.
pub const MAILBOX_LIMIT: usize = 1024;

/// What can be posted to a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mail {
    /// Reply bytes to write: a blocked command that was served, timed out or unblocked.
    Reply(Vec<u8>),
    /// Close the connection (CLIENT KILL, the idle `timeout`, shutdown), after writing
    /// what was posted before.
    Kill,
    /// A CLIENT PAUSE ended early (CLIENT UNPAUSE).
    Unpause,
    /// The connection has been quiet: give its buffers back.
    Release,
}

/// A connection's mailbox; see the module doc.
#[derive(Debug, Default)]
pub struct Mailbox {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    queue: VecDeque<Mail>,
    /// The task that last found the mailbox empty.
    waker: Option<Waker>,
}

impl Mailbox {
    /// An empty mailbox.
    pub fn new() -> Self {
        Mailbox::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Posts `mail`. Returns false if the mailbox is full (a kill is never refused).
    pub fn post(&self, mail: Mail) -> bool {
        let mut inner = self.lock();
        if inner.queue.len() >= MAILBOX_LIMIT && mail != Mail::Kill {
            return false;
        }
        inner.queue.push_back(mail);
        let waker = inner.waker.take();
        drop(inner);
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    /// Takes the next message, if any, without waiting.
    pub fn try_take(&self) -> Option<Mail> {
        Self::pop(&mut self.lock())
    }

    fn pop(inner: &mut Inner) -> Option<Mail> {
        let m = inner.queue.pop_front();
        if m.is_some() && inner.queue.is_empty() {
            // Mail is rare (a release, a kill, a blocked reply): an emptied mailbox gives
            // its queue back rather than keep it on every idle connection.
            inner.queue = VecDeque::new();
        }
        m
    }

    /// Takes the next message, or registers the task to be woken by the next post.
    pub fn poll_take(&self, cx: &mut Context<'_>) -> Poll<Mail> {
        let mut inner = self.lock();
        if let Some(m) = Self::pop(&mut inner) {
            return Poll::Ready(m);
        }
        match &inner.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => inner.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Waits for the next message.
    pub async fn take(&self) -> Mail {
        std::future::poll_fn(|cx| self.poll_take(cx)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn posts_arrive_in_order_and_kill_is_never_refused() {
        let m = std::sync::Arc::new(Mailbox::new());
        let m2 = m.clone();
        let waiter = tokio::spawn(async move { m2.take().await });
        assert!(m.post(Mail::Reply(b"a".to_vec())));
        assert_eq!(waiter.await.ok(), Some(Mail::Reply(b"a".to_vec())));
        for i in 0..MAILBOX_LIMIT {
            assert!(m.post(Mail::Reply(vec![i as u8])));
        }
        assert!(!m.post(Mail::Reply(b"x".to_vec())));
        assert!(m.post(Mail::Kill));
        assert_eq!(m.take().await, Mail::Reply(vec![0]));
    }
}

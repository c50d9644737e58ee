//! [`Mailbox`]: how the rest of the server reaches a Redis connection (DESIGN decision 15).
//!
//! Each connection owns one, registered with its entry in the client registry; its task
//! waits on it beside its socket. Whoever holds the keyspace (another connection's batch,
//! CLIENT KILL, CLIENT UNBLOCK) posts [`Mail`] without waiting: a served blocked command's
//! reply, a kill; pub/sub messages, tracking invalidations and MONITOR lines will come the
//! same way.
//!
//! A mailbox is a small queue behind a mutex plus a [`Notify`]: an idle connection's costs
//! about a hundred bytes, where a tokio channel preallocates a block of slots. It is
//! bounded: past [`MAILBOX_LIMIT`] queued messages a post fails and the poster decides
//! (a kill is always accepted).

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;

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
    queue: Mutex<VecDeque<Mail>>,
    notify: Notify,
}

impl Mailbox {
    /// An empty mailbox.
    pub fn new() -> Self {
        Mailbox::default()
    }

    /// Posts `mail`. Returns false if the mailbox is full (a kill is never refused).
    pub fn post(&self, mail: Mail) -> bool {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= MAILBOX_LIMIT && mail != Mail::Kill {
            return false;
        }
        q.push_back(mail);
        drop(q);
        self.notify.notify_one();
        true
    }

    /// Takes the next message, if any, without waiting.
    pub fn try_take(&self) -> Option<Mail> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let m = q.pop_front();
        if q.is_empty() && q.capacity() > 8 {
            // Give back what a burst of messages grew.
            q.shrink_to_fit();
        }
        m
    }

    /// Waits for the next message.
    pub async fn take(&self) -> Mail {
        loop {
            if let Some(m) = self.try_take() {
                return m;
            }
            self.notify.notified().await;
        }
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

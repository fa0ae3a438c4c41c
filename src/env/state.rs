//! The parts of an env's state machine that its files share: the link to the trainer or the
//! lobby ([`Link`]), where the answer to the current event stands ([`Stage`]), what a
//! [`Closer`](super::Closer) touches from another thread ([`Shared`]), and the small helpers for
//! deadlines and close reasons.

use super::error::Error;
use super::event::EventKind;
use crate::client::Connection;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// State another thread may touch to close the env while it waits.
pub(super) struct Shared {
    pub(super) closed: Mutex<bool>,
    pub(super) wake: Condvar,
    pub(super) current: Mutex<Option<Arc<Connection>>>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(super) fn is_closed(&self) -> bool {
        *lock(&self.closed)
    }

    /// Waits until `until` or until the env is closed.
    pub(super) fn sleep_until(&self, until: Instant) {
        let mut closed = lock(&self.closed);
        while !*closed {
            let now = Instant::now();
            if now >= until {
                return;
            }
            closed = self
                .wake
                .wait_timeout(closed, until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    pub(super) fn close(&self) {
        *lock(&self.closed) = true;
        self.wake.notify_all();
        let current = lock(&self.current).take(); // not held while the close handshake runs
        if let Some(c) = current {
            let _ = c.close(1000, "the game closed", Some(Duration::from_millis(1000)));
        }
    }
}

pub(super) enum Link {
    /// Down: the next attempt is due at this instant.
    Wait(Instant),
    Connecting(Arc<Connection>),
    Open(Arc<Connection>),
    /// Finished, refused, failed for good, or closed: every call reports this.
    Ended(Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// Nothing to answer: `next` reads the next request.
    Idle,
    /// An event of this kind waits for `submit`.
    Answer(EventKind),
    /// A decision's frame was submitted and more frames follow before the reply.
    Between,
    /// A same-step answer waits for the finished agents' new episodes: `next` returns a
    /// `Reset` event for them (the agents flagged in `reset`).
    AutoReset,
}

/// Close codes after which retrying cannot help: the peer refused the game.
pub(super) const REFUSING_CLOSE_CODES: [u16; 9] =
    [1002, 1003, 1007, 1008, 1009, 1010, 4400, 4401, 4404];

pub(super) fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}

pub(super) fn cut(reason: &str) -> &str {
    let mut n = reason.len().min(123);
    while !reason.is_char_boundary(n) {
        n -= 1;
    }
    &reason[..n]
}

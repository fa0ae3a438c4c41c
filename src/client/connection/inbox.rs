//! The inbox: what callers' threads read and wait on. The received messages `recv` hands out,
//! the public state, the error that ended the connection, and whether everything sent was
//! written (`flush`), behind one lock and one condition variable, `changed`, signalled whenever
//! any of it changes (and only if a thread waits: a change nobody waits for costs no system
//! call).
//!
//! Only this file touches the fields; the step files call the methods. Lock order: `io` before
//! the inbox, never the reverse.

use crate::client::types::{CloseStatus, Kind, State};
use crate::error::{Error, ErrorKind};
use crate::sync::{lock, wait_until};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;
use tungstenite::Message;

pub(super) struct Inbox {
    contents: Mutex<Contents>,
    changed: Condvar,
    /// Something accepted by `send` is not yet written to the socket: what `flush` waits for.
    /// Outside the lock so that the send path checks it without locking; changed only under
    /// the `io` lock (`set_unsent`), and every change is followed by a notification under the
    /// inbox lock, so a `flush` that saw the old value under that lock is woken.
    unsent: AtomicBool,
}

/// What the inbox lock guards.
pub(super) struct Contents {
    state: State,
    messages: VecDeque<Message>,
    bytes: usize,
    /// Reading stopped because `bytes` reached the cap; whoever drains the queue resumes it.
    paused: bool,
    /// The error that ended the connection, reported once by `recv` (or by a blocking connect).
    ending: Option<Error>,
    /// The same error, kept after `recv` took `ending`: what ended the socket is a fact the
    /// reconnect supervisor and `close` read whichever thread reported it first.
    cause: Option<Error>,
    /// Why later calls get `Closed`.
    closed_because: Option<String>,
    peer_close: Option<CloseStatus>,
    subprotocol: Option<String>,
    /// The upgrade succeeded (the connection may have closed since).
    opened: bool,
    /// The socket is closed (`Phase::Done`): what `close` waits for.
    socket_gone: bool,
    /// Threads waiting on `changed`.
    waiters: usize,
    /// A read error not yet reported by `recv` (see `Shared::hold_or_fail`): reading has
    /// stopped, and the connection fails with it once the messages received before it are
    /// handed out.
    held: Option<tungstenite::Error>,
}

/// What `recv` returns when the caller's buffer is too small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooSmall {
    /// Bytes needed for the next message.
    pub needed: usize,
    /// Its kind.
    pub kind: Kind,
    /// The message stating both sizes.
    pub error: Error,
}

/// A failed `recv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecvError {
    /// The next message does not fit; it stays queued.
    TooSmall(TooSmall),
    /// Anything else (timeout, closed, the error that ended the connection).
    Other(Error),
}

impl From<Error> for RecvError {
    fn from(e: Error) -> Self {
        RecvError::Other(e)
    }
}

/// A message taken out of the inbox into the caller's buffer.
pub(super) struct Taken {
    pub len: usize,
    pub kind: Kind,
    /// The queue went back under the receive cap: reading must resume.
    pub resume: bool,
}

fn kind_of(m: &Message) -> Option<(Kind, &[u8])> {
    match m {
        Message::Text(t) => Some((Kind::Text, t.as_bytes())),
        Message::Binary(b) => Some((Kind::Binary, b)),
        _ => None,
    }
}

impl Inbox {
    pub fn new() -> Inbox {
        Inbox {
            contents: Mutex::new(Contents {
                state: State::Connecting,
                messages: VecDeque::new(),
                bytes: 0,
                paused: false,
                ending: None,
                cause: None,
                closed_because: None,
                peer_close: None,
                subprotocol: None,
                opened: false,
                socket_gone: false,
                waiters: 0,
                held: None,
            }),
            changed: Condvar::new(),
            unsent: AtomicBool::new(false),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Contents> {
        lock(&self.contents)
    }

    /// Waits for a change (or `deadline`), counted in `waiters`.
    pub fn wait<'a>(
        &self,
        mut contents: MutexGuard<'a, Contents>,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, Contents> {
        contents.waiters += 1;
        let mut contents = wait_until(&self.changed, contents, deadline);
        contents.waiters -= 1;
        contents
    }

    /// Releases the inbox after a change and wakes whoever waits for one. Waiters register
    /// under the same lock before they sleep, so none is missed.
    pub fn notify(&self, contents: MutexGuard<'_, Contents>) {
        let waiting = contents.waiters > 0;
        drop(contents);
        if waiting {
            self.changed.notify_all();
        }
    }

    /// Wakes the waiters after `Contents::push` said some wait (the lock already released).
    pub fn wake_waiters(&self) {
        self.changed.notify_all();
    }

    pub fn state(&self) -> State {
        self.lock().state
    }

    /// The peer's close code and reason, once closed (1006 if it sent none).
    pub fn close_status(&self) -> Option<CloseStatus> {
        let contents = self.lock();
        match contents.state {
            State::Closed => Some(contents.peer_close.clone().unwrap_or(CloseStatus {
                code: 1006,
                reason: String::new(),
            })),
            _ => None,
        }
    }

    pub fn subprotocol(&self) -> Option<String> {
        self.lock().subprotocol.clone()
    }

    /// Whether something accepted by `send` is not yet written (read under the inbox lock by
    /// a `flush` that waits).
    pub fn unsent(&self) -> bool {
        self.unsent.load(Ordering::Acquire)
    }

    /// Publishes whether something accepted is not yet written; wakes `flush` when it changes.
    /// Called with the `io` lock held.
    pub fn set_unsent(&self, unsent: bool) {
        if self.unsent.swap(unsent, Ordering::AcqRel) != unsent {
            self.notify(self.lock());
        }
    }

    /// The upgrade succeeded: Open.
    pub fn open(&self, subprotocol: Option<String>) {
        let mut contents = self.lock();
        contents.state = State::Open;
        contents.subprotocol = subprotocol;
        contents.opened = true;
        self.notify(contents);
    }

    /// Our close handshake started: Closing; incoming messages are discarded from now on, so
    /// the receive cap no longer holds reading back.
    pub fn closing(&self) {
        let mut contents = self.lock();
        contents.state = State::Closing;
        contents.paused = false;
        self.notify(contents);
    }

    /// The peer closed: Closed, with its status; `because` says why later calls get `Closed`,
    /// and `ending`, if any, is reported once by `recv`.
    pub fn peer_closed(&self, status: CloseStatus, because: String, ending: Option<Error>) {
        let mut contents = self.lock();
        contents.state = State::Closed;
        contents.peer_close = Some(status);
        if let Some(e) = ending {
            contents.cause = Some(e.clone());
            contents.ending = Some(e);
        }
        contents.closed_because = Some(because);
        self.notify(contents);
    }

    /// Makes the connection Closed for its users; `ending`, if any, is reported once by `recv`
    /// and says why later calls get `Closed`.
    pub fn mark_closed(&self, ending: Option<Error>) {
        let mut contents = self.lock();
        contents.mark_closed(ending);
        self.notify(contents);
    }

    /// The socket is gone: nothing is left unsent, and the connection is Closed (with `ending`
    /// unless it already was).
    pub fn socket_closed(&self, ending: Option<Error>) {
        self.unsent.store(false, Ordering::Release);
        let mut contents = self.lock();
        contents.socket_gone = true;
        if contents.state != State::Closed {
            contents.mark_closed(ending);
        }
        self.notify(contents);
    }

    /// Says why later calls get `Closed`.
    pub fn set_closed_because(&self, because: String) {
        self.lock().closed_because = Some(because);
    }

    /// Holds a read error back until `recv` has handed out the messages before it; a `recv`
    /// waiting for a message reports the error instead.
    pub fn hold(&self, e: tungstenite::Error) {
        let mut contents = self.lock();
        contents.held = Some(e);
        self.notify(contents);
    }

    /// The read error held back, if any (to fail the connection with it now).
    pub fn take_held(&self) -> Option<tungstenite::Error> {
        self.lock().held.take()
    }

    /// Whether reading must stop before the next message: a read error is held, or (`capped`:
    /// open and not closing on our side) the queue is at `cap`, in which case reading pauses
    /// until `take` drains it below.
    pub fn reading_stops(&self, capped: bool, cap: usize) -> bool {
        let mut contents = self.lock();
        if contents.held.is_some() {
            return true;
        }
        capped && {
            contents.paused = contents.bytes >= cap;
            contents.paused
        }
    }
}

impl Contents {
    pub fn state(&self) -> State {
        self.state
    }

    /// The upgrade succeeded (the connection may have closed since).
    pub fn opened(&self) -> bool {
        self.opened
    }

    pub fn socket_gone(&self) -> bool {
        self.socket_gone
    }

    /// The error that ended the connection, whether or not `recv` has reported it yet.
    pub fn cause(&self) -> Option<&Error> {
        self.cause.as_ref()
    }

    /// The error that ended the connection, once.
    pub fn take_ending(&mut self) -> Option<Error> {
        self.ending.take()
    }

    /// A read error waits to be reported (see `Inbox::hold`).
    pub fn failure_held(&self) -> bool {
        self.held.is_some()
    }

    /// No message, no error to report: a `recv` has to wait.
    pub fn nothing_for_recv(&self) -> bool {
        self.messages.is_empty() && self.ending.is_none() && self.held.is_none()
    }

    pub fn message_count(&self) -> usize {
        self.messages.len()
    }

    /// The `Closed` error later calls get, saying why (`url` names the connection).
    pub fn closed_error(&self, url: &str) -> Error {
        Error::new(
            ErrorKind::Closed,
            self.closed_because
                .clone()
                .unwrap_or_else(|| format!("connection to {url} is closed")),
        )
    }

    fn mark_closed(&mut self, ending: Option<Error>) {
        if let Some(e) = ending {
            self.closed_because = Some(format!("connection closed: {}", e.message()));
            self.cause = Some(e.clone());
            self.ending = Some(e);
        }
        self.state = State::Closed;
    }

    /// Queues a received data message. Returns whether a thread waits for it (then call
    /// `Inbox::wake_waiters` once the reading is done) and whether the queue is now at `cap`.
    pub fn push(&mut self, m: Message, cap: usize) -> (bool, bool) {
        self.bytes += kind_of(&m).map_or(0, |(_, d)| d.len());
        self.messages.push_back(m);
        self.paused = self.bytes >= cap;
        (self.waiters > 0, self.paused)
    }

    /// Copies the next message into `buf` and removes it; `None` if there is none; `TooSmall`
    /// (the message stays queued) if it does not fit. `cap` is the receive cap, below which a
    /// paused reading resumes.
    pub fn take(&mut self, buf: &mut [u8], cap: usize) -> Option<Result<Taken, TooSmall>> {
        let front = self.messages.front()?;
        let (kind, data) = kind_of(front).expect("only data messages are queued");
        let len = data.len();
        if len > buf.len() {
            return Some(Err(TooSmall {
                needed: len,
                kind,
                error: Error::new(
                    ErrorKind::BufferTooSmall,
                    format!(
                        "the next message has {len} bytes but the buffer holds {}; \
                         it stays queued",
                        buf.len()
                    ),
                ),
            }));
        }
        buf[..len].copy_from_slice(data);
        self.messages.pop_front();
        self.bytes -= len;
        let resume = self.paused && self.bytes < cap;
        if resume {
            self.paused = false;
        }
        Some(Ok(Taken { len, kind, resume }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A caller's `recv` (or blocking connect) takes the ending error; whoever asks why the
    /// socket ended afterwards (the reconnect supervisor on the I/O thread) must still get it.
    /// Before `cause`, it got `None` and reported a failed connect as a lost connection.
    #[test]
    fn the_cause_outlives_the_report() {
        for peer_closed in [false, true] {
            let inbox = Inbox::new();
            let refused = Error::new(ErrorKind::ConnectFailed, "connection refused");
            if peer_closed {
                let status = CloseStatus {
                    code: 1006,
                    reason: String::new(),
                };
                inbox.peer_closed(status, "closed".into(), Some(refused));
            } else {
                inbox.mark_closed(Some(refused));
            }
            let mut contents = inbox.lock();
            let taken = contents.take_ending().map(|e| e.kind());
            assert_eq!(taken, Some(ErrorKind::ConnectFailed), "{peer_closed}");
            assert!(contents.take_ending().is_none(), "reported once");
            let cause = contents.cause().map(|e| e.kind());
            assert_eq!(cause, Some(ErrorKind::ConnectFailed), "{peer_closed}");
        }
    }
}

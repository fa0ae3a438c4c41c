//! Reconnecting (the `reconnect` option): a supervisor that opens a new socket when the link is
//! lost, with backoff and jitter (`backoff.rs`), until it gives up.
//!
//! The rules, as the header states them:
//! - **When**: after a loss without a close handshake (reset, EOF, keepalive timeout), a peer
//!   close with 1001, 1006, 1011, 1012, 1013 or 1014, and a failed attempt (DNS, TCP, timeout,
//!   an upgrade refused with HTTP 5xx, 408 or 429). Not after a close with another code (1000:
//!   finished; 4xxx: the application's), a protocol error, an oversized message, a TLS failure,
//!   an upgrade refused with another status (401, 404 ...), nor after `close`; then the
//!   connection is closed and `recv` reports why, as without the option.
//! - **States**: `Connecting` for the first attempt, `Reconnecting` while waiting out the
//!   backoff or connecting again, `Open`, `Closed` (not retried, given up, or closed).
//! - **Messages sent while not open** (connecting, waiting, reconnecting) are held here, within
//!   `send_queue_max_bytes` (past it `WouldBlock`: not queued), and handed to the new socket,
//!   in order, as soon as its handshake completes; a failed attempt keeps them for the next.
//!   Messages accepted by an open socket that was then lost go with it (as on any connection:
//!   what the peer read of them, TCP cannot tell).
//! - **News**: `recv` returns `Reconnected` once after each new connection opened, before its
//!   first message, with the facts (what ended the previous one, attempts, time, messages
//!   handed over); when it gives up, `recv` returns the last attempt's error kind once with a
//!   message saying so, then `Closed`.
//!
//! Who drives it: each socket is registered with the runtime through a `Watch` (`driven.rs`), which pokes
//! the supervisor (its own entry in the runtime, for the backoff timer) when the socket opens
//! or ends; a caller's thread that notices first (in `state`, `send`, `recv` ...) decides just
//! the same, under the same lock.
//!
//! Here: the supervisor and its decisions; what callers do is in `calls.rs`, how the runtime
//! drives it in `driven.rs`. (Past 400 lines only with its unit tests.)

use super::backoff::Backoff;
use super::connection::{RecvError, Shared};
use super::frame;
use super::options::{Options, ReconnectOptions};
use super::route::Route;
use super::types::{CloseStatus, Kind, State};
use super::url::Target;
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::{Cmd, Driven, Handle, Next};
use crate::sync::{lock, wait_until};
use mio::Token;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

mod calls;
mod driven;

/// The connection with the `reconnect` option: see the module documentation.
pub(crate) struct Supervisor {
    target: Target,
    options: Options,
    policy: ReconnectOptions,
    route: Route,
    rt: Arc<Handle>,
    /// Its own entry in the runtime (the backoff timer).
    token: Token,
    /// Itself, for the sockets' watches.
    me: Weak<Supervisor>,
    st: Mutex<Sup>,
    changed: Condvar,
}

enum Phase {
    /// `Sup::link` is the current socket: connecting, open, or just ended (not decided yet).
    Linked,
    /// Waiting out the backoff; the next attempt starts then.
    Waiting(Instant),
    /// Closed for good: by `close`, not retried (the last socket reports why), or given up.
    Ended,
}

struct Sup {
    phase: Phase,
    /// The current (or last) socket.
    link: Arc<Shared>,
    /// `link` has been seen open and the held messages were handed to it.
    opened: bool,
    /// A connection has opened at least once.
    ever_open: bool,
    /// `Connection::connect` (blocking): a failed first attempt is the call's error, not
    /// retried.
    first_only: bool,
    backoff: Backoff,
    /// Attempts since the last connection opened (or since the start).
    attempts: u32,
    /// Since when no connection has been open (the give-up clock).
    down_since: Instant,
    /// Why the last open connection ended, for the `Reconnected` news.
    lost: Option<String>,
    /// The last failed attempt's error, for the give-up message.
    last_error: Option<Error>,
    /// What `recv` reports before reading the current socket, oldest first: `Reconnected`
    /// news and lost sockets whose received messages it has not all delivered yet.
    events: VecDeque<Event>,
    /// Messages sent while not open, in order, and their bytes.
    held: Vec<(Kind, Vec<u8>)>,
    held_bytes: usize,
    /// The give-up error, for `recv` to report once; then `closed_because`.
    ending: Option<Error>,
    closed_because: Option<String>,
    waiters: usize,
}

impl Supervisor {
    /// Starts the first attempt. `first_only`: see `Sup::first_only`.
    pub(crate) fn start(
        target: Target,
        options: Options,
        policy: ReconnectOptions,
        route: Route,
        rt: Arc<Handle>,
        first_only: bool,
    ) -> Arc<Supervisor> {
        let link = Shared::new(
            target.clone(),
            options.clone(),
            route.clone(),
            Arc::clone(&rt),
        );
        let backoff = Backoff::new(policy.delay, policy.max_delay, policy.jitter_percent);
        let sup = Arc::new_cyclic(|me| Supervisor {
            me: me.clone(),
            token: rt.token(),
            target,
            options,
            policy,
            route,
            rt,
            st: Mutex::new(Sup {
                phase: Phase::Linked,
                link: Arc::clone(&link),
                opened: false,
                ever_open: false,
                first_only,
                backoff,
                attempts: 1,
                down_since: Instant::now(),
                lost: None,
                last_error: None,
                events: VecDeque::new(),
                held: Vec::new(),
                held_bytes: 0,
                ending: None,
                closed_because: None,
                waiters: 0,
            }),
            changed: Condvar::new(),
        });
        sup.rt
            .send(Cmd::Add(sup.token, Arc::clone(&sup) as Arc<dyn Driven>));
        sup.register(link);
        sup
    }

    fn url(&self) -> &str {
        &self.target.shown
    }

    /// Locks the state and brings it up to date (see `update`).
    fn lock(&self) -> MutexGuard<'_, Sup> {
        let mut s = lock(&self.st);
        self.update(&mut s, None);
        s
    }

    /// Looks at the current socket and the clock: hands the held messages to a socket that
    /// opened, decides about one that ended (`error`: the error a caller just got from it, if
    /// it took it from the socket), starts the next attempt when the backoff is over.
    fn update(&self, s: &mut Sup, error: Option<Error>) {
        let now = Instant::now();
        match s.phase {
            Phase::Linked => match s.link.state() {
                State::Open if !s.opened => self.opened(s, now),
                State::Closed => {
                    // Opened and ended before anyone looked: it opened all the same.
                    if !s.opened && s.link.was_opened() {
                        self.opened(s, now);
                    }
                    self.ended(s, error, now)
                }
                _ => {}
            },
            Phase::Waiting(at) if now >= at => {
                let link = Shared::new(
                    self.target.clone(),
                    self.options.clone(),
                    self.route.clone(),
                    Arc::clone(&self.rt),
                );
                s.link = Arc::clone(&link);
                s.opened = false;
                s.attempts += 1;
                s.phase = Phase::Linked;
                self.register(link);
                self.changed.notify_all();
            }
            Phase::Waiting(_) | Phase::Ended => {}
        }
    }

    /// The current socket opened: the held messages go to it, in order.
    fn opened(&self, s: &mut Sup, now: Instant) {
        let count = s.held.len();
        let mut handed = 0;
        for (kind, data) in &s.held {
            // Within the cap into an empty queue: only a socket lost meanwhile refuses, and
            // then the rest stays held for the next one.
            if s.link.send(data, *kind).is_err() {
                break;
            }
            handed += 1;
        }
        s.held.drain(..handed);
        s.held_bytes = s.held.iter().map(|(_, d)| d.len()).sum();
        if s.ever_open {
            let lost = s.lost.take().unwrap_or_default();
            let took = now.saturating_duration_since(s.down_since).as_millis();
            s.events.push_back(Event::News(Error::new(
                ErrorKind::Reconnected,
                format!(
                    "reconnected to {} after {} attempt{} in {took} ms; the previous \
                     connection ended: {lost}; {handed} of {count} message{} sent while \
                     reconnecting went to the new connection; messages from here on come \
                     from the new connection (the peer may not know this session)",
                    self.url(),
                    s.attempts,
                    if s.attempts == 1 { "" } else { "s" },
                    if count == 1 { "" } else { "s" },
                ),
            )));
        }
        s.opened = true;
        s.ever_open = true;
        s.attempts = 0;
        s.last_error = None;
        s.backoff.reset();
        self.changed.notify_all();
    }

    /// The current socket ended: retry after the backoff, give up, or end.
    fn ended(&self, s: &mut Sup, error: Option<Error>, now: Instant) {
        let Some((peeked, status)) = s.link.ending() else {
            return;
        };
        let error = error.or(peeked);
        let retry = (s.ever_open || !s.first_only) && worth_retrying(error.as_ref(), &status);
        if !retry {
            // The socket reports why to `recv`, as without the option.
            s.phase = Phase::Ended;
            self.changed.notify_all();
            return;
        }
        let why = match &error {
            Some(e) => e.message().to_string(),
            None => format!(
                "{} closed the connection with code {} {:?}",
                self.url(),
                status.code,
                status.reason
            ),
        };
        if s.opened {
            // An open connection was lost: the give-up clock starts now, and what it received
            // before is still delivered, before anything else (`recv`).
            s.lost = Some(why);
            s.down_since = now;
            if s.link.has_messages() {
                s.events.push_back(Event::Drain(Arc::clone(&s.link)));
            }
        } else {
            s.last_error =
                Some(error.unwrap_or_else(|| Error::new(ErrorKind::ConnectionLost, why)));
        }
        s.opened = false;
        let delay = s.backoff.next_delay();
        let at = now + delay;
        if let Some(limit) = self.policy.give_up {
            if at >= s.down_since + limit {
                self.give_up(s, limit);
                return;
            }
        }
        s.phase = Phase::Waiting(at);
        self.changed.notify_all();
        self.rt.send(Cmd::Poke(self.token));
    }

    fn give_up(&self, s: &mut Sup, limit: Duration) {
        let (kind, last) = match &s.last_error {
            // A connect that timed out is a failed connect: Timeout means "nothing yet".
            Some(e) if e.kind() == ErrorKind::Timeout => {
                (ErrorKind::ConnectFailed, e.message().to_string())
            }
            Some(e) => (e.kind(), e.message().to_string()),
            None => (
                ErrorKind::ConnectionLost,
                s.lost.clone().unwrap_or_else(|| "none".into()),
            ),
        };
        let what = if s.ever_open { "reconnect" } else { "connect" };
        let lost = match &s.lost {
            Some(l) if s.last_error.is_some() => format!("; the connection had ended: {l}"),
            _ => String::new(),
        };
        let message = format!(
            "gave up trying to {what} to {}: no connection for {} ms, the next attempt would \
             pass reconnect.give_up_ms ({} ms); {} attempt{}; last error: {last}{lost}; {} \
             message{} sent meanwhile {} not sent",
            self.url(),
            Instant::now()
                .saturating_duration_since(s.down_since)
                .as_millis(),
            limit.as_millis(),
            s.attempts,
            if s.attempts == 1 { "" } else { "s" },
            s.held.len(),
            if s.held.len() == 1 { "" } else { "s" },
            if s.held.len() == 1 { "was" } else { "were" },
        );
        s.held.clear();
        s.held_bytes = 0;
        s.closed_because = Some(format!("connection closed: {message}"));
        s.ending = Some(Error::new(kind, message));
        s.phase = Phase::Ended;
        self.changed.notify_all();
    }

    fn closed_error(&self, s: &Sup) -> Error {
        Error::new(
            ErrorKind::Closed,
            s.closed_because
                .clone()
                .unwrap_or_else(|| format!("connection to {} is closed", self.url())),
        )
    }

    /// Waits for a change (or `deadline`).
    fn wait<'a>(
        &self,
        mut s: MutexGuard<'a, Sup>,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, Sup> {
        let until = match (s.phase_deadline(), deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        s.waiters += 1;
        let mut s = wait_until(&self.changed, s, until);
        s.waiters -= 1;
        s
    }
}

/// See `Sup::events`.
enum Event {
    News(Error),
    Drain(Arc<Shared>),
}

impl Sup {
    fn phase_deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Waiting(at) => Some(at),
            _ => None,
        }
    }
}

/// Whether a socket that ended this way is worth another attempt (see the module
/// documentation): `error` is what ended it, `status` the peer's close.
fn worth_retrying(error: Option<&Error>, status: &CloseStatus) -> bool {
    match error.map(Error::kind) {
        Some(ErrorKind::ConnectionLost | ErrorKind::ConnectFailed | ErrorKind::Timeout) => true,
        Some(ErrorKind::HandshakeFailed) => error
            .and_then(Error::http_status)
            .map_or(true, |s| s >= 500 || s == 408 || s == 429),
        // The peer closed (or the caller got `Closed` for it): by its code.
        Some(ErrorKind::Closed) | None => {
            matches!(status.code, 1001 | 1006 | 1011 | 1012 | 1013 | 1014)
        }
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> CloseStatus {
        CloseStatus {
            code,
            reason: String::new(),
        }
    }

    fn error(kind: ErrorKind) -> Error {
        Error::new(kind, "test")
    }

    #[test]
    fn losses_and_failed_attempts_are_retried_refusals_and_final_closes_are_not() {
        let lost = status(1006);
        for kind in [
            ErrorKind::ConnectionLost,
            ErrorKind::ConnectFailed,
            ErrorKind::Timeout,
            ErrorKind::HandshakeFailed,
        ] {
            assert!(worth_retrying(Some(&error(kind)), &lost), "{kind:?}");
        }
        for kind in [
            ErrorKind::ProtocolError,
            ErrorKind::MessageTooBig,
            ErrorKind::TlsFailed,
            ErrorKind::InvalidArgument,
        ] {
            assert!(!worth_retrying(Some(&error(kind)), &lost), "{kind:?}");
        }
        let refused = |http| error(ErrorKind::HandshakeFailed).with_http_status(http);
        for http in [500, 502, 503, 408, 429] {
            assert!(worth_retrying(Some(&refused(http)), &lost), "HTTP {http}");
        }
        for http in [400, 401, 403, 404] {
            assert!(!worth_retrying(Some(&refused(http)), &lost), "HTTP {http}");
        }
        for code in [1001, 1006, 1011, 1012, 1013, 1014] {
            assert!(worth_retrying(None, &status(code)), "close {code}");
            assert!(
                worth_retrying(Some(&error(ErrorKind::Closed)), &status(code)),
                "close {code} seen as Closed"
            );
        }
        for code in [1000, 1002, 1003, 1008, 4000, 4409] {
            assert!(!worth_retrying(None, &status(code)), "close {code}");
        }
    }
}

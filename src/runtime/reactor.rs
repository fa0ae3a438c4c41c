//! The I/O thread: one `mio::Poll` that drives every connection's socket readiness and timers.
//!
//! The reactor knows nothing about WebSocket: it calls [`Driven`] on the objects it was given
//! and keeps each one's next deadline in a timer set. User threads talk to it through
//! [`Handle::send`], which queues a [`Cmd`] and wakes the poll.

use super::resolver::{Lookup, Resolver};
use crate::sync::lock;
use mio::{Events, Poll, Registry, Token, Waker};
use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const WAKER: Token = Token(usize::MAX);

/// What a driven object wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Call again on readiness, or at this deadline at the latest.
    Wait(Option<Instant>),
    /// Finished: forget this object.
    Done,
}

/// Something the reactor drives: a connection. Every call happens on the reactor thread.
///
/// A driven object never owns a [`super::Live`] (a `Connection`): the reactor drops the objects
/// it drives, and the thread that drops the last `Live` joins the I/O thread, which therefore
/// can never be that thread.
pub trait Driven: Send + Sync {
    /// Registered with the reactor: start working (resolve, connect ...).
    fn start(&self, rt: &Arc<Handle>) -> Next;
    /// Its socket is readable and/or writable.
    fn ready(&self, rt: &Arc<Handle>, readable: bool, writable: bool) -> Next;
    /// Its deadline passed, or another thread poked it.
    fn timer(&self, rt: &Arc<Handle>, now: Instant) -> Next;
    /// The resolver answered.
    fn resolved(&self, rt: &Arc<Handle>, addrs: io::Result<Vec<SocketAddr>>) -> Next;
    /// The runtime is stopping: drop the socket and record why.
    fn abort(&self, why: &str);
}

/// A request from another thread to the reactor.
pub enum Cmd {
    /// Start driving this object under this token.
    Add(Token, Arc<dyn Driven>),
    /// Re-run the object's timer logic now (its state changed on another thread).
    Poke(Token),
    /// DNS answer for the object under this token.
    Resolved(Token, io::Result<Vec<SocketAddr>>),
    /// Abort everything and exit.
    Stop,
}

/// The part of the runtime other threads hold: how to reach the reactor.
pub struct Handle {
    registry: Registry,
    waker: Waker,
    cmds: Mutex<Vec<Cmd>>,
    next_token: AtomicUsize,
    resolver: Resolver,
}

impl Handle {
    /// The registry sockets are registered with.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// A token never used before in this runtime.
    pub fn token(&self) -> Token {
        Token(self.next_token.fetch_add(1, Ordering::Relaxed))
    }

    /// Queues a command and wakes the reactor.
    pub fn send(&self, cmd: Cmd) {
        lock(&self.cmds).push(cmd);
        // A failed wake means the poll is gone, i.e. the runtime is stopping anyway.
        let _ = self.waker.wake();
    }

    /// Resolves `host:port` on the resolver thread; the answer comes back as `Cmd::Resolved`.
    pub fn resolve(self: &Arc<Self>, token: Token, host: String, port: u16) {
        let me = Arc::clone(self);
        self.resolver.submit(host, port, move |result| {
            me.send(Cmd::Resolved(token, result));
        });
    }

    /// Stops the DNS thread; see [`Resolver::stop`]. Only once the I/O thread has been joined.
    pub(super) fn stop_resolver(&self) -> Option<Lookup> {
        self.resolver.stop()
    }
}

/// Creates the poll and the handle; `run` must then be called on the I/O thread.
pub fn create() -> io::Result<(Poll, Arc<Handle>)> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    let registry = poll.registry().try_clone()?;
    let handle = Arc::new(Handle {
        registry,
        waker,
        cmds: Mutex::new(Vec::new()),
        next_token: AtomicUsize::new(1),
        resolver: Resolver::new(),
    });
    Ok((poll, handle))
}

struct Timers {
    set: BTreeSet<(Instant, usize)>,
    by_token: HashMap<usize, Instant>,
}

impl Timers {
    fn set(&mut self, token: usize, at: Option<Instant>) {
        if let Some(old) = self.by_token.remove(&token) {
            self.set.remove(&(old, token));
        }
        if let Some(at) = at {
            self.set.insert((at, token));
            self.by_token.insert(token, at);
        }
    }

    fn pop_due(&mut self, now: Instant) -> Option<usize> {
        let &(at, token) = self.set.first()?;
        if at > now {
            return None;
        }
        self.set.remove(&(at, token));
        self.by_token.remove(&token);
        Some(token)
    }
}

/// The reactor loop. Returns when `Cmd::Stop` arrives.
pub fn run(mut poll: Poll, rt: Arc<Handle>) {
    let mut events = Events::with_capacity(256);
    let mut objects: HashMap<usize, Arc<dyn Driven>> = HashMap::new();
    let mut timers = Timers {
        set: BTreeSet::new(),
        by_token: HashMap::new(),
    };
    let apply = |objects: &mut HashMap<usize, Arc<dyn Driven>>,
                 timers: &mut Timers,
                 token: usize,
                 next: Next| match next {
        Next::Wait(at) => timers.set(token, at),
        Next::Done => {
            timers.set(token, None);
            objects.remove(&token);
        }
    };
    loop {
        let timeout = timers
            .set
            .first()
            .map(|(at, _)| at.saturating_duration_since(Instant::now()));
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                // The poll itself failed: nothing can be driven any more.
                for o in objects.values() {
                    o.abort(&format!("the I/O thread's poll failed: {e}"));
                }
                return;
            }
        }
        // Commands first: an object's `Add` is always queued before its socket can report
        // readiness, so no event is ever seen for an unknown token.
        let cmds = std::mem::take(&mut *lock(&rt.cmds));
        for cmd in cmds {
            match cmd {
                Cmd::Add(token, obj) => {
                    let next = obj.start(&rt);
                    objects.insert(token.0, obj);
                    apply(&mut objects, &mut timers, token.0, next);
                }
                Cmd::Poke(token) => {
                    if let Some(obj) = objects.get(&token.0).cloned() {
                        let next = obj.timer(&rt, Instant::now());
                        apply(&mut objects, &mut timers, token.0, next);
                    }
                }
                Cmd::Resolved(token, addrs) => {
                    if let Some(obj) = objects.get(&token.0).cloned() {
                        let next = obj.resolved(&rt, addrs);
                        apply(&mut objects, &mut timers, token.0, next);
                    }
                }
                Cmd::Stop => {
                    for o in objects.values() {
                        o.abort("wsbridge was shut down");
                    }
                    return;
                }
            }
        }
        for ev in events.iter() {
            let token = ev.token();
            if token == WAKER {
                continue;
            }
            if let Some(obj) = objects.get(&token.0).cloned() {
                let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                let writable = ev.is_writable() || ev.is_write_closed() || ev.is_error();
                let next = obj.ready(&rt, readable, writable);
                apply(&mut objects, &mut timers, token.0, next);
            }
        }
        // Collect first: a deadline an object sets for "now" again waits for the next turn.
        let now = Instant::now();
        let due: Vec<usize> = std::iter::from_fn(|| timers.pop_due(now)).collect();
        for token in due {
            if let Some(obj) = objects.get(&token).cloned() {
                let next = obj.timer(&rt, now);
                apply(&mut objects, &mut timers, token, next);
            }
        }
    }
}

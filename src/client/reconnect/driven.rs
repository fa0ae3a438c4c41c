//! How the runtime drives a reconnecting connection: the supervisor's own entry (the backoff
//! timer) and the [`Watch`] wrapped around each socket, which pokes the supervisor when that
//! socket opens or ends.

use super::*;

impl Driven for Supervisor {
    fn start(&self, _rt: &Arc<Handle>) -> Next {
        self.next()
    }

    fn ready(&self, _rt: &Arc<Handle>, _readable: bool, _writable: bool) -> Next {
        self.next()
    }

    fn timer(&self, _rt: &Arc<Handle>, _now: Instant) -> Next {
        // The backoff is over (or a socket poked): start the next attempt, or decide.
        self.update(&mut lock(&self.st), None);
        self.next()
    }

    fn resolved(&self, _rt: &Arc<Handle>, _addrs: io::Result<Vec<SocketAddr>>) -> Next {
        self.next()
    }

    fn abort(&self, _why: &str) {
        let mut s = lock(&self.st);
        s.phase = Phase::Ended;
        self.changed.notify_all();
    }
}

impl Supervisor {
    /// Hands a new socket to the runtime, watched.
    pub(super) fn register(&self, link: Arc<Shared>) {
        let watch = Watch {
            token: link.token(),
            link,
            sup: self.me.clone(),
            seen: AtomicU8::new(u8::MAX),
        };
        self.rt.send(Cmd::Add(watch.token, Arc::new(watch)));
    }

    /// What the runtime does next for the supervisor's own entry.
    fn next(&self) -> Next {
        let s = lock(&self.st);
        match s.phase {
            Phase::Linked => Next::Wait(None),
            Phase::Waiting(at) => Next::Wait(Some(at)),
            Phase::Ended => Next::Done,
        }
    }
}

/// A socket of a supervised connection, as the runtime drives it: the socket's own driving,
/// plus a poke to the supervisor when it opens or ends.
struct Watch {
    token: Token,
    link: Arc<Shared>,
    sup: Weak<Supervisor>,
    /// The state last reported (`u8::MAX`: none).
    seen: AtomicU8,
}

impl Watch {
    fn watch(&self, next: Next) -> Next {
        let state = self.link.state();
        let code = state as u8;
        if self.seen.swap(code, Ordering::Relaxed) != code
            && matches!(state, State::Open | State::Closed)
        {
            if let Some(sup) = self.sup.upgrade() {
                let mut s = lock(&sup.st);
                if Arc::ptr_eq(&s.link, &self.link) {
                    sup.update(&mut s, None);
                }
                drop(s);
                sup.rt.send(Cmd::Poke(sup.token));
            }
        }
        next
    }
}

impl Driven for Watch {
    fn start(&self, rt: &Arc<Handle>) -> Next {
        self.watch(<Shared as Driven>::start(&self.link, rt))
    }

    fn ready(&self, rt: &Arc<Handle>, readable: bool, writable: bool) -> Next {
        self.watch(<Shared as Driven>::ready(
            &self.link, rt, readable, writable,
        ))
    }

    fn timer(&self, rt: &Arc<Handle>, now: Instant) -> Next {
        self.watch(<Shared as Driven>::timer(&self.link, rt, now))
    }

    fn resolved(&self, rt: &Arc<Handle>, addrs: io::Result<Vec<SocketAddr>>) -> Next {
        self.watch(<Shared as Driven>::resolved(&self.link, rt, addrs))
    }

    fn abort(&self, why: &str) {
        <Shared as Driven>::abort(&self.link, why)
    }
}

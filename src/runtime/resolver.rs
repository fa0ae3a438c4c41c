//! DNS resolution off the I/O thread.
//!
//! `getaddrinfo` blocks and has no timeout of its own, so it runs on one lazily started
//! thread; the connect deadline is enforced by the reactor, and an answer that comes too late
//! is simply ignored by the connection it was for.
//!
//! Stopping never waits for the network: [`Resolver::stop`] joins an idle thread at once, and
//! hands back a thread that is still inside `getaddrinfo` as a [`Lookup`], which exits by itself
//! when the call returns and can be waited for, with a deadline, by whoever must know it is
//! gone (`wsb_shutdown`, before a host unloads the library).

use crate::sync::{lock, wait_until};
use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

type Reply = Box<dyn FnOnce(io::Result<Vec<SocketAddr>>) + Send>;

struct Queue {
    jobs: VecDeque<(String, u16, Reply)>,
    /// Set once by `stop`: the thread takes no more jobs and exits.
    stopping: bool,
    /// The host the thread is resolving right now (inside `getaddrinfo`).
    busy: Option<String>,
    /// The thread has left `work` and runs no more wsbridge code but its own exit.
    exited: bool,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a job is queued, when stopping, and when the thread exits.
    changed: Condvar,
}

/// A single resolver thread with a job queue, started on first use.
pub struct Resolver {
    shared: Arc<Shared>,
}

/// The thread of a stopped resolver that was still inside `getaddrinfo`: it exits by itself when
/// the call returns (the answer is dropped).
pub struct Lookup {
    shared: Arc<Shared>,
    thread: JoinHandle<()>,
    host: String,
}

impl Resolver {
    pub fn new() -> Self {
        Resolver {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue {
                    jobs: VecDeque::new(),
                    stopping: false,
                    busy: None,
                    exited: false,
                    thread: None,
                }),
                changed: Condvar::new(),
            }),
        }
    }

    /// Queues a lookup; `reply` is called on the resolver thread with the addresses.
    pub fn submit(
        &self,
        host: String,
        port: u16,
        reply: impl FnOnce(io::Result<Vec<SocketAddr>>) + Send + 'static,
    ) {
        let mut q = lock(&self.shared.queue);
        if q.stopping {
            drop(q);
            reply(Err(io::Error::other("wsbridge is shutting down")));
            return;
        }
        if q.thread.is_none() {
            let shared = Arc::clone(&self.shared);
            match std::thread::Builder::new()
                .name("wsbridge-dns".into())
                .spawn(move || work(&shared))
            {
                Ok(t) => q.thread = Some(t),
                Err(e) => {
                    drop(q);
                    reply(Err(io::Error::new(
                        e.kind(),
                        format!("cannot start the DNS thread: {e}"),
                    )));
                    return;
                }
            }
        }
        q.jobs.push_back((host, port, Box::new(reply)));
        drop(q);
        self.shared.changed.notify_all();
    }

    /// Drops the queued jobs and stops the thread: joins it if it is idle (it exits at once),
    /// or returns it as a [`Lookup`] if it is inside `getaddrinfo`. Call it only when nothing
    /// can submit any more (the I/O thread has been joined); later submissions fail at once.
    pub fn stop(&self) -> Option<Lookup> {
        let thread = {
            let mut q = lock(&self.shared.queue);
            q.stopping = true;
            q.jobs.clear();
            let thread = q.thread.take()?;
            if let Some(host) = q.busy.clone() {
                return Some(Lookup {
                    shared: Arc::clone(&self.shared),
                    thread,
                    host,
                });
            }
            thread
        };
        self.shared.changed.notify_all();
        // Idle: it sees `stopping` as soon as it wakes, and runs no lookup on the way out.
        let _ = thread.join();
        None
    }
}

impl Lookup {
    /// The host name being resolved.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `true` once the thread has left wsbridge's code (it can then be joined at once).
    pub fn finished(&self) -> bool {
        lock(&self.shared.queue).exited
    }

    /// Waits until the lookup has returned and the thread has exited, or until `deadline`
    /// (`None`: no limit). `Ok` once it is joined; `Err(self)` if it is still running.
    pub fn join(self, deadline: Option<Instant>) -> Result<(), Lookup> {
        {
            let mut q = lock(&self.shared.queue);
            while !q.exited {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    drop(q);
                    return Err(self);
                }
                q = wait_until(&self.shared.changed, q, deadline);
            }
        }
        let _ = self.thread.join();
        Ok(())
    }
}

/// Marks the thread as exited when `work` returns, even by a panic in a reply.
struct Exit<'a>(&'a Shared);

impl Drop for Exit<'_> {
    fn drop(&mut self) {
        let mut q = lock(&self.0.queue);
        q.busy = None;
        q.exited = true;
        drop(q);
        self.0.changed.notify_all();
    }
}

fn work(shared: &Shared) {
    let _exit = Exit(shared);
    loop {
        let (host, port, reply) = {
            let mut q = lock(&shared.queue);
            loop {
                if q.stopping {
                    return;
                }
                if let Some(job) = q.jobs.pop_front() {
                    q.busy = Some(job.0.clone());
                    break job;
                }
                q = shared.changed.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        let result = (host.as_str(), port)
            .to_socket_addrs()
            .map(|addrs| addrs.collect::<Vec<_>>());
        let mut q = lock(&shared.queue);
        q.busy = None;
        if q.stopping {
            // Nobody waits for the answer any more.
            return;
        }
        drop(q);
        reply(result);
    }
}

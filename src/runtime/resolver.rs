//! DNS resolution off the I/O thread.
//!
//! `getaddrinfo` blocks and has no timeout of its own, so it runs on one lazily started
//! thread; the connect deadline is enforced by the reactor, and an answer that comes too late
//! is simply ignored by the connection it was for.

use crate::sync::lock;
use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

type Reply = Box<dyn FnOnce(io::Result<Vec<SocketAddr>>) + Send>;

struct Queue {
    jobs: VecDeque<(String, u16, Reply)>,
    stopping: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

/// A single resolver thread with a job queue, started on first use.
pub struct Resolver {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Resolver {
    pub fn new() -> Self {
        Resolver {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue {
                    jobs: VecDeque::new(),
                    stopping: false,
                }),
                ready: Condvar::new(),
            }),
            thread: Mutex::new(None),
        }
    }

    /// Queues a lookup; `reply` is called on the resolver thread with the addresses.
    pub fn submit(
        &self,
        host: String,
        port: u16,
        reply: impl FnOnce(io::Result<Vec<SocketAddr>>) + Send + 'static,
    ) {
        {
            let mut thread = lock(&self.thread);
            if thread.is_none() {
                let shared = Arc::clone(&self.shared);
                match std::thread::Builder::new()
                    .name("wsbridge-dns".into())
                    .spawn(move || work(&shared))
                {
                    Ok(t) => *thread = Some(t),
                    Err(e) => {
                        reply(Err(io::Error::new(
                            e.kind(),
                            format!("cannot start the DNS thread: {e}"),
                        )));
                        return;
                    }
                }
            }
        }
        lock(&self.shared.queue)
            .jobs
            .push_back((host, port, Box::new(reply)));
        self.shared.ready.notify_one();
    }

    /// Drops queued jobs and joins the thread (waiting for a lookup in progress to return).
    pub fn stop(&self) {
        {
            let mut q = lock(&self.shared.queue);
            q.stopping = true;
            q.jobs.clear();
        }
        self.shared.ready.notify_all();
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
    }
}

fn work(shared: &Shared) {
    loop {
        let (host, port, reply) = {
            let mut q = lock(&shared.queue);
            loop {
                if q.stopping {
                    return;
                }
                if let Some(job) = q.jobs.pop_front() {
                    break job;
                }
                q = shared.ready.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        let result = (host.as_str(), port)
            .to_socket_addrs()
            .map(|addrs| addrs.collect::<Vec<_>>());
        reply(result);
    }
}

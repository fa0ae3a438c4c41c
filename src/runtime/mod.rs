//! The background threads every connection shares, and their lifetime.
//!
//! One I/O thread (`wsbridge-io`) drives all sockets, whatever the number of connections, and
//! one DNS thread (`wsbridge-dns`) is started on the first host-name lookup. Both start with
//! the first connection and stop with the last, so a program (or a Unity editor reloading its
//! scripts) can unload the library with no thread left running.
//!
//! Who stops them: the thread that drops the last [`Live`], always a caller's thread (the I/O
//! thread holds no `Live`, see [`Driven`]), and it joins them before it returns: first the
//! I/O thread, then (nothing can queue a lookup any more) the DNS thread. The one thing it does
//! not wait for is a DNS thread blocked inside `getaddrinfo`, which has no timeout: that thread
//! is told to exit when the call returns and is kept as a pending [`resolver::Lookup`], which
//! [`wait_for_lookups`] (`wsb_shutdown`) waits for and joins.

mod reactor;
mod resolver;

pub use reactor::{Cmd, Driven, Handle, Next};

use crate::error::{Error, ErrorKind, Result};
use crate::sync::lock;
use resolver::Lookup;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

struct Global {
    handle: Option<Arc<Handle>>,
    thread: Option<JoinHandle<()>>,
    live: usize,
    /// DNS threads of stopped runtimes, still inside `getaddrinfo` when they were stopped.
    lookups: Vec<Lookup>,
}

static GLOBAL: Mutex<Global> = Mutex::new(Global {
    handle: None,
    thread: None,
    live: 0,
    lookups: Vec::new(),
});

impl Global {
    /// Joins the pending lookups that have finished meanwhile (a join that cannot block).
    fn reap(&mut self) {
        let pending = std::mem::take(&mut self.lookups);
        for lookup in pending {
            if lookup.finished() {
                let _ = lookup.join(None);
            } else {
                self.lookups.push(lookup);
            }
        }
    }
}

/// Keeps the runtime alive; the last one dropped stops and joins the background threads.
pub struct Live {
    handle: Arc<Handle>,
}

impl Live {
    /// Registers one more live connection, starting the threads if none run.
    pub fn acquire() -> Result<Live> {
        let mut g = lock(&GLOBAL);
        if g.handle.is_none() {
            g.reap();
            let (poll, handle) = reactor::create()
                .map_err(|e| Error::internal(format!("cannot create the I/O poller: {e}")))?;
            let rt = Arc::clone(&handle);
            let thread = std::thread::Builder::new()
                .name("wsbridge-io".into())
                .spawn(move || reactor::run(poll, rt))
                .map_err(|e| Error::internal(format!("cannot start the I/O thread: {e}")))?;
            g.handle = Some(handle);
            g.thread = Some(thread);
        }
        g.live += 1;
        let handle = Arc::clone(g.handle.as_ref().expect("runtime handle was just set"));
        Ok(Live { handle })
    }

    /// The runtime this connection uses.
    pub fn handle(&self) -> &Arc<Handle> {
        &self.handle
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let mut g = lock(&GLOBAL);
        g.live -= 1;
        if g.live > 0 {
            return;
        }
        let (Some(handle), Some(thread)) = (g.handle.take(), g.thread.take()) else {
            return;
        };
        // The I/O thread never holds a `Live` (see `Driven`), so this is another thread and
        // the join below always happens.
        debug_assert_ne!(thread.thread().id(), std::thread::current().id());
        handle.send(Cmd::Stop);
        let _ = thread.join();
        // Only the I/O thread submits lookups, and it is gone.
        if let Some(lookup) = handle.stop_resolver() {
            g.lookups.push(lookup);
        }
        g.reap();
    }
}

/// Waits, until `deadline` (`None`: no limit), for the DNS threads of stopped runtimes that were
/// still inside `getaddrinfo`, and joins them. [`ErrorKind::LookupRunning`] if one still runs
/// then (it exits by itself when its lookup returns; a later call waits again).
pub fn wait_for_lookups(deadline: Option<Instant>) -> Result<()> {
    // Waited for outside the lock: a connection opened meanwhile is not held up.
    let pending = std::mem::take(&mut lock(&GLOBAL).lookups);
    let mut running = Vec::new();
    for lookup in pending {
        if let Err(still) = lookup.join(deadline) {
            running.push(still);
        }
    }
    let Some(first) = running.first() else {
        return Ok(());
    };
    let message = format!(
        "{} DNS lookup{} still running on wsbridge's DNS thread (resolving `{}`; getaddrinfo has \
         no timeout of its own); the thread exits by itself when the lookup returns",
        running.len(),
        if running.len() == 1 { " is" } else { "s are" },
        first.host(),
    );
    lock(&GLOBAL).lookups.extend(running);
    Err(Error::new(ErrorKind::LookupRunning, message))
}

/// `true` while any background thread runs: the I/O thread, or a DNS thread not joined yet.
pub fn threads_running() -> bool {
    let g = lock(&GLOBAL);
    g.thread.is_some() || !g.lookups.is_empty()
}

//! The background threads every connection shares, and their lifetime.
//!
//! One I/O thread (`wsbridge-io`) drives all sockets, whatever the number of connections, and
//! one DNS thread (`wsbridge-dns`) is started on the first host-name lookup. Both start with
//! the first connection and are joined when the last connection is released, so a program (or
//! a Unity editor reloading its scripts) can unload the library with no thread left running.

mod reactor;
mod resolver;

pub use reactor::{Cmd, Driven, Handle, Next};

use crate::client::error::{Error, Result};
use crate::sync::lock;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

struct Global {
    handle: Option<Arc<Handle>>,
    thread: Option<JoinHandle<()>>,
    live: usize,
}

static GLOBAL: Mutex<Global> = Mutex::new(Global {
    handle: None,
    thread: None,
    live: 0,
});

/// Keeps the runtime alive; the last one dropped stops and joins the background threads.
pub struct Live {
    handle: Arc<Handle>,
}

impl Live {
    /// Registers one more live connection, starting the threads if none run.
    pub fn acquire() -> Result<Live> {
        let mut g = lock(&GLOBAL);
        if g.handle.is_none() {
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
        handle.send(Cmd::Stop);
        handle.stop_resolver();
        if thread.thread().id() != std::thread::current().id() {
            let _ = thread.join();
        }
    }
}

/// Number of background threads currently running (for tests and diagnostics).
pub fn threads_running() -> bool {
    lock(&GLOBAL).thread.is_some()
}

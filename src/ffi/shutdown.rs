//! `wsb_shutdown`: closes every connection and stops the background threads, before the host
//! unloads the library.

use super::result::*;
use super::{boundary, handle, timeout_arg, Failure};
use std::time::{Duration, Instant};

/// Closes every open env (as wsb_env_close does) and every open connection (close code 1001,
/// "going away"), waits for the closes wsb_close_async left in the background, and stops
/// wsbridge's background threads, for a host that is about to unload the library (a Unity editor before an assembly
/// reload, a plugin being unloaded, a program calling dlclose).
///
/// - `timeout_ms`: the time the whole call may take: the close handshakes together, then the
///   wait for a DNS lookup still in progress (see below); -1 waits without limit, 0 sends the
///   close frames, drops the connections and waits for nothing.
///
/// Every handle is invalid afterwards (WSB_INVALID_HANDLE). When this returns WSB_OK or
/// WSB_TIMEOUT and no other thread is inside a wsbridge call, every wsbridge thread has been
/// joined: none runs, or will ever run, code of the library, so the host may unload it. (A call
/// still in progress on another thread keeps its connection, and the threads, until it returns;
/// that call then joins them before it returns.) The one thread this may not be able to stop in
/// time is the DNS thread blocked inside `getaddrinfo`, which has no timeout, resolving the host
/// name of a connection that was closed while it connected: WSB_LOOKUP_RUNNING then says it is
/// not yet safe to unload. That thread exits by itself when `getaddrinfo` returns; call
/// wsb_shutdown again, which waits for it again within its own `timeout_ms`.
///
/// The library remains usable: the next connect starts the threads again. Thread-safe; calling
/// it with nothing open (and no lookup left) is a harmless WSB_OK.
///
/// Returns WSB_OK; WSB_TIMEOUT (some close handshakes did not complete in time, including
/// those of wsb_close_async still under way that this call waited for, and those whose own
/// timeout ran out unanswered; those connections were dropped; the threads are joined all the
/// same; the message counts them); WSB_LOOKUP_RUNNING (a DNS
/// lookup is still running, see above; the message names the host; returned rather than
/// WSB_TIMEOUT when both apply); WSB_INVALID_ARGUMENT (`timeout_ms` below -1); WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_shutdown(timeout_ms: i32) -> wsb_result {
    boundary("wsb_shutdown", || {
        let timeout = timeout_arg(timeout_ms, "timeout_ms")?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut late = 0usize;
        super::env::close_all();
        let conns = handle::CONNECTIONS.remove_all();
        let total = conns.len();
        // Each connection is released at the end of its turn; releasing the last one joins the
        // I/O thread, and the DNS thread unless it is inside a lookup.
        for c in conns {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if c.close(1001, "going away", left).is_err() {
                late += 1;
            }
        }
        // The closes wsb_close_async left in the background, within the same deadline.
        let (background, background_late) = crate::client::wait_for_closes(deadline);
        let total = total + background;
        late += background_late;
        let ms = timeout.unwrap_or(Duration::ZERO).as_millis();
        let late_note = if late > 0 {
            format!("; {late} of {total} connections did not finish closing within {ms} ms and were dropped")
        } else {
            String::new()
        };
        if let Err(e) = crate::client::wait_for_lookups(deadline) {
            // Only with a limit: without one, the wait ends when the lookups do.
            return Err(Failure::new(
                WSB_LOOKUP_RUNNING,
                format!(
                    "not yet safe to unload wsbridge after waiting up to {ms} ms: {}; call \
                     wsb_shutdown again{late_note}",
                    e.message()
                ),
            ));
        }
        if late > 0 {
            return Err(Failure::new(
                WSB_TIMEOUT,
                format!("{late} of {total} connections did not finish closing within {ms} ms and were dropped"),
            ));
        }
        Ok(())
    })
}

//! Library-wide shutdown.

use super::result::*;
use super::{boundary, handle, timeout_arg, Failure};
use std::time::{Duration, Instant};

/// Closes every open connection (close code 1001, "going away") and stops wsbridge's background
/// threads, for a host that is about to unload the library (a Unity editor before an assembly
/// reload, a plugin being unloaded, a program calling dlclose).
///
/// - `timeout_ms`: the time all close handshakes may take together; -1 waits without limit, 0
///   sends the close frames and drops the connections at once.
///
/// Every handle is invalid afterwards (WSB_INVALID_HANDLE). When no other thread is still inside
/// a wsbridge call, the background threads have exited when this returns. The library remains
/// usable: the next connect starts them again. Thread-safe; calling it with nothing open is a
/// harmless WSB_OK.
///
/// Returns WSB_OK, WSB_TIMEOUT (some close handshakes did not complete in time; those
/// connections were dropped), WSB_INVALID_ARGUMENT (`timeout_ms` below -1), WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_shutdown(timeout_ms: i32) -> wsb_result {
    boundary("wsb_shutdown", || {
        let timeout = timeout_arg(timeout_ms, "timeout_ms")?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut late = 0usize;
        let conns = handle::remove_all();
        let total = conns.len();
        for c in conns {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if c.close(1001, "going away", left).is_err() {
                late += 1;
            }
        }
        if late > 0 {
            let ms = timeout.unwrap_or(Duration::ZERO).as_millis();
            return Err(Failure::new(
                WSB_TIMEOUT,
                format!("{late} of {total} connections did not finish closing within {ms} ms and were dropped"),
            ));
        }
        Ok(())
    })
}

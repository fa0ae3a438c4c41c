//! Ending an env: wsb_env_close_status (why the last connection ended) and wsb_env_close.

use super::{env_lock, with_env, wsb_env, Cell, ENVS};
use crate::ffi::result::*;
use crate::ffi::{boundary, c_string_buf_arg, out_arg, write_c_string, write_opt, Failure};
use std::ffi::c_char;
use std::sync::Arc;

/// Reads the trainer's close code and reason from the latest disconnection (after a
/// DISCONNECTED or FINISHED event, or a WSB_ENV_REFUSED or WSB_ENV_VERSION_MISMATCH result): what the
/// trainer sent, or 1006 and the error when the link broke without a close frame.
///
/// - `out_code`: receives the code. Required.
/// - `reason`, `reason_cap`: receive the reason, NUL-terminated, truncated like snprintf;
///   `reason` may be NULL when `reason_cap` is 0.
/// - `out_reason_len`: receives the full reason length without the NUL. May be NULL.
///
/// Returns WSB_OK; WSB_WOULD_BLOCK (no disconnection since the current connection opened);
/// WSB_INVALID_ARGUMENT; WSB_INVALID_HANDLE; WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_close_status(
    env: wsb_env,
    out_code: *mut u16,
    reason: *mut c_char,
    reason_cap: usize,
    out_reason_len: *mut usize,
) -> wsb_result {
    boundary("wsb_env_close_status", || {
        let out_code = out_arg(out_code, "out_code")?;
        c_string_buf_arg(reason, reason_cap, "reason")?;
        let status = with_env(env, |e| Ok(e.close_status().cloned()))?;
        let Some(status) = status else {
            return Err(Failure::new(
                WSB_WOULD_BLOCK,
                "no disconnection since the current connection opened, so there is no close status",
            ));
        };
        *out_code = status.code;
        write_opt(
            out_reason_len,
            write_c_string(&status.reason, reason, reason_cap),
        );
        Ok(())
    })
}

/// Closes an env: closes its connection (1000, "the game closed", within 1 s) and releases the
/// handle. A wsb_env_next blocking on another thread returns WSB_CLOSED at once.
///
/// Returns WSB_OK; WSB_INVALID_HANDLE (closing twice lands here, never in a crash);
/// WSB_INTERNAL. Thread-safe.
#[no_mangle]
pub extern "C" fn wsb_env_close(env: wsb_env) -> wsb_result {
    boundary("wsb_env_close", || {
        let cell: Arc<Cell> = ENVS.remove(env)?;
        cell.closer.close();
        env_lock(&cell).close();
        Ok(())
    })
}

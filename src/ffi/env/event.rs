//! The current event: wsb_env_next waits for it, and what it brings is read here: which agents
//! reset (and their seeds), the reset options, the engine settings, and the slot's URL.

use super::{
    one_agent, with_env, wsb_env, wsb_env_event, WSB_EVENT_CONNECTED, WSB_EVENT_DISCONNECTED,
    WSB_EVENT_FINISHED, WSB_EVENT_NO_DECISION, WSB_EVENT_RECONNECTED, WSB_EVENT_REPEAT,
    WSB_EVENT_RESET, WSB_EVENT_SETTINGS, WSB_EVENT_STEP,
};
use crate::env::EventKind;
use crate::ffi::result::*;
use crate::ffi::{
    boundary, c_string_buf_arg, out_arg, timeout_arg, write_c_string, write_opt, Failure,
};
use std::ffi::c_char;

/// Waits for what to do next and writes it to `*out_event` (see the WSB_EVENT_* constants).
///
/// - `timeout_ms`: -1 blocks until the trainer's next request (lockstep: the fastest training
///   loop); 0 never blocks (call it once per frame from the game loop: the trainer's request
///   is served when the game has submitted); otherwise the longest wait in milliseconds.
///   Reconnecting happens inside these calls, within the same timeout.
/// - `out_event`: written on WSB_OK only.
///
/// Events RESET, STEP, REPEAT and NO_DECISION must be answered with wsb_env_submit before the
/// next call. Between decisions (`decision_period` > 1) REPEAT or NO_DECISION come at once,
/// without the network.
///
/// Returns WSB_OK; WSB_TIMEOUT (nothing yet: call again; the env is fine); WSB_ENV_PROTOCOL_ERROR
/// (the trainer sent a malformed or unexpected message: the message says what, the env closed
/// the connection with 4400; with `lobby`, also a lobby that sent anything but an `assign`
/// naming a ws:// or wss:// URL); WSB_ENV_VERSION_MISMATCH (the trainer speaks another protocol
/// version; both are named); WSB_ENV_REFUSED (the trainer refused the game for good: the upgrade
/// answered with HTTP 401 or 403 (token) or 404, or a close with 4400, 4401, 4404 ...;
/// wsb_env_close_status has the close code and reason; with `lobby`, the lobby's upgrade
/// answered 401, 403 or 404, or the lobby closed with 4400 (it rejected the `lobby` message),
/// while a slot's HTTP 404, 410, 502 or 504 and close 4404 send the env back to the lobby
/// instead);
/// WSB_MESSAGE_TOO_BIG (the trainer sent a message over `max_message_size`); the last connect
/// error (WSB_CONNECT_FAILED, WSB_HANDSHAKE_FAILED ...) when reconnecting gave up (with `lobby`,
/// WSB_CONNECT_FAILED also when no slot was assigned in time), or WSB_TLS_FAILED at once; WSB_CLOSED
/// (after FINISHED or one of the errors above: the env is over, the message says why; or
/// wsb_env_close ran on another thread); WSB_INVALID_ARGUMENT (NULL `out_event`, `timeout_ms`
/// below -1, or the previous event was not submitted); WSB_INVALID_HANDLE; WSB_INTERNAL.
///
/// Thread safety (all wsb_env_* functions): an env is meant for one thread, the game loop;
/// calls from several threads are serialized (a blocking wsb_env_next holds the env), except
/// wsb_env_close, which may end a blocking wsb_env_next from another thread.
#[no_mangle]
pub extern "C" fn wsb_env_next(
    env: wsb_env,
    timeout_ms: i32,
    out_event: *mut wsb_env_event,
) -> wsb_result {
    boundary("wsb_env_next", || {
        let out = out_arg(out_event, "out_event")?;
        let timeout = timeout_arg(timeout_ms, "timeout_ms")?;
        let event = with_env(env, |e| Ok(e.next(timeout)?))?;
        *out = wsb_env_event {
            kind: match event.kind {
                EventKind::Connected => WSB_EVENT_CONNECTED,
                EventKind::Reconnected => WSB_EVENT_RECONNECTED,
                EventKind::Reset => WSB_EVENT_RESET,
                EventKind::Step => WSB_EVENT_STEP,
                EventKind::Repeat => WSB_EVENT_REPEAT,
                EventKind::NoDecision => WSB_EVENT_NO_DECISION,
                EventKind::Disconnected => WSB_EVENT_DISCONNECTED,
                EventKind::Finished => WSB_EVENT_FINISHED,
                EventKind::Settings => WSB_EVENT_SETTINGS,
            },
            connection: event.connection,
            resets: event.resets as u32,
            cause: match event.cause {
                None => WSB_OK,
                Some(k) => Failure::from(crate::client::Error::new(k, "")).code,
            },
            close_code: event.close_code,
            reserved: 0,
        };
        Ok(())
    })
}

/// Whether `agent` resets in the current event, and with which seed.
///
/// - `agent`: 0 to agents - 1.
/// - `out_reset`: receives 1 if the agent must reset now (every agent in RESET; the flagged
///   ones in STEP), else 0. Required.
/// - `out_seed`: receives the seed to reseed the agent's random generator with before its
///   reset (an integer in [0, 2^63)), or -1: no seed, continue its random stream (so that
///   `reset(seed=s)` then `reset()` is reproducible). Only a RESET carries seeds. May be NULL.
///
/// Returns WSB_OK, WSB_INVALID_ARGUMENT (no such agent, NULL `out_reset`),
/// WSB_INVALID_HANDLE, WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_agent_reset(
    env: wsb_env,
    agent: u32,
    out_reset: *mut u8,
    out_seed: *mut i64,
) -> wsb_result {
    boundary("wsb_env_agent_reset", || {
        let out = out_arg(out_reset, "out_reset")?;
        let agent = one_agent(agent)?;
        let (reset, seed) = with_env(env, |e| Ok((e.must_reset(agent)?, e.seed(agent)?)))?;
        *out = reset as u8;
        write_opt(out_seed, seed.map_or(-1, |s| s as i64));
        Ok(())
    })
}

/// Copies the options of the current RESET (the JSON object the trainer passed to
/// `reset(options=...)`, "{}" when none or outside a RESET) as a NUL-terminated string,
/// truncated like snprintf.
///
/// - `buf`, `cap`: the destination; `buf` may be NULL when `cap` is 0.
/// - `out_len`: receives the full length without the NUL. May be NULL.
///
/// Returns WSB_OK, WSB_INVALID_ARGUMENT, WSB_INVALID_HANDLE, WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_reset_options(
    env: wsb_env,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> wsb_result {
    boundary("wsb_env_reset_options", || {
        c_string_buf_arg(buf, cap, "buf")?;
        let n = with_env(env, |e| Ok(write_c_string(e.reset_options(), buf, cap)))?;
        write_opt(out_len, n);
        Ok(())
    })
}

/// Copies the latest engine settings the trainer sent (WSB_EVENT_SETTINGS) as a NUL-terminated
/// JSON object, truncated like snprintf: "{}" before any. Keys the trainer package defines:
/// `time_scale` (number > 0), `target_frame_rate` (integer, -1: unlimited), `quality_level`
/// (integer >= 0); any other key is the game's own (any JSON value). Settings stay until the
/// next WSB_EVENT_SETTINGS replaces them all (the trainer sends them again after a reconnection).
///
/// - `buf`, `cap`: the destination; `buf` may be NULL when `cap` is 0.
/// - `out_len`: receives the full length without the NUL. May be NULL.
///
/// Thread safety: as every wsb_env_* call (serialized per env).
///
/// Returns WSB_OK, WSB_INVALID_ARGUMENT, WSB_INVALID_HANDLE, WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_settings(
    env: wsb_env,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> wsb_result {
    boundary("wsb_env_settings", || {
        c_string_buf_arg(buf, cap, "buf")?;
        let n = with_env(env, |e| Ok(write_c_string(e.settings(), buf, cap)))?;
        write_opt(out_len, n);
        Ok(())
    })
}

/// Copies the URL of the env's slot as a NUL-terminated string, truncated like snprintf: the
/// `url` given to wsb_env_open, or with the option `lobby` the slot the lobby assigned last ("" until
/// the first assignment; after a move to another slot, the new one from the RECONNECTED event
/// on). Credentials in it (a password, a `token=` parameter) are replaced by `***`, as in every
/// message: it is meant for logs and display.
///
/// - `buf`, `cap`: the destination; `buf` may be NULL when `cap` is 0.
/// - `out_len`: receives the full length without the NUL. May be NULL.
///
/// Thread safety: as every wsb_env_* call (serialized per env).
///
/// Returns WSB_OK, WSB_INVALID_ARGUMENT, WSB_INVALID_HANDLE, WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_url(
    env: wsb_env,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> wsb_result {
    boundary("wsb_env_url", || {
        c_string_buf_arg(buf, cap, "buf")?;
        let n = with_env(env, |e| Ok(write_c_string(e.shown_url(), buf, cap)))?;
        write_opt(out_len, n);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ErrorKind;

    #[test]
    fn causes_map_to_result_codes() {
        let code = |k| Failure::from(crate::client::Error::new(k, "")).code;
        assert_eq!(code(ErrorKind::Closed), WSB_CLOSED);
        assert_eq!(code(ErrorKind::ConnectionLost), WSB_CONNECTION_LOST);
    }
}

//! Random sequences of C-ABI calls with random arguments (live, closed, zero and random
//! handles; NULL pointers; sizes; timeouts; kinds; codes; option and URL text) against an
//! in-process echo server. Every call must return one of the codes its documentation lists,
//! never WSB_INTERNAL, must not write its outputs on failure, and nothing may crash or hang.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::ffi::{c_char, CString};
use std::ptr::{null, null_mut};
use wsbridge::ffi::connection::*;
use wsbridge::ffi::diagnostics::wsb_last_error;
use wsbridge::ffi::shutdown::wsb_shutdown;
use wsbridge_fuzz::{check, echo_port, name};

#[derive(Arbitrary, Debug)]
enum Pick {
    /// One of the handles issued in this run (live or closed), by index.
    Issued(u8),
    Zero,
    Random(u64),
}

#[derive(Arbitrary, Debug)]
enum Op {
    Connect {
        path: u8,
        extra: String,
        options: u8,
        text: String,
        wait: bool,
    },
    Send {
        h: Pick,
        len: u16,
        kind: u8,
        null_data: bool,
        bad_utf8: bool,
    },
    Flush {
        h: Pick,
        timeout: u8,
    },
    Recv {
        h: Pick,
        cap: u16,
        null_buf: bool,
        null_len: bool,
        timeout: u8,
    },
    State {
        h: Pick,
        null_out: bool,
    },
    CloseStatus {
        h: Pick,
        cap: u8,
        null_reason: bool,
        null_code: bool,
    },
    Subprotocol {
        h: Pick,
        cap: u8,
        null_buf: bool,
    },
    Close {
        h: Pick,
        code: u16,
        reason: String,
        null_reason: bool,
        timeout: u8,
        /// wsb_close_async instead of wsb_close.
        in_background: bool,
    },
    Shutdown {
        timeout: u8,
    },
    LastError {
        cap: u8,
        null_buf: bool,
    },
}

const PATHS: [&str; 5] = ["/echo", "/close", "/talk", "/nowhere", "/echo?q=1"];
const OPTIONS: [&str; 11] = [
    "",
    "{}",
    "{\"max_message_size\": 100}",
    "{\"send_queue_max_bytes\": 1, \"recv_queue_max_bytes\": 1}",
    "{\"ping_interval_ms\": 1, \"pong_timeout_ms\": 1000}",
    "{\"subprotocols\": [\"a\", \"b\"], \"headers\": {\"X-A\": \"b\"}}",
    "{\"connect_timeout_ms\": 0}",
    "{\"max_message_size\": -1}",
    "{\"bogus\": 1}",
    "not json",
    "{\"reconnect\": {\"delay_ms\": 1, \"max_delay_ms\": 2, \"give_up_ms\": 50}}",
];

/// Timeouts for wsb_recv: invalid, polling, short; never -1 (no message may ever come).
fn recv_timeout(t: u8) -> i32 {
    match t % 4 {
        0 => -2,
        1 => 0,
        _ => (t % 8) as i32,
    }
}

/// Timeouts for wsb_close and wsb_shutdown: invalid, none, dropping, short, unlimited (the
/// echo server always answers a close, so -1 ends too).
fn close_timeout(t: u8) -> i32 {
    match t % 5 {
        0 => -3,
        1 => -1,
        2 => 0,
        _ => (t % 50) as i32,
    }
}

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "")).expect("NULs removed")
}

struct Run {
    issued: Vec<u64>,
}

impl Run {
    fn pick(&self, p: &Pick) -> u64 {
        match p {
            Pick::Issued(i) if !self.issued.is_empty() => {
                self.issued[*i as usize % self.issued.len()]
            }
            Pick::Issued(_) | Pick::Zero => 0,
            Pick::Random(v) => *v,
        }
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Connect {
                path,
                extra,
                options,
                text,
                wait,
            } => {
                let mut url = format!(
                    "ws://127.0.0.1:{}{}",
                    echo_port(),
                    PATHS[path as usize % PATHS.len()]
                );
                // Characters a URL path may or may not hold: the parser decides, never panics.
                url.extend(extra.chars().filter(|c| !c.is_control()).take(16));
                let url = c_string(&url);
                let opts = match options as usize % (OPTIONS.len() + 1) {
                    i if i < OPTIONS.len() => c_string(OPTIONS[i]),
                    _ => c_string(&text), // arbitrary text as options JSON
                };
                let mut h = 0xdead_beefu64;
                let r = if wait {
                    wsb_connect(url.as_ptr(), opts.as_ptr(), &mut h)
                } else {
                    wsb_connect_async(url.as_ptr(), opts.as_ptr(), &mut h)
                };
                if name(r) == "WSB_OK" {
                    assert!(h != 0 && h != 0xdead_beef, "handle {h:#x}");
                    self.issued.push(h);
                } else {
                    assert_eq!(h, 0xdead_beef, "handle written on {}", name(r));
                    let allowed: &[&str] = if wait {
                        &[
                            "WSB_INVALID_ARGUMENT",
                            "WSB_TIMEOUT",
                            "WSB_HANDSHAKE_FAILED",
                            "WSB_CONNECTION_LOST",
                        ]
                    } else {
                        &["WSB_INVALID_ARGUMENT"]
                    };
                    check("wsb_connect", r, allowed);
                }
            }
            Op::Send {
                h,
                len,
                kind,
                null_data,
                bad_utf8,
            } => {
                let mut data = vec![b'a'; len as usize % 300];
                if bad_utf8 && !data.is_empty() {
                    data[0] = 0xff;
                }
                let ptr = if null_data { null() } else { data.as_ptr() };
                let r = wsb_send(self.pick(&h), ptr, data.len(), kind as u32 % 4);
                check(
                    "wsb_send",
                    r,
                    &[
                        "WSB_OK",
                        "WSB_WOULD_BLOCK",
                        "WSB_MESSAGE_TOO_BIG",
                        "WSB_INVALID_UTF8",
                        "WSB_INVALID_ARGUMENT",
                        "WSB_CLOSED",
                        "WSB_CONNECTION_LOST",
                        "WSB_INVALID_HANDLE",
                    ],
                );
            }
            Op::Flush { h, timeout } => {
                // Never -1: a peer that stopped reading would make that wait for ever.
                let r = wsb_flush(self.pick(&h), recv_timeout(timeout));
                check(
                    "wsb_flush",
                    r,
                    &[
                        "WSB_OK",
                        "WSB_TIMEOUT",
                        "WSB_CLOSED",
                        "WSB_INVALID_ARGUMENT",
                        "WSB_INVALID_HANDLE",
                    ],
                );
            }
            Op::Recv {
                h,
                cap,
                null_buf,
                null_len,
                timeout,
            } => {
                let mut buf = vec![0u8; cap as usize % 400];
                let ptr = if null_buf {
                    null_mut()
                } else {
                    buf.as_mut_ptr()
                };
                let (mut len, mut kind) = (usize::MAX, 77u32);
                let len_ptr = if null_len {
                    null_mut()
                } else {
                    &mut len as *mut usize
                };
                let r = wsb_recv(
                    self.pick(&h),
                    ptr,
                    buf.len(),
                    len_ptr,
                    &mut kind,
                    recv_timeout(timeout),
                );
                check(
                    "wsb_recv",
                    r,
                    &[
                        "WSB_OK",
                        "WSB_TIMEOUT",
                        "WSB_BUFFER_TOO_SMALL",
                        "WSB_CLOSED",
                        "WSB_CONNECTION_LOST",
                        "WSB_PROTOCOL_ERROR",
                        "WSB_MESSAGE_TOO_BIG",
                        "WSB_CONNECT_FAILED",
                        "WSB_TLS_FAILED",
                        "WSB_HANDSHAKE_FAILED",
                        "WSB_INVALID_ARGUMENT",
                        "WSB_INVALID_HANDLE",
                    ],
                );
                match name(r) {
                    "WSB_OK" => assert!(len <= buf.len() && (kind == 1 || kind == 2)),
                    "WSB_BUFFER_TOO_SMALL" => assert!(len > buf.len() && (kind == 1 || kind == 2)),
                    _ => assert!(
                        len == usize::MAX && kind == 77,
                        "outputs written on {}",
                        name(r)
                    ),
                }
            }
            Op::State { h, null_out } => {
                let mut state = 99u32;
                let out = if null_out {
                    null_mut()
                } else {
                    &mut state as *mut u32
                };
                let r = wsb_state(self.pick(&h), out);
                check(
                    "wsb_state",
                    r,
                    &["WSB_OK", "WSB_INVALID_HANDLE", "WSB_INVALID_ARGUMENT"],
                );
                assert!(name(r) != "WSB_OK" || state <= 3, "state {state}");
            }
            Op::CloseStatus {
                h,
                cap,
                null_reason,
                null_code,
            } => {
                let mut reason = vec![0x55u8; cap as usize];
                let mut code = 7u16;
                let ptr = if null_reason {
                    null_mut()
                } else {
                    reason.as_mut_ptr().cast::<c_char>()
                };
                let code_ptr = if null_code {
                    null_mut()
                } else {
                    &mut code as *mut u16
                };
                let mut len = 0usize;
                let r = wsb_close_status(self.pick(&h), code_ptr, ptr, reason.len(), &mut len);
                check(
                    "wsb_close_status",
                    r,
                    &[
                        "WSB_OK",
                        "WSB_WOULD_BLOCK",
                        "WSB_INVALID_ARGUMENT",
                        "WSB_INVALID_HANDLE",
                    ],
                );
                if name(r) == "WSB_OK" && !reason.is_empty() {
                    assert!(
                        reason.contains(&0),
                        "reason not NUL-terminated within its capacity"
                    );
                }
            }
            Op::Subprotocol { h, cap, null_buf } => {
                let mut buf = vec![0x55u8; cap as usize];
                let ptr = if null_buf {
                    null_mut()
                } else {
                    buf.as_mut_ptr().cast::<c_char>()
                };
                let r = wsb_subprotocol(self.pick(&h), ptr, buf.len(), null_mut());
                check(
                    "wsb_subprotocol",
                    r,
                    &["WSB_OK", "WSB_INVALID_ARGUMENT", "WSB_INVALID_HANDLE"],
                );
            }
            Op::Close {
                h,
                code,
                reason,
                null_reason,
                timeout,
                in_background,
            } => {
                let reason = c_string(&reason);
                let ptr = if null_reason { null() } else { reason.as_ptr() };
                let (name, r) = match in_background {
                    true => (
                        "wsb_close_async",
                        wsb_close_async(self.pick(&h), code, ptr, close_timeout(timeout)),
                    ),
                    false => (
                        "wsb_close",
                        wsb_close(self.pick(&h), code, ptr, close_timeout(timeout)),
                    ),
                };
                check(
                    name,
                    r,
                    &[
                        "WSB_OK",
                        "WSB_TIMEOUT",
                        "WSB_INVALID_ARGUMENT",
                        "WSB_INVALID_HANDLE",
                    ],
                );
            }
            Op::Shutdown { timeout } => {
                let r = wsb_shutdown(close_timeout(timeout));
                check(
                    "wsb_shutdown",
                    r,
                    &["WSB_OK", "WSB_TIMEOUT", "WSB_INVALID_ARGUMENT"],
                );
            }
            Op::LastError { cap, null_buf } => {
                let mut buf = vec![0x55u8; cap as usize];
                let ptr = if null_buf {
                    null_mut()
                } else {
                    buf.as_mut_ptr().cast::<c_char>()
                };
                let n = wsb_last_error(ptr, buf.len());
                if !null_buf && !buf.is_empty() {
                    let written = buf.iter().position(|&b| b == 0).expect("NUL-terminated");
                    assert_eq!(written, n.min(buf.len() - 1), "truncated like snprintf");
                }
            }
        }
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let mut run = Run { issued: Vec::new() };
    for op in ops.into_iter().take(32) {
        run.apply(op);
    }
    // Leave nothing behind for the next input: every handle closed, the threads stopped.
    let r = wsb_shutdown(2000);
    check("wsb_shutdown", r, &["WSB_OK", "WSB_TIMEOUT"]);
    assert!(
        !wsbridge::background_threads_running(),
        "background threads still running after wsb_shutdown"
    );
});

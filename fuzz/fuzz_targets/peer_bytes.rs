//! Random peer bytes: the server answers the upgrade correctly and then writes arbitrary bytes
//! (or writes them instead of the upgrade response), in pieces, and ends its side of TCP.
//! wsbridge must deliver whole messages or report one of its documented errors, and never
//! crash, hang (every wait is bounded) or report WSB_INTERNAL.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::ffi::CString;
use wsbridge::ffi::connection::{wsb_close, wsb_connect, wsb_recv};
use wsbridge::ffi::shutdown::wsb_shutdown;
use wsbridge_fuzz::{check, name, raw_port, Script};

#[derive(Arbitrary, Debug)]
struct Input {
    upgrade: bool,
    /// Index into LIMITS: the max_message_size option.
    limit: u8,
    /// Write pieces of this many bytes (0: all at once).
    chunk: u8,
    /// Receive buffer size index into BUFFERS.
    buffer: u8,
    bytes: Vec<u8>,
}

const LIMITS: [usize; 4] = [16, 125, 1000, 1 << 20];
const BUFFERS: [usize; 3] = [0, 7, 1 << 16];

fuzz_target!(|input: Input| {
    let chunk = if input.chunk == 0 {
        input.bytes.len()
    } else {
        input.chunk as usize
    };
    let port = raw_port(Script {
        upgrade: input.upgrade,
        bytes: input.bytes,
        chunk,
    });
    let url = CString::new(format!("ws://127.0.0.1:{port}/fuzz")).unwrap();
    let limit = LIMITS[input.limit as usize % LIMITS.len()];
    let options = CString::new(format!(
        "{{\"max_message_size\": {limit}, \"connect_timeout_ms\": 5000, \"ping_interval_ms\": 0}}"
    ))
    .unwrap();
    let mut h = 0u64;
    let r = wsb_connect(url.as_ptr(), options.as_ptr(), &mut h);
    if input.upgrade {
        check("wsb_connect", r, &["WSB_OK"]);
    } else {
        // Whatever came instead of a 101 (an HTTP error, garbage, a 101 with a bad key, or
        // nothing): a connect error with a message, never a hang or a crash. A real 101
        // with the right key cannot be guessed, so OK would be a bug too.
        check(
            "wsb_connect",
            r,
            &["WSB_HANDSHAKE_FAILED", "WSB_CONNECTION_LOST", "WSB_TIMEOUT"],
        );
        assert_eq!(h, 0, "handle written on {}", name(r));
        return;
    }
    let mut buf = vec![0u8; BUFFERS[input.buffer as usize % BUFFERS.len()]];
    let mut big = vec![0u8; 1 << 20];
    loop {
        let (mut len, mut kind) = (0usize, 0u32);
        // The peer has ended its side: everything ends in well under 5 s.
        let r = wsb_recv(h, buf.as_mut_ptr(), buf.len(), &mut len, &mut kind, 5000);
        match name(r) {
            "WSB_OK" => assert!(len <= buf.len() && len <= limit && (kind == 1 || kind == 2)),
            "WSB_BUFFER_TOO_SMALL" => {
                assert!(
                    len > buf.len() && len <= limit,
                    "size {len} for a buffer of {}",
                    buf.len()
                );
                let r = wsb_recv(h, big.as_mut_ptr(), big.len(), &mut len, &mut kind, 0);
                check("wsb_recv (the message that did not fit)", r, &["WSB_OK"]);
            }
            _ => {
                check(
                    "wsb_recv",
                    r,
                    &[
                        "WSB_CLOSED",
                        "WSB_CONNECTION_LOST",
                        "WSB_PROTOCOL_ERROR",
                        "WSB_MESSAGE_TOO_BIG",
                    ],
                );
                break;
            }
        }
    }
    let r = wsb_close(h, 1000, std::ptr::null(), 2000);
    check("wsb_close", r, &["WSB_OK", "WSB_TIMEOUT"]);
    check("wsb_shutdown", wsb_shutdown(0), &["WSB_OK"]);
});

//! Random answers to the handshake: the HTTP upgrade response (`{accept}` in it becomes the
//! right Sec-WebSocket-Accept), optionally after a proxy's answer to CONNECT, in pieces, then
//! the end of TCP. wsbridge must open only on a valid `101` (never one that accepts an
//! extension it did not offer, never through a proxy that did not answer 2xx), report
//! anything else as a documented connect error with a message, and never quote the URL's
//! token or the proxy password, crash, hang or report WSB_INTERNAL.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::ffi::CString;
use wsbridge::ffi::connection::{wsb_close, wsb_connect};
use wsbridge::ffi::shutdown::wsb_shutdown;
use wsbridge_fuzz::{answer_port, check, last_error, name, Answers};

#[derive(Arbitrary, Debug)]
struct Input {
    /// Through a proxy: the first two bytes of `bytes` (little-endian) are the length of the
    /// proxy's answer to CONNECT, which comes first.
    proxy: bool,
    /// Write pieces of this many bytes (0: all at once).
    chunk: u8,
    bytes: Vec<u8>,
}

const TOKEN: &str = "TOKENd8f3a1";
const PASSWORD: &str = "PASSWORDc9e2b7";

/// The value of a header in a response head, as a client would read it (bare LF line ends
/// too), if any line of the head names it with a non-empty value.
fn header_named(head: &[u8], wanted: &str) -> bool {
    let text = String::from_utf8_lossy(head);
    text.split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .any(|(n, v)| n.eq_ignore_ascii_case(wanted) && !v.trim_matches([' ', '\t']).is_empty())
}

fuzz_target!(|input: Input| {
    let (connect, upgrade) = if input.proxy && input.bytes.len() >= 2 {
        let n = u16::from_le_bytes([input.bytes[0], input.bytes[1]]) as usize;
        let rest = &input.bytes[2..];
        let n = n.min(rest.len());
        (rest[..n].to_vec(), rest[n..].to_vec())
    } else {
        (Vec::new(), input.bytes.clone())
    };
    let proxy = input.proxy && input.bytes.len() >= 2;
    let chunk = match input.chunk {
        0 => input.bytes.len().max(1),
        c => c as usize,
    };
    let port = answer_port(Answers {
        proxy,
        connect: connect.clone(),
        upgrade: upgrade.clone(),
        chunk,
    });
    let url = CString::new(format!("ws://127.0.0.1:{port}/fuzz?token={TOKEN}")).unwrap();
    let options = match proxy {
        true => format!(
            "{{\"connect_timeout_ms\": 5000, \"ping_interval_ms\": 0, \
             \"proxy\": \"http://user:{PASSWORD}@127.0.0.1:{port}\"}}"
        ),
        false => "{\"connect_timeout_ms\": 5000, \"ping_interval_ms\": 0, \
                  \"proxy_from_env\": false}"
            .to_string(),
    };
    let options = CString::new(options).unwrap();
    let mut h = 0u64;
    let r = wsb_connect(url.as_ptr(), options.as_ptr(), &mut h);
    if name(r) == "WSB_OK" {
        assert!(
            !header_named(&upgrade, "sec-websocket-extensions"),
            "opened on a 101 that accepts an extension wsbridge did not offer"
        );
        if proxy {
            let status = connect.get(9..10);
            assert!(
                connect.starts_with(b"HTTP/1.") && status == Some(b"2"),
                "opened through a proxy that did not answer 2xx: {:?}",
                String::from_utf8_lossy(&connect)
            );
        }
        let r = wsb_close(h, 1000, std::ptr::null(), 0);
        check("wsb_close", r, &["WSB_OK", "WSB_TIMEOUT"]);
    } else {
        check(
            "wsb_connect",
            r,
            &[
                "WSB_HANDSHAKE_FAILED",
                "WSB_CONNECT_FAILED",
                "WSB_CONNECTION_LOST",
                "WSB_TIMEOUT",
            ],
        );
        assert_eq!(h, 0, "handle written on {}", name(r));
        let message = last_error();
        assert!(message.contains("127.0.0.1"), "{}: {message:?}", name(r));
        // The answer may quote itself (a status line, a body): only secrets it did not carry.
        let echoed = |s: &str| input.bytes.windows(s.len()).any(|w| w == s.as_bytes());
        for secret in [TOKEN, PASSWORD] {
            assert!(
                echoed(secret) || !message.contains(secret),
                "{} quotes a secret: {message:?}",
                name(r)
            );
        }
    }
    check("wsb_shutdown", wsb_shutdown(0), &["WSB_OK"]);
});

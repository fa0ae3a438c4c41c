//! What the fuzz targets share: in-process servers on 127.0.0.1, and the result codes each C
//! function may return (anything else, and WSB_INTERNAL above all, is a bug).

// tungstenite's accept callback returns its large ErrorResponse by value.
#![allow(clippy::result_large_err)]

use std::ffi::CStr;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;
use tungstenite::handshake::derive_accept_key;
use tungstenite::handshake::server::{Request, Response};
use tungstenite::http::StatusCode;
use tungstenite::Message;
use wsbridge::ffi::diagnostics::wsb_result_name;

/// The name of a result code, e.g. "WSB_OK".
pub fn name(code: u32) -> &'static str {
    // SAFETY: wsb_result_name returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(wsb_result_name(code)) }
        .to_str()
        .expect("result names are ASCII")
}

/// Panics (a crash for libFuzzer) unless `code` is one of `allowed` for `function`.
pub fn check(function: &str, code: u32, allowed: &[&str]) {
    let n = name(code);
    assert!(
        allowed.contains(&n),
        "{function} returned {n} ({code}), not one of {allowed:?}; last error: {}",
        last_error()
    );
}

/// The calling thread's wsb_last_error text.
pub fn last_error() -> String {
    let mut buf = vec![0u8; 1024];
    let n = wsbridge::ffi::diagnostics::wsb_last_error(buf.as_mut_ptr().cast(), buf.len());
    buf.truncate(n.min(buf.len() - 1));
    String::from_utf8_lossy(&buf).into_owned()
}

/// Connections served at once; more wait in the listen backlog.
const WORKERS: usize = 48;

/// Serves each connection with `serve` on a pool of threads that live as long as the process:
/// no thread ever ends, so the fuzzer's leak check never meets one half-way through its exit.
fn spawn_server(serve: fn(TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local address").port();
    let (tx, rx) = mpsc::channel::<TcpStream>();
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..WORKERS {
        let rx = Arc::clone(&rx);
        std::thread::spawn(move || loop {
            let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
            match next {
                Ok(stream) => serve(stream),
                Err(_) => return,
            }
        });
    }
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = tx.send(stream);
        }
    });
    port
}

/// A WebSocket server for `abi_calls`, started once per process. Paths: `/echo...` echoes,
/// `/close` closes at once with 1000, `/talk` sends three messages then echoes; anything else
/// is refused with HTTP 404.
pub fn echo_port() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| spawn_server(serve_echo))
}

fn serve_echo(stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut path = String::new();
    let accepted = tungstenite::accept_hdr(stream, |req: &Request, resp: Response| {
        path = req.uri().path().to_string();
        if path.starts_with("/echo") || path == "/close" || path == "/talk" {
            Ok(resp)
        } else {
            let mut refusal =
                tungstenite::handshake::server::ErrorResponse::new(Some("no route".into()));
            *refusal.status_mut() = StatusCode::NOT_FOUND;
            Err(refusal)
        }
    });
    let Ok(mut ws) = accepted else { return };
    if path == "/close" {
        let _ = ws.close(None);
    }
    if path == "/talk" {
        for text in ["one", "two", "three"] {
            let _ = ws.send(Message::text(text));
        }
    }
    loop {
        match ws.read() {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                if ws.send(m).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// What the raw server of `peer_bytes` sends on the next connection.
pub struct Script {
    /// Send the bytes after a correct `101` upgrade response (`true`) or instead of it.
    pub upgrade: bool,
    /// The bytes, written in pieces of `chunk` bytes.
    pub bytes: Vec<u8>,
    pub chunk: usize,
}

static SCRIPT: Mutex<Option<Script>> = Mutex::new(None);

/// A raw TCP server for `peer_bytes`, started once per process: for each connection it reads
/// the upgrade request and plays the current [`Script`], then ends its side of TCP.
pub fn raw_port(script: Script) -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *SCRIPT.lock().unwrap_or_else(|e| e.into_inner()) = Some(script);
    *PORT.get_or_init(|| spawn_server(serve_raw))
}

fn serve_raw(mut stream: TcpStream) {
    let Some(script) = SCRIPT.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return;
    };
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    if script.upgrade {
        let text = String::from_utf8_lossy(&request);
        let key = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("Sec-WebSocket-Key: ")
                    .or_else(|| l.strip_prefix("sec-websocket-key: "))
            })
            .unwrap_or("")
            .trim()
            .to_string();
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            derive_accept_key(key.as_bytes())
        );
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
    for piece in script.bytes.chunks(script.chunk.max(1)) {
        if stream.write_all(piece).is_err() {
            return;
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
    // Read what the client says (its close frame) until it goes away.
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

/// What the answering server of `handshake_response` says on the next connection.
pub struct Answers {
    /// Play an HTTP proxy first: `connect` answers the client's CONNECT.
    pub proxy: bool,
    pub connect: Vec<u8>,
    /// The answer to the upgrade request; `{accept}` in it becomes the right
    /// Sec-WebSocket-Accept value for the request's key.
    pub upgrade: Vec<u8>,
    /// Write in pieces of this many bytes.
    pub chunk: usize,
}

static ANSWERS: Mutex<Option<Answers>> = Mutex::new(None);

/// A raw TCP server for `handshake_response`, started once per process: for each connection it
/// reads the request head and plays the current [`Answers`], then ends its side of TCP.
pub fn answer_port(answers: Answers) -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *ANSWERS.lock().unwrap_or_else(|e| e.into_inner()) = Some(answers);
    *PORT.get_or_init(|| spawn_server(serve_answers))
}

/// Reads up to the end of a request head; `None` if the client went away first.
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    Some(String::from_utf8_lossy(&request).into_owned())
}

fn write_pieces(stream: &mut TcpStream, bytes: &[u8], chunk: usize) -> bool {
    bytes
        .chunks(chunk.max(1))
        .all(|piece| stream.write_all(piece).is_ok())
}

fn serve_answers(mut stream: TcpStream) {
    let Some(answers) = ANSWERS.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return;
    };
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = [0u8; 4096];
    let end = |stream: &mut TcpStream, buf: &mut [u8]| {
        let _ = stream.shutdown(Shutdown::Write);
        while matches!(stream.read(buf), Ok(n) if n > 0) {}
    };
    let Some(mut request) = read_head(&mut stream) else {
        return;
    };
    if answers.proxy {
        if !write_pieces(&mut stream, &answers.connect, answers.chunk) {
            return;
        }
        // A head that never ends: end TCP, so the client does not wait for the rest.
        if !answers.connect.windows(4).any(|w| w == b"\r\n\r\n") {
            return end(&mut stream, &mut buf);
        }
        // A refused tunnel: the client goes away; an accepted one: the upgrade request.
        match read_head(&mut stream) {
            Some(r) => request = r,
            None => return,
        }
    }
    let key = request
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-key"))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default();
    let accept = derive_accept_key(key.as_bytes());
    let upgrade = String::from_utf8_lossy(&answers.upgrade).contains("{accept}");
    let answer = match upgrade {
        // Only when the text is valid UTF-8 around it: the bytes are replaced as a whole.
        true => match std::str::from_utf8(&answers.upgrade) {
            Ok(text) => text.replace("{accept}", &accept).into_bytes(),
            Err(_) => answers.upgrade.clone(),
        },
        false => answers.upgrade.clone(),
    };
    if write_pieces(&mut stream, &answer, answers.chunk) {
        end(&mut stream, &mut buf);
    }
}

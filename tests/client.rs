//! The Rust client against an in-process tungstenite server.

mod common;

use common::Server;
use std::sync::Arc;
use std::time::Duration;
use tungstenite::Message;
use wsbridge::client::RecvError;
use wsbridge::{Connection, ErrorKind, Kind, Options, State};

const SECOND: Option<Duration> = Some(Duration::from_secs(5));

fn recv(c: &Connection) -> (Vec<u8>, Kind) {
    let mut buf = vec![0u8; 1 << 20];
    let (n, k) = c.recv(&mut buf, SECOND).expect("recv");
    buf.truncate(n);
    (buf, k)
}

/// A peer that accepts the upgrade and then neither reads nor sends (so it never answers a
/// ping or a close frame) until the returned sender is dropped.
fn silent_peer() -> (Server, std::sync::mpsc::Sender<()>) {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = std::sync::Mutex::new(rx);
    let server = Server::start(Arc::new(move |ws, _| {
        let _keep = ws;
        let _ = rx.lock().unwrap().recv();
    }));
    (server, tx)
}

#[test]
fn echo_round_trip_text_and_binary() {
    let server = Server::echo();
    let c = Connection::connect(&server.url("/env/0"), Options::default()).unwrap();
    assert_eq!(c.state(), State::Open);
    c.send(b"hello", Kind::Text).unwrap();
    assert_eq!(recv(&c), (b"hello".to_vec(), Kind::Text));
    c.send(&[0, 1, 2, 255], Kind::Binary).unwrap();
    assert_eq!(recv(&c), (vec![0, 1, 2, 255], Kind::Binary));
    c.close(1000, "bye", SECOND).unwrap();
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn async_connect_queues_sends_until_open() {
    let server = Server::echo();
    let c = Connection::connect_async(&server.url("/"), Options::default()).unwrap();
    for i in 0..10u8 {
        c.send(&[i], Kind::Binary).unwrap();
    }
    for i in 0..10u8 {
        assert_eq!(recv(&c), (vec![i], Kind::Binary));
    }
    assert_eq!(c.state(), State::Open);
}

#[test]
fn recv_buffer_too_small_keeps_the_message() {
    let server = Server::echo();
    let c = Connection::connect(&server.url("/"), Options::default()).unwrap();
    c.send(&[7u8; 100], Kind::Binary).unwrap();
    let mut small = [0u8; 10];
    match c.recv(&mut small, SECOND) {
        Err(RecvError::TooSmall(t)) => {
            assert_eq!(t.needed, 100);
            assert_eq!(t.kind, Kind::Binary);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(recv(&c).0, vec![7u8; 100]);
}

#[test]
fn server_close_is_reported_with_code_and_reason() {
    let server = Server::start(Arc::new(|mut ws, _| {
        ws.send(Message::text("last words")).unwrap();
        ws.close(Some(tungstenite::protocol::CloseFrame {
            code: 4001u16.into(),
            reason: "done here".into(),
        }))
        .unwrap();
        while ws.read().is_ok() {}
    }));
    let c = Connection::connect(&server.url("/"), Options::default()).unwrap();
    assert_eq!(recv(&c).0, b"last words");
    let mut buf = [0u8; 16];
    match c.recv(&mut buf, SECOND) {
        Err(RecvError::Other(e)) => assert_eq!(e.kind(), ErrorKind::Closed, "{e}"),
        other => panic!("{other:?}"),
    }
    let st = c.close_status().unwrap();
    assert_eq!((st.code, st.reason.as_str()), (4001, "done here"));
}

/// Python's websockets answers a ping with a pong even after its own close frame (RFC 6455
/// forbids only data frames then): a trainer closing with 1000 while the game's keepalive ping
/// is on the way. The peer's close stands; the frames after it are discarded.
#[test]
fn control_frames_after_the_peers_close_keep_its_code() {
    let server = Server::start(Arc::new(|mut ws, _| {
        use std::io::Write;
        ws.close(Some(tungstenite::protocol::CloseFrame {
            code: 1000u16.into(),
            reason: "training finished".into(),
        }))
        .unwrap();
        ws.flush().unwrap();
        // An unmasked empty pong, then an unmasked empty ping, as the server's next frames.
        ws.get_mut().write_all(&[0x8A, 0x00, 0x89, 0x00]).unwrap();
        while ws.read().is_ok() {}
    }));
    let c = Connection::connect(&server.url("/"), Options::default()).unwrap();
    let mut buf = [0u8; 16];
    match c.recv(&mut buf, SECOND) {
        Err(RecvError::Other(e)) => assert_eq!(e.kind(), ErrorKind::Closed, "{e}"),
        other => panic!("{other:?}"),
    }
    let st = c.close_status().unwrap();
    assert_eq!((st.code, st.reason.as_str()), (1000, "training finished"));
}

#[test]
fn many_threads_share_one_connection() {
    let server = Server::echo();
    let c = Arc::new(Connection::connect(&server.url("/"), Options::default()).unwrap());
    let sender = {
        let c = Arc::clone(&c);
        std::thread::spawn(move || {
            for i in 0..2000u32 {
                loop {
                    match c.send(&i.to_le_bytes(), Kind::Binary) {
                        Ok(()) => break,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        })
    };
    for i in 0..2000u32 {
        let (b, _) = recv(&c);
        assert_eq!(b, i.to_le_bytes());
    }
    sender.join().unwrap();
}

#[test]
fn connect_refused_and_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let opts = Options {
        connect_timeout: Duration::from_millis(300),
        ..Options::default()
    };
    let e = Connection::connect(&format!("ws://127.0.0.1:{port}/"), opts.clone())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("300 ms"), "{e}");
    drop(listener);
    let e = Connection::connect(&format!("ws://127.0.0.1:{port}/"), opts)
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::ConnectFailed, "{e}");
    assert!(e.message().contains("refused"), "{e}");
}

fn opts() -> Options {
    Options::default()
}

#[test]
fn silent_peer_is_reported_lost_by_our_pings() {
    // The server completes the upgrade, then neither reads nor writes: our pings go unanswered.
    let (server, tx) = silent_peer();
    let o = Options {
        ping_interval: Some(Duration::from_millis(100)),
        pong_timeout: Duration::from_millis(300),
        ..opts()
    };
    let c = Connection::connect(&server.url("/"), o).unwrap();
    let mut buf = [0u8; 8];
    match c.recv(&mut buf, Some(Duration::from_secs(10))) {
        Err(RecvError::Other(e)) => {
            assert_eq!(e.kind(), ErrorKind::ConnectionLost, "{e}");
            assert!(e.message().contains("300 ms"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    match c.recv(&mut buf, Some(Duration::ZERO)) {
        Err(RecvError::Other(e)) => assert_eq!(e.kind(), ErrorKind::Closed, "{e}"),
        other => panic!("{other:?}"),
    }
    drop(tx);
}

#[test]
fn incoming_message_over_the_limit_closes_with_1009() {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = Server::start(Arc::new(move |mut ws, _| {
        ws.send(Message::binary(vec![1u8; 5000])).unwrap();
        let code = loop {
            match ws.read() {
                Ok(Message::Close(f)) => break f.map(|f| u16::from(f.code)),
                Ok(_) => {}
                Err(_) => break None,
            }
        };
        tx.lock().unwrap().send(code).unwrap();
    }));
    let o = Options {
        max_message_size: 1000,
        ..opts()
    };
    let c = Connection::connect(&server.url("/"), o).unwrap();
    let mut buf = vec![0u8; 10000];
    match c.recv(&mut buf, SECOND) {
        Err(RecvError::Other(e)) => {
            assert_eq!(e.kind(), ErrorKind::MessageTooBig, "{e}");
            assert!(
                e.message().contains("5000") && e.message().contains("1009"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Some(1009));
}

#[test]
fn full_send_queue_refuses_without_losing_or_duplicating() {
    // The server reads nothing until told to, so the client's queue fills up.
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let go_rx = std::sync::Mutex::new(go_rx);
    let (got_tx, got_rx) = std::sync::mpsc::channel::<Vec<u32>>();
    let got_tx = std::sync::Mutex::new(got_tx);
    let server = Server::start(Arc::new(move |mut ws, _| {
        go_rx.lock().unwrap().recv().unwrap();
        let mut seen = Vec::new();
        while let Ok(m) = ws.read() {
            if let Message::Binary(b) = m {
                let n = u32::from_le_bytes(b[..4].try_into().unwrap());
                if n == u32::MAX {
                    break;
                }
                seen.push(n);
            }
        }
        got_tx.lock().unwrap().send(seen).unwrap();
    }));
    let o = Options {
        send_queue_max_bytes: 256 * 1024,
        ..opts()
    };
    let c = Connection::connect(&server.url("/"), o).unwrap();
    let mut accepted = Vec::new();
    let mut refused = 0;
    let mut msg = vec![0u8; 16 * 1024];
    for i in 0..2000u32 {
        msg[..4].copy_from_slice(&i.to_le_bytes());
        match c.send(&msg, Kind::Binary) {
            Ok(()) => accepted.push(i),
            Err(e) if e.kind() == ErrorKind::WouldBlock => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        refused > 0,
        "the queue never filled ({} accepted)",
        accepted.len()
    );
    assert_eq!(
        c.flush(Some(Duration::ZERO)).unwrap_err().kind(),
        ErrorKind::Timeout
    );
    go_tx.send(()).unwrap();
    // Wait for the queue to drain, then the end marker fits.
    c.flush(Some(Duration::from_secs(30))).unwrap();
    msg[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    c.send(&msg, Kind::Binary).unwrap();
    let seen = got_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(
        seen, accepted,
        "every accepted message exactly once, in order"
    );
}

#[test]
fn close_returns_within_its_timeout_when_the_peer_never_answers() {
    let (server, tx) = silent_peer();
    let c = Connection::connect(&server.url("/"), opts()).unwrap();
    let t = std::time::Instant::now();
    let e = c
        .close(1000, "bye", Some(Duration::from_millis(300)))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(c.state(), State::Closed);
    drop(tx);
}

/// Credentials in the URL never reach a message (issue 12, D4): a refused connect, a refused
/// upgrade, the peer's close and a call after it all name the URL with the values of `token`
/// and `X-Signature` hidden, and keep the rest of it.
#[test]
fn messages_hide_credentials_in_the_url() {
    use std::io::{Read, Write};
    const SECRET: &str = "hunter2hunter2";
    let query = format!("?id=7&token={SECRET}&X-Signature={SECRET}");
    let shown = "?id=7&token=***&X-Signature=***";
    let check = |what: &str, message: &str| {
        assert!(!message.contains(SECRET), "{what}: {message}");
        assert!(message.contains(shown), "{what}: {message}");
    };
    // Nothing listens on the port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let e = Connection::connect(&format!("ws://127.0.0.1:{port}/env/0{query}"), opts())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::ConnectFailed, "{e}");
    check("refused", e.message());
    // The upgrade is refused with 403.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let refuser = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "the client went away");
            request.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    let e = Connection::connect(&format!("ws://127.0.0.1:{port}/env/0{query}"), opts())
        .err()
        .unwrap();
    refuser.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::HandshakeFailed, "{e}");
    assert!(e.message().contains("HTTP 403"), "{e}");
    check("refused upgrade", e.message());
    // The peer closes; then a send is refused.
    let server = Server::start(Arc::new(|mut ws, _| {
        ws.close(None).unwrap();
        while ws.read().is_ok() {}
    }));
    let c = Connection::connect(&server.url(&format!("/env/0{query}")), opts()).unwrap();
    let mut buf = [0u8; 16];
    match c.recv(&mut buf, SECOND) {
        Err(RecvError::Other(e)) => {
            assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
            check("peer close", e.message());
        }
        other => panic!("{other:?}"),
    }
    let e = c.send(b"x", Kind::Text).unwrap_err();
    check("send after close", e.message());
    // An invalid URL is quoted the same way.
    let e = Connection::connect(&format!("http://127.0.0.1:1/env/0{query}"), opts())
        .err()
        .unwrap();
    check("invalid URL", e.message());
}

/// Option values that may hold secrets are never quoted (issue 12, D8): a wrong-typed
/// `headers` or `proxy` says the type expected and the type found, and a proxy password is
/// masked whatever characters it holds, also through the environment variables.
#[test]
fn option_errors_never_quote_secrets() {
    for json in [
        r#"{"headers": ["Authorization: Bearer TOPSECRET"]}"#,
        r#"{"headers": {"Authorization: Bearer TOPSECRET": "x"}}"#,
        r#"{"proxy": ["http://u:TOPSECRET@p:1"]}"#,
        r#"{"proxy": "socks5://bob:TOP/SECRET@proxy:1080"}"#,
        r#"{"proxy": "http://bob:TOP/SECRET@proxy:99999"}"#,
        r#"{"proxy": "http://bob:TOP?SECRET#@proxy:0"}"#,
        r#"{"subprotocols": ["TOPSECRET/="]}"#,
    ] {
        let e = Options::from_json(json).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{json}: {e}");
        assert!(!e.message().contains("SECRET"), "{json}: {e}");
        assert!(
            e.message().contains("option `"),
            "{json}: names no option: {e}"
        );
    }
    let e = Options::from_json(r#"{"headers": ["Authorization: Bearer TOPSECRET"]}"#).unwrap_err();
    assert!(
        e.message()
            .contains("option `headers` must be an object, got an array"),
        "{e}"
    );
    let e = Options::from_json(r#"{"proxy": "socks5://bob:TOP/SECRET@proxy:1080"}"#).unwrap_err();
    assert!(e.message().contains("socks5://bob:***@proxy:1080"), "{e}");
}

// ---- The spin before a wait sleeps (issue 19) -------------------------------------------------
//
// These tests give the connection a spin budget of an hour (possible from Rust; the JSON option
// stops at 10 ms), so a wait that starts spinning is still spinning when the test acts on it:
// whatever the spin fails to notice (a close, a ping, the deadline) hangs the test instead of
// being hidden by the sleep that follows a short spin. Each test first waits until the waiting
// thread burns CPU, which only a spinning wait does.

/// A spin budget no test outlives.
#[cfg(target_os = "linux")]
const FOREVER: Duration = Duration::from_secs(3600);

/// The calling thread's id, for `wait_until_spinning`.
#[cfg(target_os = "linux")]
fn thread_id() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// Returns once thread `tid` of this process has used 0.1 s of CPU: the sign that its wait
/// spins (a sleeping wait uses none). CPU time is no event one can block on, so it is read
/// every 20 ms; a wait that never spins fails the test after 60 s.
#[cfg(target_os = "linux")]
fn wait_until_spinning(tid: i32) {
    let path = format!("/proc/self/task/{tid}/stat");
    // SAFETY: sysconf has no pointer arguments.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let start = std::time::Instant::now();
    loop {
        let stat = std::fs::read_to_string(&path).expect("the waiting thread is alive");
        // After the command name in parentheses: state (field 3), ..., utime (14), stime (15).
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        if ticks * 10 >= hz {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the waiting thread used {ticks} ticks of CPU in 60 s: its wait does not spin"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `f` on a thread, which sends its thread id first; `f`'s result, or a failure naming
/// `what` if it does not finish within 60 s (a wait the spin kept from ending).
#[cfg(target_os = "linux")]
fn on_thread<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> T + Send + 'static,
) -> (i32, std::sync::mpsc::Receiver<T>) {
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        tid_tx.send(thread_id()).unwrap();
        let _ = tx.send(f());
    });
    let tid = tid_rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what}: the thread did not start"));
    (tid, rx)
}

#[cfg(target_os = "linux")]
fn spinning() -> Options {
    Options {
        spin_budget: FOREVER,
        ..opts()
    }
}

#[cfg(target_os = "linux")]
#[test]
fn close_on_another_thread_wakes_a_spinning_recv() {
    // The peer never reads, so it never answers the close: only the connection's wake
    // descriptor, not the socket, can end the spinning wait; `close` (no timeout) then waits
    // until the test lets the peer go.
    let (server, tx) = silent_peer();
    let c = Arc::new(Connection::connect(&server.url("/"), spinning()).unwrap());
    let c2 = Arc::clone(&c);
    let (tid, done) = on_thread("recv", move || {
        let mut buf = [0u8; 16];
        c2.recv(&mut buf, None).map(|(n, _)| n)
    });
    wait_until_spinning(tid);
    let c3 = Arc::clone(&c);
    let closing = std::thread::spawn(move || c3.close(1000, "bye", None));
    match done.recv_timeout(Duration::from_secs(60)) {
        Ok(Err(RecvError::Other(e))) => assert_eq!(e.kind(), ErrorKind::Closed, "{e}"),
        Ok(other) => panic!("{other:?}"),
        Err(_) => panic!("a spinning recv was not woken by close on another thread"),
    }
    drop(tx); // the peer goes: TCP ends, and so does the close
    closing.join().unwrap().unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn spinning_recv_honours_its_timeout() {
    // The peer never sends: only the deadline ends the wait.
    let (server, tx) = silent_peer();
    let c = Arc::new(Connection::connect(&server.url("/"), spinning()).unwrap());
    let c2 = Arc::clone(&c);
    let (tid, done) = on_thread("recv", move || {
        let mut buf = [0u8; 16];
        c2.recv(&mut buf, Some(Duration::from_secs(3)))
            .map(|(n, _)| n)
    });
    wait_until_spinning(tid);
    match done.recv_timeout(Duration::from_secs(60)) {
        Ok(Err(RecvError::Other(e))) => assert_eq!(e.kind(), ErrorKind::Timeout, "{e}"),
        Ok(other) => panic!("{other:?}"),
        Err(_) => panic!("a spinning recv did not end at its 3 s timeout"),
    }
    assert_eq!(c.state(), State::Open);
    drop(tx);
}

#[cfg(target_os = "linux")]
#[test]
fn keepalive_works_while_a_recv_spins() {
    // Once the client's recv spins, the server pings it and waits for the pong, and waits for
    // two pings of the client's own keepalive (sent by the I/O thread), then sends a message.
    let (spinning_tx, spinning_rx) = std::sync::mpsc::channel::<()>();
    let spinning_rx = std::sync::Mutex::new(spinning_rx);
    let (seen_tx, seen_rx) = std::sync::mpsc::channel::<(bool, usize)>();
    let server = Server::start(Arc::new(move |mut ws, _| {
        let _ = spinning_rx.lock().unwrap().recv();
        ws.send(Message::Ping(b"are you there".to_vec().into()))
            .unwrap();
        let (mut pong, mut pings) = (false, 0);
        while !(pong && pings >= 2) {
            match ws.read() {
                Ok(Message::Pong(p)) => pong |= &p[..] == b"are you there",
                Ok(Message::Ping(_)) => pings += 1,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let _ = seen_tx.send((pong, pings));
        let _ = ws.send(Message::Binary(b"done".to_vec().into()));
        while ws.read().is_ok() {}
    }));
    let o = Options {
        ping_interval: Some(Duration::from_millis(100)),
        pong_timeout: Duration::from_secs(30),
        ..spinning()
    };
    let c = Arc::new(Connection::connect(&server.url("/"), o).unwrap());
    let c2 = Arc::clone(&c);
    let (tid, done) = on_thread("recv", move || {
        let mut buf = [0u8; 16];
        c2.recv(&mut buf, None).map(|(n, _)| buf[..n].to_vec())
    });
    wait_until_spinning(tid);
    spinning_tx.send(()).unwrap();
    let seen = seen_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server got no pong, or not two keepalive pings, while the recv spun");
    assert_eq!(seen, (true, seen.1), "the server's ping was not answered");
    match done.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(m)) => assert_eq!(m, b"done"),
        Ok(other) => panic!("{other:?}"),
        Err(_) => panic!("the spinning recv did not return the message"),
    }
}

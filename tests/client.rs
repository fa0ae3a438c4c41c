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
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = std::sync::Mutex::new(rx);
    let server = Server::start(Arc::new(move |ws, _| {
        let _keep = ws;
        let _ = rx.lock().unwrap().recv(); // until the test ends
    }));
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
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = std::sync::Mutex::new(rx);
    let server = Server::start(Arc::new(move |ws, _| {
        let _keep = ws; // never reads, so never answers the close frame
        let _ = rx.lock().unwrap().recv();
    }));
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

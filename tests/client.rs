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

//! An in-process WebSocket server for the Rust tests: tungstenite on std threads, bound to
//! 127.0.0.1 on a free port, stopped when dropped.

#![allow(clippy::result_large_err)]

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

/// What the server does with each accepted connection.
pub type Behaviour = Arc<dyn Fn(WebSocket<TcpStream>, String) + Send + Sync>;

/// Decides on each upgrade request before it is accepted, from its path and its Authorization
/// header: `None` accepts, `Some(status)` refuses with that HTTP status.
pub type Gate = Arc<dyn Fn(&str, Option<&str>) -> Option<u16> + Send + Sync>;

pub struct Server {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// A server that runs `behaviour(ws, path)` on a thread per connection.
    pub fn start(behaviour: Behaviour) -> Server {
        Server::gated(Arc::new(|_, _| None), behaviour)
    }

    /// A server that asks `gate` about each upgrade request, then runs `behaviour(ws, path)` on
    /// the accepted ones, on a thread per connection.
    pub fn gated(gate: Gate, behaviour: Behaviour) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::Acquire) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let behaviour = Arc::clone(&behaviour);
                let gate = Arc::clone(&gate);
                std::thread::spawn(move || {
                    let mut path = String::new();
                    let cfg = WebSocketConfig::default()
                        .max_message_size(Some(64 << 20))
                        .max_frame_size(Some(64 << 20));
                    let ws = tungstenite::accept_hdr_with_config(
                        stream,
                        |req: &tungstenite::handshake::server::Request, resp| {
                            path = req.uri().path().to_string();
                            let auth = req
                                .headers()
                                .get("authorization")
                                .and_then(|v| v.to_str().ok());
                            match gate(&path, auth) {
                                None => Ok(resp),
                                Some(status) => Err(tungstenite::http::Response::builder()
                                    .status(status)
                                    .body(None)
                                    .unwrap()),
                            }
                        },
                        Some(cfg),
                    );
                    if let Ok(ws) = ws {
                        behaviour(ws, path);
                    }
                });
            }
        });
        Server {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// An echo server: every data message is sent back unchanged.
    pub fn echo() -> Server {
        Server::start(Arc::new(|mut ws, _path| loop {
            match ws.read() {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                    if ws.send(m).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }))
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

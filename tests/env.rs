//! The env layer (`wsbridge::env`) and its C ABI (`wsb_env_*`) against an in-process trainer:
//! no allocation per step on the game's thread outside the socket layer, the C ABI's argument
//! and handle checks, closing a blocked env from another thread, and finding a slot through a
//! lobby (assignment, waiting for a free slot, going back when the slot is gone, refusals).

mod common;

use common::Server;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::{c_char, CString};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use tungstenite::Message;
use wsbridge::env::{Env, EnvOptions, EventKind, Spec};
use wsbridge::ffi::connection::wsb_connect;
use wsbridge::ffi::diagnostics::wsb_last_error;
use wsbridge::ffi::env::*;
use wsbridge::ffi::result::*;

/// Counts the allocations of the threads that ask for it.
struct Counting;

thread_local! {
    static COUNT: Cell<Option<u64>> = const { Cell::new(None) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get().map(|n| n + 1)));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get().map(|n| n + 1)));
        System.realloc(ptr, layout, size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made on this thread by `f`.
fn allocations<T>(f: impl FnOnce() -> T) -> (T, u64) {
    COUNT.with(|c| c.set(Some(0)));
    let out = f();
    (out, COUNT.with(|c| c.replace(None)).unwrap_or(0))
}

const SPEC: &str = r#"{"name": "t", "agents": 2,
    "observation_space": {"type": "box", "shape": [84, 84, 3], "dtype": "uint8", "low": 0, "high": 255},
    "action_space": {"type": "discrete", "n": 3}}"#;

/// A step request as the Python package frames it.
fn step_request(actions: [i64; 2]) -> Vec<u8> {
    let header = br#"{"type":"step","arrays":{"action":{"dtype":"int64","shape":[2],"offset":0},"reset":{"dtype":"bool","shape":[2],"offset":16}}}"#;
    let mut h = header.to_vec();
    h.resize((h.len() + 4).next_multiple_of(8) - 4, b' ');
    let mut m = (h.len() as u32).to_le_bytes().to_vec();
    m.extend_from_slice(&h);
    m.extend(actions.iter().flat_map(|a| a.to_le_bytes()));
    m.extend_from_slice(&[0; 8]);
    m
}

/// A trainer that resets, steps `steps` times, then closes with 1000.
fn trainer(steps: usize) -> Server {
    Server::start(Arc::new(move |mut ws, _| {
        let hello = ws.read().unwrap();
        assert!(hello.to_text().unwrap().contains(r#""type":"hello""#));
        ws.send(Message::text(
            r#"{"type":"reset","seeds":[7,null],"options":{"level":2}}"#,
        ))
        .unwrap();
        ws.read().unwrap();
        for i in 0..steps {
            ws.send(Message::binary(step_request([i as i64 % 3, 2])))
                .unwrap();
            let reply = ws.read().unwrap().into_data();
            assert_eq!(
                reply.len(),
                4 + u32::from_le_bytes(reply[..4].try_into().unwrap()) as usize + 42368
            );
        }
        let _ = ws.close(Some(tungstenite::protocol::CloseFrame {
            code: 1000.into(),
            reason: "done".into(),
        }));
        while ws.read().is_ok() {}
    }))
}

#[test]
fn a_running_env_answers_steps_without_allocating() {
    let server = trainer(300);
    let mut env = Env::open(
        &server.url("/env/0"),
        Spec::from_json(SPEC).unwrap(),
        EnvOptions::default(),
    )
    .unwrap();
    let wait = Some(Duration::from_secs(10));
    assert_eq!(env.next(wait).unwrap().kind, EventKind::Connected);
    let reset = env.next(wait).unwrap();
    assert_eq!((reset.kind, reset.resets), (EventKind::Reset, 2));
    assert_eq!(
        (env.seed(0).unwrap(), env.seed(1).unwrap()),
        (Some(7), None)
    );
    assert_eq!(env.reset_options(), r#"{"level":2}"#);
    let frame = vec![7u8; 84 * 84 * 3];
    env.set_observation(None, &[frame.as_slice(), &frame].concat())
        .unwrap();
    env.submit().unwrap();
    let (mut game_side, mut next_calls) = (0, 0);
    for step in 0..300 {
        let (event, n) = allocations(|| env.next(wait).unwrap());
        assert_eq!(event.kind, EventKind::Step);
        if step >= 20 {
            next_calls += n;
        }
        let (_, n) = allocations(|| {
            let mut action = [0u8; 8];
            action.copy_from_slice(env.action(Some(0)).unwrap());
            assert_eq!(i64::from_le_bytes(action), step % 3);
            for agent in 0..2 {
                env.set_observation(Some(agent), &frame).unwrap();
                env.add_reward(agent, 1.0).unwrap();
                env.set_done(agent, false, step == 299).unwrap();
                env.set_info(agent, if step % 2 == 0 { "" } else { r#"{"lap": 3}"# })
                    .unwrap();
            }
            env.submit().unwrap();
        });
        if step >= 20 {
            game_side += n;
        }
    }
    assert_eq!(
        game_side, 0,
        "setting observations, rewards, infos and submitting allocated"
    );
    // `next` receives through the socket layer, which allocates each message it reads (one
    // buffer per frame); the env itself adds nothing: at most that per step.
    assert!(
        next_calls <= 2 * 280,
        "{next_calls} allocations in 280 calls of next"
    );
    assert_eq!(env.next(wait).unwrap().kind, EventKind::Finished);
}

fn last_error() -> String {
    let mut buf = vec![0u8; 1024];
    let n = wsb_last_error(buf.as_mut_ptr().cast(), buf.len());
    String::from_utf8_lossy(&buf[..n.min(1023)]).into_owned()
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

#[test]
fn the_c_abi_checks_arguments_and_handles() {
    let spec = c(SPEC);
    let url = c("ws://127.0.0.1:9/env/0");
    let mut env: wsb_env = 0;
    let bad = c(r#"{"agents": 2, "observation_space": {"type": "sphere"}, "action_space": {}}"#);
    assert_eq!(
        wsb_env_open(url.as_ptr(), bad.as_ptr(), std::ptr::null(), &mut env),
        WSB_INVALID_ARGUMENT
    );
    assert!(
        last_error().contains("observation_space: unknown space type \"sphere\""),
        "{}",
        last_error()
    );
    let opts = c(r#"{"decision_period": 0}"#);
    assert_eq!(
        wsb_env_open(url.as_ptr(), spec.as_ptr(), opts.as_ptr(), &mut env),
        WSB_INVALID_ARGUMENT
    );
    assert!(last_error().contains("`decision_period`"));
    assert_eq!(
        wsb_env_open(
            c("http://x").as_ptr(),
            spec.as_ptr(),
            std::ptr::null(),
            &mut env
        ),
        WSB_INVALID_ARGUMENT
    );
    assert_eq!(
        wsb_env_open(url.as_ptr(), std::ptr::null(), std::ptr::null(), &mut env),
        WSB_INVALID_ARGUMENT
    );
    assert_eq!(env, 0, "nothing written on failure");

    let opts = c(r#"{"reconnect_give_up_ms": -1}"#);
    assert_eq!(
        wsb_env_open(url.as_ptr(), spec.as_ptr(), opts.as_ptr(), &mut env),
        WSB_OK
    );
    let mut ev = wsb_env_event::default();
    assert_eq!(
        wsb_env_next(env, 0, &mut ev),
        WSB_TIMEOUT,
        "polling never blocks: {}",
        last_error()
    );
    assert_eq!(wsb_env_next(env, -2, &mut ev), WSB_INVALID_ARGUMENT);
    assert_eq!(
        wsb_env_next(env, 0, std::ptr::null_mut()),
        WSB_INVALID_ARGUMENT
    );
    assert_eq!(wsb_env_submit(env), WSB_INVALID_ARGUMENT);
    assert!(last_error().contains("there is no event to answer"));
    let mut buf = [0u8; 8];
    assert_eq!(
        wsb_env_action(env, 0, buf.as_mut_ptr(), 8, std::ptr::null_mut()),
        WSB_INVALID_ARGUMENT
    );
    assert!(last_error().contains("there is no action now"));
    assert_eq!(
        wsb_env_set_observation(env, 0, buf.as_ptr(), 8),
        WSB_INVALID_ARGUMENT
    );
    assert!(last_error().contains(
        "agent 0's observation must be 21168 bytes (box uint8[84, 84, 3] per agent), not 8"
    ));
    assert_eq!(wsb_env_set_reward(env, 2, 1.0), WSB_INVALID_ARGUMENT);
    assert!(last_error().contains("agent 2 does not exist: the game declared 2 agents"));
    assert_eq!(
        wsb_env_set_reward(env, WSB_ALL_AGENTS, 1.0),
        WSB_INVALID_ARGUMENT
    );
    assert_eq!(
        wsb_env_set_info(env, 0, c("[1]").as_ptr()),
        WSB_INVALID_ARGUMENT
    );
    assert!(last_error().contains("an info must be a JSON object"));
    assert_eq!(
        wsb_env_set_info(env, 0, c(r#"{"a": }"#).as_ptr()),
        WSB_INVALID_ARGUMENT
    );
    let (mut k, mut obs, mut act) = (0u32, 0usize, 0usize);
    assert_eq!(wsb_env_layout(env, &mut k, &mut obs, &mut act), WSB_OK);
    assert_eq!((k, obs, act), (2, 84 * 84 * 3, 8));
    let mut code = 0u16;
    assert_eq!(
        wsb_env_close_status(
            env,
            &mut code,
            std::ptr::null_mut::<c_char>(),
            0,
            std::ptr::null_mut()
        ),
        WSB_WOULD_BLOCK
    );

    // Handles of one kind are never taken for the other.
    let mut conn = 0u64;
    let echo = Server::echo();
    assert_eq!(
        wsb_connect(c(&echo.url("/")).as_ptr(), std::ptr::null(), &mut conn),
        WSB_OK
    );
    assert_eq!(wsb_env_submit(conn), WSB_INVALID_HANDLE);
    assert!(last_error().contains("is not an open env"));
    assert_eq!(
        wsbridge::ffi::connection::wsb_flush(env, 0),
        WSB_INVALID_HANDLE
    );
    assert_eq!(
        wsbridge::ffi::connection::wsb_close(conn, 1000, std::ptr::null(), 1000),
        WSB_OK
    );

    assert_eq!(wsb_env_close(env), WSB_OK);
    assert_eq!(wsb_env_close(env), WSB_INVALID_HANDLE);
    assert_eq!(wsb_env_next(env, 0, &mut ev), WSB_INVALID_HANDLE);
    assert_eq!(wsb_env_close(0), WSB_INVALID_HANDLE);
}

#[test]
fn closing_from_another_thread_ends_a_blocking_next() {
    let server = Server::start(Arc::new(|mut ws, _| while ws.read().is_ok() {}));
    let spec = c(SPEC);
    let mut env: wsb_env = 0;
    assert_eq!(
        wsb_env_open(
            c(&server.url("/env/0")).as_ptr(),
            spec.as_ptr(),
            std::ptr::null(),
            &mut env
        ),
        WSB_OK
    );
    let mut ev = wsb_env_event::default();
    assert_eq!(wsb_env_next(env, 10_000, &mut ev), WSB_OK);
    assert_eq!(ev.kind, WSB_EVENT_CONNECTED);
    let waiter = std::thread::spawn(move || {
        let mut ev = wsb_env_event::default();
        (wsb_env_next(env, -1, &mut ev), last_error())
    });
    // The waiter blocks in the receive (the trainer never asks); close it from here. Whether
    // the close lands before or during its wait, it returns WSB_CLOSED or WSB_INVALID_HANDLE.
    assert_eq!(wsb_env_close(env), WSB_OK);
    let (result, message) = waiter.join().unwrap();
    assert!(
        result == WSB_CLOSED || result == WSB_INVALID_HANDLE,
        "{result}: {message}"
    );
}

/// A lobby (lobby protocol v1) on `/lobby` that answers its n-th game with the n-th of `slots`
/// and closes with 1000. Each request is sent to `requests` first; with `hold`, the lobby then
/// waits for a message on it before answering (no slot is free until then).
fn lobby(
    token: Option<&'static str>,
    slots: Vec<String>,
    requests: mpsc::Sender<serde_json::Value>,
    hold: Option<mpsc::Receiver<()>>,
) -> Server {
    let slots = Mutex::new(slots.into_iter());
    let requests = Mutex::new(requests);
    let hold = Mutex::new(hold);
    Server::gated(
        Arc::new(move |path, auth| {
            let want = token.map(|t| format!("Bearer {t}"));
            let ok = path == "/lobby" && (want.is_none() || auth == want.as_deref());
            (!ok).then_some(401)
        }),
        Arc::new(move |mut ws, _| {
            let Ok(first) = ws.read() else { return };
            let request = serde_json::from_str(first.to_text().unwrap()).unwrap();
            let _ = requests.lock().unwrap().send(request);
            if let Some(free) = &*hold.lock().unwrap() {
                let _ = free.recv();
            }
            let Some(slot) = slots.lock().unwrap().next() else {
                // No slot will ever be free: hold the game until it leaves.
                while ws.read().is_ok() {}
                return;
            };
            let assign = serde_json::json!({"type": "assign", "url": slot, "hub": "h1"});
            ws.send(Message::text(assign.to_string())).unwrap();
            close(ws, 1000, "assigned");
        }),
    )
}

fn close(mut ws: tungstenite::WebSocket<std::net::TcpStream>, code: u16, reason: &str) {
    let _ = ws.close(Some(tungstenite::protocol::CloseFrame {
        code: code.into(),
        reason: reason.to_string().into(),
    }));
    while ws.read().is_ok() {}
}

/// A hub slot that refuses every upgrade with this HTTP status.
fn refusing(status: u16) -> Server {
    Server::gated(Arc::new(move |_, _| Some(status)), Arc::new(|_, _| {}))
}

/// A hub slot that accepts the game, reads its hello, and closes with `code`.
fn closing(code: u16) -> Server {
    Server::start(Arc::new(move |mut ws, _| {
        ws.read().unwrap();
        close(ws, code, "slot gone");
    }))
}

/// A URL where nothing listens.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    format!("ws://127.0.0.1:{port}/env/9")
}

fn env_url(env: wsb_env) -> String {
    let mut buf = vec![0u8; 256];
    let mut len = 0usize;
    assert_eq!(
        wsb_env_url(env, buf.as_mut_ptr().cast(), buf.len(), &mut len),
        WSB_OK
    );
    String::from_utf8(buf[..len].to_vec()).unwrap()
}

#[test]
fn a_lobby_assigns_a_slot_when_one_is_free_and_the_env_plays_there() {
    // The hub's slot checks the token the game also gave the lobby, then runs one reset.
    let hub = Server::gated(
        Arc::new(|path, auth| (path != "/env/3" || auth != Some("Bearer t")).then_some(401)),
        Arc::new(|mut ws, _| {
            assert!(ws.read().unwrap().to_text().unwrap().contains("hello"));
            ws.send(Message::text(r#"{"type":"reset","seeds":[null,null]}"#))
                .unwrap();
            ws.read().unwrap();
            close(ws, 1000, "done");
        }),
    );
    let (requests, requested) = mpsc::channel();
    let (free, hold) = mpsc::channel();
    let lobby = lobby(Some("t"), vec![hub.url("/env/3")], requests, Some(hold));
    let options =
        c(r#"{"lobby": true, "env_name": "cartpole", "token": "t", "reconnect_give_up_ms": -1}"#);
    let mut env: wsb_env = 0;
    assert_eq!(
        wsb_env_open(
            c(&lobby.url("/lobby")).as_ptr(),
            c(SPEC).as_ptr(),
            options.as_ptr(),
            &mut env
        ),
        WSB_OK,
        "{}",
        last_error()
    );
    assert_eq!(env_url(env), "", "no slot before the lobby assigns one");
    // The game polls once per frame until the lobby has its request.
    let mut ev = wsb_env_event::default();
    let request = loop {
        assert_eq!(wsb_env_next(env, 20, &mut ev), WSB_TIMEOUT);
        if let Ok(r) = requested.try_recv() {
            break r;
        }
    };
    assert_eq!(
        request,
        serde_json::json!({"type": "lobby", "version": 1, "env": "cartpole"})
    );
    // No slot is free: the game waits in the lobby, told so.
    assert_eq!(wsb_env_next(env, 50, &mut ev), WSB_TIMEOUT);
    assert!(
        last_error().contains("no slot assigned by the lobby within 50 ms"),
        "{}",
        last_error()
    );
    free.send(()).unwrap();
    assert_eq!(
        wsb_env_next(env, 10_000, &mut ev),
        WSB_OK,
        "{}",
        last_error()
    );
    assert_eq!((ev.kind, ev.connection), (WSB_EVENT_CONNECTED, 1));
    assert_eq!(env_url(env), hub.url("/env/3"));
    assert_eq!(
        wsb_env_next(env, 10_000, &mut ev),
        WSB_OK,
        "{}",
        last_error()
    );
    assert_eq!(ev.kind, WSB_EVENT_RESET);
    let rows = vec![0u8; 2 * 84 * 84 * 3];
    assert_eq!(
        wsb_env_set_observation(env, WSB_ALL_AGENTS, rows.as_ptr(), rows.len()),
        WSB_OK
    );
    assert_eq!(wsb_env_submit(env), WSB_OK);
    assert_eq!(
        wsb_env_next(env, 10_000, &mut ev),
        WSB_OK,
        "{}",
        last_error()
    );
    assert_eq!(ev.kind, WSB_EVENT_FINISHED);
    assert_eq!(wsb_env_close(env), WSB_OK);
}

#[test]
fn the_env_goes_back_to_the_lobby_when_its_slot_is_gone_for_good() {
    // Slot after slot is lost (taken, unknown to its hub, unreachable), then one plays.
    let (taken, missing, gone, closed) =
        (closing(4409), refusing(404), refusing(410), closing(4404));
    let dead = dead_url();
    let trainer = trainer(0);
    let slots = vec![
        taken.url("/env/0"),
        missing.url("/env/1"),
        gone.url("/env/2"),
        closed.url("/env/3"),
        dead.clone(),
        trainer.url("/env/5"),
    ];
    let (requests, requested) = mpsc::channel();
    let lobby = lobby(None, slots.clone(), requests, None);
    let options = EnvOptions::from_json(r#"{"lobby": true, "lobby_return_ms": 200}"#).unwrap();
    let mut env = Env::open(
        &lobby.url("/lobby"),
        Spec::from_json(SPEC).unwrap(),
        options,
    )
    .unwrap();
    let wait = Some(Duration::from_secs(10));
    let mut kinds = Vec::new();
    // Bounded: an env that kept retrying a lost slot would report events without end.
    while kinds.len() < 12 {
        let event = env.next(wait).unwrap();
        kinds.push((event.kind, event.close_code));
        if event.kind == EventKind::Reset {
            break;
        }
    }
    use EventKind::*;
    assert_eq!(
        kinds,
        [
            (Connected, 0),
            (Disconnected, 4409),
            (Reconnected, 0),
            (Disconnected, 4404),
            (Reconnected, 0),
            (Reset, 0)
        ]
    );
    assert_eq!(env.url(), slots[5]);
    // Each return named the slot it left.
    let previous: Vec<_> = requested
        .try_iter()
        .map(|r| r["previous"].clone())
        .collect();
    let mut want = vec![serde_json::Value::Null];
    want.extend(slots[..5].iter().map(|s| serde_json::json!(s)));
    assert_eq!(previous, want);
}

#[test]
fn a_slot_whose_hub_a_reverse_proxy_cannot_reach_goes_back_to_the_lobby_at_once() {
    // nginx in front of the hubs answers 502 (or 504) for a hub that is down or cut off. With
    // `lobby_return_ms` at ten minutes, only that answer can send the env back in this test.
    let (bad_gateway, gateway_timeout) = (refusing(502), refusing(504));
    let trainer = trainer(0);
    let slots = vec![
        bad_gateway.url("/a/env/0"),
        gateway_timeout.url("/b/env/1"),
        trainer.url("/env/2"),
    ];
    let (requests, requested) = mpsc::channel();
    let lobby = lobby(None, slots.clone(), requests, None);
    let options = EnvOptions::from_json(r#"{"lobby": true, "lobby_return_ms": 600000}"#).unwrap();
    let mut env = Env::open(
        &lobby.url("/lobby"),
        Spec::from_json(SPEC).unwrap(),
        options,
    )
    .unwrap();
    // The first event is the first slot that opens: the trainer's, after two returns.
    let event = env.next(Some(Duration::from_secs(30))).unwrap();
    assert_eq!(event.kind, EventKind::Connected, "{:?}", env.url());
    assert_eq!(env.url(), slots[2]);
    let previous: Vec<_> = requested
        .try_iter()
        .map(|r| r["previous"].clone())
        .collect();
    assert_eq!(
        previous,
        [
            serde_json::Value::Null,
            serde_json::json!(slots[0]),
            serde_json::json!(slots[1])
        ]
    );
}

#[test]
fn a_lobby_that_refuses_the_token_refuses_the_game() {
    let (requests, _requested) = mpsc::channel();
    let lobby = lobby(Some("right"), vec![], requests, None);
    let options = c(r#"{"lobby": true, "token": "wrong"}"#);
    let mut env: wsb_env = 0;
    let url = lobby.url("/lobby?token=secret");
    assert_eq!(
        wsb_env_open(
            c(&url).as_ptr(),
            c(SPEC).as_ptr(),
            options.as_ptr(),
            &mut env
        ),
        WSB_OK
    );
    let mut ev = wsb_env_event::default();
    assert_eq!(wsb_env_next(env, 10_000, &mut ev), WSB_ENV_REFUSED);
    let message = last_error();
    assert!(
        message.contains(&format!(
            "the lobby at {} refused this game with HTTP 401",
            lobby.url("/lobby?token=***")
        )),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");
    assert_eq!(
        wsb_env_next(env, 0, &mut ev),
        WSB_ENV_REFUSED,
        "the env is over"
    );
    assert_eq!(wsb_env_close(env), WSB_OK);
}

#[test]
fn waiting_for_a_slot_ends_at_reconnect_give_up() {
    let (requests, requested) = mpsc::channel();
    let lobby = lobby(None, vec![], requests, None);
    let options = EnvOptions::from_json(
        r#"{"lobby": true, "env_name": "cartpole", "reconnect_give_up_ms": 300}"#,
    )
    .unwrap();
    let mut env = Env::open(
        &lobby.url("/lobby"),
        Spec::from_json(SPEC).unwrap(),
        options,
    )
    .unwrap();
    let err = env.next(None).unwrap_err();
    assert_eq!(
        err.kind(),
        wsbridge::env::ErrorKind::Client(wsbridge::client::ErrorKind::ConnectFailed)
    );
    assert!(
        err.message().contains(&format!(
            "gave up trying to get a slot from the lobby at {}",
            lobby.url("/lobby")
        )) && err
            .message()
            .contains("the lobby had no free slot for env name \"cartpole\""),
        "{}",
        err.message()
    );
    assert_eq!(requested.recv().unwrap()["env"], "cartpole");
}

#[test]
fn a_lobby_going_away_is_retried_and_one_breaking_the_protocol_ends_the_env() {
    // First connection: the lobby shuts down (1001); second: it answers with nonsense.
    let (closes, closed) = mpsc::channel();
    let closes = Mutex::new(closes);
    let count = std::sync::atomic::AtomicUsize::new(0);
    let lobby = Server::start(Arc::new(move |mut ws, _| {
        ws.read().unwrap();
        if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            return close(ws, 1001, "lobby restarting");
        }
        ws.send(Message::text(r#"{"type": "wait", "token": "s3cret"}"#))
            .unwrap();
        if let Ok(Message::Close(Some(frame))) = ws.read() {
            let _ = closes
                .lock()
                .unwrap()
                .send((u16::from(frame.code), frame.reason.to_string()));
        }
    }));
    let options = EnvOptions::from_json(r#"{"lobby": true}"#).unwrap();
    let mut env = Env::open(
        &lobby.url("/lobby"),
        Spec::from_json(SPEC).unwrap(),
        options,
    )
    .unwrap();
    let err = env.next(Some(Duration::from_secs(10))).unwrap_err();
    assert_eq!(err.kind(), wsbridge::env::ErrorKind::TrainerProtocol);
    let want = format!(
        "the lobby at {} broke the lobby protocol: it sent a message of type \"wait\"",
        lobby.url("/lobby")
    );
    assert!(err.message().starts_with(&want), "{}", err.message());
    let (code, reason) = closed.recv().unwrap();
    assert_eq!(code, 4400);
    assert!(
        reason.starts_with("the lobby at ") && err.message().starts_with(&reason),
        "{reason}"
    );
    assert_eq!(
        env.next(Some(Duration::ZERO)).unwrap_err(),
        err,
        "the env is over"
    );
}

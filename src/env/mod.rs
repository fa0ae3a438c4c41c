//! The game side of the env protocol (docs/protocol.md), implemented once for every binding.
//!
//! A game declares its agents and spaces once ([`Spec`]) and opens an [`Env`]; the env sends
//! the `hello`, turns the trainer's requests into [`Event`]s, takes the game's observations,
//! rewards, episode ends and infos, and answers. It reconnects to the same slot with backoff
//! when the link drops (the game is told: [`EventKind::Disconnected`], then
//! [`EventKind::Reconnected`]: its episodes restart) and stops when the trainer closes with
//! 1000 ([`EventKind::Finished`]).
//!
//! With the `lobby` option the URL is a lobby's (`lobby.rs`): the env first asks it for a free
//! slot, connects to the slot it assigns, and goes back to the lobby when that slot is gone for
//! good. The game sees one stream of events, as with a fixed slot.
//!
//! Driving it: call [`Env::next`] with a timeout. `None` (or a long timeout) blocks until the
//! trainer's next request: lockstep, the fastest loop. `Some(Duration::ZERO)` never blocks:
//! a game loop calls it once per frame and gets a request once one has arrived; the trainer
//! waits until the game submits. With `decision_period` N, a `step` is answered after N
//! submitted frames: between decisions `next` returns [`EventKind::Repeat`] (or
//! [`EventKind::NoDecision`]) at once, without the network.
//!
//! Plain Rust: the C ABI in `crate::ffi::env` wraps it.
//!
//! This file holds [`Env`] and its public API (open, the current event's request, close). The
//! rest, one subject a file: `event.rs` (what [`Env::next`] returns), `state.rs` (the link and
//! stage types the files share), `connect.rs` (the loop of [`Env::next`]: connect, hello,
//! lobby), `reconnect.rs` (a link that ends: finished, refused, backoff, give up),
//! `request.rs` (a request from the trainer becomes an event), `answer.rs` (observations,
//! rewards, episode ends, infos, submit), `decode.rs` and `encode.rs` (the trainer's requests
//! and the game's answers on the wire), `spec.rs` (the game's declaration), `space.rs` and
//! `observation.rs` (its spaces), `lobby.rs`, `options.rs` and `error.rs`.

mod answer;
mod connect;
mod decode;
mod encode;
mod error;
mod event;
mod lobby;
mod observation;
mod options;
mod reconnect;
mod request;
mod space;
mod spec;
mod state;

pub use decode::check_request;
pub use error::{Error, ErrorKind, Result};
pub use event::{Event, EventKind};
pub use lobby::LOBBY_VERSION;
pub use observation::{Observation, Part, MAX_OBSERVATION_DEPTH, MAX_OBSERVATION_PARTS};
pub use options::{EnvOptions, ENV_OPTION_NAMES, MAX_ENV_NAME};
pub use space::{Dtype, Space};
pub use spec::{Spec, PROTOCOL_VERSION, SPEC_KEYS};

use crate::client::backoff::Backoff;
use crate::client::{self, CloseStatus, Connection};
use encode::Reply;
use lobby::Lobby;
use state::{Link, Shared, Stage};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

/// Closes an [`Env`] from another thread: a [`Env::next`] waiting there returns
/// [`client::ErrorKind::Closed`] at once.
#[derive(Clone)]
pub struct Closer(Arc<Shared>);

impl Closer {
    /// Closes the env's connection (1000, "the game closed") and ends it for good.
    pub fn close(&self) {
        self.0.close()
    }
}

/// The game side of one slot: see the module documentation.
pub struct Env {
    /// The slot's URL: the one given to `open`, or the one the lobby assigned ("" before).
    url: String,
    /// The URL as messages show it: credentials in it redacted (`client::url::redact`).
    shown: String,
    /// With the `lobby` option: the lobby and where the search for a slot stands.
    lobby: Option<Lobby>,
    /// The lobby's connection after it assigned a slot, kept until the lobby's close handshake
    /// has had time to finish (dropped when the slot's connection opens).
    retired: Option<Arc<Connection>>,
    spec: Spec,
    options: EnvOptions,
    hello: String,
    link: Link,
    shared: Arc<Shared>,
    /// Connections opened so far.
    connections: u32,
    /// Since when no connection has opened (the give-up clock).
    down_since: Instant,
    /// The delays between attempts (no jitter: see `client::backoff`).
    backoff: Backoff,
    attempts: u32,
    /// The trainer sent a request on the current connection (it accepted the game).
    served: bool,
    last_failure: Option<client::Error>,
    close_status: Option<CloseStatus>,
    stage: Stage,
    /// The latest request, as received (actions are read from it in place).
    inbuf: Vec<u8>,
    action_at: usize,
    seeds: Vec<Option<u64>>,
    reset_options: String,
    reset: Vec<bool>,
    resets: usize,
    /// Reset at least once on the current connection.
    ready: Vec<bool>,
    /// Observation set since the last answer.
    /// Observation parts set since the last answer, one bit per part.
    obs_set: Vec<u32>,
    reply: Reply,
    infos: Vec<String>,
    frames: u32,
    /// The current step asked for same-step autoreset (docs/protocol.md, *Autoreset modes*).
    same_step: bool,
    /// In the `Reset` of a same-step autoreset: only the agents flagged in `reset` restart.
    partial: bool,
    /// The final infos of the agents that finished in a same-step answer, in agent order.
    final_infos: Vec<String>,
    /// That answer's rewards and episode ends, kept while its agents reset.
    saved_ends: Vec<u8>,
    /// The latest engine settings from the trainer (a JSON object; "{}" before any).
    settings: String,
}

impl Env {
    /// Validates the URL and starts connecting (without blocking): the first [`Env::next`]
    /// reports [`EventKind::Connected`] once the connection is open and the hello is sent.
    pub fn open(url: &str, spec: Spec, options: EnvOptions) -> Result<Env> {
        let k = spec.agents;
        let reply = Reply::new(&spec);
        let lobby = options
            .lobby
            .then(|| Lobby::new(url, &options.env_name, options.lobby_return));
        let url = if lobby.is_some() { "" } else { url };
        let mut env = Env {
            url: url.to_string(),
            shown: crate::client::url::redact(url),
            lobby,
            retired: None,
            hello: spec.hello(),
            link: Link::Wait(Instant::now()),
            shared: Arc::new(Shared {
                closed: Mutex::new(false),
                wake: Condvar::new(),
                current: Mutex::new(None),
            }),
            connections: 0,
            down_since: Instant::now(),
            backoff: Backoff::new(options.reconnect_delay, options.reconnect_max_delay, 0),
            attempts: 0,
            served: false,
            last_failure: None,
            close_status: None,
            stage: Stage::Idle,
            inbuf: vec![0; 4096],
            action_at: 0,
            seeds: vec![None; k],
            reset_options: String::from("{}"),
            reset: vec![false; k],
            resets: 0,
            ready: vec![false; k],
            obs_set: vec![0; k],
            reply,
            infos: vec![String::new(); k],
            frames: 0,
            same_step: false,
            partial: false,
            final_infos: vec![String::new(); k],
            saved_ends: Vec::new(),
            settings: String::from("{}"),
            spec,
            options,
        };
        env.start_connect()?;
        Ok(env)
    }

    /// A handle that closes this env from another thread.
    pub fn closer(&self) -> Closer {
        Closer(Arc::clone(&self.shared))
    }

    /// The game's declaration.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The slot's URL: the one given to [`Env::open`], or with the `lobby` option the one the
    /// lobby assigned last ("" before the first assignment).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// [`Env::url`] as messages show it: credentials in it redacted.
    pub fn shown_url(&self) -> &str {
        &self.shown
    }

    fn closed_error() -> Error {
        Error::client(
            client::ErrorKind::Closed,
            "the env was closed (wsb_env_close)",
        )
    }

    fn event(&self, kind: EventKind) -> Event {
        Event {
            kind,
            connection: self.connections,
            resets: 0,
            close_code: 0,
            cause: None,
        }
    }

    fn agent(&self, agent: usize) -> Result<()> {
        if agent >= self.spec.agents {
            return Err(Error::invalid(format!(
                "agent {agent} does not exist: the game declared {} agent{}",
                self.spec.agents,
                if self.spec.agents == 1 { "" } else { "s" }
            )));
        }
        Ok(())
    }

    /// Whether `agent` must reset in the current event (every agent in `Reset`; the flagged
    /// ones in `Step`, whose actions are then meaningless).
    pub fn must_reset(&self, agent: usize) -> Result<bool> {
        self.agent(agent)?;
        Ok(matches!(
            self.stage,
            Stage::Answer(EventKind::Reset | EventKind::Step)
        ) && self.reset[agent])
    }

    /// The seed for `agent`'s reset: `Some` in a `Reset` that seeds it (reseed its random
    /// generator), `None` otherwise (continue its random stream).
    pub fn seed(&self, agent: usize) -> Result<Option<u64>> {
        self.agent(agent)?;
        Ok(match self.stage {
            Stage::Answer(EventKind::Reset) if !self.partial => self.seeds[agent],
            _ => None,
        })
    }

    /// The latest engine settings the trainer sent on any connection, as a JSON object ("{}"
    /// before any): what the last [`EventKind::Settings`] brought.
    pub fn settings(&self) -> &str {
        &self.settings
    }

    /// The options of the current `Reset`, as a JSON object ("{}" when none).
    pub fn reset_options(&self) -> &str {
        match self.stage {
            Stage::Answer(EventKind::Reset) if !self.partial => &self.reset_options,
            _ => "{}",
        }
    }

    /// `agent`'s action in the current `Step` or `Repeat` (little-endian, the action space's
    /// wire dtype), or every agent's rows for `None`: a view on the received message.
    pub fn action(&self, agent: Option<usize>) -> Result<&[u8]> {
        if !matches!(
            self.stage,
            Stage::Answer(EventKind::Step | EventKind::Repeat)
        ) {
            return Err(Error::invalid(format!(
                "there is no action now: actions exist during Step and Repeat events, and the \
                 current one is {}",
                self.stage_name()
            )));
        }
        let row = self.spec.action.row_bytes();
        Ok(match agent {
            Some(i) => {
                self.agent(i)?;
                &self.inbuf[self.action_at + i * row..self.action_at + (i + 1) * row]
            }
            None => &self.inbuf[self.action_at..self.action_at + self.spec.agents * row],
        })
    }

    fn stage_name(&self) -> String {
        match self.stage {
            Stage::Answer(k) => format!("{k:?}"),
            Stage::Idle | Stage::Between | Stage::AutoReset => "none (call next)".into(),
        }
    }

    /// The trainer's close code and reason from the latest disconnection (1006 and the error
    /// when the link broke without one); `None` while the first connection is up.
    pub fn close_status(&self) -> Option<&CloseStatus> {
        self.close_status.as_ref()
    }

    /// Closes the connection (1000, "the game closed"); every later call reports `Closed`.
    pub fn close(&mut self) {
        self.shared.close();
        self.link = Link::Ended(Env::closed_error());
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.shared.close();
    }
}

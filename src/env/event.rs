//! What [`Env::next`](super::Env::next) tells the game: the [`EventKind`]s and the [`Event`]
//! that carries one.

use crate::client;

/// What [`Env::next`](super::Env::next) tells the game.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The first connection opened and the hello went out. Nothing to answer.
    Connected,
    /// A later connection opened after a drop and the hello went out again: every episode
    /// restarts (the trainer resets the agents before they step). Nothing to answer.
    Reconnected,
    /// Reset every agent (seed each from [`Env::seed`](super::Env::seed) when it has one), set
    /// every observation (and infos), then submit.
    Reset,
    /// A decision: apply each agent's action ([`Env::action`](super::Env::action)), except for
    /// agents with [`Env::must_reset`](super::Env::must_reset), which reset instead; simulate; set
    /// observations, rewards, episode ends (and infos); submit.
    Step,
    /// A frame between decisions (`decision_period` > 1, `repeat_actions`): apply the last
    /// decision's actions again ([`Env::action`](super::Env::action) still returns them), simulate,
    /// submit.
    Repeat,
    /// A frame between decisions without an action (`repeat_actions` false): simulate with
    /// no action from the trainer, submit.
    NoDecision,
    /// The link dropped; the env reconnects with backoff on the next calls. Nothing to answer:
    /// the episodes in progress are over for the trainer. `close_code` and `cause` say why.
    Disconnected,
    /// The trainer closed with 1000: training finished. The env will not reconnect.
    Finished,
    /// The trainer sent engine settings (time scale, target frame rate, quality level and free-form
    /// keys; docs/protocol.md, *Engine settings*): [`Env::settings`](super::Env::settings) has them
    /// as a JSON object. The env already acknowledged them. Nothing to answer.
    Settings,
}

/// One event: what to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The number of the current (or, for `Disconnected` and `Finished`, the last) connection:
    /// 1 for the first.
    pub connection: u32,
    /// `Reset`: every agent; `Step`: the agents flagged to reset instead of stepping; else 0.
    pub resets: usize,
    /// `Disconnected`, `Finished`: the trainer's close code (1006 when the link broke without
    /// one); else 0.
    pub close_code: u16,
    /// `Disconnected`: what ended the link ([`client::ErrorKind::Closed`] when the trainer
    /// closed it with a code); else `None`.
    pub cause: Option<client::ErrorKind>,
}

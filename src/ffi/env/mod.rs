//! The env: the game side of the env protocol (docs/protocol.md) behind its own handles.
//!
//! Validates and converts arguments, then calls [`crate::env::Env`]; the protocol itself lives
//! there.

#![allow(non_camel_case_types)]

// Declaration order is header order: cbindgen reads this file, then these in turn (so the
// functions keep the order of an env's life; apart, because rustfmt sorts a block of `mod`s).
// wsb_env_open
mod open;

// wsb_env_next and what the event brings
mod event;

// the actions and the answer
mod submit;

// the spec in bytes
mod layout;

// close status and close
mod close;

pub use close::*;
pub use event::*;
pub use layout::*;
pub use open::*;
pub use submit::*;

use crate::env::{Closer, Env};
use crate::ffi::handle::Table;
use crate::ffi::result::*;
use crate::ffi::Failure;
use std::sync::{Mutex, MutexGuard};

/// An env handle: a generation-checked integer like wsb_handle, from its own table (a
/// connection handle is never a valid env handle). 0 is never valid.
pub type wsb_env = u64;

/// Pass as `agent` to wsb_env_action and wsb_env_set_observation for every agent's rows at once.
pub const WSB_ALL_AGENTS: u32 = 0xffff_ffff;

/// Event: the first connection opened and the hello went out. Nothing to submit.
pub const WSB_EVENT_CONNECTED: u32 = 1;
/// Event: a new connection opened after a drop and the hello went out again. Every episode
/// restarts: the trainer resets the agents (RESET, or STEP with reset flags) before they step.
/// Nothing to submit.
pub const WSB_EVENT_RECONNECTED: u32 = 2;
/// Event: reset the agents wsb_env_agent_reset flags (reseed those that have a seed), set their
/// observations (and infos), then wsb_env_submit. After a trainer's `reset` request every agent
/// is flagged (`resets` is the agent count). A game that declares `"partial_reset": true` also
/// gets it for some agents only (`resets` of them): the trainer uses same-step autoreset and
/// these agents' episodes ended in the step just submitted; reset only them (no seed), set their
/// observations and infos (the others' are refused with WSB_INVALID_ARGUMENT: their rows are
/// the step's), leave the others alone; rewards and episode ends set now are ignored.
pub const WSB_EVENT_RESET: u32 = 3;
/// Event: a decision. For each agent: if wsb_env_agent_reset says so, reset it (its action is
/// meaningless; its reward and episode end are answered as 0); else apply its action
/// (wsb_env_action). Simulate, set observations, rewards, episode ends (and infos), then
/// wsb_env_submit.
pub const WSB_EVENT_STEP: u32 = 4;
/// Event: a frame between decisions (`decision_period` > 1, `repeat_actions` true): apply the
/// last decision's actions again (wsb_env_action still returns them), simulate, set what
/// changed (rewards add up with wsb_env_add_reward), then wsb_env_submit.
pub const WSB_EVENT_REPEAT: u32 = 5;
/// Event: a frame between decisions without an action (`repeat_actions` false): simulate with
/// no action from the trainer, then wsb_env_submit.
pub const WSB_EVENT_NO_DECISION: u32 = 6;
/// Event: the link dropped (`close_code` and `cause` say why; wsb_env_close_status has the
/// reason). The episodes in progress are over for the trainer; the env reconnects with backoff
/// during the next wsb_env_next calls and reports WSB_EVENT_RECONNECTED. Nothing to submit.
pub const WSB_EVENT_DISCONNECTED: u32 = 7;
/// Event: the trainer closed with 1000: training finished. The env does not reconnect; later
/// calls return WSB_CLOSED. Close it with wsb_env_close.
pub const WSB_EVENT_FINISHED: u32 = 8;
/// Event: the trainer sent engine settings (`RemoteVectorEnv.set_engine_settings`: time scale,
/// target frame rate, quality level and free-form keys; docs/protocol.md, *Engine settings*).
/// wsb_env_settings copies them as a JSON object; apply what the game knows, ignore the rest.
/// The env already acknowledged them: nothing to submit. Games that ignore this event (as
/// unknown events) keep working.
pub const WSB_EVENT_SETTINGS: u32 = 9;

/// What wsb_env_next reports.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wsb_env_event {
    /// One of the WSB_EVENT_* constants.
    pub kind: u32,
    /// The number of the current connection (1 for the first); for DISCONNECTED and FINISHED,
    /// of the connection that ended.
    pub connection: u32,
    /// RESET: the number of agents (all reset); STEP: how many agents are flagged to reset;
    /// else 0.
    pub resets: u32,
    /// DISCONNECTED: what ended the link: WSB_CLOSED when the trainer closed it with a code
    /// (1001 going away, 4408 reply timeout, 4409 slot taken ...), WSB_CONNECTION_LOST when it
    /// broke without one, WSB_PROTOCOL_ERROR ...; else WSB_OK.
    pub cause: wsb_result,
    /// DISCONNECTED and FINISHED: the trainer's close code, 1006 when there was none; else 0.
    pub close_code: u16,
    /// Always 0.
    pub reserved: u16,
}

struct Cell {
    env: Mutex<Env>,
    closer: Closer,
}

/// The envs behind `wsb_env` handles.
static ENVS: Table<Cell> = Table::new(1, "an open env");

fn env_lock(cell: &Cell) -> MutexGuard<'_, Env> {
    cell.env.lock().unwrap_or_else(|e| e.into_inner())
}

fn with_env<T>(env: wsb_env, f: impl FnOnce(&mut Env) -> Result<T, Failure>) -> Result<T, Failure> {
    let cell = ENVS.get(env)?;
    let mut guard = env_lock(&cell);
    f(&mut guard)
}

fn agent_arg(agent: u32, all_allowed: bool) -> Result<Option<usize>, Failure> {
    if agent == WSB_ALL_AGENTS {
        if all_allowed {
            return Ok(None);
        }
        return Err(Failure::invalid(
            "`agent` is WSB_ALL_AGENTS, which this function does not take: pass one agent's index",
        ));
    }
    Ok(Some(agent as usize))
}

fn one_agent(agent: u32) -> Result<usize, Failure> {
    agent_arg(agent, false).map(|a| a.expect("one agent"))
}

/// Closes every env (for wsb_shutdown).
pub(crate) fn close_all() {
    for cell in ENVS.remove_all() {
        cell.closer.close();
    }
}

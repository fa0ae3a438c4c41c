//! wsb_env_open: a game opens an env from its spec and options (parsed by `crate::env`) and
//! gets a handle from the env table.

use super::{wsb_env, Cell, ENVS};
use crate::env::{Env, EnvOptions, Spec};
use crate::ffi::result::*;
use crate::ffi::{boundary, opt_str_arg, out_arg, str_arg};
use std::ffi::c_char;
use std::sync::Mutex;

/// Opens an env: the game side of one trainer slot (docs/protocol.md). Starts connecting and
/// returns at once; the first wsb_env_next reports WSB_EVENT_CONNECTED when the connection is
/// open and the hello (built from `spec_json`) went out.
///
/// - `url`: the slot's URL, e.g. `ws://127.0.0.1:8001/env/3` (as for wsb_connect); with the
///   option `lobby`, the lobby's URL, e.g. `wss://edge.example/lobby`. Copied.
/// - `spec_json`: what the game declares once, a JSON object: `name` (optional string, for the
///   trainer's logs), `agents` (the number of agents this game simulates, default 1; every
///   message has one row per agent), `observation_space` and `action_space` (one agent's, as in
///   docs/protocol.md: `{"type": "box", "shape": [84, 84, 3], "dtype": "uint8", "low": 0,
///   "high": 255}`, `{"type": "discrete", "n": 2}`, `{"type": "multi_discrete", "nvec": [3,
///   2]}`, `{"type": "multi_binary", "n": 4}`; an observation space may also be a dict,
///   `{"type": "dict", "spaces": {"camera": {...}, "speed": {...}}}`, or a tuple, `{"type":
///   "tuple", "spaces": [{...}, {...}]}`, nested at most 4 deep with at most 16 leaves, keys of
///   1 to 64 characters of A-Z, a-z, 0-9, _ and -), and `partial_reset` (default false): true
///   when the game handles a WSB_EVENT_RESET that flags only some agents (it resets only the
///   agents wsb_env_agent_reset flags and never steps in a RESET); the hello then offers the
///   trainer same-step autoreset (docs/protocol.md, *Autoreset modes*). Copied.
/// - `options_json`: NULL or "" for the defaults, or a JSON object with any of:
///   - `connection` (object): the connection's options, the keys of wsb_connect.
///   - `token` (string): sent as `Authorization: Bearer <token>`.
///   - `reconnect_delay_ms` (default 50): the wait after a failed connect attempt, doubling
///     after each failure; the first attempt after a drop is immediate.
///   - `reconnect_max_delay_ms` (default 1000): the cap on that wait.
///   - `reconnect_give_up_ms` (default 30000; -1 never): stop when no connection has opened
///     for this long; wsb_env_next then returns the last connect error.
///   - `decision_period` (default 1): frames per decision. A STEP is answered after this many
///     submitted frames (events STEP, then REPEAT or NO_DECISION), or at once when an agent's
///     episode ends or an agent was reset. Rewards add up over the frames (wsb_env_add_reward).
///   - `repeat_actions` (default true): between decisions, repeat the last action (REPEAT) or
///     tell the game there is no decision (NO_DECISION), like ML-Agents'
///     `TakeActionsBetweenDecisions`.
///   - `lobby` (default false): `url` is a lobby's (lobby protocol v1, docs/env.md, *Lobby*).
///     The env connects there, sends `{"type": "lobby", "version": 1, "env": <env_name>}`, waits
///     for the lobby to assign a free slot, then connects to that slot with the same
///     `connection` options and `token` (the token also goes to the lobby) and runs the env
///     protocol there. It goes back to the lobby (naming the lost slot as `previous`) when the
///     slot is gone for good: its upgrade answered HTTP 404 or 410, or 502 or 504 (a reverse
///     proxy in front of the hubs could not reach the slot's hub), it closed with 4404 (no such
///     slot) or 4409 (another game holds it), or reconnecting to it failed for longer than
///     `lobby_return_ms`. Connecting to the lobby is retried with the backoff above, and
///     `reconnect_give_up_ms` bounds the whole search, including the wait for a free slot.
///     wsb_env_url reads the assigned slot's URL. The events are those of a fixed slot:
///     CONNECTED when the first slot's connection opens, DISCONNECTED and RECONNECTED around a
///     move to another slot.
///   - `env_name` (string, default ""): sent to the lobby, which assigns a slot of a hub serving
///     this env name ("" matches any hub). At most 256 bytes, no control characters. Used only
///     with `lobby`.
///   - `lobby_return_ms` (default 5000): go back to the lobby when reconnecting to the assigned
///     slot has failed for this long. Used only with `lobby`.
/// - `out`: receives the env handle on WSB_OK; untouched otherwise.
///
/// Returns WSB_OK; WSB_INVALID_ARGUMENT (NULL argument, malformed URL, spec or option: the
/// message names the key); WSB_INTERNAL. Thread-safe. Release the handle with wsb_env_close.
#[no_mangle]
pub extern "C" fn wsb_env_open(
    url: *const c_char,
    spec_json: *const c_char,
    options_json: *const c_char,
    out: *mut wsb_env,
) -> wsb_result {
    boundary("wsb_env_open", || {
        let url = str_arg(url, "url")?;
        let spec = Spec::from_json(str_arg(spec_json, "spec_json")?)?;
        let options = match opt_str_arg(options_json, "options_json")? {
            Some(s) if !s.trim().is_empty() => EnvOptions::from_json(s)?,
            _ => EnvOptions::default(),
        };
        let out = out_arg(out, "out")?;
        let env = Env::open(url, spec, options)?;
        let closer = env.closer();
        *out = ENVS.insert(Cell {
            env: Mutex::new(env),
            closer,
        })?;
        Ok(())
    })
}

//! Answering the current event: the agents' actions to apply, then the answer the game builds
//! (observations, whole or by part, rewards, episode ends, infos) and submits.

use super::{agent_arg, one_agent, with_env, wsb_env};
use crate::ffi::result::*;
use crate::ffi::{boundary, buf_arg, bytes_arg, opt_str_arg, out_arg, str_arg, write_opt, Failure};
use std::ffi::c_char;

/// Finds a part of a dict or tuple observation space (docs/protocol.md, *Dict and tuple
/// observations*): its parts are the leaves, dict keys in sorted order and tuple items in
/// order, numbered from 0, each named by its path (keys and indices joined by ".":
/// "camera", "sensors.0"). A plain space has one part, "" (index 0).
///
/// - `path`: the part's path, NUL-terminated UTF-8.
/// - `out_index`: receives the part's index, for wsb_env_set_observation_part.
/// - `out_bytes`: receives the bytes of one agent's row of that part. May be NULL.
///
/// Thread safety: as every wsb_env_* call (serialized per env).
///
/// Returns WSB_OK; WSB_INVALID_ARGUMENT (no part at `path`: the message lists the parts; NULL
/// `path` or `out_index`); WSB_INVALID_HANDLE; WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_observation_part(
    env: wsb_env,
    path: *const c_char,
    out_index: *mut u32,
    out_bytes: *mut usize,
) -> wsb_result {
    boundary("wsb_env_observation_part", || {
        let path = str_arg(path, "path")?;
        let out = out_arg(out_index, "out_index")?;
        let (index, bytes) = with_env(env, |e| {
            let parts = &e.spec().observation.parts;
            match e.spec().observation.part(path) {
                Some(i) => Ok((i, parts[i].space.row_bytes())),
                None => Err(crate::env::Error::invalid(format!(
                    "the observation space has no part \"{path}\" (parts: {})",
                    parts
                        .iter()
                        .map(|p| format!("\"{}\"", p.path))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .into()),
            }
        })?;
        *out = index as u32;
        write_opt(out_bytes, bytes);
        Ok(())
    })
}

/// Copies one part of `agent`'s observation (a dict or tuple space's leaf, see
/// wsb_env_observation_part) into the answer being built. An agent's observation is complete
/// when each of its parts was set (here or by wsb_env_set_observation) since the last answer.
///
/// - `agent`: 0 to agents - 1, or WSB_ALL_AGENTS for every agent's rows of that part in order.
/// - `part`: the part's index (wsb_env_observation_part).
/// - `data`, `len`: little-endian items of the part's wire dtype, exactly one row of the part
///   (or all agents' rows). Copied.
///
/// Thread safety: as every wsb_env_* call (serialized per env).
///
/// Returns WSB_OK; WSB_INVALID_ARGUMENT (no such agent or part, a length that is not the
/// part's row size, NULL `data`, an agent a same-step RESET does not reset);
/// WSB_INVALID_HANDLE; WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_set_observation_part(
    env: wsb_env,
    agent: u32,
    part: u32,
    data: *const u8,
    len: usize,
) -> wsb_result {
    boundary("wsb_env_set_observation_part", || {
        let agent = agent_arg(agent, true)?;
        let data = bytes_arg(data, len, "data")?;
        with_env(env, |e| {
            Ok(e.set_observation_part(agent, part as usize, data)?)
        })
    })
}

/// Copies `agent`'s action of the current STEP or REPEAT into `buf`, straight from the
/// received message: little-endian items of the action space's wire dtype (discrete and
/// multi_discrete: int64, one per dimension; multi_binary: int8; box: the box's dtype), one
/// row per agent.
///
/// - `agent`: 0 to agents - 1, or WSB_ALL_AGENTS for every agent's rows in order.
/// - `buf`, `cap`: the destination; wsb_env_layout gives the bytes per agent.
/// - `out_len`: receives the bytes written, or the bytes needed on WSB_BUFFER_TOO_SMALL. May be
///   NULL.
///
/// The library checked the actions against the space (discrete values in range, multi_binary
/// 0 or 1) before reporting the STEP; a flagged agent's (see wsb_env_agent_reset) action is
/// meaningless.
///
/// Returns WSB_OK; WSB_BUFFER_TOO_SMALL (nothing written); WSB_INVALID_ARGUMENT (no such agent,
/// NULL `buf` with `cap` > 0, or the current event is not STEP or REPEAT); WSB_INVALID_HANDLE;
/// WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_action(
    env: wsb_env,
    agent: u32,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> wsb_result {
    boundary("wsb_env_action", || {
        let agent = agent_arg(agent, true)?;
        let buf = buf_arg(buf, cap, "buf")?;
        with_env(env, |e| {
            let action = e.action(agent)?;
            write_opt(out_len, action.len());
            if action.len() > buf.len() {
                return Err(Failure::new(
                    WSB_BUFFER_TOO_SMALL,
                    format!(
                        "the action needs {} bytes but the buffer holds {}",
                        action.len(),
                        buf.len()
                    ),
                ));
            }
            buf[..action.len()].copy_from_slice(action);
            Ok(())
        })
    })
}

/// Copies `agent`'s observation into the answer being built (straight into the outgoing
/// message). Every agent's observation must be set before the submit that answers (a RESET, a
/// STEP, or a decision's last frame); what was set stays until then.
///
/// - `agent`: 0 to agents - 1, or WSB_ALL_AGENTS for every agent's rows in order.
/// - `data`, `len`: little-endian items of the observation space's wire dtype (box: its dtype;
///   discrete and multi_discrete: int64; multi_binary: int8), exactly one row (or all rows):
///   wsb_env_layout gives the bytes per agent. For a dict or tuple observation space, an
///   agent's row is its parts' rows one after the other (wsb_env_observation_part gives each
///   part's index and size); wsb_env_set_observation_part sets one part. Copied.
///
/// Returns WSB_OK; WSB_INVALID_ARGUMENT (no such agent, a length that is not the row size,
/// NULL `data`); WSB_INVALID_HANDLE; WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_set_observation(
    env: wsb_env,
    agent: u32,
    data: *const u8,
    len: usize,
) -> wsb_result {
    boundary("wsb_env_set_observation", || {
        let agent = agent_arg(agent, true)?;
        let data = bytes_arg(data, len, "data")?;
        with_env(env, |e| Ok(e.set_observation(agent, data)?))
    })
}

/// Sets `agent`'s reward for the next answer, replacing what was set or added since the last
/// one. Rewards start at 0 after each answer.
///
/// Returns WSB_OK, WSB_INVALID_ARGUMENT (no such agent), WSB_INVALID_HANDLE, WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_set_reward(env: wsb_env, agent: u32, reward: f64) -> wsb_result {
    boundary("wsb_env_set_reward", || {
        let agent = one_agent(agent)?;
        with_env(env, |e| Ok(e.set_reward(agent, reward)?))
    })
}

/// Adds to `agent`'s reward for the next answer (rewards add up over the frames of a decision,
/// like ML-Agents' `AddReward`).
///
/// Returns WSB_OK, WSB_INVALID_ARGUMENT (no such agent), WSB_INVALID_HANDLE, WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_add_reward(env: wsb_env, agent: u32, reward: f64) -> wsb_result {
    boundary("wsb_env_add_reward", || {
        let agent = one_agent(agent)?;
        with_env(env, |e| Ok(e.add_reward(agent, reward)?))
    })
}

/// Marks `agent`'s episode as ended in the next answer: `terminated` (nonzero: the task
/// reached a terminal state, e.g. the pole fell) and/or `truncated` (nonzero: cut short, e.g. a
/// time limit), as in gymnasium. The trainer then resets the agent in a later STEP. An ended
/// episode ends the decision at once (`decision_period`).
///
/// Returns WSB_OK, WSB_INVALID_ARGUMENT (no such agent), WSB_INVALID_HANDLE, WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_set_done(
    env: wsb_env,
    agent: u32,
    terminated: u8,
    truncated: u8,
) -> wsb_result {
    boundary("wsb_env_set_done", || {
        let agent = one_agent(agent)?;
        with_env(env, |e| {
            Ok(e.set_done(agent, terminated != 0, truncated != 0)?)
        })
    })
}

/// Sets `agent`'s info for the next answer: a JSON object, e.g. `{"end": "pole_fell"}`
/// (gymnasium's `info`); NULL or "" for none. Copied; infos are cleared after each answer.
///
/// Returns WSB_OK, WSB_INVALID_ARGUMENT (no such agent, not a JSON object, not UTF-8),
/// WSB_INVALID_HANDLE, WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_set_info(env: wsb_env, agent: u32, json: *const c_char) -> wsb_result {
    boundary("wsb_env_set_info", || {
        let agent = one_agent(agent)?;
        let json = opt_str_arg(json, "json")?.unwrap_or("");
        with_env(env, |e| Ok(e.set_info(agent, json)?))
    })
}

/// Finishes the current RESET, STEP, REPEAT or NO_DECISION event. The answer (observations,
/// rewards, episode ends, infos) goes to the trainer now, except between decisions (see
/// `decision_period`). For agents that were reset in a STEP, the answer carries reward 0 and
/// no episode end whatever was set (gymnasium's next-step autoreset).
///
/// Returns WSB_OK (also when the link broke meanwhile: the next wsb_env_next reports it);
/// WSB_INVALID_ARGUMENT (no event to answer, or an agent has no observation since the last
/// answer: the message names it; nothing was sent, fix it and submit again);
/// WSB_MESSAGE_TOO_BIG (the answer exceeds `max_message_size`); WSB_INVALID_HANDLE;
/// WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_submit(env: wsb_env) -> wsb_result {
    boundary("wsb_env_submit", || with_env(env, |e| Ok(e.submit()?)))
}

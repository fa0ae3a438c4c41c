//! wsb_env_layout: the spec in bytes (agents, one agent's observation and action rows), for a
//! game that sizes its buffers from it. (A part's bytes come from wsb_env_observation_part,
//! in `submit.rs` beside wsb_env_set_observation_part.)

use super::{with_env, wsb_env};
use crate::ffi::result::*;
use crate::ffi::{boundary, write_opt};

/// Reads the sizes a game needs for its buffers.
///
/// - `out_agents`: the number of agents. May be NULL.
/// - `out_observation_bytes`: bytes of one agent's observation row. May be NULL.
/// - `out_action_bytes`: bytes of one agent's action row. May be NULL.
///
/// Returns WSB_OK, WSB_INVALID_HANDLE, WSB_INTERNAL.
#[no_mangle]
pub extern "C" fn wsb_env_layout(
    env: wsb_env,
    out_agents: *mut u32,
    out_observation_bytes: *mut usize,
    out_action_bytes: *mut usize,
) -> wsb_result {
    boundary("wsb_env_layout", || {
        let (k, obs, act) = with_env(env, |e| {
            let s = e.spec();
            Ok((
                s.agents as u32,
                s.observation.row_bytes(),
                s.action.row_bytes(),
            ))
        })?;
        write_opt(out_agents, k);
        write_opt(out_observation_bytes, obs);
        write_opt(out_action_bytes, act);
        Ok(())
    })
}

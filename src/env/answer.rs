//! Building the game's answer to the current event: observations (whole rows or parts),
//! rewards, episode ends and infos, then [`Env::submit`], which sends it (or waits for the last
//! frame of a decision, or for the new episodes of a same-step autoreset).

use super::decode;
use super::error::{Error, Result};
use super::event::EventKind;
use super::space::{self, Space};
use super::state::{Link, Stage};
use super::Env;
use crate::client::{self, Kind};

/// A leaf space's row as messages show it: "box float32[4]".
fn part_layout(space: &Space) -> String {
    let (dtype, shape) = space.wire();
    format!("{} {}{shape:?}", space::space_name(space), dtype.name())
}

impl Env {
    /// Copies `agent`'s observation (or every agent's, for `None`) into the answer: raw
    /// little-endian items of the observation space's wire dtype, exactly one row's bytes
    /// (or all rows'). For a dict or tuple space a row is its parts' rows one after the other,
    /// in the order of [`Observation::parts`](spec::Observation).
    pub fn set_observation(&mut self, agent: Option<usize>, data: &[u8]) -> Result<()> {
        self.check_partial(agent, "observation")?;
        let row = self.spec.observation.row_bytes();
        let want = match agent {
            Some(i) => {
                self.agent(i)?;
                row
            }
            None => row * self.spec.agents,
        };
        if data.len() != want {
            let what = match agent {
                Some(i) => format!("agent {i}'s observation"),
                None => format!("the observations of {} agents", self.spec.agents),
            };
            return Err(Error::invalid(format!(
                "{what} must be {want} bytes ({} per agent), not {}",
                self.observation_layout(),
                data.len()
            )));
        }
        self.reply.set_rows(agent, data);
        let all = self.all_parts();
        match agent {
            Some(i) => self.obs_set[i] = all,
            None => self.obs_set.fill(all),
        }
        Ok(())
    }

    /// Copies part `part` (an index into [`Observation::parts`](spec::Observation), see
    /// [`Spec::observation`]) of `agent`'s observation (or every agent's rows of that part, for
    /// `None`) into the answer. An agent's observation is complete when every part was set.
    pub fn set_observation_part(
        &mut self,
        agent: Option<usize>,
        part: usize,
        data: &[u8],
    ) -> Result<()> {
        self.check_partial(agent, "observation")?;
        if part >= self.reply.part_count() {
            return Err(Error::invalid(format!(
                "observation part {part} does not exist: the observation space has {} ({})",
                self.reply.part_count(),
                self.observation_layout()
            )));
        }
        let row = self.reply.part_row(part);
        let want = match agent {
            Some(i) => {
                self.agent(i)?;
                row
            }
            None => row * self.spec.agents,
        };
        if data.len() != want {
            let p = &self.spec.observation.parts[part];
            return Err(Error::invalid(format!(
                "observation part {part} (\"{}\", {}) must be {want} bytes{}, not {}",
                p.path,
                part_layout(&p.space),
                if agent.is_none() {
                    format!(" ({row} per agent)")
                } else {
                    String::new()
                },
                data.len()
            )));
        }
        self.reply.part_mut(part, agent).copy_from_slice(data);
        let bit = 1u32 << part;
        match agent {
            Some(i) => self.obs_set[i] |= bit,
            None => self.obs_set.iter_mut().for_each(|s| *s |= bit),
        }
        Ok(())
    }

    fn all_parts(&self) -> u32 {
        (1u32 << self.reply.part_count()) - 1
    }

    fn observation_layout(&self) -> String {
        let parts = &self.spec.observation.parts;
        if !self.spec.observation.is_composite() {
            return part_layout(&parts[0].space);
        }
        parts
            .iter()
            .map(|p| format!("\"{}\": {}", p.path, part_layout(&p.space)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// In the `Reset` of a same-step autoreset only the restarting agents get new observations
    /// and infos: the others' rows are those of the step just answered.
    fn check_partial(&self, agent: Option<usize>, what: &str) -> Result<()> {
        if !(self.partial && self.stage == Stage::Answer(EventKind::Reset)) {
            return Ok(());
        }
        match agent {
            Some(i) if self.reset.get(i) != Some(&false) => Ok(()),
            _ => Err(Error::invalid(format!(
                "this Reset restarts only the agents whose episode ended (same-step autoreset: \
                 {} of {}): {} cannot set an {what} now (check wsb_env_agent_reset)",
                self.resets,
                self.spec.agents,
                agent.map_or("WSB_ALL_AGENTS".to_string(), |i| format!("agent {i}"))
            ))),
        }
    }

    /// Sets `agent`'s reward for the answer (replacing what was added since the last one).
    pub fn set_reward(&mut self, agent: usize, reward: f64) -> Result<()> {
        self.agent(agent)?;
        self.reply.set_reward(agent, reward);
        Ok(())
    }

    /// Adds to `agent`'s reward: rewards add up over the frames of a decision.
    pub fn add_reward(&mut self, agent: usize, reward: f64) -> Result<()> {
        self.agent(agent)?;
        let r = self.reply.reward(agent) + reward;
        self.reply.set_reward(agent, r);
        Ok(())
    }

    /// Marks `agent`'s episode as ended: `terminated` (a terminal state of the task) and/or
    /// `truncated` (cut short, e.g. a time limit). The answer goes at the next submit.
    pub fn set_done(&mut self, agent: usize, terminated: bool, truncated: bool) -> Result<()> {
        self.agent(agent)?;
        self.reply.set_done(agent, terminated, truncated);
        Ok(())
    }

    /// Sets `agent`'s info for the answer: a JSON object ("" for none). Copied.
    pub fn set_info(&mut self, agent: usize, json: &str) -> Result<()> {
        self.agent(agent)?;
        self.check_partial(Some(agent), "info")?;
        if !json.trim().is_empty() {
            decode::is_object(json).map_err(|m| Error::invalid(format!("agent {agent}: {m}")))?;
        }
        let info = &mut self.infos[agent];
        info.clear();
        info.push_str(json.trim());
        Ok(())
    }

    /// Finishes the current `Reset`, `Step`, `Repeat` or `NoDecision` event. The answer goes to
    /// the trainer now, except between decisions (`decision_period` > 1: after the period's
    /// last frame, or at once when an episode ended or an agent was reset).
    pub fn submit(&mut self) -> Result<()> {
        let Stage::Answer(kind) = self.stage else {
            return Err(Error::invalid(format!(
                "there is no event to answer (current: {}): call next first",
                self.stage_name()
            )));
        };
        let step = kind != EventKind::Reset;
        let send = !step || {
            let ended = (0..self.spec.agents)
                .any(|i| !self.reset[i] && self.reply.done(i) != (false, false));
            self.resets > 0 || ended || self.frames + 1 >= self.options.decision_period
        };
        if send {
            let all = self.all_parts();
            if let Some(missing) = self.obs_set.iter().position(|s| *s != all) {
                let count = self.obs_set.iter().filter(|s| **s != all).count();
                return Err(Error::invalid(format!(
                    "cannot answer the {kind:?}: agent {missing} (and {} more) has no observation \
                     since the last answer (set_observation)",
                    count - 1
                )));
            }
        }
        if self.partial {
            // The end of a same-step autoreset: the step's rewards and episode ends stand,
            // whatever the game set while resetting; the answer carries the final rows too.
            let finals = self.resets;
            self.reply.restore_ends(&self.saved_ends);
            self.stage = Stage::Idle;
            return self.send_answer(true, finals);
        }
        self.frames += 1;
        if !send {
            self.stage = Stage::Between;
            return Ok(());
        }
        for i in 0..self.spec.agents {
            if self.reset[i] {
                // The autoreset rule: a reset agent answers with reward 0 and no episode end.
                self.reply.set_reward(i, 0.0);
                self.reply.set_done(i, false, false);
                self.ready[i] = true;
            }
        }
        if step && self.same_step && self.begin_auto_reset() {
            return Ok(());
        }
        self.stage = Stage::Idle;
        self.send_answer(step, 0)
    }

    /// Same-step autoreset: keeps the final observations and infos of the agents whose episode
    /// just ended and asks the game (a `Reset` event for those agents) for their new episodes'
    /// first observations before answering. False when no episode ended.
    fn begin_auto_reset(&mut self) -> bool {
        let mut slot = 0;
        for i in 0..self.spec.agents {
            let ended = !self.reset[i] && self.reply.done(i) != (false, false);
            self.reset[i] = ended;
            if ended {
                self.reply.keep_final_obs(i, slot);
                std::mem::swap(&mut self.final_infos[slot], &mut self.infos[i]);
                self.infos[i].clear();
                self.obs_set[i] = 0;
                slot += 1;
            }
        }
        if slot == 0 {
            return false;
        }
        self.reply.save_ends(&mut self.saved_ends);
        self.resets = slot;
        self.partial = true;
        self.stage = Stage::AutoReset;
        true
    }

    /// Sends the answer (with `finals` final observations of a same-step autoreset).
    fn send_answer(&mut self, step: bool, finals: usize) -> Result<()> {
        let result = match &self.link {
            Link::Open(c) => match c.send(
                self.reply
                    .finish(step, &self.infos, &self.final_infos[..finals]),
                Kind::Binary,
            ) {
                Ok(()) => Ok(()),
                // The link broke: the next `next` reports it and reconnects.
                Err(e)
                    if matches!(
                        e.kind(),
                        client::ErrorKind::Closed | client::ErrorKind::ConnectionLost
                    ) =>
                {
                    Ok(())
                }
                Err(e) => Err(Error::from(e)),
            },
            _ => Ok(()),
        };
        self.final_infos[..finals]
            .iter_mut()
            .for_each(String::clear);
        self.after_answer();
        result
    }

    pub(super) fn after_answer(&mut self) {
        self.partial = false;
        self.reply.clear_rewards();
        self.infos.iter_mut().for_each(String::clear);
        self.obs_set.fill(0);
        self.frames = 0;
        self.resets = 0;
        self.reset.fill(false);
    }
}

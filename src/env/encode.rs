//! Encoding the game's answers (docs/protocol.md, *Message framing*): the reply buffer that
//! observations, rewards and episode ends are written into directly.
//!
//! Neither side allocates per step once running: the reply is one buffer, `[u32 header
//! length][header, padded with spaces][payload]`, whose payload sits at a fixed place so that
//! the game's arrays are copied into it once; the header area only grows (and the payload
//! moves) when a header is longer than any before it. Requests are decoded in `decode.rs`.

use super::spec::Spec;
use std::io::Write;

fn pad8(n: usize) -> usize {
    n.next_multiple_of(8)
}

/// One observation part's arrays in the reply.
struct ReplyPart {
    /// The array name after `obs` / `final_obs`: "" or ".camera".
    suffix: String,
    dtype: &'static str,
    /// One row's shape as JSON items after the row count (",84,84,3").
    row_shape: String,
    row: usize,
    /// Payload offsets of its `obs` rows and of its `final_obs` rows.
    obs_at: usize,
    final_at: usize,
}

/// The reply being built: observations, rewards and episode ends are written straight into
/// its payload. Each observation part (one for a plain space, the leaves of a dict or tuple
/// space) has its own array of one row per agent, and room for as many final rows.
pub(crate) struct Reply {
    buf: Vec<u8>,
    /// Bytes reserved for the header after the 4-byte length: `4 + head` is a multiple of 8.
    head: usize,
    agents: usize,
    parts: Vec<ReplyPart>,
    /// Payload offsets.
    reward_at: usize,
    terminated_at: usize,
    truncated_at: usize,
    /// The payload of a step answer without final observations.
    step_len: usize,
    payload_len: usize,
    /// The `"arrays"` members of each answer, built once.
    step_arrays: String,
    reset_arrays: String,
    /// Reused for the header text.
    scratch: Vec<u8>,
}

impl Reply {
    pub(crate) fn new(spec: &Spec) -> Reply {
        let k = spec.agents;
        let mut parts = Vec::new();
        let mut at = 0;
        for part in &spec.observation.parts {
            let (dtype, shape) = part.space.wire();
            let row = part.space.row_bytes();
            let row_shape: String = shape.iter().map(|d| format!(",{d}")).collect();
            let suffix = if part.path.is_empty() {
                String::new()
            } else {
                format!(".{}", part.path)
            };
            parts.push(ReplyPart {
                suffix,
                dtype: dtype.name(),
                row_shape,
                row,
                obs_at: at,
                final_at: 0,
            });
            at += pad8(k * row);
        }
        let reward_at = at;
        let terminated_at = reward_at + pad8(k * 8);
        let truncated_at = terminated_at + pad8(k);
        let step_len = truncated_at + pad8(k);
        let mut payload_len = step_len;
        for p in &mut parts {
            p.final_at = payload_len;
            payload_len += pad8(k * p.row);
        }
        let obs = parts
            .iter()
            .map(|p| {
                format!(
                    r#""obs{}":{{"dtype":"{}","shape":[{k}{}],"offset":{}}}"#,
                    p.suffix, p.dtype, p.row_shape, p.obs_at
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let reset_arrays = format!(r#""arrays":{{{obs}}}"#);
        let step_arrays = format!(
            r#""arrays":{{{obs},"reward":{{"dtype":"float64","shape":[{k}],"offset":{reward_at}}},"terminated":{{"dtype":"bool","shape":[{k}],"offset":{terminated_at}}},"truncated":{{"dtype":"bool","shape":[{k}],"offset":{truncated_at}}}}}"#
        );
        let head = pad8(step_arrays.len() + 32 + 4) - 4;
        let mut r = Reply {
            buf: Vec::new(),
            head,
            agents: k,
            parts,
            reward_at,
            terminated_at,
            truncated_at,
            step_len,
            payload_len,
            step_arrays,
            reset_arrays,
            scratch: Vec::with_capacity(head),
        };
        r.buf.resize(4 + head + payload_len, 0);
        r
    }

    fn payload(&mut self) -> &mut [u8] {
        let at = 4 + self.head;
        &mut self.buf[at..]
    }

    /// Part `part`'s row of agent `agent`, or every agent's rows of it for `None`.
    pub(crate) fn part_mut(&mut self, part: usize, agent: Option<usize>) -> &mut [u8] {
        let (row, at, k) = (self.parts[part].row, self.parts[part].obs_at, self.agents);
        let p = self.payload();
        match agent {
            Some(i) => &mut p[at + i * row..at + (i + 1) * row],
            None => &mut p[at..at + k * row],
        }
    }

    /// Copies whole observation rows (each agent's parts one after the other) into the parts'
    /// arrays: `data` holds `agent`'s row, or every agent's rows for `None`.
    pub(crate) fn set_rows(&mut self, agent: Option<usize>, data: &[u8]) {
        let total: usize = self.parts.iter().map(|p| p.row).sum();
        let agents = match agent {
            Some(i) => i..i + 1,
            None => 0..self.agents,
        };
        for (n, i) in agents.enumerate() {
            let mut from = n * total;
            for part in 0..self.parts.len() {
                let row = self.parts[part].row;
                self.part_mut(part, Some(i))
                    .copy_from_slice(&data[from..from + row]);
                from += row;
            }
        }
    }

    /// The number of observation parts.
    pub(crate) fn part_count(&self) -> usize {
        self.parts.len()
    }

    /// Bytes of one agent's row of part `part`.
    pub(crate) fn part_row(&self, part: usize) -> usize {
        self.parts[part].row
    }

    pub(crate) fn reward(&self, agent: usize) -> f64 {
        let at = 4 + self.head + self.reward_at + 8 * agent;
        f64::from_le_bytes(self.buf[at..at + 8].try_into().expect("8 bytes"))
    }

    pub(crate) fn set_reward(&mut self, agent: usize, value: f64) {
        let at = self.reward_at + 8 * agent;
        self.payload()[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn done(&self, agent: usize) -> (bool, bool) {
        let p = 4 + self.head;
        (
            self.buf[p + self.terminated_at + agent] != 0,
            self.buf[p + self.truncated_at + agent] != 0,
        )
    }

    pub(crate) fn set_done(&mut self, agent: usize, terminated: bool, truncated: bool) {
        let (t, u) = (self.terminated_at, self.truncated_at);
        let p = self.payload();
        p[t + agent] = terminated as u8;
        p[u + agent] = truncated as u8;
    }

    /// Zeroes the rewards and episode ends (after a reply went out, or a new connection).
    pub(crate) fn clear_rewards(&mut self) {
        let (from, to) = (self.reward_at, self.step_len);
        self.payload()[from..to].fill(0);
    }

    /// Copies the rewards and episode ends into `saved` (before a same-step reset).
    pub(crate) fn save_ends(&self, saved: &mut Vec<u8>) {
        let p = 4 + self.head;
        saved.clear();
        saved.extend_from_slice(&self.buf[p + self.reward_at..p + self.step_len]);
    }

    /// Puts back what [`Reply::save_ends`] saved (whatever a same-step reset set).
    pub(crate) fn restore_ends(&mut self, saved: &[u8]) {
        let (from, to) = (self.reward_at, self.step_len);
        self.payload()[from..to].copy_from_slice(saved);
    }

    /// Copies `agent`'s observation rows to row `slot` of the final observations.
    pub(crate) fn keep_final_obs(&mut self, agent: usize, slot: usize) {
        let at = 4 + self.head;
        for p in &self.parts {
            let from = at + p.obs_at + agent * p.row;
            self.buf
                .copy_within(from..from + p.row, at + p.final_at + slot * p.row);
        }
    }

    /// Writes the header of a `reset` (`step == false`) or `step` answer with these per-agent
    /// infos ("" for none) and returns the whole message. A same-step answer also carries
    /// `finals.len()` final observations (kept by [`Reply::keep_final_obs`]) and their infos.
    pub(crate) fn finish(&mut self, step: bool, infos: &[String], finals: &[String]) -> &[u8] {
        let s = &mut self.scratch;
        s.clear();
        s.extend_from_slice(if step {
            br#"{"type":"step","#
        } else {
            br#"{"type":"reset","#
        });
        write_infos(s, br#""infos":["#, infos);
        write_infos(s, br#""final_infos":["#, finals);
        let arrays = if step {
            &self.step_arrays
        } else {
            &self.reset_arrays
        };
        if finals.is_empty() {
            let _ = write!(s, "{arrays}}}");
        } else {
            // The step's arrays plus "final_obs" (per part), (M, *row shape), at `final_at`.
            s.extend_from_slice(&arrays.as_bytes()[..arrays.len() - 1]);
            for p in &self.parts {
                let _ = write!(
                    s,
                    r#","final_obs{}":{{"dtype":"{}","shape":[{}{}],"offset":{}}}"#,
                    p.suffix,
                    p.dtype,
                    finals.len(),
                    p.row_shape,
                    p.final_at
                );
            }
            s.extend_from_slice(b"}}");
        }
        if s.len() > self.head {
            // A longer header than any before: grow the header area, moving the payload once.
            let head = pad8(s.len() + s.len() / 4 + 4) - 4;
            let old = 4 + self.head;
            self.buf.resize(4 + head + self.payload_len, 0);
            self.buf.copy_within(old..old + self.payload_len, 4 + head);
            self.head = head;
        }
        let h = self.head;
        self.buf[..4].copy_from_slice(&(h as u32).to_le_bytes());
        self.buf[4..4 + s.len()].copy_from_slice(s);
        self.buf[4 + s.len()..4 + h].fill(b' ');
        let end = if let (false, Some(last)) = (finals.is_empty(), self.parts.last()) {
            last.final_at + finals.len() * last.row
        } else if step {
            self.step_len
        } else {
            self.reward_at
        };
        &self.buf[..4 + h + end]
    }
}

/// Writes `key` (`"infos":[` or `"final_infos":[`) and one JSON object per agent (`{}` for an
/// empty one) into the header being built, followed by `],`; nothing when every one is empty.
fn write_infos(s: &mut Vec<u8>, key: &[u8], infos: &[String]) {
    if infos.iter().all(String::is_empty) {
        return;
    }
    s.extend_from_slice(key);
    for (n, info) in infos.iter().enumerate() {
        if n > 0 {
            s.push(b',');
        }
        s.extend_from_slice(if info.is_empty() {
            b"{}"
        } else {
            info.as_bytes()
        });
    }
    s.extend_from_slice(b"],");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_follow_the_framing_and_grow_their_header_area() {
        let s = Spec::from_json(
            r#"{"agents": 2, "action_space": {"type": "discrete", "n": 2},
                "observation_space": {"type": "box", "shape": [3], "dtype": "float32", "low": -1, "high": 1}}"#,
        )
        .unwrap();
        let mut r = Reply::new(&s);
        r.set_rows(None, &[1u8; 24]);
        r.set_reward(1, 2.5);
        r.set_done(0, true, false);
        let mut infos = vec![String::new(), String::new()];
        let decode = |m: &[u8]| {
            let h = u32::from_le_bytes(m[..4].try_into().unwrap()) as usize;
            assert_eq!((4 + h) % 8, 0, "the payload starts 8-aligned");
            let header: serde_json::Value = serde_json::from_slice(&m[4..4 + h]).unwrap();
            (header, m[4 + h..].to_vec())
        };
        let (header, payload) = decode(r.finish(true, &infos, &[]));
        assert_eq!(header["type"], "step");
        assert!(header.get("infos").is_none());
        let reward_at = header["arrays"]["reward"]["offset"].as_u64().unwrap() as usize;
        let terminated_at = header["arrays"]["terminated"]["offset"].as_u64().unwrap() as usize;
        assert_eq!(&payload[..24], &[1u8; 24]);
        assert_eq!(payload[reward_at + 8..reward_at + 16], 2.5f64.to_le_bytes());
        assert_eq!(payload[terminated_at..terminated_at + 2], [1, 0]);
        infos[1] = format!(r#"{{"long": "{}"}}"#, "x".repeat(500));
        let (header, payload2) = decode(r.finish(true, &infos, &[]));
        assert_eq!(header["infos"][1]["long"].as_str().unwrap().len(), 500);
        assert_eq!(payload, payload2, "the payload moved with its content");
        let (header, payload) = decode(r.finish(false, &infos, &[]));
        assert_eq!(header["type"], "reset");
        assert_eq!(
            payload.len(),
            24,
            "a reset answer carries the observations only"
        );
    }
}

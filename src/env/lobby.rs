//! The game side of the lobby (lobby protocol v1, docs/env.md, *Lobby*): an env that is not told
//! its slot connects to one well-known URL, sends a `lobby` message, and is assigned a free slot
//! on some trainer hub (`assign`); it goes back to the lobby when that slot is gone for good.
//!
//! This file holds the lobby's messages and where the env is in its search; the env
//! (`super::Env`) drives the connections.

use crate::client::{url, Kind};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The lobby protocol version this library speaks.
pub const LOBBY_VERSION: u64 = 1;

/// An env's lobby: where to ask for a slot, and whether it is asking now.
#[derive(Debug)]
pub(super) struct Lobby {
    /// The lobby's URL (the one given to `Env::open`).
    pub url: String,
    /// That URL as messages show it (credentials redacted).
    pub shown: String,
    /// The `env` of the `lobby` message.
    env_name: String,
    /// Back to the lobby when the assigned slot has had no connection for this long.
    return_after: Duration,
    /// The slot the env lost, sent as `previous` in the next `lobby` message.
    previous: Option<String>,
    /// The env's link is to the lobby (searching for a slot), not to an assigned slot.
    pub searching: bool,
    /// Since when the assigned slot has had no open connection.
    slot_down_since: Instant,
}

impl Lobby {
    pub fn new(url: &str, env_name: &str, return_after: Duration) -> Lobby {
        Lobby {
            url: url.to_string(),
            shown: url::redact(url),
            env_name: env_name.to_string(),
            return_after,
            previous: None,
            searching: true,
            slot_down_since: Instant::now(),
        }
    }

    /// The env name sent to the lobby ("" matches any hub).
    pub fn env_name(&self) -> &str {
        &self.env_name
    }

    /// The game's first (and only) message to the lobby.
    pub fn request(&self) -> String {
        let mut m = json!({"type": "lobby", "version": LOBBY_VERSION, "env": self.env_name});
        if let Some(p) = &self.previous {
            m["previous"] = Value::String(p.clone());
        }
        m.to_string()
    }

    /// The lobby assigned a slot: the env goes there now.
    pub fn assigned(&mut self) {
        self.searching = false;
        self.previous = None;
        self.slot_down_since = Instant::now();
    }

    /// The assigned slot's connection ended: the clock of `lobby_return_ms` starts.
    pub fn slot_lost(&mut self) {
        self.slot_down_since = Instant::now();
    }

    /// Whether reconnecting to the assigned slot has failed for longer than `lobby_return_ms`.
    pub fn slot_gone_too_long(&self, now: Instant) -> bool {
        now >= self.slot_down_since + self.return_after
    }

    /// The env leaves slot `slot` for good: the next `lobby` message names it as `previous`.
    pub fn go_back(&mut self, slot: &str) {
        self.previous = Some(slot.to_string());
        self.searching = true;
    }
}

/// Reads the lobby's answer: the assigned slot's URL, or what is wrong with the message.
pub(super) fn assignment(data: &[u8], kind: Kind) -> Result<String, String> {
    if kind != Kind::Text {
        return Err(format!(
            "it sent a binary message of {} bytes; the only message it may send is a text \
             {{\"type\": \"assign\", ...}}",
            data.len()
        ));
    }
    let text = String::from_utf8_lossy(data);
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("its message is not JSON ({e}): {:?}", short(&text)))?;
    match value.get("type").and_then(Value::as_str) {
        Some("assign") => {}
        Some(other) => {
            return Err(format!(
                "it sent a message of type {other:?}; the only message it may send is \"assign\""
            ))
        }
        None => {
            return Err(format!(
                "its message has no string \"type\": {:?}",
                short(&text)
            ))
        }
    }
    let slot = value
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("its assign has no string \"url\": {:?}", short(&text)))?;
    url::Target::parse(slot)
        .map_err(|e| format!("its assign names a slot URL this env cannot use: {e}"))?;
    Ok(slot.to_string())
}

fn short(s: &str) -> String {
    let mut n = s.len().min(120);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    url::redact(&s[..n])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lobby_message_names_the_env_and_the_lost_slot() {
        let mut l = Lobby::new("ws://lobby/lobby", "cart\"pole", Duration::from_millis(10));
        let m: Value = serde_json::from_str(&l.request()).unwrap();
        assert_eq!(
            m,
            json!({"type": "lobby", "version": 1, "env": "cart\"pole"})
        );
        l.assigned();
        l.go_back("ws://hub/env/3");
        let m: Value = serde_json::from_str(&l.request()).unwrap();
        assert_eq!(m["previous"], "ws://hub/env/3");
        l.assigned();
        assert!(serde_json::from_str::<Value>(&l.request()).unwrap()["previous"].is_null());
    }

    #[test]
    fn assignments_are_checked() {
        let ok = br#"{"type": "assign", "url": "ws://127.0.0.1:9/env/2", "hub": "h"}"#;
        assert_eq!(
            assignment(ok, Kind::Text).unwrap(),
            "ws://127.0.0.1:9/env/2"
        );
        let err = |m: &[u8], k| assignment(m, k).unwrap_err();
        assert!(err(ok, Kind::Binary).contains("binary message"));
        assert!(err(b"nope", Kind::Text).contains("not JSON"));
        assert!(err(br#"{"type": "wait"}"#, Kind::Text).contains("type \"wait\""));
        assert!(err(br#"{"type": "assign"}"#, Kind::Text).contains("no string \"url\""));
        assert!(err(
            br#"{"type": "assign", "url": "http://x/env/1"}"#,
            Kind::Text
        )
        .contains("cannot use"),);
    }
}

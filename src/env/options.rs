//! The env's options: the connection's own options, reconnection backoff, decision period, and
//! the lobby (finding a free slot through one URL).

use super::error::{Error, Result};
use crate::client::Options;
use serde_json::{Map, Value};
use std::time::Duration;

/// How an env connects, reconnects and paces decisions. `EnvOptions::default()` holds the
/// documented defaults.
#[derive(Debug, Clone)]
pub struct EnvOptions {
    /// The WebSocket connection's options (`connection` in JSON, the keys of `wsb_connect`).
    pub connection: Options,
    /// First delay before retrying after a failed attempt (the first attempt after a loss is
    /// immediate). Doubles after each failure. Default 50 ms.
    pub reconnect_delay: Duration,
    /// Cap on that delay. Default 1000 ms.
    pub reconnect_max_delay: Duration,
    /// Give up reconnecting when no connection opened for this long (`None`: never). Default
    /// 30 000 ms.
    pub reconnect_give_up: Option<Duration>,
    /// Frames per decision: a `step` request is answered after this many submitted frames (or
    /// as soon as an episode ends or an agent was reset). Default 1.
    pub decision_period: u32,
    /// Between decisions the game repeats the last action (`true`, the default: events
    /// `Repeat`) or is told there is no decision (`false`: events `NoDecision`).
    pub repeat_actions: bool,
    /// The URL given to [`Env::open`](super::Env::open) is a lobby's, not a slot's: the env asks
    /// it for a free slot and connects there (docs/env.md, *Lobby*). Default false.
    pub lobby: bool,
    /// The env name sent to the lobby: it assigns a slot of a hub serving this env, or of any
    /// hub when empty (the default). Used only with `lobby`.
    pub env_name: String,
    /// Go back to the lobby when reconnecting to the assigned slot has failed for this long.
    /// Used only with `lobby`. Default 5000 ms.
    pub lobby_return: Duration,
}

impl Default for EnvOptions {
    fn default() -> Self {
        EnvOptions {
            connection: Options::default(),
            reconnect_delay: Duration::from_millis(50),
            reconnect_max_delay: Duration::from_millis(1000),
            reconnect_give_up: Some(Duration::from_millis(30_000)),
            decision_period: 1,
            repeat_actions: true,
            lobby: false,
            env_name: String::new(),
            lobby_return: Duration::from_millis(5000),
        }
    }
}

/// The longest `env_name` accepted, in bytes.
pub const MAX_ENV_NAME: usize = 256;

/// The keys accepted in the env options JSON object.
pub const ENV_OPTION_NAMES: &[&str] = &[
    "connection",
    "token",
    "reconnect_delay_ms",
    "reconnect_max_delay_ms",
    "reconnect_give_up_ms",
    "decision_period",
    "repeat_actions",
    "lobby",
    "env_name",
    "lobby_return_ms",
];

impl EnvOptions {
    /// Parses the options JSON object; unknown keys and bad values are named.
    pub fn from_json(json: &str) -> Result<EnvOptions> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| Error::invalid(format!("env options are not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(Error::invalid(format!(
                "env options must be a JSON object, not {value}"
            )));
        };
        EnvOptions::from_map(map)
    }

    fn from_map(map: Map<String, Value>) -> Result<EnvOptions> {
        let mut o = EnvOptions::default();
        let mut token = None;
        for (key, value) in map {
            let bad = |what: &str| {
                Error::invalid(format!("env option `{key}` must be {what}, not {value}"))
            };
            let ms = |min: u64| {
                value
                    .as_u64()
                    .filter(|v| *v >= min && *v <= i32::MAX as u64)
                    .map(Duration::from_millis)
                    .ok_or_else(|| {
                        bad(&format!(
                            "a number of milliseconds from {min} to 2147483647"
                        ))
                    })
            };
            match key.as_str() {
                "connection" => {
                    if !value.is_object() {
                        return Err(bad(
                            "an object of connection options (those of wsb_connect)",
                        ));
                    }
                    o.connection = Options::from_json(&value.to_string())?;
                    if o.connection.reconnect.is_some() {
                        return Err(Error::invalid(
                            "env option `connection.reconnect`: an env reconnects by itself \
                             (env options reconnect_delay_ms, reconnect_max_delay_ms, \
                             reconnect_give_up_ms); leave `reconnect` out of `connection`",
                        ));
                    }
                }
                "token" => {
                    token = Some(
                        value
                            .as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| bad("a string"))?,
                    )
                }
                "reconnect_delay_ms" => o.reconnect_delay = ms(1)?,
                "reconnect_max_delay_ms" => o.reconnect_max_delay = ms(1)?,
                "reconnect_give_up_ms" => {
                    o.reconnect_give_up = match value.as_i64() {
                        Some(-1) => None,
                        _ => {
                            Some(ms(0).map_err(|_| bad("-1 (never) or a number of milliseconds"))?)
                        }
                    }
                }
                "decision_period" => {
                    o.decision_period = value
                        .as_u64()
                        .filter(|v| (1..=1_000_000).contains(v))
                        .ok_or_else(|| bad("an integer from 1 to 1000000"))?
                        as u32
                }
                "repeat_actions" => {
                    o.repeat_actions = value.as_bool().ok_or_else(|| bad("true or false"))?
                }
                "lobby" => o.lobby = value.as_bool().ok_or_else(|| bad("true or false"))?,
                "env_name" => {
                    o.env_name = value
                        .as_str()
                        .filter(|s| s.len() <= MAX_ENV_NAME && !s.chars().any(char::is_control))
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            bad(&format!(
                            "a string of at most {MAX_ENV_NAME} bytes without control characters"
                        ))
                        })?
                }
                "lobby_return_ms" => o.lobby_return = ms(0)?,
                _ => {
                    return Err(Error::invalid(format!(
                        "unknown env option `{key}` (known: {})",
                        ENV_OPTION_NAMES.join(", ")
                    )))
                }
            }
        }
        if let Some(t) = token {
            if o.connection
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            {
                return Err(Error::invalid(
                    "env option `token` and an Authorization header in `connection.headers` both set the token: keep one",
                ));
            }
            o.connection
                .headers
                .push(("Authorization".into(), format!("Bearer {t}")));
        }
        if o.reconnect_max_delay < o.reconnect_delay {
            o.reconnect_max_delay = o.reconnect_delay;
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_name_their_errors() {
        let o = EnvOptions::from_json(
            r#"{"token": "t", "connection": {"connect_timeout_ms": 500}, "decision_period": 4,
                "repeat_actions": false, "reconnect_give_up_ms": -1}"#,
        )
        .unwrap();
        assert_eq!(o.connection.connect_timeout, Duration::from_millis(500));
        assert_eq!(
            o.connection.headers,
            vec![("Authorization".into(), "Bearer t".into())]
        );
        assert_eq!(
            (o.decision_period, o.repeat_actions, o.reconnect_give_up),
            (4, false, None)
        );
        let err = |j: &str| EnvOptions::from_json(j).unwrap_err().message().to_string();
        assert!(err(r#"{"decision_period": 0}"#)
            .contains("`decision_period` must be an integer from 1"));
        assert!(err(r#"{"retry": 1}"#).contains("unknown env option `retry`"));
        let o = EnvOptions::from_json(
            r#"{"lobby": true, "env_name": "cartpole", "lobby_return_ms": 250}"#,
        )
        .unwrap();
        assert_eq!(
            (o.lobby, o.env_name.as_str(), o.lobby_return),
            (true, "cartpole", Duration::from_millis(250))
        );
        let d = EnvOptions::default();
        assert_eq!(
            (d.lobby, d.env_name.as_str(), d.lobby_return),
            (false, "", Duration::from_millis(5000))
        );
        assert!(err(r#"{"lobby": "ws://x"}"#).contains("`lobby` must be true or false"));
        assert!(err(r#"{"env_name": 3}"#).contains("`env_name` must be a string"));
        assert!(err(r#"{"env_name": "a\nb"}"#).contains("without control characters"));
        assert!(err(r#"{"lobby_return_ms": -5}"#)
            .contains("`lobby_return_ms` must be a number of milliseconds"));
        assert!(err(r#"{"connection": {"bogus": 1}}"#).contains("unknown option `bogus`"));
        assert!(err(r#"{"connection": {"reconnect": true}}"#)
            .contains("`connection.reconnect`: an env reconnects by itself"));
    }
}

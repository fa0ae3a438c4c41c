//! Connection options: defaults chosen for games, and the JSON form the C ABI accepts.
//!
//! Every option is validated here, before tungstenite or the socket layer sees it, so no
//! value a caller can pass reaches a panicking assert further down.

use super::error::{Error, Result};
use super::proxy::Proxy;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::time::Duration;

/// Largest value accepted for the size options: sizes must fit a C# `int` and a 32-bit `size_t`.
pub const MAX_SIZE_OPTION: u64 = i32::MAX as u64;

/// Options for one connection. `Options::default()` holds the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Bound on DNS resolution, TCP connect and the HTTP upgrade together. Default 10 000 ms.
    pub connect_timeout: Duration,
    /// Extra HTTP headers sent with the upgrade request (e.g. `Authorization`).
    pub headers: Vec<(String, String)>,
    /// Subprotocols offered in `Sec-WebSocket-Protocol`; the server must pick one of them.
    pub subprotocols: Vec<String>,
    /// Largest message accepted in either direction. Default 16 MiB.
    pub max_message_size: usize,
    /// Interval between our own keepalive pings; `None` disables them. Default 10 000 ms.
    pub ping_interval: Option<Duration>,
    /// How long the peer may stay silent after a ping before the connection is reported lost.
    /// Default 20 000 ms (the Python `websockets` server's own ping timeout).
    pub pong_timeout: Duration,
    /// Cap on bytes accepted by `send` but not yet written to the socket. Default 8 MiB.
    pub send_queue_max_bytes: usize,
    /// Cap on received bytes waiting for `recv`; past it wsbridge stops reading the socket
    /// and TCP flow control slows the peer down. Default 8 MiB.
    pub recv_queue_max_bytes: usize,
    /// TLS settings for `wss://` URLs.
    pub tls: TlsOptions,
    /// The HTTP proxy to tunnel through (`CONNECT`). `None`: the environment decides (see
    /// `proxy_from_env`).
    pub proxy: Option<Proxy>,
    /// Take the proxy from `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` when
    /// `proxy` is not set. Default `true`; `false` connects directly whatever the environment
    /// says (a trainer on the LAN, a machine whose proxy variables are meant for other tools).
    pub proxy_from_env: bool,
}

/// TLS settings (the `tls` object in JSON). They apply to `wss://` URLs only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file of the CA certificates to trust instead of the system's (a private CA).
    pub ca_file: Option<PathBuf>,
    /// The name the server's certificate must carry, instead of the URL's host (connecting by
    /// IP address, or through an alias). Also sent as SNI.
    pub server_name: Option<String>,
    /// Development only: accept any certificate (unknown CA, wrong name, expired). The traffic
    /// is encrypted, but to whoever answers: anyone on the path can read and change it.
    pub accept_invalid_certs: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: Duration::from_millis(10_000),
            headers: Vec::new(),
            subprotocols: Vec::new(),
            max_message_size: 16 << 20,
            ping_interval: Some(Duration::from_millis(10_000)),
            pong_timeout: Duration::from_millis(20_000),
            send_queue_max_bytes: 8 << 20,
            recv_queue_max_bytes: 8 << 20,
            tls: TlsOptions::default(),
            proxy: None,
            proxy_from_env: true,
        }
    }
}

/// The option names accepted in JSON, in documentation order.
pub const OPTION_NAMES: &[&str] = &[
    "connect_timeout_ms",
    "headers",
    "subprotocols",
    "max_message_size",
    "ping_interval_ms",
    "pong_timeout_ms",
    "send_queue_max_bytes",
    "recv_queue_max_bytes",
    "tls",
    "proxy",
    "proxy_from_env",
];

/// The keys accepted in the `tls` object.
pub const TLS_OPTION_NAMES: &[&str] = &["ca_file", "server_name", "accept_invalid_certs"];

/// Header names that wsbridge writes itself and a caller may not set.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
];

impl Options {
    /// Parses the options JSON object. Unknown keys, wrong types and out-of-range values are
    /// rejected with a message that names the option.
    pub fn from_json(json: &str) -> Result<Options> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| Error::invalid(format!("options are not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(Error::invalid(format!(
                "options must be a JSON object, got {}",
                type_name(&value)
            )));
        };
        Options::from_map(map)
    }

    fn from_map(map: Map<String, Value>) -> Result<Options> {
        let mut o = Options::default();
        for (key, value) in map {
            match key.as_str() {
                "connect_timeout_ms" => {
                    o.connect_timeout = millis(&key, field::<u32>(&key, value)?, false)?
                }
                "headers" => o.headers = headers(field(&key, value)?)?,
                "subprotocols" => o.subprotocols = subprotocols(field(&key, value)?)?,
                "max_message_size" => o.max_message_size = size(&key, field(&key, value)?)?,
                "ping_interval_ms" => {
                    let ms = field::<u32>(&key, value)?;
                    o.ping_interval = (ms > 0).then(|| Duration::from_millis(ms.into()));
                }
                "pong_timeout_ms" => {
                    o.pong_timeout = millis(&key, field::<u32>(&key, value)?, false)?
                }
                "send_queue_max_bytes" => o.send_queue_max_bytes = size(&key, field(&key, value)?)?,
                "recv_queue_max_bytes" => o.recv_queue_max_bytes = size(&key, field(&key, value)?)?,
                "tls" => o.tls = tls(field(&key, value)?)?,
                "proxy" => o.proxy = Some(proxy(field(&key, value)?)?),
                "proxy_from_env" => o.proxy_from_env = field(&key, value)?,
                _ => {
                    return Err(Error::invalid(format!(
                        "unknown option `{key}` (known options: {})",
                        OPTION_NAMES.join(", ")
                    )))
                }
            }
        }
        Ok(o)
    }
}

fn field<T: DeserializeOwned>(key: &str, value: Value) -> Result<T> {
    let shown = value.to_string();
    serde_json::from_value(value)
        .map_err(|e| Error::invalid(format!("option `{key}` has an invalid value {shown}: {e}")))
}

fn millis(key: &str, ms: u32, zero_ok: bool) -> Result<Duration> {
    if ms == 0 && !zero_ok {
        return Err(Error::invalid(format!(
            "option `{key}` must be at least 1 millisecond"
        )));
    }
    if ms > i32::MAX as u32 {
        return Err(Error::invalid(format!(
            "option `{key}` must be at most {} milliseconds, got {ms}",
            i32::MAX
        )));
    }
    Ok(Duration::from_millis(ms.into()))
}

fn size(key: &str, n: u64) -> Result<usize> {
    if n == 0 || n > MAX_SIZE_OPTION {
        return Err(Error::invalid(format!(
            "option `{key}` must be between 1 and {MAX_SIZE_OPTION} bytes, got {n}"
        )));
    }
    usize::try_from(n).map_err(|_| Error::invalid(format!("option `{key}` does not fit in size_t")))
}

fn headers(map: Map<String, Value>) -> Result<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(map.len());
    for (name, value) in map {
        let Value::String(value) = value else {
            return Err(Error::invalid(format!(
                "option `headers`: the value of header `{name}` must be a string, got {}",
                type_name(&value)
            )));
        };
        if tungstenite::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(Error::invalid(format!(
                "option `headers`: `{name}` is not a valid HTTP header name"
            )));
        }
        if tungstenite::http::HeaderValue::from_str(&value).is_err() {
            return Err(Error::invalid(format!(
                "option `headers`: the value of header `{name}` is not a valid HTTP header value \
                 (control characters such as CR or LF are not allowed)"
            )));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(Error::invalid(format!(
                "option `headers`: `{name}` is set by wsbridge itself and cannot be overridden{}",
                if name.eq_ignore_ascii_case("sec-websocket-protocol") {
                    " (use the `subprotocols` option)"
                } else {
                    ""
                }
            )));
        }
        out.push((name, value));
    }
    Ok(out)
}

fn tls(map: Map<String, Value>) -> Result<TlsOptions> {
    let mut t = TlsOptions::default();
    for (key, value) in map {
        let name = format!("tls.{key}");
        match key.as_str() {
            "ca_file" => {
                let path: String = field(&name, value)?;
                if path.is_empty() {
                    return Err(Error::invalid("option `tls.ca_file` is an empty path"));
                }
                t.ca_file = Some(PathBuf::from(path));
            }
            "server_name" => {
                let host: String = field(&name, value)?;
                if rustls::pki_types::ServerName::try_from(host.as_str()).is_err() {
                    return Err(Error::invalid(format!(
                        "option `tls.server_name`: {host:?} is not a DNS name or an IP address"
                    )));
                }
                t.server_name = Some(host);
            }
            "accept_invalid_certs" => t.accept_invalid_certs = field(&name, value)?,
            _ => {
                return Err(Error::invalid(format!(
                    "unknown option `{name}` (known keys of `tls`: {})",
                    TLS_OPTION_NAMES.join(", ")
                )))
            }
        }
    }
    Ok(t)
}

fn proxy(url: String) -> Result<Proxy> {
    if url.trim().is_empty() {
        return Err(Error::invalid(
            "option `proxy` is empty; leave it out, and set `proxy_from_env` to false to \
             connect without any proxy",
        ));
    }
    Proxy::parse(url.trim(), "option `proxy`")
}

fn subprotocols(list: Vec<String>) -> Result<Vec<String>> {
    for p in &list {
        let token_ok = !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token_ok {
            return Err(Error::invalid(format!(
                "option `subprotocols`: {p:?} is not a valid subprotocol token"
            )));
        }
    }
    Ok(list)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_object_gives_defaults() {
        assert_eq!(Options::from_json("{}").unwrap(), Options::default());
    }

    #[test]
    fn every_option_parses() {
        let o = Options::from_json(
            r#"{"connect_timeout_ms": 1500, "headers": {"Authorization": "Bearer x"},
                "subprotocols": ["wsb.v1"], "max_message_size": 1024, "ping_interval_ms": 0,
                "pong_timeout_ms": 300, "send_queue_max_bytes": 4096, "recv_queue_max_bytes": 8192}"#,
        )
        .unwrap();
        assert_eq!(o.connect_timeout, Duration::from_millis(1500));
        assert_eq!(o.headers, vec![("Authorization".into(), "Bearer x".into())]);
        assert_eq!(o.subprotocols, vec!["wsb.v1".to_string()]);
        assert_eq!(o.max_message_size, 1024);
        assert_eq!(o.ping_interval, None);
        assert_eq!(o.pong_timeout, Duration::from_millis(300));
        assert_eq!(o.send_queue_max_bytes, 4096);
        assert_eq!(o.recv_queue_max_bytes, 8192);
    }

    #[test]
    fn tls_and_proxy_options_parse() {
        let o = Options::from_json(
            r#"{"tls": {"ca_file": "/etc/ca.pem", "server_name": "trainer.test",
                        "accept_invalid_certs": true},
                "proxy": "http://u:p@proxy:3128", "proxy_from_env": false}"#,
        )
        .unwrap();
        assert_eq!(o.tls.ca_file, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(o.tls.server_name.as_deref(), Some("trainer.test"));
        assert!(o.tls.accept_invalid_certs);
        assert_eq!(o.proxy.unwrap().shown(), "http://u:****@proxy:3128");
        assert!(!o.proxy_from_env);
        assert!(Options::default().proxy_from_env);
        assert!(err(r#"{"tls": {"cafile": "x"}}"#).contains("unknown option `tls.cafile`"));
        assert!(err(r#"{"tls": {"ca_file": ""}}"#).contains("`tls.ca_file`"));
        assert!(err(r#"{"tls": {"ca_file": 3}}"#).contains("`tls.ca_file`"));
        assert!(err(r#"{"tls": {"server_name": "a b"}}"#).contains("`tls.server_name`"));
        assert!(
            err(r#"{"tls": {"accept_invalid_certs": 1}}"#).contains("`tls.accept_invalid_certs`")
        );
        assert!(err(r#"{"tls": true}"#).contains("`tls`"));
        assert!(err(r#"{"proxy": ""}"#).contains("`proxy_from_env`"));
        assert!(err(r#"{"proxy": "socks5://x:1"}"#).contains("option `proxy`"));
        assert!(err(r#"{"proxy_from_env": "no"}"#).contains("`proxy_from_env`"));
    }

    fn err(json: &str) -> String {
        Options::from_json(json).unwrap_err().message().to_string()
    }

    #[test]
    fn errors_name_the_option() {
        assert!(err(r#"{"ping_interval": 5}"#).contains("unknown option `ping_interval`"));
        assert!(err(r#"{"connect_timeout_ms": -1}"#).contains("`connect_timeout_ms`"));
        assert!(err(r#"{"connect_timeout_ms": 0}"#).contains("`connect_timeout_ms`"));
        assert!(err(r#"{"max_message_size": "big"}"#).contains("`max_message_size`"));
        assert!(err(r#"{"max_message_size": 4294967296}"#).contains("`max_message_size`"));
        assert!(err(r#"{"headers": {"X-A": 1}}"#).contains("header `X-A`"));
        assert!(err(r#"{"headers": {"Bad Name": "v"}}"#).contains("`Bad Name`"));
        assert!(err(r#"{"headers": {"X-A": "a\r\nb"}}"#).contains("header `X-A`"));
        assert!(err(r#"{"headers": {"Host": "x"}}"#).contains("`Host`"));
        assert!(err(r#"{"subprotocols": ["a b"]}"#).contains("`subprotocols`"));
        assert!(err("[1]").contains("JSON object"));
        assert!(err("{").contains("not valid JSON"));
    }
}

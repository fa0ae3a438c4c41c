//! Parsing and checking the `ws://` URL a caller connects to, and `redact`: how any URL (the
//! server's, a proxy's) appears in messages, with its credentials hidden.

use crate::error::{Error, Result};
use std::net::IpAddr;
use tungstenite::http::Uri;

/// Where to connect, taken apart from a `ws://host:port/path?query` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as messages show it: the caller's text through [`redact`] (credentials hidden).
    pub shown: String,
    /// The parsed URL, handed to the HTTP upgrade.
    pub uri: Uri,
    /// `true` for `wss://`.
    pub secure: bool,
    /// Host name or IP address, without IPv6 brackets.
    pub host: String,
    /// TCP port (80 for `ws://` when none is given).
    pub port: u16,
    /// The host when it is an IP literal: no DNS resolution needed.
    pub ip: Option<IpAddr>,
}

impl Target {
    /// Parses a WebSocket URL; errors quote the URL and say what is wrong with it.
    pub fn parse(url: &str) -> Result<Target> {
        let bad = |why: &str| Error::invalid(format!("invalid URL {:?}: {why}", redact(url)));
        let uri: Uri = url.parse().map_err(|e| bad(&format!("{e}")))?;
        let secure = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            Some(other) => {
                return Err(bad(&format!(
                    "the scheme must be ws:// or wss://, not {other}://"
                )))
            }
            None => return Err(bad("the scheme must be ws:// or wss://")),
        };
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad(
                "user information in the URL is not supported (send credentials in a header)",
            ));
        }
        let host = authority.host();
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let ip = bare.parse::<IpAddr>().ok();
        if host.starts_with('[') && ip.is_none() {
            return Err(bad("the bracketed host is not an IPv6 address"));
        }
        // `Authority::port` hides an out-of-range port, so read the text after the host.
        let text = authority.as_str();
        let after_host = text.rfind(host).map_or("", |i| &text[i + host.len()..]);
        let port = match after_host.strip_prefix(':') {
            Some("") => return Err(bad("empty port")),
            Some(p) => match p.parse::<u16>() {
                Ok(0) => return Err(bad("port 0 is not a valid destination")),
                Ok(n) => n,
                Err(_) => return Err(bad(&format!("port {p} is not a number from 1 to 65535"))),
            },
            None if secure => 443,
            None => 80,
        };
        Ok(Target {
            shown: redact(url),
            uri,
            secure,
            host: bare,
            port,
            ip,
        })
    }
}

/// What replaces a secret in messages.
pub const MASK: &str = "***";

/// A query (or fragment) parameter whose name contains one of these, ignoring case and after
/// %-decoding, looks like a credential: its value is hidden in messages.
const SECRET_NAMES: &[&str] = &[
    "token",
    "key",
    "secret",
    "pass",
    "pwd",
    "auth",
    "sig",
    "credential",
    "session",
    "jwt",
    "cookie",
    "ticket",
];

/// The text of a URL (valid or not) as messages show it: the password in its user information
/// (`user:***@`; user information without a password is hidden whole, it may be a token) and
/// the values of query and fragment parameters whose names look like credentials
/// (`?token=***`, see `SECRET_NAMES`) are replaced by [`MASK`]. Everything else is kept, so the
/// message still says which server and path it is about.
///
/// The user information is taken up to the last `@`, so a password with an unencoded `/`, `?`,
/// `#` or `@` is hidden too. Not hidden: a secret in the path, or a parameter without a name
/// (`?SECRET`).
pub fn redact(text: &str) -> String {
    let (scheme, rest) = match text.find("://") {
        Some(i) => text.split_at(i + 3),
        None => ("", text),
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(scheme);
    let rest = match rest.rfind('@') {
        Some(at) => {
            if let Some((user, _)) = rest[..at].split_once(':') {
                out.push_str(user);
                out.push(':');
            }
            out.push_str(MASK);
            out.push('@');
            &rest[at + 1..]
        }
        None => rest,
    };
    // Parameters: the pieces between `?`, `#`, `&` and `;` (the path is the first piece).
    let mut start = 0;
    for (i, c) in rest.char_indices().chain([(rest.len(), '\0')]) {
        if i < rest.len() && !matches!(c, '?' | '#' | '&' | ';') {
            continue;
        }
        let piece = &rest[start..i];
        match piece.split_once('=') {
            Some((name, _)) if looks_secret(name) => {
                out.push_str(name);
                out.push('=');
                out.push_str(MASK);
            }
            _ => out.push_str(piece),
        }
        if i < rest.len() {
            out.push(c);
        }
        start = i + c.len_utf8();
    }
    out
}

/// Whether a parameter name looks like it holds a credential (see `SECRET_NAMES`).
fn looks_secret(name: &str) -> bool {
    let mut decoded = Vec::with_capacity(name.len());
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| name.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                decoded.push(b);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    let name = String::from_utf8_lossy(&decoded).to_ascii_lowercase();
    SECRET_NAMES.iter().any(|s| name.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_path_query() {
        let t = Target::parse("ws://trainer:8001/env/17?token=abc").unwrap();
        assert_eq!(t.host, "trainer");
        assert_eq!(t.port, 8001);
        assert_eq!(t.ip, None);
        assert_eq!(
            t.uri.path_and_query().unwrap().as_str(),
            "/env/17?token=abc"
        );
    }

    #[test]
    fn default_port_and_ip_literals() {
        assert_eq!(Target::parse("ws://127.0.0.1/").unwrap().port, 80);
        let t = Target::parse("ws://[::1]:9000/x").unwrap();
        assert_eq!(t.host, "::1");
        assert_eq!(t.ip, Some("::1".parse().unwrap()));
    }

    #[test]
    fn wss_defaults_to_port_443() {
        let t = Target::parse("wss://trainers.example.com/a/env/1?token=x").unwrap();
        assert!(t.secure);
        assert_eq!((t.host.as_str(), t.port), ("trainers.example.com", 443));
        assert_eq!(Target::parse("wss://127.0.0.1:8443/").unwrap().port, 8443);
    }

    #[test]
    fn rejects_with_the_url_quoted() {
        for (url, why) in [
            ("http://x/", "scheme"),
            ("x", "scheme"),
            ("ws://", "invalid URL"),
            ("ws://x:0/", "port 0"),
            ("ws://x:99999/", "port 99999"),
            ("ws://x:/", "empty port"),
            ("ws://x y/", "invalid URL"),
        ] {
            let e = Target::parse(url).unwrap_err();
            assert!(e.message().contains(why), "{url}: {}", e.message());
            assert!(e.message().contains(&format!("{url:?}")), "{}", e.message());
        }
        let e = Target::parse("ws://u:hunter2@x/").unwrap_err();
        assert!(e.message().contains("user information"), "{}", e.message());
        assert!(e.message().contains("\"ws://u:***@x/\""), "{}", e.message());
        let e = Target::parse("ws://hunter2@x/").unwrap_err();
        assert!(e.message().contains("\"ws://***@x/\""), "{}", e.message());
        let e = Target::parse("http://x/env/0?token=hunter2").unwrap_err();
        assert!(e.message().contains("?token=***"), "{}", e.message());
        assert!(!e.message().contains("hunter2"), "{}", e.message());
    }

    #[test]
    fn redacts_credentials_and_keeps_the_rest() {
        for (url, shown) in [
            ("ws://h:1/env/0", "ws://h:1/env/0"),
            ("ws://h:1/env/0?token=S", "ws://h:1/env/0?token=***"),
            ("ws://h/e?x=1&TOKEN=S&y=2", "ws://h/e?x=1&TOKEN=***&y=2"),
            (
                "ws://h/e?access_token=S;api-key=S",
                "ws://h/e?access_token=***;api-key=***",
            ),
            ("ws://h/e?%74oken=S", "ws://h/e?%74oken=***"),
            (
                "ws://h/e?Password=S&auth=S&sig=S",
                "ws://h/e?Password=***&auth=***&sig=***",
            ),
            (
                "ws://h/e?X-Amz-Signature=S&id=7",
                "ws://h/e?X-Amz-Signature=***&id=7",
            ),
            ("ws://h/e#secret=S", "ws://h/e#secret=***"),
            ("ws://h/e?token=S=S", "ws://h/e?token=***"),
            ("ws://u:S@h/", "ws://u:***@h/"),
            ("ws://S@h/", "ws://***@h/"),
            ("http://u:S/S?S#S@h:1", "http://u:***@h:1"),
            ("h:1?email=a@b&token=S", "h:***@b&token=***"),
            ("not a url ?token=S", "not a url ?token=***"),
            ("ws://h/é?ключ=v&token=S", "ws://h/é?ключ=v&token=***"),
        ] {
            assert_eq!(redact(url), shown, "{url}");
        }
    }
}

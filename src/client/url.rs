//! Parsing and checking the `ws://` URL a caller connects to.

use super::error::{Error, Result};
use std::net::IpAddr;
use tungstenite::http::Uri;

/// Where to connect, taken apart from a `ws://host:port/path?query` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL exactly as the caller gave it (used in messages).
    pub url: String,
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
        let bad = |why: &str| Error::invalid(format!("invalid URL {url:?}: {why}"));
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
            url: url.to_string(),
            uri,
            secure,
            host: bare,
            port,
            ip,
        })
    }
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
            ("ws://u:p@x/", "user information"),
            ("ws://x:0/", "port 0"),
            ("ws://x:99999/", "port 99999"),
            ("ws://x:/", "empty port"),
            ("ws://x y/", "invalid URL"),
        ] {
            let e = Target::parse(url).unwrap_err();
            assert!(e.message().contains(why), "{url}: {}", e.message());
            assert!(e.message().contains(&format!("{url:?}")), "{}", e.message());
        }
    }
}

//! TLS for `wss://`: the shared rustls client configurations, and TLS failures as messages.
//!
//! A configuration is built once per distinct set of TLS options and shared by every
//! connection that uses it: the system's root certificates are read once per process, a
//! `tls.ca_file` once per file version (path, size and modification time).
//!
//! Trust, by default: the operating system's root certificates (`rustls-native-certs`, which
//! also honours `SSL_CERT_FILE` and `SSL_CERT_DIR`), or the bundled Mozilla roots
//! (`webpki-roots`) when the system store yields none. `tls.ca_file` replaces both, like curl's
//! `--cacert` and Python's `cafile`: a game that names its CA trusts exactly that CA.
//!
//! The crypto provider is `ring`, installed as rustls's process default unless the host
//! installed one first (then that one is used); nothing here can panic over it.
//!
//! Longer than 400 lines with its unit tests: one subject (what a TLS connection trusts, and
//! why a handshake failed, in words), whose failure messages need the configuration's details.

use super::options::TlsOptions;
use crate::error::{Error, ErrorKind, Result};
use crate::sync::lock;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// What one `wss://` connection needs: the shared configuration and the name to verify.
#[derive(Clone, Debug)]
pub(crate) struct Setup {
    pub config: Arc<ClientConfig>,
    /// The name the certificate must carry (`tls.server_name`, else the URL's host); also sent
    /// as SNI when it is a DNS name.
    pub name: ServerName<'static>,
    /// Which roots were trusted, for messages.
    trust: Arc<str>,
}

/// Builds (or reuses) the configuration for these options and the name to verify for `host`.
pub(crate) fn setup(host: &str, options: &TlsOptions) -> Result<Setup> {
    let name_text = options.server_name.as_deref().unwrap_or(host);
    let name = ServerName::try_from(name_text.to_string()).map_err(|_| {
        Error::invalid(format!(
            "{name_text:?} is not a valid TLS server name (a DNS name or an IP address)"
        ))
    })?;
    let (config, trust) = shared_config(options)?;
    Ok(Setup {
        config,
        name,
        trust,
    })
}

// -------------------------------------------------------------------------------------------
// Configurations, built once and shared
// -------------------------------------------------------------------------------------------

/// What makes two configurations different.
#[derive(Clone, PartialEq, Eq)]
struct Key {
    /// The CA file and the version of it that was read (size, modification time).
    ca_file: Option<(PathBuf, u64, Option<SystemTime>)>,
    accept_invalid_certs: bool,
}

type Entry = (Key, Arc<ClientConfig>, Arc<str>);

/// Distinct configurations seen so far. A handful in practice; bounded so a CA file rewritten
/// over and over cannot grow it without limit.
static CONFIGS: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
const MAX_CONFIGS: usize = 16;

fn shared_config(options: &TlsOptions) -> Result<(Arc<ClientConfig>, Arc<str>)> {
    let ca_file = match &options.ca_file {
        None => None,
        Some(path) => {
            let meta = std::fs::metadata(path).map_err(|e| ca_error(path, &e.to_string()))?;
            Some((path.clone(), meta.len(), meta.modified().ok()))
        }
    };
    let key = Key {
        ca_file,
        accept_invalid_certs: options.accept_invalid_certs,
    };
    if let Some((_, config, trust)) = lock(&CONFIGS).iter().find(|(k, ..)| *k == key) {
        return Ok((Arc::clone(config), Arc::clone(trust)));
    }
    // Built outside the lock: reading the system store takes milliseconds. Two threads racing
    // here build the same thing twice; the first one stored is the one everybody shares.
    let (config, trust) = build(&key)?;
    let mut configs = lock(&CONFIGS);
    if let Some((_, config, trust)) = configs.iter().find(|(k, ..)| *k == key) {
        return Ok((Arc::clone(config), Arc::clone(trust)));
    }
    if configs.len() >= MAX_CONFIGS {
        configs.remove(0);
    }
    configs.push((key, Arc::clone(&config), Arc::clone(&trust)));
    Ok((config, trust))
}

fn build(key: &Key) -> Result<(Arc<ClientConfig>, Arc<str>)> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("the TLS crypto provider is unusable: {e}")))?;
    let (config, trust): (ClientConfig, String) = if key.accept_invalid_certs {
        let verifier = Arc::new(AcceptAnyCertificate(provider));
        (
            builder
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth(),
            "none: `tls.accept_invalid_certs` is set".into(),
        )
    } else if let Some((path, ..)) = &key.ca_file {
        let roots = ca_roots(path)?;
        let trust = format!("the CA certificates in `tls.ca_file` {}", path.display());
        (
            builder.with_root_certificates(roots).with_no_client_auth(),
            trust,
        )
    } else {
        let system = system_roots();
        (
            builder
                .with_root_certificates(Arc::clone(&system.store))
                .with_no_client_auth(),
            system.source.clone(),
        )
    };
    Ok((Arc::new(config), trust.into()))
}

/// The process's crypto provider: the host's if it installed one, else `ring`, installed once.
fn provider() -> Arc<CryptoProvider> {
    if let Some(p) = CryptoProvider::get_default() {
        return Arc::clone(p);
    }
    // Fails only if another thread installed one in between; then that one is the default.
    let _ = rustls::crypto::ring::default_provider().install_default();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

struct SystemRoots {
    store: Arc<RootCertStore>,
    source: String,
}

/// The system's roots, read once per process; the Mozilla roots if the system has none.
fn system_roots() -> &'static SystemRoots {
    static ROOTS: OnceLock<SystemRoots> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        let mut store = RootCertStore::empty();
        let (added, _unusable) = store.add_parsable_certificates(found.certs);
        if added > 0 {
            return SystemRoots {
                store: Arc::new(store),
                source: format!("the system's root certificates ({added})"),
            };
        }
        let why = match found.errors.first() {
            Some(e) => format!("the system store could not be read: {e}"),
            None => "the system store has none".to_string(),
        };
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        SystemRoots {
            store: Arc::new(store),
            source: format!("the bundled Mozilla root certificates ({why})"),
        }
    })
}

fn ca_error(path: &Path, why: &str) -> Error {
    Error::invalid(format!("option `tls.ca_file`: {}: {why}", path.display()))
}

/// Every certificate in a PEM file, as trust anchors.
fn ca_roots(path: &Path) -> Result<RootCertStore> {
    let pem = std::fs::read(path).map_err(|e| ca_error(path, &e.to_string()))?;
    let mut store = RootCertStore::empty();
    for (i, cert) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        let cert = cert.map_err(|e| ca_error(path, &format!("certificate {}: {e}", i + 1)))?;
        store.add(cert).map_err(|e| {
            ca_error(
                path,
                &format!("certificate {} is not a usable CA certificate: {e}", i + 1),
            )
        })?;
    }
    if store.is_empty() {
        return Err(ca_error(
            path,
            "no PEM certificate in it (expected -----BEGIN CERTIFICATE----- blocks)",
        ));
    }
    Ok(store)
}

/// `tls.accept_invalid_certs`: the certificate is not checked at all (the handshake signatures
/// still are, so the connection is encrypted, to whoever answered).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

// -------------------------------------------------------------------------------------------
// Failures
// -------------------------------------------------------------------------------------------

impl Setup {
    /// The name verified, as shown in messages.
    pub fn name_shown(&self) -> String {
        match &self.name {
            ServerName::DnsName(d) => d.as_ref().to_string(),
            ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
            other => format!("{other:?}"),
        }
    }

    /// A rustls error met during the handshake, as an error stating the reason in plain words.
    /// `what` says which connection (the URL, and the proxy if any).
    pub fn failure(&self, what: &str, e: &rustls::Error) -> Error {
        let name = self.name_shown();
        let reason = match e {
            rustls::Error::InvalidCertificate(c) => self.certificate_reason(&name, c),
            rustls::Error::AlertReceived(alert) => format!(
                "the server aborted the handshake with the TLS alert {alert:?} (for instance: no \
                 certificate for the name {name:?}, or no TLS version in common)"
            ),
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
                format!(
                    "the server did not answer in TLS ({e}); is it a plain ws:// endpoint, or \
                     the wrong port?"
                )
            }
            rustls::Error::PeerIncompatible(p) => {
                format!(
                    "the server has no TLS version or cipher suite in common with wsbridge ({p:?})"
                )
            }
            other => format!("{other}"),
        };
        Error::new(
            ErrorKind::TlsFailed,
            format!("TLS handshake with {what} failed: {reason}"),
        )
    }

    fn certificate_reason(&self, name: &str, c: &CertificateError) -> String {
        let trust = &self.trust;
        match c {
            CertificateError::UnknownIssuer => format!(
                "the server's certificate for {name:?} is not signed by a trusted certificate \
                 authority (unknown CA; trusted: {trust}); {}",
                if trust.contains("`tls.ca_file`") {
                    "is that file the CA that issued the server's certificate?"
                } else {
                    "for a private CA, set `tls.ca_file`"
                }
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the server's certificate is not valid for the host name {name:?} ({c}); if \
                     you connect by IP address or through another name, set `tls.server_name` \
                     to a name in the certificate"
                )
            }
            CertificateError::ExpiredContext { time, not_after } => format!(
                "the server's certificate for {name:?} has expired: it was valid until {} and \
                 it is now {}",
                utc(not_after),
                utc(time)
            ),
            CertificateError::Expired => {
                format!("the server's certificate for {name:?} has expired")
            }
            CertificateError::NotValidYetContext { time, not_before } => format!(
                "the server's certificate for {name:?} is not valid yet: it is valid from {} and \
                 it is now {} (check this machine's clock)",
                utc(not_before),
                utc(time)
            ),
            CertificateError::NotValidYet => format!(
                "the server's certificate for {name:?} is not valid yet (check this machine's clock)"
            ),
            CertificateError::Revoked => {
                format!("the server's certificate for {name:?} has been revoked")
            }
            other => format!("the server's certificate for {name:?} was rejected: {other}"),
        }
    }
}

/// A UNIX time as `YYYY-MM-DD hh:mm:ss UTC`.
fn utc(t: &UnixTime) -> String {
    let secs = t.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn utc_dates() {
        let at = |s| utc(&UnixTime::since_unix_epoch(Duration::from_secs(s)));
        assert_eq!(at(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(at(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(at(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(at(4_102_444_799), "2099-12-31 23:59:59 UTC");
    }

    #[test]
    fn configurations_are_shared() {
        let opts = TlsOptions::default();
        let a = setup("example.com", &opts).unwrap();
        let b = setup("other.example", &opts).unwrap();
        assert!(Arc::ptr_eq(&a.config, &b.config));
        let insecure = TlsOptions {
            accept_invalid_certs: true,
            ..TlsOptions::default()
        };
        let c = setup("example.com", &insecure).unwrap();
        assert!(!Arc::ptr_eq(&a.config, &c.config));
        assert!(Arc::ptr_eq(
            &c.config,
            &setup("example.com", &insecure).unwrap().config
        ));
    }

    #[test]
    fn server_names_and_ca_files_are_checked() {
        let e = |opts: TlsOptions| {
            setup("example.com", &opts)
                .unwrap_err()
                .message()
                .to_string()
        };
        let m = e(TlsOptions {
            server_name: Some("bad name!".into()),
            ..TlsOptions::default()
        });
        assert!(
            m.contains("\"bad name!\" is not a valid TLS server name"),
            "{m}"
        );
        let m = e(TlsOptions {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..TlsOptions::default()
        });
        assert!(m.contains("`tls.ca_file`: /nonexistent/ca.pem:"), "{m}");
        let junk = std::env::temp_dir().join(format!("wsb-junk-{}.pem", std::process::id()));
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let m = e(TlsOptions {
            ca_file: Some(junk.clone()),
            ..TlsOptions::default()
        });
        let _ = std::fs::remove_file(&junk);
        assert!(m.contains("no PEM certificate"), "{m}");
        let ip = setup("127.0.0.1", &TlsOptions::default()).unwrap();
        assert_eq!(ip.name_shown(), "127.0.0.1");
    }
}

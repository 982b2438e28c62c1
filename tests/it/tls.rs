//! outatime's HTTPS clients, through the real binary against local TLS
//! servers: the AWS SDK's (apply's writes, verify's queries) and
//! InfluxDB's (apply's preflight and writes, verify's `/query`), all on
//! rustls with ring. A TLS front (below) ends TLS on 127.0.0.1 and passes
//! the bytes on to an in-test endpoint (`fakes/strict/`, `fakes/influx/`).
//! Its certificate, for `localhost` (tests/fixtures/tls/), is signed by a
//! test CA that the binary trusts only through `SSL_CERT_FILE`, which
//! replaces the system's root certificates for both clients; with another
//! CA there, the same server is refused. And the credential providers
//! that call out (STS, ECS, IMDS) connect through outatime's client too.
//! Everything stays on 127.0.0.1.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use crate::common::{Run, TWO_TABLES};
use crate::fakes::influx::{Config, InfluxEndpoint};
use crate::fakes::strict::StrictEndpoint;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

const ANCHOR: &str = "2026-11-28T20:00:00Z";
const TOKEN_ENV: &str = "OUTATIME_TEST_INFLUX_TOKEN";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// Ends TLS for `localhost` on a free port of 127.0.0.1 and passes each
/// connection's bytes on to a plain-HTTP backend. Dropping it stops it.
struct TlsFront {
    address: SocketAddr,
    handshakes: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TlsFront {
    fn start(backend: &str) -> TlsFront {
        let backend: SocketAddr = backend
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("not an http://IP:PORT address: {backend}"));
        let chain = CertificateDer::pem_file_iter(fixture("localhost.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(fixture("localhost.key")).unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = oneshot::channel::<()>();
        let counted = handshakes.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let accept = async {
                    loop {
                        let Ok((client, _)) = listener.accept().await else {
                            continue;
                        };
                        let (acceptor, counted) = (acceptor.clone(), counted.clone());
                        tokio::spawn(async move {
                            // A client that refuses the certificate ends here.
                            let Ok(mut tls) = acceptor.accept(client).await else {
                                return;
                            };
                            counted.fetch_add(1, Ordering::SeqCst);
                            if let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await {
                                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                            }
                        });
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
        });
        TlsFront {
            address,
            handshakes,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// "https://localhost:PORT": the name the certificate is for.
    fn url(&self) -> String {
        format!("https://localhost:{}", self.address.port())
    }

    /// TLS handshakes completed so far.
    fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The environment of a run whose trusted roots are the CA in `ca`:
/// test credentials, and no instance metadata service asked.
fn trusting(ca: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SSL_CERT_FILE", fixture(ca).display().to_string()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        (TOKEN_ENV, crate::fakes::influx::TOKEN.into()),
    ]
}

fn outatime(run: &Run, args: &[&str], env: &[(&'static str, String)]) -> (i32, String, String) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run.again(args).run_with(&env)
}

fn apply_and_verify(run: &Run, target: &str, front: &TlsFront) {
    let (code, _, stderr) = outatime(
        run,
        &[
            "apply",
            "s.scenario",
            "--target",
            target,
            "--create",
            "--anchor",
            ANCHOR,
        ],
        &trusting("ca.pem"),
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = outatime(
        run,
        &[
            "verify",
            "s.scenario",
            "--target",
            target,
            "--anchor",
            ANCHOR,
        ],
        &trusting("ca.pem"),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("ok: 465 records match"), "{stdout}");
    assert!(front.handshakes() > 0);

    // Signed by a CA the run does not trust: refused, nothing sent.
    let before = front.handshakes();
    let (code, _, stderr) = outatime(
        run,
        &[
            "apply",
            "s.scenario",
            "--target",
            target,
            "--anchor",
            ANCHOR,
        ],
        &trusting("other-ca.pem"),
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("invalid peer certificate: UnknownIssuer"),
        "{stderr}"
    );
    assert_eq!(front.handshakes(), before);
}

#[test]
fn timestream_apply_and_verify_over_https_trust_the_ca_in_ssl_cert_file_only() {
    let endpoint = StrictEndpoint::start();
    let front = TlsFront::start(&endpoint.url());
    let run = Run::new("tls-timestream").file("s.scenario", TWO_TABLES).file(
        "outatime.yaml",
        format!(
            "targets:\n  ts:\n    kind: timestream\n    region: us-east-1\n    database: db\n    endpoint_url: {}\n    table_prefix: t_\n    retention: {{ memory_store_hours: 8760, magnetic_store_days: 30, magnetic_writes: false }}\n",
            front.url()
        ),
    );
    apply_and_verify(&run, "ts", &front);
    assert_eq!(endpoint.stored("db", "t_alpha").len(), 285);
}

#[test]
fn influxdb_apply_and_verify_over_https_trust_the_ca_in_ssl_cert_file_only() {
    let endpoint = InfluxEndpoint::start(Config::default());
    let front = TlsFront::start(&endpoint.url());
    let config = endpoint
        .outatime_yaml("v2", TOKEN_ENV)
        .replace(&endpoint.url(), &front.url());
    let run = Run::new("tls-influxdb")
        .file("s.scenario", TWO_TABLES)
        .file("outatime.yaml", config);
    apply_and_verify(&run, "influx", &front);
    assert!(endpoint.write_requests() > 0);
}

/// The SDK has no HTTP client of its own in this build: aws-config's
/// clients and calls for credentials must take outatime's from the shared
/// config. Each provider that calls out is pointed at a closed port of
/// 127.0.0.1 and must fail connecting there, not for want of a client.
#[test]
fn every_credential_provider_that_calls_out_connects_through_outatimes_client() {
    let run = Run::new("tls-credentials")
        .file("s.scenario", TWO_TABLES)
        .file("token", "a-web-identity-token")
        .file(
            "aws-config",
            "[profile source]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n\
             [profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = source\n",
        )
        .file(
            "outatime.yaml",
            "targets:\n  ts:\n    kind: timestream\n    region: us-east-1\n    database: db\n    endpoint_url: http://127.0.0.1:9\n",
        );
    let closed = "http://127.0.0.1:9";
    let role = "arn:aws:iam::123456789012:role/r";
    let providers: [(&str, &[(&str, &str)]); 4] = [
        (
            "assume-role (STS)",
            &[("AWS_PROFILE", "role"), ("AWS_ENDPOINT_URL_STS", closed)],
        ),
        (
            "web identity (STS)",
            &[
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "token"),
                ("AWS_ROLE_ARN", role),
                ("AWS_ENDPOINT_URL_STS", closed),
            ],
        ),
        (
            "ECS",
            &[(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "http://127.0.0.1:9/creds",
            )],
        ),
        ("IMDS", &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", closed)]),
    ];
    for (provider, env) in providers {
        // Only what this case sets: no credentials or profile of the machine's.
        let output = run
            .again(&["apply", "s.scenario", "--target", "ts", "--anchor", ANCHOR])
            .command()
            .env_clear()
            .env("NO_COLOR", "1")
            .env("AWS_CONFIG_FILE", run.dir.join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                run.dir.join("no-credentials"),
            )
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{provider}: {stderr}");
        assert!(
            stderr.contains("credentials") && stderr.contains("tcp connect error"),
            "{provider}: {stderr}"
        );
    }
}

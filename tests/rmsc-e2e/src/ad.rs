//! The Samba AD lab as the Kerberos tests see it: the running lab named by `RMSC_LAB_DIR`
//! (started by `tests/run-all.sh`), tickets for its accounts, SPNEGO tokens, raw keep-alive
//! connections to send several requests on one authenticated connection, a connector set up
//! with the lab's keytab and groups, and processes run with a shifted clock (`faketime`).

use anyhow::{anyhow, bail, Context};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rmsc_cloud_standin::{sample_headers, sample_request};
use rmsc_kerberos::Initiator;
use rmsc_soap::{find_endpoint, Operation, SoapVersion};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::{eventually, Answer, Connector, Lab};

/// The lab's facts (from `lab.env`).
pub struct AdLab {
    pub dir: PathBuf,
    pub env: HashMap<String, String>,
    tickets: tempfile::TempDir,
}

/// The name callers use for the connector; the lab's SPN is `HTTP/` this.
pub const AD_CONNECTOR_NAME: &str = "rmsconnector.contoso.test";

impl AdLab {
    /// The running lab, or `None` when `RMSC_LAB_DIR` is unset (the test then reports itself
    /// skipped). With `RMSC_LAB_REQUIRED=1` (CI) a missing lab is an error instead.
    pub fn from_env() -> anyhow::Result<Option<AdLab>> {
        let Some(dir) = std::env::var_os("RMSC_LAB_DIR").map(PathBuf::from) else {
            if std::env::var("RMSC_LAB_REQUIRED").as_deref() == Ok("1") {
                bail!("RMSC_LAB_REQUIRED=1 but RMSC_LAB_DIR is not set");
            }
            eprintln!("SKIPPED: no AD lab (set RMSC_LAB_DIR to a running tests/lab/lab.sh lab)");
            return Ok(None);
        };
        let text = std::fs::read_to_string(dir.join("lab.env"))
            .with_context(|| format!("reading {}/lab.env", dir.display()))?;
        let env: HashMap<String, String> = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('\'').to_owned()))
            .collect();
        let lab = AdLab {
            dir,
            env,
            tickets: tempfile::tempdir()?,
        };
        // The initiator finds the KDC through the lab's krb5.conf; each test is its own
        // process (nextest), so setting it here affects only this test.
        std::env::set_var("KRB5_CONFIG", lab.get("LAB_KRB5_CONF")?);
        Ok(Some(lab))
    }

    pub fn get(&self, key: &str) -> anyhow::Result<String> {
        self.env
            .get(key)
            .cloned()
            .ok_or_else(|| anyhow!("{key} missing from lab.env"))
    }

    /// The SID of an account or group (`EXCH01`, `EXCHANGE_SERVERS`, ...).
    pub fn sid(&self, name: &str) -> String {
        self.get(&format!("LAB_SID_{name}")).unwrap_or_default()
    }

    pub fn keytab(&self, name: &str) -> PathBuf {
        self.dir.join("keytabs").join(format!("{name}.keytab"))
    }

    /// The principal of a lab keytab: `EXCH01` is the computer `EXCH01$@REALM`, a lower-case
    /// name a user.
    pub fn principal_of(&self, account: &str) -> anyhow::Result<String> {
        let computer = account
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let dollar = if computer { "$" } else { "" };
        Ok(format!("{account}{dollar}@{}", self.get("LAB_REALM")?))
    }

    /// A fresh ticket-granting ticket for `account` (keytab name: `EXCH01`, `svc-spapppool`)
    /// in a credential cache of this test's own.
    pub fn kinit(&self, account: &str) -> anyhow::Result<PathBuf> {
        let principal = self.principal_of(account)?;
        self.kinit_as(&self.keytab(account), &principal, Kinit::default())
    }

    /// `kinit -k` of `principal` from `keytab` into a credential cache of this test's own.
    pub fn kinit_as(
        &self,
        keytab: &Path,
        principal: &str,
        options: Kinit<'_>,
    ) -> anyhow::Result<PathBuf> {
        let ccache = self.tickets.path().join(format!(
            "{}-{}",
            principal.replace(['/', '@', '$'], "_"),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let mut command = match options.clock {
            Some(offset) => with_clock(offset, Path::new("kinit")),
            None => Command::new("kinit"),
        };
        if let Some(lifetime) = options.lifetime {
            command.arg("-l").arg(lifetime);
        }
        let output = command
            .env("KRB5_CONFIG", self.get("LAB_KRB5_CONF")?)
            .arg("-k")
            .arg("-t")
            .arg(keytab)
            .arg("-c")
            .arg(format!("FILE:{}", ccache.display()))
            .arg(principal)
            .output()
            .context("running kinit")?;
        if !output.status.success() {
            bail!(
                "kinit {principal} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(ccache)
    }

    /// An initiator holding a fresh ticket of `account`.
    pub fn initiator(&self, account: &str) -> anyhow::Result<Initiator> {
        let ccache = self.kinit(account)?;
        Ok(Initiator::from_ccache(&ccache)?)
    }

    /// As [`AdLab::initiator`], with the ticket copied into memory (for the load generator).
    pub fn initiator_in_memory(&self, account: &str) -> anyhow::Result<Initiator> {
        let ccache = self.kinit(account)?;
        Ok(Initiator::from_ccache_in_memory(&ccache)?)
    }

    /// `Negotiate <token>` for the connector, as `account`.
    pub fn negotiate(&self, account: &str) -> anyhow::Result<String> {
        let token = self.initiator(account)?.token_for(AD_CONNECTOR_NAME)?;
        Ok(negotiate_header(&token))
    }

    /// Uploads the lab's connector keytab through the connector's admin API.
    pub async fn install_keytab(&self, connector: &Connector) -> anyhow::Result<serde_json::Value> {
        let keytab = std::fs::read(self.keytab("connector")).context("the lab's keytab")?;
        connector
            .admin
            .call_bytes(
                "PUT",
                "/api/v1/keytab",
                Bytes::from(keytab),
                "application/octet-stream",
            )
            .await
            .context("keytab upload")
    }

    /// Authorizes the lab group `name` (e.g. `Exchange Servers`) by its SID with `role`.
    pub async fn authorize_group(
        &self,
        connector: &Connector,
        name: &str,
        role: &str,
    ) -> anyhow::Result<serde_json::Value> {
        let sid_key = name.to_ascii_uppercase().replace(' ', "_");
        connector
            .authorize(serde_json::json!({
                "account": format!("CONTOSO\\{name}"),
                "sid": self.sid(&sid_key),
                "kind": "group",
                "role": role,
            }))
            .await
            .with_context(|| format!("authorizing {name}"))
    }

    /// Runs `tests/lab/lab.sh VERB DIR ARGS...`.
    pub fn lab_sh(&self, args: &[&str]) -> anyhow::Result<()> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lab/lab.sh");
        let status = Command::new(script)
            .arg(args[0])
            .arg(&self.dir)
            .args(&args[1..])
            .status()
            .context("running lab.sh")?;
        if !status.success() {
            bail!("lab.sh {args:?} failed");
        }
        Ok(())
    }

    /// Runs `program ARGS` holding the lab's lock (`DIR/.lock`, as every `lab.sh` command
    /// does), so that no `lab.sh` command (which rewrites `lab.env` from the directory) sees
    /// what `program` changes before it undoes it. Returns its standard output.
    pub fn run_locked(&self, program: &str, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new("flock")
            .args(["-w", "300"])
            .arg(self.dir.join(".lock"))
            .arg(program)
            .args(args)
            .output()
            .context("running flock")?;
        if !output.status.success() {
            bail!(
                "{program} {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// A registered Kerberos connector with the lab's keytab, "Exchange Servers" (exchange),
    /// "File Servers" (fileserver) and svc-spapppool (sharepoint) authorized by SID, once the
    /// list has reached the relay.
    pub async fn kerberos_connector(&self) -> anyhow::Result<(Lab, Connector)> {
        let lab = Lab::start().await?;
        let connector = lab.kerberos_connector().await?;
        connector.set_up().await?;
        self.install_keytab(&connector).await?;
        self.authorize_group(&connector, "Exchange Servers", "exchange")
            .await?;
        self.authorize_group(&connector, "File Servers", "fileserver")
            .await?;
        connector
            .authorize(serde_json::json!({
                "account": "CONTOSO\\svc-spapppool",
                "sid": self.sid("SVC_SPAPPPOOL"),
                "kind": "account",
                "role": "sharepoint",
            }))
            .await
            .context("authorizing svc-spapppool")?;
        wait_for_list(&connector, 3).await?;
        Ok((lab, connector))
    }
}

pub fn negotiate_header(token: &[u8]) -> String {
    format!(
        "Negotiate {}",
        base64::engine::general_purpose::STANDARD.encode(token)
    )
}

/// One keep-alive HTTP/1.1 connection to the caller port.
pub struct RawConnection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl RawConnection {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self { sender })
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> anyhow::Result<Answer> {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", AD_CONNECTOR_NAME);
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        self.sender.ready().await?;
        let response = self
            .sender
            .send_request(request.body(Full::new(body))?)
            .await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// A valid publish call on this connection, with `authorization` when given.
    pub async fn publish(&mut self, authorization: Option<String>) -> anyhow::Result<Answer> {
        let (content_type, action) = sample_headers(SoapVersion::V11, publish_op());
        let mut headers = vec![("content-type", content_type)];
        if let Some(action) = action {
            headers.push(("soapaction", action));
        }
        if let Some(value) = authorization {
            headers.push(("authorization", value));
        }
        let body = Bytes::from(sample_request(publish_op(), ""));
        self.send("POST", PUBLISH, &headers, body).await
    }
}

/// Waits until the relay has `entries` authorized entries (the list reaches it by the sync).
pub async fn wait_for_list(connector: &Connector, entries: u64) -> anyhow::Result<()> {
    eventually(Duration::from_secs(10), || async {
        let status = connector
            .admin
            .call("GET", "/api/v1/status", None)
            .await
            .ok()?;
        (status["list_entries"].as_u64() == Some(entries)).then_some(())
    })
    .await
    .ok_or_else(|| anyhow!("the list did not reach {entries} entries in 10 s"))
}

/// How `kinit` runs: the ticket lifetime (`-l`, e.g. `3m`) and a shifted clock (a faketime
/// offset such as `+10m`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Kinit<'a> {
    pub lifetime: Option<&'a str>,
    pub clock: Option<&'a str>,
}

/// `program` run with its wall clock moved by `offset` (faketime's syntax: `+10m`, `-10m`).
/// Monotonic clocks are left alone, so timers and deadlines in that process behave.
pub fn with_clock(offset: &str, program: &Path) -> Command {
    let mut command = Command::new("faketime");
    command
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .args(["-f", offset])
        .arg(program);
    command
}

/// Whether `faketime` can be run. Without it a clock test skips, except with
/// `RMSC_LAB_REQUIRED=1` (CI), where its absence is an error.
pub fn faketime_or_skip() -> anyhow::Result<bool> {
    if Command::new("faketime").arg("--version").output().is_ok() {
        return Ok(true);
    }
    if std::env::var("RMSC_LAB_REQUIRED").as_deref() == Ok("1") {
        bail!("faketime is missing (tests/lab/install-deps.sh installs it)");
    }
    eprintln!("SKIPPED: faketime not installed");
    Ok(false)
}

/// The environment variable that tells a test it runs as the child of `rerun_with_clock`,
/// and holds the `Authorization` value that child presents.
pub const CLOCK_CHILD_HEADER: &str = "RMSC_E2E_CLOCK_CHILD_HEADER";

/// Runs the test `name` of this test binary again in a child process whose wall clock is
/// moved by `offset`, with `header` in `CLOCK_CHILD_HEADER`: the whole connector (and its
/// cloud stand-in) then lives at the shifted time, while `header` was made at the real one.
/// Fails with the child's output unless the child's test passed.
pub fn rerun_with_clock(offset: &str, name: &str, header: &str) -> anyhow::Result<String> {
    let test_binary = std::env::current_exe().context("the test binary")?;
    let output = with_clock(offset, &test_binary)
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(CLOCK_CHILD_HEADER, header)
        .output()
        .context("running the test under faketime")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // libtest reports a name that matched nothing as a success with no test run.
    if !output.status.success() || !text.contains("1 passed") {
        bail!("{name} at {offset}: {text}");
    }
    Ok(text)
}

/// The publish operation: a SOAP call every authorized role may make.
pub const PUBLISH: &str = "/_wmcs/licensing/publish.asmx";

fn publish_op() -> &'static Operation {
    &find_endpoint("licensing/publish.asmx")
        .expect("the publish endpoint is in the table")
        .operations[0]
}

/// A valid publish call on a new connection, with `authorization` when given.
pub async fn publish_on_new_connection(
    connector: &Connector,
    authorization: Option<String>,
) -> anyhow::Result<Answer> {
    RawConnection::open(connector.http)
        .await?
        .publish(authorization)
        .await
}

/// The AD lab of `RMSC_LAB_DIR`, or `return` from the calling test when there is none (a run
/// that requires the lab fails inside [`AdLab::from_env`] instead).
#[macro_export]
macro_rules! lab_or_skip {
    () => {
        match $crate::ad::AdLab::from_env().expect("lab") {
            Some(ad) => ad,
            None => return,
        }
    };
}

//! The Samba AD lab as the Kerberos tests see it: the running lab named by `RMSC_LAB_DIR`
//! (started by `tests/run-all.sh`), tickets for its accounts, SPNEGO tokens, and raw
//! keep-alive connections to send several requests on one authenticated connection.

use anyhow::{anyhow, bail, Context};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rmsc_kerberos::Initiator;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Answer, Connector};

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

    /// A fresh ticket-granting ticket for `account` (keytab name: `EXCH01`, `svc-spapppool`)
    /// in a credential cache of this test's own.
    pub fn kinit(&self, account: &str) -> anyhow::Result<PathBuf> {
        let keytab = self.keytab(account);
        let principal = if account
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            format!("{account}$@{}", self.get("LAB_REALM")?)
        } else {
            format!("{account}@{}", self.get("LAB_REALM")?)
        };
        let ccache = self.tickets.path().join(format!(
            "{account}-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let output = Command::new("kinit")
            .env("KRB5_CONFIG", self.get("LAB_KRB5_CONF")?)
            .arg("-k")
            .arg("-t")
            .arg(&keytab)
            .arg("-c")
            .arg(format!("FILE:{}", ccache.display()))
            .arg(&principal)
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
}

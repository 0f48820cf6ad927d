//! The end-to-end harness: a cloud stand-in and a connector on loopback with ports chosen at
//! 0, a caller that speaks SOAP over real sockets, and helpers to sign in, register and
//! authorize through the admin API, exactly as an administrator would.

pub mod ad;
pub mod tls;

use anyhow::{anyhow, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rmsc_cloud_standin::{sample_headers, sample_request, RunningStandin, Standin, StandinConfig};
use rmsc_connectord::cli::AdminClient;
use rmsc_connectord::{Config, Running};
use rmsc_soap::{Operation, SoapVersion};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Administrator of the default stand-in tenant; the password holds `& < > " '` on purpose.
pub const ADMIN: &str = "admin@contoso.test";
pub const ADMIN_PASSWORD: &str = "Adm1n&<>\"'pass";
pub const CONNECTOR_NAME: &str = "rmsconnector.contoso.test";

/// Callers used by the tests (account, SID, group SIDs).
pub const EXCHANGE_GROUP_SID: &str = "S-1-5-21-1111-2222-3333-1100";
pub const EXCH01: (&str, &str) = ("CONTOSO\\EXCH01$", "S-1-5-21-1111-2222-3333-2001");
pub const SP_APPPOOL: (&str, &str) = ("CONTOSO\\svc-spapppool", "S-1-5-21-1111-2222-3333-3001");
pub const FS01: (&str, &str) = ("CONTOSO\\FS01$", "S-1-5-21-1111-2222-3333-4001");
pub const ROGUE: (&str, &str) = ("CONTOSO\\ROGUE01$", "S-1-5-21-1111-2222-3333-9001");

/// The test identity header value of a caller.
pub fn identity(caller: (&str, &str), groups: &[&str]) -> String {
    format!("{};{};{}", caller.0, caller.1, groups.join(","))
}

/// Polls `check` until it returns `Some` or `deadline` passes.
pub async fn eventually<T, F, Fut>(deadline: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = Instant::now() + deadline;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if Instant::now() >= end {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A stand-in plus a connector configuration pointing at it.
pub struct Lab {
    pub standin: RunningStandin,
    pub dir: tempfile::TempDir,
}

impl Lab {
    pub async fn start() -> anyhow::Result<Lab> {
        let standin = Standin::start(StandinConfig::default()).await?;
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("cloud-ca.pem"), standin.ca_pem())?;
        Ok(Lab { standin, dir })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("admin.sock")
    }

    /// The connector configuration text; `extra` is appended (TOML).
    pub fn config_text(&self, extra: &str) -> String {
        format!(
            "data_dir = {:?}\ncloud_url = {:?}\ncloud_ca_file = {:?}\nadmin_socket = {:?}\nidentity = \"test-header\"\ndrain_delay_ms = 0\nshutdown_grace_secs = 10\n{extra}\n[callers]\nhttp = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\nbody_idle_timeout_secs = 2\n[cloud]\nconnect_timeout_ms = 1000\nresponse_timeout_ms = 3000\nbody_idle_timeout_ms = 3000\nretry_after_secs = 3\n[sync]\nlong_poll_secs = 2\nmax_staleness_secs = 6\nheartbeat_secs = 5\n[ops]\nlisten = \"127.0.0.1:0\"\n[admin]\nlisten = [\"127.0.0.1:0\"]\n",
            self.data_dir(),
            self.standin.base_url(),
            self.dir.path().join("cloud-ca.pem"),
            self.socket()
        )
    }

    pub fn config(&self) -> anyhow::Result<Config> {
        Ok(Config::from_toml(&self.config_text(""))?)
    }

    /// Starts a connector in this process that authenticates callers with Kerberos.
    pub async fn kerberos_connector(&self) -> anyhow::Result<Connector> {
        let text = self
            .config_text("")
            .replace("identity = \"test-header\"", "identity = \"kerberos\"");
        let running = rmsc_connectord::run(Config::from_toml(&text)?).await?;
        Ok(Connector::new(running, self.socket()))
    }

    /// Starts a connector in this process.
    pub async fn connector(&self) -> anyhow::Result<Connector> {
        let running = rmsc_connectord::run(self.config()?).await?;
        Ok(Connector::new(running, self.socket()))
    }

    pub fn signing_key(&self) -> String {
        self.standin
            .tenant_info("contoso")
            .map(|t| t.signing_key)
            .unwrap_or_default()
    }
}

/// A running connector and clients for its caller port and admin socket.
pub struct Connector {
    pub running: Option<Running>,
    pub http: SocketAddr,
    pub ops: SocketAddr,
    pub admin: AdminClient,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// An HTTP answer as the tests look at it.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Connector {
    pub fn new(running: Running, socket: PathBuf) -> Self {
        let http = running.addresses.http[0];
        let ops = running.addresses.ops.unwrap_or(http);
        Self::from_addresses(Some(running), http, ops, &socket)
    }

    pub fn from_addresses(
        running: Option<Running>,
        http: SocketAddr,
        ops: SocketAddr,
        socket: &Path,
    ) -> Self {
        Self {
            running,
            http,
            ops,
            admin: AdminClient {
                socket: socket.to_owned(),
                actor: "tester@console".into(),
            },
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub async fn shutdown(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }

    /// Sends a request to the caller port.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: impl Into<Bytes>,
    ) -> anyhow::Result<Answer> {
        self.send_to(self.http, method, path, headers, body.into())
            .await
    }

    pub async fn send_to(
        &self,
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> anyhow::Result<Answer> {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"));
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let response = self
            .client
            .request(request.body(Full::new(body))?)
            .await
            .context("request")?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// A SOAP call of `op` on `path` as `caller` (test identity header value).
    pub async fn soap(
        &self,
        path: &str,
        op: &Operation,
        caller: &str,
        inner: &str,
    ) -> anyhow::Result<Answer> {
        let (content_type, action) = sample_headers(SoapVersion::V11, op);
        let mut headers = vec![
            ("content-type", content_type),
            ("x-rmsc-test-identity", caller.to_owned()),
        ];
        if let Some(action) = action {
            headers.push(("soapaction", action));
        }
        self.send("POST", path, &headers, sample_request(op, inner))
            .await
    }

    /// Signs in with the password grant, registers, and waits until ready.
    pub async fn set_up(&self) -> anyhow::Result<()> {
        self.admin
            .call(
                "POST",
                "/api/v1/signin/password",
                Some(json!({ "username": ADMIN, "password": ADMIN_PASSWORD })),
            )
            .await?;
        self.admin
            .call(
                "POST",
                "/api/v1/registration",
                Some(json!({ "connector_name": CONNECTOR_NAME })),
            )
            .await?;
        self.wait_ready().await
    }

    pub async fn wait_ready(&self) -> anyhow::Result<()> {
        eventually(Duration::from_secs(15), || async {
            let answer = self
                .send_to(self.ops, "GET", "/readyz", &[], Bytes::new())
                .await
                .ok()?;
            (answer.status == 200).then_some(())
        })
        .await
        .ok_or_else(|| anyhow!("connector not ready within 15 s"))
    }

    /// Authorizes the test callers: the Exchange group, the SharePoint app pool by SID, the
    /// file server by name only.
    pub async fn authorize_defaults(&self) -> anyhow::Result<()> {
        self.authorize(json!({ "account": "CONTOSO\\Exchange Servers", "sid": EXCHANGE_GROUP_SID, "kind": "group", "role": "exchange" })).await?;
        self.authorize(json!({ "account": SP_APPPOOL.0, "sid": SP_APPPOOL.1, "kind": "account", "role": "sharepoint" })).await?;
        self.authorize(json!({ "account": FS01.0, "kind": "computer", "role": "fileserver" }))
            .await?;
        Ok(())
    }

    pub async fn authorize(&self, entry: Value) -> anyhow::Result<Value> {
        self.admin
            .call("POST", "/api/v1/authorized", Some(entry))
            .await
    }

    pub async fn events(&self, id: u16) -> anyhow::Result<Vec<Value>> {
        let v = self
            .admin
            .call("GET", &format!("/api/v1/events?id={id}&limit=100"), None)
            .await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }
}

impl Connector {
    /// A valid SOAP call of `op` with extra request headers; panics on transport errors.
    pub async fn soap_with(
        &self,
        path: &str,
        op: &Operation,
        caller: &str,
        extra: &[(&str, String)],
    ) -> Answer {
        let (content_type, action) = sample_headers(SoapVersion::V11, op);
        let mut headers = vec![
            ("content-type", content_type),
            ("x-rmsc-test-identity", caller.to_owned()),
        ];
        if let Some(action) = action {
            headers.push(("soapaction", action));
        }
        headers.extend(extra.iter().cloned());
        match self
            .send("POST", path, &headers, sample_request(op, ""))
            .await
        {
            Ok(answer) => answer,
            Err(error) => panic!("request failed: {error:#}"),
        }
    }
}

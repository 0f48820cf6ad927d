//! The command line: `serve` runs the daemon; every other command is headless administration
//! through the daemon's local admin socket, calling the same API the web UI uses.

use crate::config::Config;
use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "rmsconnector", version, about = "RMS Connector Appliance")]
struct Cli {
    /// The daemon's admin socket.
    #[arg(
        long,
        global = true,
        env = "RMSC_ADMIN_SOCKET",
        default_value = "/run/rmsc/admin.sock"
    )]
    socket: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the connector daemon.
    Serve {
        #[arg(long, env = "RMSC_CONFIG", default_value = "/data/rmsc/connector.toml")]
        config: PathBuf,
    },
    /// Validate a configuration file without starting anything.
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
    /// Show registration, list and cloud health.
    Status,
    /// Sign in to the cloud service as a tenant administrator.
    Signin {
        /// Account (UPN) for the password grant.
        #[arg(long, required_unless_present = "device")]
        user: Option<String>,
        /// Read the password from standard input (one line, any characters).
        #[arg(long)]
        password_stdin: bool,
        /// Sign in with a device code in a browser (works with multi-factor sign-in).
        #[arg(long, conflicts_with = "user")]
        device: bool,
    },
    /// Register this appliance as a connector of the signed-in tenant.
    Register {
        /// The connector name callers use (the DNS name behind the load balancer).
        #[arg(long)]
        name: String,
    },
    /// Remove this appliance's registration (in the cloud and locally).
    Deregister,
    /// Manage the authorized-server list.
    Authorize {
        #[command(subcommand)]
        action: AuthorizeAction,
    },
    /// Manage the Kerberos keytab of the connector's service principal.
    Keytab {
        #[command(subcommand)]
        action: KeytabAction,
    },
    /// Install the caller HTTPS certificate (PEM with the chain and the private key).
    Certificate {
        #[command(subcommand)]
        action: CertificateAction,
    },
    /// Let another appliance join this connector with a one-time code.
    Pairing {
        #[command(subcommand)]
        action: PairingAction,
    },
    /// Join the connector of an appliance that shows a pairing code (sign in first).
    Join {
        #[arg(long)]
        code: String,
    },
    /// Console recovery of the web administrator account.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Run the privileged system helper (root, on the appliance) on the socket given with
    /// --socket: the daemon asks it for network changes, reboot, power-off, factory reset.
    SystemHelper {
        /// The daemon's user and group: allowed to connect, and the socket's group.
        #[arg(long, default_value = "rmsc")]
        group: String,
        /// The data partition's mount point (network settings, the factory-reset marker).
        #[arg(long, default_value = "/data")]
        data_dir: PathBuf,
    },
    /// Show recent events, newest first.
    Events {
        #[arg(long)]
        level: Option<String>,
        #[arg(long)]
        id: Option<u16>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Forget the admin password and print a new one-time setup code for the browser.
    ResetPassword,
}

#[derive(Subcommand)]
enum CertificateAction {
    /// Show the installed certificate.
    Status,
    /// Check and install a PEM file holding the certificate chain and its private key.
    Upload { file: PathBuf },
}

#[derive(Subcommand)]
enum PairingAction {
    /// Make a one-time code (15 minutes) and print it.
    Start,
    /// Show the code shown, the appliances that joined and the sharing state.
    Status,
    /// Withdraw the code.
    Cancel,
}

#[derive(Subcommand)]
enum KeytabAction {
    /// Show the installed keytab: principal, kvno, encryption types, problems.
    Status,
    /// Validate and install a keytab file (principal HTTP/<connector name>, AES keys).
    Upload { file: PathBuf },
    /// Remove the keytab: callers are refused until a new one is uploaded.
    Remove,
}

#[derive(Subcommand)]
enum AuthorizeAction {
    /// Authorize an account, computer account or group with a role.
    Add {
        #[arg(long)]
        account: String,
        #[arg(long)]
        sid: Option<String>,
        /// account, computer or group
        #[arg(long, default_value = "account")]
        kind: String,
        /// exchange, sharepoint or fileserver
        #[arg(long)]
        role: String,
    },
    /// Remove an entry by SID or account.
    Remove { key: String },
    /// List the entries.
    List,
}

pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Command::SystemHelper { group, data_dir } = &cli.command {
        // --socket defaults to the admin socket: the helper must be told its own.
        let given = matches.value_source("socket") == Some(ValueSource::CommandLine);
        return system_helper(given.then_some(cli.socket.as_path()), group, data_dir);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { config } => serve(&config).await,
            Command::CheckConfig { config } => Config::load(&config)
                .map(|_| println!("configuration is valid"))
                .map_err(|e| anyhow!(ConfigFailure(e.to_string()))),
            command => admin_command(&cli.socket, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is::<ConfigFailure>() => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// Runs the privileged system helper until the process is stopped (init respawns it).
fn system_helper(
    socket: Option<&std::path::Path>,
    group: &str,
    data_dir: &std::path::Path,
) -> ExitCode {
    use rmsc_system::helper::{serve_system_helper, service_account, SystemOps};
    let Some(socket) = socket else {
        eprintln!("error: give the helper's socket with --socket PATH");
        return ExitCode::from(2);
    };
    init_tracing();
    let result = service_account(group).and_then(|(uid, gid)| {
        // Root (the console tools) and the daemon's user; nobody else.
        let ops = SystemOps::appliance(data_dir.to_owned());
        serve_system_helper(socket.to_owned(), Some(gid), vec![0, uid], ops)
    });
    match result {
        Ok(never) => match never {},
        Err(error) => {
            eprintln!("error: system helper: {error}");
            ExitCode::from(1)
        }
    }
}

/// A configuration that does not validate: exit code 2, before anything is bound.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
struct ConfigFailure(String);

async fn serve(path: &std::path::Path) -> anyhow::Result<()> {
    let config = Config::load(path).map_err(|e| anyhow!(ConfigFailure(e.to_string())))?;
    init_tracing();
    let running = crate::daemon::run(config).await?;
    // One machine-readable line, so supervisors and tests learn the bound ports.
    println!("{}", json!({ "listening": running.addresses }));
    std::io::stdout().flush().ok();
    let signal = rmsc_system::stop_signal()
        .await
        .context("waiting for signals")?;
    tracing::info!(?signal, "stop requested");
    running.shutdown().await;
    Ok(())
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RMSC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("RMSC_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn admin_command(socket: &std::path::Path, command: Command) -> anyhow::Result<()> {
    let client = AdminClient {
        socket: socket.to_owned(),
        actor: actor(),
    };
    match command {
        Command::Status => print_json(&client.call("GET", "/api/v1/status", None).await?),
        Command::Signin { device: true, .. } => device_sign_in(&client).await?,
        Command::Signin {
            user,
            password_stdin,
            ..
        } => {
            let user = user.ok_or_else(|| anyhow!("--user is required"))?;
            let password = if password_stdin {
                read_line_stdin()?
            } else {
                bail!("give the password on standard input with --password-stdin")
            };
            let answer = client
                .call(
                    "POST",
                    "/api/v1/signin/password",
                    Some(json!({ "username": user, "password": password })),
                )
                .await?;
            println!("signed in as {}", answer["account"].as_str().unwrap_or("?"));
        }
        Command::Register { name } => print_json(
            &client
                .call(
                    "POST",
                    "/api/v1/registration",
                    Some(json!({ "connector_name": name })),
                )
                .await?,
        ),
        Command::Deregister => {
            client.call("DELETE", "/api/v1/registration", None).await?;
            println!("deregistered");
        }
        Command::Authorize {
            action:
                AuthorizeAction::Add {
                    account,
                    sid,
                    kind,
                    role,
                },
        } => {
            let body = json!({ "account": account, "sid": sid, "kind": kind, "role": role });
            print_json(
                &client
                    .call("POST", "/api/v1/authorized", Some(body))
                    .await?,
            )
        }
        Command::Authorize {
            action: AuthorizeAction::Remove { key },
        } => {
            let path = format!(
                "/api/v1/authorized/{}",
                url::form_urlencoded::byte_serialize(key.as_bytes())
                    .collect::<String>()
                    .replace('+', "%20")
            );
            print_json(&client.call("DELETE", &path, None).await?)
        }
        Command::Authorize {
            action: AuthorizeAction::List,
        } => print_json(&client.call("GET", "/api/v1/authorized", None).await?),
        Command::Keytab {
            action: KeytabAction::Status,
        } => print_json(&client.call("GET", "/api/v1/keytab", None).await?),
        Command::Keytab {
            action: KeytabAction::Upload { file },
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            print_json(
                &client
                    .call_bytes(
                        "PUT",
                        "/api/v1/keytab",
                        Bytes::from(bytes),
                        "application/octet-stream",
                    )
                    .await?,
            )
        }
        Command::Keytab {
            action: KeytabAction::Remove,
        } => {
            client.call("DELETE", "/api/v1/keytab", None).await?;
            println!("keytab removed");
        }
        Command::Certificate {
            action: CertificateAction::Status,
        } => print_json(&client.call("GET", "/api/v1/certificate", None).await?),
        Command::Certificate {
            action: CertificateAction::Upload { file },
        } => {
            let pem = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            print_json(
                &client
                    .call("POST", "/api/v1/certificate", Some(json!({ "pem": pem })))
                    .await?,
            )
        }
        Command::Pairing {
            action: PairingAction::Start,
        } => print_json(&client.call("POST", "/api/v1/pairing", None).await?),
        Command::Pairing {
            action: PairingAction::Status,
        } => print_json(&client.call("GET", "/api/v1/pairing", None).await?),
        Command::Pairing {
            action: PairingAction::Cancel,
        } => {
            client.call("DELETE", "/api/v1/pairing", None).await?;
            println!("pairing code withdrawn");
        }
        Command::Join { code } => print_json(
            &client
                .call("POST", "/api/v1/join", Some(json!({ "code": code })))
                .await?,
        ),
        Command::Admin {
            action: AdminAction::ResetPassword,
        } => {
            let answer = client
                .call("POST", "/api/v1/console/reset-admin-password", None)
                .await?;
            println!(
                "New setup code: {}",
                answer["setup_code"].as_str().unwrap_or("?")
            );
        }
        Command::Events { level, id, limit } => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("limit", &limit.to_string());
            if let Some(level) = level {
                query.append_pair("level", &level);
            }
            if let Some(id) = id {
                query.append_pair("id", &id.to_string());
            }
            print_json(
                &client
                    .call("GET", &format!("/api/v1/events?{}", query.finish()), None)
                    .await?,
            )
        }
        Command::Serve { .. } | Command::CheckConfig { .. } | Command::SystemHelper { .. } => {
            unreachable!("handled by main")
        }
    }
    Ok(())
}

async fn device_sign_in(client: &AdminClient) -> anyhow::Result<()> {
    let start = client.call("POST", "/api/v1/signin/device", None).await?;
    let code = start["device_code"]
        .as_str()
        .ok_or_else(|| anyhow!("the cloud sent no device code"))?
        .to_owned();
    println!(
        "To sign in, open {} in a browser and enter the code {}",
        start["verification_uri"].as_str().unwrap_or("?"),
        start["user_code"].as_str().unwrap_or("?")
    );
    let interval = Duration::from_secs(start["interval"].as_u64().unwrap_or(5).max(1));
    let deadline = tokio::time::Instant::now()
        + Duration::from_secs(start["expires_in"].as_u64().unwrap_or(900));
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(interval).await;
        let poll = client
            .call(
                "POST",
                "/api/v1/signin/device/poll",
                Some(json!({ "device_code": code })),
            )
            .await?;
        if poll["state"] == "signed_in" {
            println!("signed in as {}", poll["account"].as_str().unwrap_or("?"));
            return Ok(());
        }
    }
    bail!("the sign-in code expired")
}

fn read_line_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn actor() -> String {
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "root".into());
    format!("{user}@console")
}

fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// A minimal HTTP/1.1 client over the admin socket (also used by the end-to-end tests).
pub struct AdminClient {
    pub socket: PathBuf,
    pub actor: String,
}

impl AdminClient {
    /// Calls the admin API; a non-2xx answer becomes an error carrying its message.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        self.call_bytes(method, path, bytes, "application/json")
            .await
    }

    /// Calls the admin API with a raw body (uploads).
    pub async fn call_bytes(
        &self,
        method: &str,
        path: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> anyhow::Result<Value> {
        let stream = tokio::net::UnixStream::connect(&self.socket)
            .await
            .with_context(|| {
                format!(
                    "cannot reach the connector at {} (is it running, and are you root?)",
                    self.socket.display()
                )
            })?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("content-type", content_type)
            .header(rmsc_admin_actor_header(), &self.actor)
            .body(Full::new(bytes))?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let value: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
        };
        if !status.is_success() {
            let message = value["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| value.to_string());
            bail!("{message} ({status})");
        }
        Ok(value)
    }
}

fn rmsc_admin_actor_header() -> &'static str {
    "x-rmsc-actor"
}

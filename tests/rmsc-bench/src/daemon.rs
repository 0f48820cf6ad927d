//! The connector daemon as a child process of the benchmark (so its CPU and memory are its
//! own): started with a configuration and extra environment, optionally on given CPUs or
//! under a wrapper command (a heap profiler), set up and registered; killed when dropped, or
//! stopped with SIGTERM so that a wrapper can write its output.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Stdio};

use anyhow::{anyhow, Context};
use rmsc_e2e::{Connector, Lab};

use crate::placement::{command_on, Cpus};
use crate::procs::Server;

/// Lines a wrapper (a profiler) may print before the daemon's listening line.
const MAX_WRAPPER_LINES: usize = 50;

/// The connector daemon running as a child process; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub connector: Connector,
    /// The HTTPS caller listener.
    pub https: Option<SocketAddr>,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // The benchmark owns this child; a failed kill means it already exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    /// The daemon's own process: the child itself, or under a wrapper the deepest process
    /// of the child's tree running the daemon binary.
    pub fn pid(&self) -> u32 {
        Server {
            root: self.child.id(),
        }
        .pids()
        .into_iter()
        .rfind(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("rmsc-e2e-daemon\0serve"))
        })
        .unwrap_or(self.child.id())
    }

    /// Stops the daemon with SIGTERM (so that a profiler wrapping it writes its output) and
    /// waits, polling, until the child exits or `deadline` passes.
    pub fn terminate(mut self, deadline: std::time::Duration) -> anyhow::Result<()> {
        use nix::sys::signal::{kill, Signal};
        let pid = nix::unistd::Pid::from_raw(self.pid() as i32);
        kill(pid, Signal::SIGTERM).context("SIGTERM to the daemon")?;
        let end = std::time::Instant::now() + deadline;
        while std::time::Instant::now() < end {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Err(anyhow!(
            "the daemon did not exit within {deadline:?} of SIGTERM"
        ))
    }
}

/// The e2e daemon binary, expected next to this benchmark's own binary.
fn daemon_path() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("current exe")?;
    let path = me.with_file_name("rmsc-e2e-daemon");
    if path.is_file() {
        Ok(path)
    } else {
        Err(anyhow!(
            "{} not found: run `cargo build --release -p rmsc-e2e --bins` first",
            path.display()
        ))
    }
}

/// Starts the daemon with the lab's configuration, sets it up and authorizes the test callers.
pub async fn start_daemon(lab: &Lab, cpus: Option<&Cpus>) -> anyhow::Result<Daemon> {
    let daemon = spawn_daemon_on(lab, &lab.config_text(""), &[], cpus).await?;
    daemon
        .connector
        .authorize_defaults()
        .await
        .context("authorize")?;
    Ok(daemon)
}

/// Starts the daemon with `config` (TOML) and extra environment, and registers it.
pub async fn spawn_daemon(
    lab: &Lab,
    config: &str,
    env: &[(&str, String)],
) -> anyhow::Result<Daemon> {
    spawn_daemon_with(lab, config, env, None, &[]).await
}

/// As [`spawn_daemon`], on `cpus` when given.
pub async fn spawn_daemon_on(
    lab: &Lab,
    config: &str,
    env: &[(&str, String)],
    cpus: Option<&Cpus>,
) -> anyhow::Result<Daemon> {
    spawn_daemon_with(lab, config, env, cpus, &[]).await
}

/// As [`spawn_daemon_on`], started by `wrapper` (a profiler's command line, which gets the
/// daemon's command line appended) when it is not empty.
pub async fn spawn_daemon_with(
    lab: &Lab,
    config: &str,
    env: &[(&str, String)],
    cpus: Option<&Cpus>,
    wrapper: &[String],
) -> anyhow::Result<Daemon> {
    let config_path = lab.dir.path().join("connector.toml");
    std::fs::write(&config_path, config).context("write config")?;
    let daemon = daemon_path()?;
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = command_on(program, cpus);
            command.args(args).arg(&daemon);
            command
        }
        None => command_on(&daemon.to_string_lossy(), cpus),
    };
    let mut child = command
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(["serve", "--config"])
        .arg(&config_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("spawn daemon")?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("daemon stdout"))?;
    let mut reader = std::io::BufReader::new(stdout);
    // A wrapper may print lines of its own first; the daemon's first line is its listening
    // line, a JSON object.
    let mut line = String::new();
    for _ in 0..MAX_WRAPPER_LINES {
        line.clear();
        if reader.read_line(&mut line).context("listening line")? == 0
            || line.trim_start().starts_with('{')
        {
            break;
        }
    }
    // Keep draining stdout so the daemon never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let listening: serde_json::Value =
        serde_json::from_str(&line).with_context(|| format!("listening line {line:?}"))?;
    let addr = |key: &str| -> anyhow::Result<SocketAddr> {
        let v = &listening["listening"][key];
        let first = v.as_array().and_then(|a| a.first()).unwrap_or(v);
        first
            .as_str()
            .ok_or_else(|| anyhow!("no {key} address in {line:?}"))?
            .parse()
            .context("socket address")
    };
    let connector = Connector::from_addresses(None, addr("http")?, addr("ops")?, &lab.socket());
    let https = addr("https").ok();
    let daemon = Daemon {
        child,
        connector,
        https,
    };
    daemon.connector.set_up().await.context("set up")?;
    Ok(daemon)
}

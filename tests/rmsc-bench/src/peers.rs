//! The alternatives the connector is compared with (issue 7), run by the benchmark itself:
//! nginx as a plain TLS reverse proxy and Apache httpd with mod_auth_gssapi, mod_authnz_ldap
//! and mod_proxy. Each gets a directory of its own under /tmp with its configuration (filled
//! in from `tests/peers/*.conf.in`), certificates, pid file and logs, listens on a free port
//! of 127.0.0.1 only, runs in its own process group, and is stopped when dropped.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::{Pid, User};
use rmsc_e2e::ad::{AdLab, AD_CONNECTOR_NAME};

use crate::placement::{command_on, Cpus};
use crate::procs::Server;

const NGINX_TEMPLATE: &str = include_str!("../../peers/nginx.conf.in");
const APACHE_TEMPLATE: &str = include_str!("../../peers/apache2.conf.in");
/// Longest wait for a peer to listen after it was started.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// How the peers reach the cloud stand-in: the second registration's certificate, as the
/// connector's own would be used.
pub struct Upstream {
    pub port: u16,
    pub tenant: String,
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

/// The caller identity headers a peer adds (the stand-in requires them).
pub struct CallerHeaders {
    /// nginx authenticates nobody, so it asserts a fixed account; Apache sends REMOTE_USER.
    pub account: String,
    pub sid: String,
    pub group_sid: String,
}

/// A running peer; stopped (TERM, then KILL of its process group) when dropped.
pub struct Peer {
    pub addr: SocketAddr,
    child: Child,
    pub dir: tempfile::TempDir,
}

impl Peer {
    pub fn server(&self) -> Server {
        Server {
            root: self.child.id(),
        }
    }

    /// Copies the peer's logs into `out` (its directory goes when the peer is dropped).
    pub fn save_logs(&self, name: &str, out: &Path) {
        let Ok(entries) = std::fs::read_dir(self.dir.path()) else {
            return;
        };
        for entry in entries.flatten() {
            let file = entry.file_name();
            if file.to_string_lossy().ends_with(".log") {
                let target = out.join(format!("{name}-{}", file.to_string_lossy()));
                // Best effort: the logs help to diagnose, the run goes on without them.
                let _ = std::fs::copy(entry.path(), target);
            }
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let pid = Pid::from_raw(self.child.id() as i32);
        // Errors mean the process already exited; the group kill below covers the rest.
        let _ = kill(pid, Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Workers that outlived their parent are in the same group, which only this benchmark
        // started.
        let _ = killpg(pid, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// A port of 127.0.0.1 free at this moment.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("bind 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The `@KEY@` placeholders of `template`.
fn placeholders(template: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('@') {
        let after = &rest[open + 1..];
        match after.find('@') {
            Some(close)
                if close > 0
                    && after[..close]
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c == '_') =>
            {
                found.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    found
}

/// Replaces every `@KEY@` of `template`; fails if one has no value.
fn fill(template: &str, values: &[(&str, String)]) -> anyhow::Result<String> {
    let missing: Vec<&str> = placeholders(template)
        .into_iter()
        .filter(|key| !values.iter().any(|(k, _)| k == key))
        .collect();
    if !missing.is_empty() {
        bail!("placeholders without a value: {missing:?}");
    }
    let mut text = template.to_owned();
    for (key, value) in values {
        text = text.replace(&format!("@{key}@"), value);
    }
    Ok(text)
}

fn write(dir: &Path, name: &str, text: &str, mode: u32) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    Ok(path)
}

/// A directory under /tmp that the peers' unprivileged workers can traverse, with the
/// server certificate (ECDSA P-256, like the connector's) and the upstream credentials.
fn peer_dir(prefix: &str, up: &Upstream) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .context("peer directory")?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let cert =
        rcgen::CertificateParams::new(vec![AD_CONNECTOR_NAME.to_owned()])?.self_signed(&key)?;
    write(dir.path(), "server.pem", &cert.pem(), 0o644)?;
    write(dir.path(), "server.key", &key.serialize_pem(), 0o600)?;
    write(dir.path(), "upstream-ca.pem", &up.ca_pem, 0o644)?;
    write(dir.path(), "upstream.pem", &up.cert_pem, 0o644)?;
    write(dir.path(), "upstream.key", &up.key_pem, 0o600)?;
    let identity = format!("{}\n{}", up.cert_pem.trim_end(), up.key_pem);
    write(dir.path(), "upstream-identity.pem", &identity, 0o600)?;
    Ok(dir)
}

/// Spawns `command` in its own process group with output to `dir/stdout.log`, then polls
/// until `port` accepts connections.
fn spawn(
    mut command: Command,
    dir: tempfile::TempDir,
    port: u16,
    log: &str,
) -> anyhow::Result<Peer> {
    let output = std::fs::File::create(dir.path().join("stdout.log"))?;
    let mut child = command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        .spawn()
        .with_context(|| format!("spawn {command:?}"))?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let end = Instant::now() + START_DEADLINE;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let text =
                |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
            bail!(
                "{command:?} exited ({status}): {}{}",
                text("stdout.log"),
                text(log)
            );
        }
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(Peer { addr, child, dir });
        }
        if Instant::now() > end {
            let peer = Peer { addr, child, dir };
            return Err(anyhow!("{addr} not listening after {START_DEADLINE:?}")
                .context(format!("see {}", peer.dir.path().display())));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// nginx: TLS termination and relay, no caller authentication. `nofile` is the descriptor
/// limit its workers may use; `cpus` where it runs (`worker_processes auto` counts them).
pub fn start_nginx(
    up: &Upstream,
    caller: &CallerHeaders,
    nofile: u64,
    cpus: Option<&Cpus>,
) -> anyhow::Result<Peer> {
    let dir = peer_dir("rmsc-bench-nginx-", up)?;
    let port = free_port()?;
    let config = fill(
        NGINX_TEMPLATE,
        &[
            ("DIR", dir.path().display().to_string()),
            ("PORT", port.to_string()),
            ("NOFILE", nofile.to_string()),
            // Each worker holds the callers' connections and its upstream ones.
            (
                "WORKER_CONNECTIONS",
                (nofile.saturating_sub(64) / 2 * 2).to_string(),
            ),
            ("UPSTREAM_PORT", up.port.to_string()),
            ("TENANT", up.tenant.clone()),
            // nginx strings cannot hold a literal `$` (variables), nor a bare backslash.
            (
                "ACCOUNT",
                caller.account.replace('$', "").replace('\\', "\\\\"),
            ),
            ("SID", caller.sid.clone()),
            ("GROUP_SID", caller.group_sid.clone()),
        ],
    )?;
    let path = write(dir.path(), "nginx.conf", &config, 0o644)?;
    let mut command = command_on("/usr/sbin/nginx", cpus);
    command
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&path)
        .arg("-e")
        .arg(dir.path().join("nginx-error.log"));
    spawn(command, dir, port, "nginx-error.log")
}

/// Apache httpd: TLS, Kerberos with the lab's connector keytab, `Require ldap-group` against
/// the lab's DC (nested groups followed), relay with the upstream credentials; on `cpus` when
/// given.
pub fn start_apache(
    up: &Upstream,
    caller: &CallerHeaders,
    ad: &AdLab,
    cpus: Option<&Cpus>,
) -> anyhow::Result<Peer> {
    let dir = peer_dir("rmsc-bench-apache-", up)?;
    let port = free_port()?;
    let www = User::from_name("www-data")?.context("no www-data user")?;
    // The workers (www-data) read the keytab and keep the replay cache.
    let keytab = dir.path().join("http.keytab");
    std::fs::copy(ad.keytab("connector"), &keytab).context("copy the connector keytab")?;
    std::os::unix::fs::chown(&keytab, Some(www.uid.as_raw()), Some(www.gid.as_raw()))?;
    std::fs::set_permissions(&keytab, std::fs::Permissions::from_mode(0o400))?;
    let rcache = dir.path().join("rcache");
    std::fs::create_dir(&rcache)?;
    std::os::unix::fs::chown(&rcache, Some(www.uid.as_raw()), Some(www.gid.as_raw()))?;
    std::fs::copy(
        ad.dir.join("dc/private/tls/ca.pem"),
        dir.path().join("dc-ca.pem"),
    )
    .context("the DC's CA certificate")?;
    let krb5_conf = dir.path().join("krb5.conf");
    std::fs::copy(ad.get("LAB_KRB5_CONF")?, &krb5_conf)?;
    let base_dn = ad.get("LAB_BASE_DN")?;
    // The DC's certificate names it (DC1.contoso.test), not its address, and libldap checks
    // the name. An administrator would have DNS; the lab has none, so Apache alone gets a
    // hosts file naming the DC, bind-mounted in a mount namespace of its own.
    let dc_name = format!(
        "{}.{}",
        ad.get("LAB_DC_HOSTNAME")?,
        ad.get("LAB_DNS_DOMAIN")?
    );
    let hosts = write(
        dir.path(),
        "hosts",
        &format!(
            "127.0.0.1 localhost\n{} {dc_name}\n",
            ad.get("LAB_DC_ADDR")?
        ),
        0o644,
    )?;
    let config = fill(
        APACHE_TEMPLATE,
        &[
            ("DIR", dir.path().display().to_string()),
            ("PORT", port.to_string()),
            ("UPSTREAM_PORT", up.port.to_string()),
            ("TENANT", up.tenant.clone()),
            ("DC_NAME", dc_name),
            ("BASE_DN", base_dn.clone()),
            (
                "BIND_DN",
                format!("svc-rmsconnector@{}", ad.get("LAB_DNS_DOMAIN")?),
            ),
            ("BIND_PASSWORD", ad.get("LAB_USER_PASSWORD")?),
            (
                "GROUP_DN",
                format!("CN=Exchange Servers,CN=Users,{base_dn}"),
            ),
            ("LDAP_VERIFY", "On".to_owned()),
            ("SID", caller.sid.clone()),
            ("GROUP_SID", caller.group_sid.clone()),
        ],
    )?;
    // Holds the bind password: readable by root (the parent reads it) only.
    let path = write(dir.path(), "apache2.conf", &config, 0o600)?;
    // taskset, unshare and sh exec, so the pid the benchmark sees is Apache's parent.
    let mut command = command_on("unshare", cpus);
    command
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount --bind "$1" /etc/hosts && exec /usr/sbin/apache2 -f "$2" -DFOREGROUND"#)
        .arg("sh")
        .arg(&hosts)
        .arg(&path)
        .env("KRB5_CONFIG", &krb5_conf)
        .env("KRB5RCACHEDIR", &rcache);
    spawn(command, dir, port, "apache2-error.log")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_completely_or_fail() {
        assert_eq!(
            fill("a @X@ b @Y@", &[("X", "1".into()), ("Y", "2".into())]).expect("filled"),
            "a 1 b 2"
        );
        assert!(fill("a @X@ b @Y@", &[("X", "1".into())]).is_err());
        // An e-mail-like text is not a placeholder.
        assert_eq!(placeholders("svc@contoso.test @A_B@ x@y @C@"), ["A_B", "C"]);
        // Every placeholder of the real templates is filled by the code above.
        assert!(placeholders(NGINX_TEMPLATE).contains(&"UPSTREAM_PORT"));
        assert!(placeholders(APACHE_TEMPLATE).contains(&"BIND_PASSWORD"));
    }
}

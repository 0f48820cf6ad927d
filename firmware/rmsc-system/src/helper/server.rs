//! The helper's socket: bound with mode 0660 for the daemon's group, one connection at a
//! time (requests are rare and quick), each bounded in bytes and time. The peer's uid is
//! checked before a byte is read; the answer is sent before any power action starts.

use super::actions::SystemOps;
use super::request::Request;
use super::{HelperError, Response, MAX_REQUEST_BYTES};
use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use nix::unistd::Gid;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where and for whom the helper listens.
#[derive(Debug, Clone)]
pub struct HelperConfig {
    pub socket: PathBuf,
    /// Group that owns the socket (the daemon's); `None` leaves the creator's group.
    pub group: Option<Gid>,
    /// Peer uids allowed to ask (root and the daemon's user on the appliance).
    pub allowed_uids: Vec<u32>,
    /// Time a client gets to send its whole request.
    pub read_deadline: Duration,
}

/// A bound helper.
pub struct SystemHelper {
    listener: UnixListener,
    config: HelperConfig,
    ops: SystemOps,
}

/// Binds the helper's socket and serves requests until the process is stopped.
pub fn serve_system_helper(
    socket: PathBuf,
    group: Option<Gid>,
    allowed_uids: Vec<u32>,
    ops: SystemOps,
) -> Result<std::convert::Infallible, HelperError> {
    let helper = SystemHelper::bind(
        HelperConfig {
            socket,
            group,
            allowed_uids,
            read_deadline: Duration::from_secs(5),
        },
        ops,
    )?;
    helper.run()
}

impl SystemHelper {
    /// Binds the socket (replacing a stale one) and gives it mode 0660 and the group.
    pub fn bind(config: HelperConfig, ops: SystemOps) -> Result<Self, HelperError> {
        match std::fs::remove_file(&config.socket) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        let listener = UnixListener::bind(&config.socket)?;
        if let Some(gid) = config.group {
            nix::unistd::chown(&config.socket, None, Some(gid))?;
        }
        std::fs::set_permissions(&config.socket, std::fs::Permissions::from_mode(0o660))?;
        tracing::info!(socket = %config.socket.display(), "system helper listening");
        Ok(Self {
            listener,
            config,
            ops,
        })
    }

    /// Serves connections one after another, forever.
    pub fn run(&self) -> Result<std::convert::Infallible, HelperError> {
        loop {
            if let Err(error) = self.handle_one() {
                tracing::warn!(%error, "system helper connection failed");
            }
        }
    }

    /// Accepts one connection and answers it (tests call this a known number of times).
    pub fn handle_one(&self) -> Result<(), HelperError> {
        let (mut stream, _) = self.listener.accept()?;
        stream.set_write_timeout(Some(self.config.read_deadline))?;
        let (response, deferred) = match self.answer(&stream) {
            Ok(deferred) => (Response::ok(), deferred),
            Err(error) => {
                tracing::warn!(%error, "system helper request refused");
                (Response::refused(error.to_string()), None)
            }
        };
        let mut bytes = serde_json::to_vec(&response).unwrap_or_default();
        bytes.push(b'\n');
        let sent = stream.write_all(&bytes).and_then(|()| stream.flush());
        drop(stream);
        // Power goes only after the daemon has its answer, so the browser gets its 202.
        if let Some(action) = deferred {
            self.ops.power(action)?;
        }
        sent.map_err(HelperError::from)
    }

    fn answer(&self, stream: &UnixStream) -> Result<Option<super::actions::Deferred>, HelperError> {
        let peer = getsockopt(stream, PeerCredentials)?;
        if !self.config.allowed_uids.contains(&peer.uid()) {
            return Err(HelperError::Refused(format!(
                "uid {} may not use the system helper",
                peer.uid()
            )));
        }
        let bytes = read_bounded(stream, self.config.read_deadline)?;
        let request = Request::parse(&bytes)?;
        tracing::info!(
            ?request,
            uid = peer.uid(),
            pid = peer.pid(),
            "system helper request"
        );
        self.ops.perform(&request)
    }
}

/// Reads until the client half-closes, at most [`MAX_REQUEST_BYTES`] and within `deadline`.
fn read_bounded(mut stream: &UnixStream, deadline: Duration) -> Result<Vec<u8>, HelperError> {
    let end = Instant::now() + deadline;
    let mut bytes = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HelperError::Invalid(
                "the request did not arrive in time".into(),
            ));
        }
        stream.set_read_timeout(Some(left))?;
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(HelperError::Invalid(
                    "the request did not arrive in time".into(),
                ))
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            return Ok(bytes);
        }
        bytes.extend_from_slice(&chunk[..n]);
        if bytes.len() > MAX_REQUEST_BYTES {
            return Err(HelperError::Invalid(format!(
                "a request is at most {MAX_REQUEST_BYTES} bytes"
            )));
        }
    }
}

/// The uid and gid of a local account (the daemon's `rmsc` user and group).
pub fn service_account(name: &str) -> Result<(u32, Gid), HelperError> {
    let user = nix::unistd::User::from_name(name)?
        .ok_or_else(|| HelperError::Invalid(format!("no user {name:?}")))?;
    let group = nix::unistd::Group::from_name(name)?
        .ok_or_else(|| HelperError::Invalid(format!("no group {name:?}")))?;
    Ok((user.uid.as_raw(), group.gid))
}

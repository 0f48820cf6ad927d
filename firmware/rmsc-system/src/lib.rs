//! The system layer: the only crate that makes system calls (through `nix`) or waits for
//! process signals: signals, host facts, file modes, and the privileged [`helper`] through
//! which the unprivileged daemon asks for network changes, reboot, power-off and a factory
//! reset.

pub mod helper;

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Which signal asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Terminate,
    Interrupt,
}

/// Waits for SIGTERM or SIGINT.
pub async fn stop_signal() -> io::Result<StopSignal> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = term.recv() => StopSignal::Terminate,
        _ = int.recv() => StopSignal::Interrupt,
    })
}

/// The host name of this machine (what the appliance reports in heartbeats).
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "rms-connector".to_owned())
}

/// The first IPv4 address of an interface that is up and not loopback: what administrators
/// reach the appliance at when its listeners bind every address.
pub fn primary_ipv4() -> Option<std::net::Ipv4Addr> {
    use nix::net::if_::InterfaceFlags;
    let addresses = nix::ifaddrs::getifaddrs().ok()?;
    let mut found: Vec<(String, std::net::Ipv4Addr)> = addresses
        .filter(|a| {
            a.flags.contains(InterfaceFlags::IFF_UP)
                && !a.flags.contains(InterfaceFlags::IFF_LOOPBACK)
        })
        .filter_map(|a| {
            let ip = a.address?.as_sockaddr_in()?.ip();
            Some((a.interface_name, ip))
        })
        .filter(|(_, ip)| !ip.is_loopback() && !ip.is_unspecified())
        .collect();
    // Interface order from the kernel is stable but arbitrary; sorting by name makes the
    // choice repeatable (eth0 before eth1).
    found.sort();
    found.first().map(|(_, ip)| *ip)
}

/// Restricts a file to its owner (secrets, the admin socket).
pub fn restrict_to_owner(path: &Path) -> io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Sends SIGTERM to a process (used by tests and the supervisor).
pub fn terminate(pid: u32) -> Result<(), SystemError> {
    let pid = i32::try_from(pid).map_err(|_| SystemError::BadPid(pid))?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .map_err(SystemError::Errno)
}

#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    #[error("invalid process id {0}")]
    BadPid(u32),
    #[error("system call failed: {0}")]
    Errno(#[from] nix::errno::Errno),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_is_not_empty_and_modes_apply() {
        assert!(!hostname().is_empty());
        let dir = std::env::temp_dir().join(format!("rmsc-system-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("secret");
        std::fs::write(&file, b"x").expect("write");
        restrict_to_owner(&file).expect("chmod");
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn terminate_refuses_absurd_pids() {
        assert!(matches!(terminate(u32::MAX), Err(SystemError::BadPid(_))));
    }
}

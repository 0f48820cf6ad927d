//! What the helper's actions do on the appliance, with std and `nix` only. Network settings
//! are written atomically to the file the init scripts read, and the running network (and
//! time) service is stopped so init respawns it with the new settings. Power actions are
//! handed to a [`PowerControl`] after the answer went out: on the appliance that asks busybox
//! init (PID 1) to reboot or power off, so the inittab shutdown hook drains the daemon and
//! unmounts /data cleanly; tests plug in a fake.

use super::request::{NetworkRequest, Request};
use super::HelperError;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The marker `usr/lib/rmsc/data-mount` looks for: it formats the data partition on the next
/// boot, before anything uses it.
const FACTORY_RESET_MARKER: &str = ".factory-reset";

/// Restarting or stopping the machine.
pub trait PowerControl: Send + Sync {
    fn reboot(&self) -> Result<(), HelperError>;
    fn power_off(&self) -> Result<(), HelperError>;
}

/// The appliance's power control: busybox init's signals (SIGTERM reboots, SIGUSR2 powers
/// off), which run the `::shutdown:` hook before the kernel call. If PID 1 cannot be
/// signalled, the kernel is asked directly after a `sync`.
#[derive(Debug, Default)]
pub struct InitPower;

impl InitPower {
    fn ask_init(signal: Signal, fallback: nix::sys::reboot::RebootMode) -> Result<(), HelperError> {
        nix::unistd::sync();
        tracing::warn!(?signal, "asking init to stop the system");
        if let Err(error) = kill(Pid::from_raw(1), signal) {
            tracing::error!(%error, "init did not take the signal; calling the kernel directly");
            nix::sys::reboot::reboot(fallback)?;
        }
        Ok(())
    }
}

impl PowerControl for InitPower {
    fn reboot(&self) -> Result<(), HelperError> {
        Self::ask_init(Signal::SIGTERM, nix::sys::reboot::RebootMode::RB_AUTOBOOT)
    }
    fn power_off(&self) -> Result<(), HelperError> {
        Self::ask_init(Signal::SIGUSR2, nix::sys::reboot::RebootMode::RB_POWER_OFF)
    }
}

/// A service that re-reads the network settings when restarted: its pid file and the process
/// names it may have (a script that `exec`s keeps its pid under the new name), so a stale pid
/// file never gets an unrelated process killed.
#[derive(Debug, Clone)]
pub struct RestartTarget {
    pub pid_file: PathBuf,
    pub names: Vec<String>,
}

/// A power action to carry out once the answer has been sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deferred {
    Reboot,
    PowerOff,
}

/// The helper's actions and where they act.
pub struct SystemOps {
    /// The data partition's mount point (`/data`): settings live in `settings/` below it.
    pub data_dir: PathBuf,
    /// Services restarted after a network change (init respawns them).
    pub restart: Vec<RestartTarget>,
    pub power: Box<dyn PowerControl>,
}

impl SystemOps {
    /// The appliance's layout: `/data`, the network and time services' pid files in `/run`.
    pub fn appliance(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            restart: vec![
                RestartTarget {
                    pid_file: PathBuf::from("/run/rmsc-network.pid"),
                    names: vec!["network".into(), "udhcpc".into()],
                },
                RestartTarget {
                    pid_file: PathBuf::from("/run/rmsc-ntp.pid"),
                    names: vec!["ntp".into(), "ntpd".into()],
                },
            ],
            power: Box::new(InitPower),
        }
    }

    /// The network settings file the init scripts read.
    pub fn network_file(&self) -> PathBuf {
        self.data_dir.join("settings").join("network.env")
    }

    /// The factory-reset marker.
    pub fn reset_marker(&self) -> PathBuf {
        self.data_dir.join(FACTORY_RESET_MARKER)
    }

    /// Carries out a validated request; a power action comes back to be run after answering.
    pub fn perform(&self, request: &Request) -> Result<Option<Deferred>, HelperError> {
        match request {
            Request::Reboot => Ok(Some(Deferred::Reboot)),
            Request::Shutdown => Ok(Some(Deferred::PowerOff)),
            Request::ApplyNetwork(settings) => {
                self.apply_network(settings)?;
                Ok(None)
            }
            Request::EraseData => {
                write_synced(&self.reset_marker(), b"requested through the admin API\n")?;
                Ok(Some(Deferred::Reboot))
            }
        }
    }

    /// Runs a deferred power action.
    pub fn power(&self, action: Deferred) -> Result<(), HelperError> {
        match action {
            Deferred::Reboot => self.power.reboot(),
            Deferred::PowerOff => self.power.power_off(),
        }
    }

    fn apply_network(&self, settings: &NetworkRequest) -> Result<(), HelperError> {
        // Validated by the parser already; checked again because this is what reaches a file.
        settings.validate()?;
        let file = self.network_file();
        let dir = file
            .parent()
            .ok_or_else(|| HelperError::Invalid("no settings directory".into()))?;
        if !dir.is_dir() {
            return Err(HelperError::Refused(format!(
                "{} does not exist (is the data partition mounted?)",
                dir.display()
            )));
        }
        let temp = dir.join("network.env.new");
        write_synced(&temp, settings.to_env().as_bytes())?;
        std::fs::rename(&temp, &file)?;
        File::open(dir)?.sync_all()?;
        tracing::info!(file = %file.display(), "network settings written");
        for target in &self.restart {
            restart(target);
        }
        Ok(())
    }
}

/// Writes a whole file (mode 0644) and flushes it and its directory to the disk.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), HelperError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Stops a service by its pid file so init starts it again. A missing or stale pid file is
/// not an error: a service that is not running reads the settings when it starts.
fn restart(target: &RestartTarget) {
    let Ok(text) = std::fs::read_to_string(&target.pid_file) else {
        tracing::info!(pid_file = %target.pid_file.display(), "no pid file; the service reads the settings when it starts");
        return;
    };
    let Some(pid) = text.trim().parse::<i32>().ok().filter(|p| *p > 1) else {
        tracing::warn!(pid_file = %target.pid_file.display(), "pid file holds no usable pid");
        return;
    };
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if !target.names.iter().any(|n| n == name.trim()) {
        tracing::warn!(pid, name = name.trim(), pid_file = %target.pid_file.display(), "stale pid file: not signalling");
        return;
    }
    match kill(Pid::from_raw(pid), Signal::SIGTERM) {
        Ok(()) => tracing::info!(
            pid,
            name = name.trim(),
            "service stopped to apply new settings"
        ),
        Err(error) => tracing::warn!(pid, %error, "could not stop the service"),
    }
}

//! The system helper over a real Unix socket in a temporary directory, with a fake power
//! control: every action, a refused peer, and requests that must change nothing.

use rmsc_system::helper::{
    HelperConfig, HelperError, NetworkMode, NetworkRequest, PowerControl, Request, RestartTarget,
    SystemHelper, SystemHelperClient, SystemOps, MAX_REQUEST_BYTES,
};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct FakePower(Arc<Mutex<Vec<&'static str>>>);

impl PowerControl for FakePower {
    fn reboot(&self) -> Result<(), HelperError> {
        self.0.lock().expect("lock").push("reboot");
        Ok(())
    }
    fn power_off(&self) -> Result<(), HelperError> {
        self.0.lock().expect("lock").push("power_off");
        Ok(())
    }
}

struct Rig {
    _dir: tempfile::TempDir,
    data: PathBuf,
    socket: PathBuf,
    pid_file: PathBuf,
    power: Arc<Mutex<Vec<&'static str>>>,
    server: Option<std::thread::JoinHandle<()>>,
}

/// A helper answering `connections` connections in a thread, allowing `allowed` uids.
fn rig(connections: usize, allowed: Vec<u32>) -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("settings")).expect("settings dir");
    let socket = dir.path().join("system.sock");
    let pid_file = dir.path().join("network.pid");
    let power = Arc::new(Mutex::new(Vec::new()));
    let ops = SystemOps {
        data_dir: data.clone(),
        restart: vec![RestartTarget {
            pid_file: pid_file.clone(),
            names: vec!["sleep".into()],
        }],
        power: Box::new(FakePower(power.clone())),
    };
    let helper = SystemHelper::bind(
        HelperConfig {
            socket: socket.clone(),
            group: Some(nix::unistd::getgid()),
            allowed_uids: allowed,
            read_deadline: Duration::from_millis(500),
        },
        ops,
    )
    .expect("bind");
    let server = std::thread::spawn(move || {
        for _ in 0..connections {
            let _ = helper.handle_one();
        }
    });
    Rig {
        _dir: dir,
        data,
        socket,
        pid_file,
        power,
        server: Some(server),
    }
}

impl Rig {
    fn client(&self) -> SystemHelperClient {
        SystemHelperClient::new(self.socket.clone())
    }

    fn power(&self) -> Vec<&'static str> {
        self.power.lock().expect("lock").clone()
    }

    /// Sends raw bytes, half-closes, returns the answer text.
    fn raw(&self, bytes: &[u8]) -> String {
        let mut stream = UnixStream::connect(&self.socket).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        // A large request may be cut off by the server once it has read enough.
        let _ = stream.write_all(bytes);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        // The server closes without reading everything from an oversize request, which
        // makes the kernel report a reset after the answer: keep what arrived before it.
        let mut answer = Vec::new();
        let mut chunk = [0u8; 512];
        for _ in 0..64 {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
        }
        String::from_utf8_lossy(&answer).into_owned()
    }

    fn finish(mut self) -> Self {
        if let Some(server) = self.server.take() {
            server.join().expect("server thread");
        }
        self
    }
}

fn uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

fn only_settings_dir(data: &Path) -> bool {
    std::fs::read_dir(data.join("settings"))
        .expect("read dir")
        .next()
        .is_none()
        && !data.join(".factory-reset").exists()
}

fn settings(hostname: &str) -> NetworkRequest {
    NetworkRequest {
        mode: NetworkMode::Static,
        address: "192.0.2.10".into(),
        prefix: Some(24),
        gateway: "192.0.2.1".into(),
        dns: vec!["192.0.2.53".into(), "192.0.2.54".into()],
        hostname: hostname.into(),
        ntp: vec!["ntp.contoso.test".into()],
    }
}

#[test]
fn socket_is_group_only_and_power_actions_follow_the_answer() {
    let rig = rig(3, vec![uid()]);
    let mode = std::fs::metadata(&rig.socket)
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660);
    rig.client().reboot().expect("reboot");
    rig.client().shutdown().expect("shutdown");
    rig.client().erase_data().expect("erase");
    let rig = rig.finish();
    assert_eq!(rig.power(), vec!["reboot", "power_off", "reboot"]);
    let marker = std::fs::read_to_string(rig.data.join(".factory-reset")).expect("marker");
    assert!(marker.contains("admin API"));
}

#[test]
fn network_settings_are_written_and_the_network_service_restarted() {
    let rig = rig(1, vec![uid()]);
    let mut service = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawn sleep");
    std::fs::write(&rig.pid_file, format!("{}\n", service.id())).expect("pid file");
    rig.client()
        .apply_network(&settings("rmsc01"))
        .expect("apply");
    let rig = rig.finish();
    let env = std::fs::read_to_string(rig.data.join("settings/network.env")).expect("env");
    assert!(env.contains("\nMODE=static\nADDRESS=192.0.2.10\nPREFIX=24\nGATEWAY=192.0.2.1\nDNS=192.0.2.53,192.0.2.54\nHOSTNAME=rmsc01\nNTP=\"ntp.contoso.test\"\n"), "{env}");
    assert!(!rig.data.join("settings/network.env.new").exists());
    // The "network service" got SIGTERM: it exits well before its 30 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = service.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the service was not stopped");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    assert!(rig.power().is_empty());
}

#[test]
fn a_stale_pid_file_gets_nothing_killed() {
    let rig = rig(1, vec![uid()]);
    // Our own test process is not called "sleep": the helper must leave it alone.
    std::fs::write(&rig.pid_file, format!("{}\n", std::process::id())).expect("pid file");
    rig.client()
        .apply_network(&settings("rmsc02"))
        .expect("apply");
    let rig = rig.finish();
    assert!(rig.data.join("settings/network.env").exists());
}

#[test]
fn a_peer_with_another_uid_is_refused_and_nothing_happens() {
    let rig = rig(2, vec![uid().wrapping_add(1)]);
    let error = rig.client().reboot().expect_err("refused");
    assert!(
        matches!(&error, HelperError::Refused(m) if m.contains("may not use")),
        "{error}"
    );
    rig.client()
        .apply_network(&settings("rmsc01"))
        .expect_err("refused");
    let rig = rig.finish();
    assert!(rig.power().is_empty());
    assert!(only_settings_dir(&rig.data));
}

#[test]
fn oversize_garbage_unknown_and_hostile_requests_change_nothing() {
    let hostile = br#"{"action":"apply_network","settings":{"mode":"dhcp","hostname":"rmsc01\nMODE=static\nADDRESS=10.0.0.1"}}"#;
    let cases: Vec<Vec<u8>> = vec![
        vec![b'{'; MAX_REQUEST_BYTES + 100],
        b"not json at all".to_vec(),
        br#"{"action":"format_disk"}"#.to_vec(),
        br#"{"action":"reboot","delay":0}"#.to_vec(),
        hostile.to_vec(),
        Vec::new(),
    ];
    let rig = rig(cases.len() + 1, vec![uid()]);
    for case in &cases {
        let answer = rig.raw(case);
        assert!(
            answer.starts_with(r#"{"ok":false,"error":"#),
            "{answer} for {:?}",
            String::from_utf8_lossy(&case[..case.len().min(60)])
        );
    }
    // The client refuses to help too: its typed request is validated by the helper.
    let error = rig
        .client()
        .call(&Request::ApplyNetwork(settings("bad\nname")))
        .expect_err("hostile hostname");
    assert!(error.to_string().contains("hostname"), "{error}");
    let rig = rig.finish();
    assert!(rig.power().is_empty());
    assert!(only_settings_dir(&rig.data));
}

#[test]
fn a_silent_client_is_answered_after_the_deadline() {
    let rig = rig(1, vec![uid()]);
    let mut stream = UnixStream::connect(&rig.socket).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let started = Instant::now();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(answer.contains("did not arrive in time"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let rig = rig.finish();
    assert!(rig.power().is_empty());
}

#[test]
fn an_absent_helper_is_reported_as_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let client = SystemHelperClient::new(dir.path().join("none.sock"));
    assert!(matches!(
        client.reboot(),
        Err(HelperError::Unreachable { .. })
    ));
}

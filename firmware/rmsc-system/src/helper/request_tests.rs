//! Tests of request parsing, validation and the settings file.

use super::*;

fn static_settings() -> NetworkRequest {
    NetworkRequest {
        mode: NetworkMode::Static,
        address: "192.0.2.10".into(),
        prefix: Some(24),
        gateway: "192.0.2.1".into(),
        dns: vec!["192.0.2.53".into()],
        hostname: "rmsc01".into(),
        ntp: vec!["pool.ntp.org".into()],
    }
}

#[test]
fn the_four_actions_round_trip() {
    for request in [
        Request::Reboot,
        Request::Shutdown,
        Request::EraseData,
        Request::ApplyNetwork(static_settings()),
    ] {
        assert_eq!(Request::parse(&request.to_bytes()).expect("parse"), request);
    }
    assert_eq!(
        Request::to_bytes(&Request::Reboot),
        br#"{"action":"reboot"}"#.to_vec()
    );
}

#[test]
fn unknown_actions_fields_and_shapes_are_refused() {
    for text in [
        "",
        "garbage",
        "[]",
        r#"{"action":"format_disk"}"#,
        r#"{"action":"reboot","delay":1}"#,
        r#"{"action":"reboot","settings":{"mode":"dhcp","hostname":"a"}}"#,
        r#"{"action":"apply_network"}"#,
        r#"{"action":"apply_network","settings":{"mode":"dhcp","hostname":"a","script":"x"}}"#,
        r#"{"action":"apply_network","settings":{"mode":"dhcp","hostname":"a","prefix":300}}"#,
    ] {
        assert!(Request::parse(text.as_bytes()).is_err(), "{text} accepted");
    }
    assert!(Request::parse(&vec![b' '; MAX_REQUEST_BYTES + 1]).is_err());
}

#[test]
fn hostile_and_wrong_settings_are_refused() {
    type Change = fn(&mut NetworkRequest);
    let cases: Vec<(Change, &str)> = vec![
        (|s| s.hostname = "rmsc01\nMODE=static".into(), "hostname"),
        (|s| s.hostname = "-bad".into(), "hostname"),
        (|s| s.hostname = "a".repeat(64), "hostname"),
        (|s| s.hostname = "host.123".into(), "hostname"),
        (|s| s.address = "192.0.2.10\r".into(), "address"),
        (|s| s.address = "192.0.2.300".into(), "address"),
        (|s| s.address = String::new(), "address"),
        (|s| s.prefix = Some(33), "prefix"),
        (|s| s.gateway = "gw".into(), "gateway"),
        (|s| s.dns = vec!["192.0.2.1".into(); 4], "dns"),
        (|s| s.dns = vec!["192.0.2.1\nNTP=x".into()], "dns"),
        (|s| s.dns = vec!["dns.example".into()], "dns"),
        (|s| s.ntp = vec!["a.example".into(); 5], "ntp"),
        (|s| s.ntp = vec!["a b".into()], "ntp"),
        (|s| s.ntp = vec!["x\"; reboot".into()], "ntp"),
    ];
    for (change, field) in cases {
        let mut settings = static_settings();
        change(&mut settings);
        let error = settings.validate().expect_err(field).to_string();
        assert!(error.contains(field), "{error} should name {field}");
    }
}

#[test]
fn settings_become_the_env_file_the_scripts_read() {
    let settings = static_settings();
    settings.validate().expect("valid");
    let env = settings.to_env();
    assert!(env.contains("\nMODE=static\nADDRESS=192.0.2.10\nPREFIX=24\nGATEWAY=192.0.2.1\nDNS=192.0.2.53\nHOSTNAME=rmsc01\nNTP=\"pool.ntp.org\"\n"), "{env}");
    let dhcp = NetworkRequest {
        mode: NetworkMode::Dhcp,
        address: "192.0.2.10".into(),
        prefix: Some(0),
        ..static_settings()
    };
    dhcp.validate().expect("valid");
    let env = dhcp.to_env();
    assert!(
        env.contains("\nMODE=dhcp\nADDRESS=\nPREFIX=\nGATEWAY=\n"),
        "{env}"
    );
    assert_eq!(env.lines().count(), 8);
}

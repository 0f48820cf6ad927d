//! Golden-output tests (one role per format), encoding checks and refusal of injection.

use super::*;

const CONNECTOR: &str = "https://rmsconnector.contoso.com";
const TENANT: &str = "https://5c6bb73b-1038-4eec-863d-49bded473437.rms.na.aadrm.com";

fn connector() -> ServiceUrl {
    ServiceUrl::parse(CONNECTOR, "connector").expect("valid")
}

fn tenant() -> ServiceUrl {
    parse_tenant_url(TENANT).expect("valid")
}

/// Golden files are stored with LF line ends; generated files must use CRLF throughout.
fn assert_crlf_and_matches(text: &str, golden: &str) {
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "a line ends without CR"
    );
    assert_eq!(text.replace("\r\n", "\n"), golden);
}

fn decode_reg(bytes: &[u8]) -> String {
    assert_eq!(&bytes[..2], &[0xFF, 0xFE], "no UTF-16LE byte-order mark");
    assert_eq!(bytes.len() % 2, 0);
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16(&units).expect("valid UTF-16")
}

#[test]
fn exchange_reg_matches_golden_file() {
    let file = generate(Role::Exchange, Format::Reg, &connector(), Some(&tenant())).expect("ok");
    assert_eq!(file.file_name, "rms-connector-exchange.reg");
    let text = decode_reg(&file.bytes);
    assert!(text.starts_with("Windows Registry Editor Version 5.00\r\n\r\n"));
    assert_crlf_and_matches(&text, include_str!("../tests/golden/exchange.reg.txt"));
}

#[test]
fn fileserver_ps1_matches_golden_file() {
    let file = generate(Role::FileServer, Format::PowerShell, &connector(), None).expect("ok");
    assert_eq!(file.file_name, "rms-connector-fileserver.ps1");
    let text = String::from_utf8(file.bytes).expect("utf-8");
    assert!(text.starts_with("#Requires -RunAsAdministrator\r\n"));
    assert_crlf_and_matches(&text, include_str!("../tests/golden/fileserver.ps1"));
}

#[test]
fn sharepoint_gpo_matches_golden_file() {
    let file = generate(
        Role::SharePoint,
        Format::GroupPolicy,
        &connector(),
        Some(&tenant()),
    )
    .expect("ok");
    assert_eq!(file.file_name, "rms-connector-sharepoint-gpo.ps1");
    let text = String::from_utf8(file.bytes).expect("utf-8");
    assert!(text.contains("Set-GPRegistryValue -Guid $gpo.Id"));
    assert_crlf_and_matches(&text, include_str!("../tests/golden/sharepoint-gpo.ps1"));
}

#[test]
fn every_role_and_format_generates() {
    for role in [Role::Exchange, Role::SharePoint, Role::FileServer] {
        for format in [Format::Reg, Format::PowerShell, Format::GroupPolicy] {
            let file = generate(role, format, &connector(), Some(&tenant())).expect("ok");
            assert!(!file.bytes.is_empty(), "{role} {format:?}");
        }
    }
}

#[test]
fn injection_attempts_in_the_connector_url_are_refused() {
    for attempt in [
        "https://a.contoso.com'; Remove-Item -Recurse C:\\; '",
        "https://a.contoso.com\"\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Evil]",
        "https://`calc`.contoso.com",
        "https://$(calc).contoso.com",
        "https://${env:x}.contoso.com",
        "https://a.contoso.com\n",
        "https://a.contoso.com #",
    ] {
        let err = ServiceUrl::parse(attempt, "connector").expect_err(attempt);
        assert!(
            matches!(err, ConfigError::ForbiddenCharacter { .. }),
            "{attempt:?}: {err:?}"
        );
        assert!(err
            .to_string()
            .contains("could change the generated script"));
    }
}

#[test]
fn injection_attempts_in_the_tenant_url_are_refused() {
    assert!(parse_tenant_url("https://x.rms.na.aadrm.com'+$(calc)+'").is_err());
    assert_eq!(
        parse_tenant_url("http://x.rms.na.aadrm.com"),
        Err(ConfigError::TenantNotHttps)
    );
}

#[test]
fn scheme_from_query_is_used() {
    let url = ServiceUrl::new(
        "http".parse().expect("scheme"),
        "rmsconnector.contoso.com",
        "connector",
    )
    .expect("ok");
    let file = generate(Role::FileServer, Format::Reg, &url, None).expect("ok");
    assert!(decode_reg(&file.bytes)
        .contains("@=\"http://rmsconnector.contoso.com/_wmcs/certification\""));
}

#[test]
fn role_and_format_names_match_the_admin_api() {
    assert_eq!("exchange".parse::<Role>(), Ok(Role::Exchange));
    assert_eq!("sharepoint".parse::<Role>(), Ok(Role::SharePoint));
    assert_eq!("fileserver".parse::<Role>(), Ok(Role::FileServer));
    assert_eq!("gpo".parse::<Format>(), Ok(Format::GroupPolicy));
    assert_eq!("ps1".parse::<Format>(), Ok(Format::PowerShell));
    assert!("cmd".parse::<Format>().is_err());
    assert!("dc".parse::<Role>().is_err());
}

#[test]
fn missing_tenant_names_the_fix() {
    let err =
        generate(Role::SharePoint, Format::Reg, &connector(), None).expect_err("needs tenant");
    assert_eq!(err.code(), "not_registered");
    assert!(err.to_string().contains("register the connector first"));
}

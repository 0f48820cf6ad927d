//! Tests of configuration parsing and validation.

use super::*;

const MINIMAL: &str = "data_dir = \"/tmp/x\"\ncloud_url = \"https://127.0.0.1:1\"\n";

#[test]
fn minimal_config_gets_defaults() {
    let c = Config::from_toml(MINIMAL).expect("valid");
    assert_eq!(c.callers.http.len(), 1);
    assert_eq!(c.identity, "kerberos");
    assert_eq!(c.relay_limits().max_body_bytes, 1024 * 1024);
    assert!(c.directory.ldap_urls.is_empty());
    let with = Config::from_toml(&format!(
        "{MINIMAL}[directory]\nldap_urls = [\"ldap://dc1.contoso.com\"]\n"
    ))
    .expect("valid");
    assert_eq!(with.directory.ldap_urls, vec!["ldap://dc1.contoso.com"]);
}

#[test]
fn bad_configs_are_refused_with_the_field_named() {
    let cases = [
        ("data_dir = \"/x\"\ncloud_url = \"http://a\"\n", "cloud_url"),
        (
            &format!("{MINIMAL}[callers]\nhttp = []\nhttps = []\n"),
            "callers",
        ),
        (
            &format!("{MINIMAL}[callers]\nmax_body_bytes = 10\n"),
            "max_body_bytes",
        ),
        (&format!("{MINIMAL}identity = \"ntlm\"\n"), "identity"),
        (
            &format!("{MINIMAL}[sync]\nlong_poll_secs = 99\n"),
            "long_poll_secs",
        ),
        (&format!("{MINIMAL}unknown_key = 1\n"), "unknown"),
        (
            &format!("{MINIMAL}[directory]\nldap_urls = [\"ldaps://dc1\"]\n"),
            "directory.ldap_urls",
        ),
    ];
    for (text, needle) in cases {
        let error = Config::from_toml(text).expect_err(needle).to_string();
        assert!(error.contains(needle), "{error} should mention {needle}");
    }
}

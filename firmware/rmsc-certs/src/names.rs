//! Connector-name validation and certificate name matching with the rules browsers apply.
//!
//! A certificate name matches when it equals the host name (ASCII case-insensitively, a
//! trailing dot ignored), or when it is a wildcard whose `*` is the whole left-most label,
//! stands for exactly one label, and is followed by at least two labels (`*.contoso.com`
//! yes; `*.com`, `f*.contoso.com`, `a.*.contoso.com` never).

use crate::CertError;

/// Checks that `name` is a DNS host name (no IP address, no wildcard) and lower-cases it.
pub fn validate_connector_name(name: &str) -> Result<String, CertError> {
    let bad = |reason: &'static str| CertError::BadConnectorName {
        name: name.chars().take(80).collect(),
        reason,
    };
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() || trimmed.len() > 253 {
        return Err(bad("a DNS name has 1 to 253 characters"));
    }
    let labels: Vec<&str> = trimmed.split('.').collect();
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err(bad("each part between dots has 1 to 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad("only letters, digits, hyphens and dots are allowed"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("a part cannot start or end with a hyphen"));
        }
    }
    if labels
        .last()
        .is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad(
            "it looks like an IP address; servers must use the connector's DNS name",
        ));
    }
    Ok(trimmed.to_ascii_lowercase())
}

/// Whether certificate name `pattern` covers `host` (already validated and lower-case).
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern
        .strip_suffix('.')
        .unwrap_or(pattern)
        .to_ascii_lowercase();
    if !pattern.is_ascii() {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(base) => {
            // The wildcard must be followed by at least two labels and by no other `*`.
            if base.contains('*') || !base.contains('.') || base.split('.').any(str::is_empty) {
                return false;
            }
            match host.split_once('.') {
                Some((first, rest)) => !first.is_empty() && rest == base,
                None => false,
            }
        }
        None => !pattern.contains('*') && pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_names_match_case_insensitively() {
        assert!(name_matches("RMS.Contoso.com", "rms.contoso.com"));
        assert!(name_matches("rms.contoso.com.", "rms.contoso.com"));
        assert!(!name_matches("rms.contoso.com", "rms2.contoso.com"));
    }

    #[test]
    fn wildcard_covers_exactly_one_label() {
        assert!(name_matches("*.contoso.com", "rms.contoso.com"));
        assert!(!name_matches("*.contoso.com", "a.rms.contoso.com"));
        assert!(!name_matches("*.contoso.com", "contoso.com"));
    }

    #[test]
    fn wildcards_browsers_refuse_never_match() {
        assert!(!name_matches("*.com", "contoso.com"));
        assert!(!name_matches("r*.contoso.com", "rms.contoso.com"));
        assert!(!name_matches("rms.*.com", "rms.contoso.com"));
        assert!(!name_matches("*.*.com", "a.contoso.com"));
        assert!(!name_matches("*", "rms"));
    }

    #[test]
    fn connector_name_is_validated_and_lowercased() {
        assert_eq!(
            validate_connector_name("RMS.Contoso.com").expect("valid"),
            "rms.contoso.com"
        );
        for bad in [
            "",
            "*.contoso.com",
            "10.0.0.1",
            "rms contoso",
            "-rms.contoso.com",
            "a..b",
        ] {
            assert!(validate_connector_name(bad).is_err(), "{bad:?}");
        }
    }
}

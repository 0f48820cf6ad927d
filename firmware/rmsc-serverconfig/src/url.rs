//! Validation of the connector and tenant URLs that end up inside generated scripts.
//!
//! Everything that reaches a script passes through here, and only `scheme://dns-name` is
//! accepted: letters, digits, hyphens and dots. That alphabet cannot close a PowerShell or
//! .reg string literal, start a variable or command substitution, or break a line, so the
//! generators need no quoting rules beyond the defensive ones they also apply.

use std::fmt;

use crate::ConfigError;

/// How servers reach the connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP (port 80): works, but the caller's traffic is readable on the wire.
    Http,
    /// HTTPS (port 443): recommended.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl std::str::FromStr for Scheme {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        match text.to_ascii_lowercase().as_str() {
            "http" => Ok(Scheme::Http),
            "https" => Ok(Scheme::Https),
            _ => Err(ConfigError::UnsupportedScheme(sanitize(text))),
        }
    }
}

/// A validated `scheme://host` with no port, path, query or credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUrl {
    scheme: Scheme,
    host: String,
}

impl ServiceUrl {
    /// Builds the URL from a scheme and a DNS host name (`field` names it in errors).
    pub fn new(scheme: Scheme, host: &str, field: &'static str) -> Result<Self, ConfigError> {
        let host = validate_dns_name(host, field)?;
        Ok(ServiceUrl { scheme, host })
    }

    /// Parses `http://host` or `https://host` (one trailing `/` tolerated).
    pub fn parse(text: &str, field: &'static str) -> Result<Self, ConfigError> {
        reject_script_characters(text, field)?;
        let (scheme, rest) = text
            .split_once("://")
            .ok_or(ConfigError::NotAUrl { field })?;
        let scheme: Scheme = scheme.parse()?;
        let host = rest.strip_suffix('/').unwrap_or(rest);
        Self::new(scheme, host, field)
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host name, lower case.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `<url>/_wmcs/certification`.
    pub fn certification(&self) -> String {
        format!("{self}/_wmcs/certification")
    }

    /// `<url>/_wmcs/licensing`.
    pub fn licensing(&self) -> String {
        format!("{self}/_wmcs/licensing")
    }
}

impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)
    }
}

/// Characters that could end a string or start an expansion in PowerShell or a .reg file.
const SCRIPT_CHARACTERS: &[char] = &[
    '"', '\'', '`', '$', '\\', ';', '&', '|', '(', ')', '{', '}', '[', ']', '<', '>', '@', '#',
    '%', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}',
];

/// Names the first dangerous character, so the error says exactly what to remove.
fn reject_script_characters(text: &str, field: &'static str) -> Result<(), ConfigError> {
    match text
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || SCRIPT_CHARACTERS.contains(c))
    {
        Some(ch) => Err(ConfigError::ForbiddenCharacter { field, ch }),
        None => Ok(()),
    }
}

/// Returns the lower-cased name if it is a DNS host name (not an IP address).
fn validate_dns_name(name: &str, field: &'static str) -> Result<String, ConfigError> {
    reject_script_characters(name, field)?;
    let bad = |reason: &'static str| ConfigError::NotADnsName { field, reason };
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if name.len() > 253 {
        return Err(bad("it is longer than 253 characters"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Err(bad(
                "it has an empty label (two dots in a row, or a dot at an end)",
            ));
        }
        if label.len() > 63 {
            return Err(bad("a label is longer than 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad(
                "only letters, digits, hyphens and dots are allowed (use the punycode form of international names)",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("a label starts or ends with a hyphen"));
        }
    }
    let last = labels.last().copied().unwrap_or_default();
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConfigError::IpAddress { field });
    }
    Ok(name.to_ascii_lowercase())
}

/// Keeps rejected input printable and short in error messages.
fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(20)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_https_url_is_accepted_and_lowercased() {
        let url = ServiceUrl::parse("https://RMSConnector.Contoso.com/", "connector").expect("ok");
        assert_eq!(url.to_string(), "https://rmsconnector.contoso.com");
        assert_eq!(
            url.licensing(),
            "https://rmsconnector.contoso.com/_wmcs/licensing"
        );
    }

    #[test]
    fn single_label_intranet_name_is_accepted() {
        assert!(ServiceUrl::new(Scheme::Http, "rmsconnector", "connector").is_ok());
    }

    #[test]
    fn injection_characters_are_named_in_the_error() {
        for (input, ch) in [
            ("https://a.contoso.com\"; calc", '"'),
            ("https://a.contoso.com'+(iex x)+'", '\''),
            ("https://a`whoami`.contoso.com", '`'),
            ("https://$(Remove-Item C:).contoso.com", '$'),
            ("https://a.contoso.com\r\n[HKEY_LOCAL_MACHINE]", '\r'),
            ("https://a.contoso.com\n", '\n'),
            ("https://a.contoso.com\\x", '\\'),
            ("https://a\u{2019}.contoso.com", '\u{2019}'),
        ] {
            assert_eq!(
                ServiceUrl::parse(input, "connector"),
                Err(ConfigError::ForbiddenCharacter {
                    field: "connector",
                    ch
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn ports_paths_and_credentials_are_refused() {
        for input in [
            "https://a.contoso.com:444",
            "https://a.contoso.com/_wmcs",
            "https://user:pw@a.contoso.com",
            "https://a.contoso.com?x=1",
            "ftp://a.contoso.com",
            "a.contoso.com",
            "https://",
            "https://a..contoso.com",
            "https://-a.contoso.com",
            "https://a_b.contoso.com",
        ] {
            assert!(ServiceUrl::parse(input, "connector").is_err(), "{input}");
        }
    }

    #[test]
    fn ip_addresses_are_refused() {
        assert_eq!(
            ServiceUrl::parse("https://10.0.0.5", "connector"),
            Err(ConfigError::IpAddress { field: "connector" })
        );
    }

    #[test]
    fn overlong_names_are_refused() {
        let label = "a".repeat(64);
        assert!(ServiceUrl::new(Scheme::Https, &label, "connector").is_err());
        let long = vec!["abc"; 70].join(".");
        assert!(ServiceUrl::new(Scheme::Https, &long, "connector").is_err());
    }
}

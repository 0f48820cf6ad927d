//! The helper's requests: parsed by serde into a closed set of actions (unknown actions and
//! unknown fields are refused), then validated field by field. Network settings end up in a
//! `KEY=value` file that shell scripts read, so besides the syntax checks no value may hold a
//! control character (a newline would add a line of its own) or a quote.

use super::{HelperError, MAX_REQUEST_BYTES};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

/// resolv.conf uses at most three name servers (MAXNS in the C libraries).
pub const MAX_DNS: usize = 3;
/// More time servers than this only slows the first synchronisation.
pub const MAX_NTP: usize = 4;
/// Longest value of any text field (a full DNS name is at most 253 characters).
const MAX_FIELD_CHARS: usize = 253;

/// One thing the daemon may ask for; nothing outside this list exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Reboot,
    Shutdown,
    ApplyNetwork(NetworkRequest),
    EraseData,
}

/// How the appliance gets its IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    Dhcp,
    Static,
}

/// Network settings as the admin API validated them (validated again by the helper).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkRequest {
    pub mode: NetworkMode,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub prefix: Option<u8>,
    #[serde(default)]
    pub gateway: String,
    #[serde(default)]
    pub dns: Vec<String>,
    pub hostname: String,
    #[serde(default)]
    pub ntp: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    Reboot,
    Shutdown,
    ApplyNetwork,
    EraseData,
}

/// The request as it travels; `settings` belongs to `apply_network` only.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    settings: Option<NetworkRequest>,
}

impl Request {
    /// Parses and validates one request.
    pub fn parse(bytes: &[u8]) -> Result<Self, HelperError> {
        if bytes.len() > MAX_REQUEST_BYTES {
            return Err(HelperError::Invalid(format!(
                "a request is at most {MAX_REQUEST_BYTES} bytes"
            )));
        }
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|e| HelperError::Invalid(e.to_string()))?;
        let request = match (wire.action, wire.settings) {
            (Action::Reboot, None) => Request::Reboot,
            (Action::Shutdown, None) => Request::Shutdown,
            (Action::EraseData, None) => Request::EraseData,
            (Action::ApplyNetwork, Some(settings)) => Request::ApplyNetwork(settings),
            (Action::ApplyNetwork, None) => {
                return Err(HelperError::Invalid("apply_network needs settings".into()))
            }
            (_, Some(_)) => {
                return Err(HelperError::Invalid(
                    "settings belong to apply_network only".into(),
                ))
            }
        };
        if let Request::ApplyNetwork(settings) = &request {
            settings.validate()?;
        }
        Ok(request)
    }

    /// The bytes the client sends.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (action, settings) = match self {
            Request::Reboot => (Action::Reboot, None),
            Request::Shutdown => (Action::Shutdown, None),
            Request::EraseData => (Action::EraseData, None),
            Request::ApplyNetwork(s) => (Action::ApplyNetwork, Some(s.clone())),
        };
        // Serialising plain strings, numbers and enums cannot fail.
        serde_json::to_vec(&Wire { action, settings }).unwrap_or_default()
    }
}

fn invalid(field: &str, why: impl std::fmt::Display) -> HelperError {
    HelperError::Invalid(format!("{field}: {why}"))
}

/// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, 1-63
/// characters each, 253 in all, and not all digits at the end (that reads as an address).
pub fn is_host_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= MAX_FIELD_CHARS
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && !name
            .rsplit('.')
            .next()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
}

fn plain_text(field: &str, value: &str) -> Result<(), HelperError> {
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(invalid(field, "too long"));
    }
    if value
        .chars()
        .any(|c| c.is_control() || matches!(c, '"' | '\'' | '\\' | '=' | '$' | '`'))
    {
        return Err(invalid(
            field,
            "control characters and quotes are not allowed",
        ));
    }
    Ok(())
}

fn ipv4(field: &str, value: &str) -> Result<Ipv4Addr, HelperError> {
    value
        .parse::<Ipv4Addr>()
        .map_err(|_| invalid(field, format!("{value:?} is not an IPv4 address")))
}

impl NetworkRequest {
    /// Checks every field; the error names the first wrong one.
    pub fn validate(&self) -> Result<(), HelperError> {
        for (field, value) in [
            ("address", &self.address),
            ("gateway", &self.gateway),
            ("hostname", &self.hostname),
        ] {
            plain_text(field, value)?;
        }
        for value in &self.dns {
            plain_text("dns", value)?;
        }
        for value in &self.ntp {
            plain_text("ntp", value)?;
        }
        if !is_host_name(&self.hostname) {
            return Err(invalid("hostname", "not an RFC 1123 host name"));
        }
        if let Some(prefix) = self.prefix {
            if prefix > 32 {
                return Err(invalid("prefix", "must be 0 to 32"));
            }
        }
        if !self.address.is_empty() {
            ipv4("address", &self.address)?;
        }
        if !self.gateway.is_empty() {
            ipv4("gateway", &self.gateway)?;
        }
        if self.mode == NetworkMode::Static && (self.address.is_empty() || self.prefix.is_none()) {
            return Err(invalid(
                "address",
                "a static address needs an address and a prefix",
            ));
        }
        if self.dns.len() > MAX_DNS {
            return Err(invalid("dns", format!("at most {MAX_DNS} servers")));
        }
        if let Some(bad) = self.dns.iter().find(|d| d.parse::<IpAddr>().is_err()) {
            return Err(invalid("dns", format!("{bad:?} is not an IP address")));
        }
        if self.ntp.len() > MAX_NTP {
            return Err(invalid("ntp", format!("at most {MAX_NTP} servers")));
        }
        if let Some(bad) = self
            .ntp
            .iter()
            .find(|n| n.parse::<IpAddr>().is_err() && !is_host_name(n))
        {
            return Err(invalid(
                "ntp",
                format!("{bad:?} is neither a host name nor an IP address"),
            ));
        }
        Ok(())
    }

    /// The `KEY=value` file `usr/lib/rmsc/network` and `ntp` read (see `lib.sh`
    /// `network_setting`). Only call on validated settings.
    pub fn to_env(&self) -> String {
        let static_mode = self.mode == NetworkMode::Static;
        let pick = |value: &str| {
            if static_mode {
                value.to_owned()
            } else {
                String::new()
            }
        };
        let prefix = match (static_mode, self.prefix) {
            (true, Some(p)) => p.to_string(),
            _ => String::new(),
        };
        format!(
            "# Written by the system helper for the admin API; read by usr/lib/rmsc/network and ntp.\n\
             MODE={mode}\nADDRESS={address}\nPREFIX={prefix}\nGATEWAY={gateway}\nDNS={dns}\n\
             HOSTNAME={hostname}\nNTP=\"{ntp}\"\n",
            mode = if static_mode { "static" } else { "dhcp" },
            address = pick(&self.address),
            gateway = pick(&self.gateway),
            dns = self.dns.join(","),
            hostname = self.hostname,
            ntp = self.ntp.join(","),
        )
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;

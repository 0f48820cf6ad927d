//! Network settings of the appliance (DHCP or a static IPv4 address, DNS servers, host name,
//! NTP servers): validated field by field so the UI can mark the wrong one, stored, and
//! applied through [`crate::SystemControl`].

use crate::error::AdminError;
use crate::ops::Admin;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

const NETWORK_SETTING: &str = "appliance.network";
/// More servers than this is a typing mistake, not a configuration.
/// resolv.conf honours three name servers (MAXNS); the system helper refuses more, so the
/// form says so first. Time servers: four, as the helper allows.
const MAX_DNS: usize = 3;
const MAX_NTP: usize = 4;

/// How the appliance gets its address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressMode {
    #[default]
    Dhcp,
    Static,
}

/// The network settings, as the UI sends and shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSettings {
    pub mode: AddressMode,
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

fn invalid(field: &'static str, message: impl Into<String>) -> AdminError {
    AdminError::InvalidSetting {
        field,
        message: message.into(),
    }
}

/// The host-name rule the system helper checks again, so that both sides agree.
pub(crate) use rmsc_system::helper::is_host_name;

fn parse_v4(field: &'static str, text: &str, what: &str) -> Result<Ipv4Addr, AdminError> {
    text.trim().parse::<Ipv4Addr>().map_err(|_| {
        invalid(
            field,
            format!("Enter the {what} as an IPv4 address, such as 192.0.2.10."),
        )
    })
}

fn usable_host(address: Ipv4Addr) -> bool {
    !(address.is_unspecified()
        || address.is_loopback()
        || address.is_multicast()
        || address.is_broadcast()
        || address.is_link_local())
}

/// Checks and normalises the settings; the error names the first wrong field.
pub fn validate_network(mut s: NetworkSettings) -> Result<NetworkSettings, AdminError> {
    s.hostname = s.hostname.trim().to_ascii_lowercase();
    if !is_host_name(&s.hostname) {
        return Err(invalid(
            "hostname",
            "Enter a host name of letters, digits and hyphens, such as rmsc01.",
        ));
    }
    match s.mode {
        AddressMode::Dhcp => {
            s.address.clear();
            s.gateway.clear();
            s.prefix = None;
        }
        AddressMode::Static => {
            let address = parse_v4("address", &s.address, "IP address")?;
            if !usable_host(address) {
                return Err(invalid(
                    "address",
                    format!("{address} cannot be the appliance's address."),
                ));
            }
            let prefix = match s.prefix {
                Some(p @ 1..=32) => p,
                _ => {
                    return Err(invalid(
                        "prefix",
                        "Enter the prefix length, 1 to 32 (24 for 255.255.255.0).",
                    ))
                }
            };
            s.address = address.to_string();
            if !s.gateway.trim().is_empty() {
                let gateway = parse_v4("gateway", &s.gateway, "gateway")?;
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                if u32::from(gateway) & mask != u32::from(address) & mask || gateway == address {
                    return Err(invalid(
                        "gateway",
                        format!(
                            "The gateway {gateway} is not another address in {address}/{prefix}."
                        ),
                    ));
                }
                s.gateway = gateway.to_string();
            } else {
                s.gateway.clear();
            }
            if s.dns.is_empty() {
                return Err(invalid(
                    "dns",
                    "Enter at least one DNS server for a static address.",
                ));
            }
        }
    }
    s.dns = s
        .dns
        .iter()
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .collect();
    if s.dns.len() > MAX_DNS {
        return Err(invalid(
            "dns",
            format!("Enter at most {MAX_DNS} DNS servers."),
        ));
    }
    if let Some(bad) = s.dns.iter().find(|d| d.parse::<IpAddr>().is_err()) {
        return Err(invalid("dns", format!("{bad:?} is not an IP address.")));
    }
    s.ntp = s
        .ntp
        .iter()
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    if s.ntp.len() > MAX_NTP {
        return Err(invalid(
            "ntp",
            format!("Enter at most {MAX_NTP} time servers."),
        ));
    }
    if let Some(bad) = s
        .ntp
        .iter()
        .find(|n| n.parse::<IpAddr>().is_err() && !is_host_name(n))
    {
        return Err(invalid(
            "ntp",
            format!("{bad:?} is neither a host name nor an IP address."),
        ));
    }
    Ok(s)
}

impl Admin {
    /// The stored network settings (DHCP with the appliance name until set).
    pub fn network_settings(&self) -> Result<NetworkSettings, AdminError> {
        Ok(self
            .store
            .setting(NETWORK_SETTING)?
            .unwrap_or_else(|| NetworkSettings {
                hostname: self.config.appliance_name.to_ascii_lowercase(),
                ..NetworkSettings::default()
            }))
    }

    /// Validates, applies and stores network settings; nothing is stored when the system
    /// could not apply them.
    pub async fn set_network_settings(
        &self,
        settings: NetworkSettings,
        actor: &str,
    ) -> Result<NetworkSettings, AdminError> {
        let settings = validate_network(settings)?;
        let applied = settings.clone();
        self.system_call(move |system| system.apply_network(&applied))
            .await?;
        self.store.set_setting(NETWORK_SETTING, &settings).await?;
        let summary = match settings.mode {
            AddressMode::Dhcp => "DHCP".to_owned(),
            AddressMode::Static => format!("{}/{}", settings.address, settings.prefix.unwrap_or(0)),
        };
        self.record_change(
            actor,
            "network_settings",
            &format!(
                "changed the network settings ({summary}, host name {})",
                settings.hostname
            ),
        )
        .await;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn static_settings() -> NetworkSettings {
        NetworkSettings {
            mode: AddressMode::Static,
            address: "192.0.2.10".into(),
            prefix: Some(24),
            gateway: "192.0.2.1".into(),
            dns: vec!["192.0.2.53".into()],
            hostname: "RMSC01".into(),
            ntp: vec!["pool.ntp.org".into()],
        }
    }

    fn field_of(s: NetworkSettings) -> String {
        match validate_network(s) {
            Err(AdminError::InvalidSetting { field, .. }) => field.to_owned(),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn good_static_settings_are_normalised() {
        let s = validate_network(static_settings()).expect("valid");
        assert_eq!(s.hostname, "rmsc01");
        assert_eq!(s.prefix, Some(24));
    }

    #[test]
    fn dhcp_drops_the_static_fields() {
        let s = validate_network(NetworkSettings {
            mode: AddressMode::Dhcp,
            ..static_settings()
        })
        .expect("valid");
        assert!(s.address.is_empty() && s.gateway.is_empty() && s.prefix.is_none());
    }

    #[test]
    fn each_wrong_field_is_named() {
        let cases: Vec<(NetworkSettings, &str)> = vec![
            (
                NetworkSettings {
                    hostname: "bad_name".into(),
                    ..static_settings()
                },
                "hostname",
            ),
            (
                NetworkSettings {
                    hostname: "-x".into(),
                    ..static_settings()
                },
                "hostname",
            ),
            (
                NetworkSettings {
                    address: "300.1.1.1".into(),
                    ..static_settings()
                },
                "address",
            ),
            (
                NetworkSettings {
                    address: "127.0.0.1".into(),
                    ..static_settings()
                },
                "address",
            ),
            (
                NetworkSettings {
                    prefix: Some(33),
                    ..static_settings()
                },
                "prefix",
            ),
            (
                NetworkSettings {
                    prefix: None,
                    ..static_settings()
                },
                "prefix",
            ),
            (
                NetworkSettings {
                    gateway: "198.51.100.1".into(),
                    ..static_settings()
                },
                "gateway",
            ),
            (
                NetworkSettings {
                    dns: vec![],
                    ..static_settings()
                },
                "dns",
            ),
            (
                NetworkSettings {
                    dns: vec!["dns.contoso.com".into()],
                    ..static_settings()
                },
                "dns",
            ),
            (
                NetworkSettings {
                    ntp: vec!["bad host!".into()],
                    ..static_settings()
                },
                "ntp",
            ),
        ];
        for (settings, field) in cases {
            assert_eq!(field_of(settings), field);
        }
    }

    #[test]
    fn host_names_follow_rfc_1123() {
        assert!(is_host_name("rmsc01"));
        assert!(is_host_name("1rmsc.contoso.com"));
        assert!(!is_host_name("10.0.0.1"));
        assert!(!is_host_name(""));
        assert!(!is_host_name(&"a".repeat(64)));
    }
}

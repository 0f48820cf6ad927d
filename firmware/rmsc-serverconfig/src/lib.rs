//! Registry settings for Exchange, SharePoint and file servers, as .reg, PowerShell and Group Policy scripts.
//!
//! The appliance's version of the original connector's server configuration tool
//! (GenConnectorConfig.ps1): given the kind of server, the connector URL and the tenant's
//! cloud URL, it produces a file an administrator runs or imports on Windows. Every input is
//! validated down to `scheme://dns-name` first (see [`ServiceUrl`]), which is what makes
//! pasting it into scripts safe.

mod powershell;
mod reg;
mod settings;
mod url;

use std::fmt;

pub use settings::{registry_values, RegistryValue};
pub use url::{Scheme, ServiceUrl};

/// The kind of on-premises server to configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Exchange 2013 and later (the `v15` IRM keys, MSDRM and MSIPC).
    Exchange,
    /// SharePoint 2013 and later (MSIPC).
    SharePoint,
    /// Windows Server 2012 and later file servers with File Classification Infrastructure (MSDRM).
    FileServer,
}

impl Role {
    /// The name used in the admin API (`exchange`, `sharepoint`, `fileserver`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Exchange => "exchange",
            Role::SharePoint => "sharepoint",
            Role::FileServer => "fileserver",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Role::Exchange => "Exchange servers",
            Role::SharePoint => "SharePoint servers",
            Role::FileServer => "file servers with File Classification Infrastructure",
        }
    }

    /// What the administrator must do after the values are written.
    fn follow_up(self) -> Option<&'static str> {
        match self {
            Role::FileServer => Some(
                "Restart this server so that File Classification Infrastructure uses the connector.",
            ),
            Role::Exchange | Role::SharePoint => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        match text {
            "exchange" => Ok(Role::Exchange),
            "sharepoint" => Ok(Role::SharePoint),
            "fileserver" => Ok(Role::FileServer),
            _ => Err(ConfigError::UnknownRole),
        }
    }
}

/// The kind of file to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A .reg file for regedit / `reg import`.
    Reg,
    /// A PowerShell script run as administrator on each server.
    PowerShell,
    /// A PowerShell script that writes the values into a Group Policy object.
    GroupPolicy,
}

impl std::str::FromStr for Format {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        match text {
            "reg" => Ok(Format::Reg),
            "ps1" => Ok(Format::PowerShell),
            "gpo" => Ok(Format::GroupPolicy),
            _ => Err(ConfigError::UnknownFormat),
        }
    }
}

/// Why no file could be generated. Messages are for the administrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the {field} contains {ch:?}, which is not allowed in a host name and could change the generated script; enter only the DNS name")]
    ForbiddenCharacter { field: &'static str, ch: char },
    #[error("the {field} is not a valid DNS name: {reason}")]
    NotADnsName {
        field: &'static str,
        reason: &'static str,
    },
    #[error("the {field} is an IP address; servers must reach the connector by its DNS name, which the HTTPS certificate names")]
    IpAddress { field: &'static str },
    #[error(
        "the {field} must look like https://rmsconnector.contoso.com (scheme and host name only)"
    )]
    NotAUrl { field: &'static str },
    #[error("the scheme {0:?} is not supported; use http or https")]
    UnsupportedScheme(String),
    #[error("configuring {0} needs the tenant's cloud URL; register the connector first")]
    TenantUrlRequired(Role),
    #[error("the tenant URL must use https")]
    TenantNotHttps,
    #[error("unknown server role; use exchange, sharepoint or fileserver")]
    UnknownRole,
    #[error("unknown format; use reg, ps1 or gpo")]
    UnknownFormat,
}

impl ConfigError {
    /// A stable code for the admin API.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::TenantUrlRequired(_) => "not_registered",
            _ => "invalid_setting",
        }
    }
}

/// A generated file, ready to be sent as a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Suggested file name, e.g. `rms-connector-exchange.reg`.
    pub file_name: String,
    /// MIME type for the `content-type` header.
    pub content_type: &'static str,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// Parses the tenant's cloud URL (as `GetRmsoUri.aspx` returns it); https only.
pub fn parse_tenant_url(text: &str) -> Result<ServiceUrl, ConfigError> {
    let url = ServiceUrl::parse(text, "tenant URL")?;
    if url.scheme() != Scheme::Https {
        return Err(ConfigError::TenantNotHttps);
    }
    Ok(url)
}

/// Produces the configuration file for `role` in `format`.
///
/// `tenant` is required for Exchange and SharePoint (see [`registry_values`]).
pub fn generate(
    role: Role,
    format: Format,
    connector: &ServiceUrl,
    tenant: Option<&ServiceUrl>,
) -> Result<GeneratedFile, ConfigError> {
    let values = registry_values(role, connector, tenant)?;
    let title = format!(
        "Points {} at the RMS connector {connector}",
        role.description()
    );
    let base = format!("rms-connector-{}", role.as_str());
    let file = match format {
        Format::Reg => GeneratedFile {
            file_name: format!("{base}.reg"),
            content_type: "text/plain; charset=utf-16le",
            bytes: reg::encode_utf16le(&reg::render_text(&title, &values)),
        },
        Format::PowerShell => GeneratedFile {
            file_name: format!("{base}.ps1"),
            content_type: "text/plain; charset=utf-8",
            bytes: crlf(&powershell::render_local(&title, &values, role.follow_up())).into_bytes(),
        },
        Format::GroupPolicy => GeneratedFile {
            file_name: format!("{base}-gpo.ps1"),
            content_type: "text/plain; charset=utf-8",
            bytes: crlf(&powershell::render_gpo(&title, &values, role.follow_up())).into_bytes(),
        },
    };
    Ok(file)
}

/// Windows line ends, so the scripts look right in any Windows editor.
fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

#[cfg(test)]
mod tests;

//! The registry settings that point Exchange, SharePoint and file servers at this connector,
//! generated for the registered connector name and the tenant's cloud URL.

use crate::error::AdminError;
use crate::ops::Admin;
use rmsc_serverconfig::{ConfigError, Format, GeneratedFile, Role, Scheme, ServiceUrl};

fn refused(error: ConfigError) -> AdminError {
    match error.code() {
        "not_registered" => AdminError::NotRegistered,
        code => AdminError::Refused {
            code,
            message: crate::certificate::sentence(&error.to_string()),
        },
    }
}

impl Admin {
    /// The configuration file for `role` (`exchange`, `sharepoint`, `fileserver`) in `format`
    /// (`reg`, `ps1`, `gpo`) with the connector reached over `scheme` (`http`, `https`).
    pub fn server_config(
        &self,
        role: &str,
        format: &str,
        scheme: &str,
    ) -> Result<GeneratedFile, AdminError> {
        let role: Role = role.parse().map_err(refused)?;
        let format: Format = format.parse().map_err(refused)?;
        let scheme: Scheme = scheme.parse().map_err(refused)?;
        let registration = self
            .store
            .registration()?
            .ok_or(AdminError::NotRegistered)?;
        let connector = ServiceUrl::new(scheme, &registration.connector_name, "connector name")
            .map_err(refused)?;
        let tenant = rmsc_serverconfig::parse_tenant_url(&registration.rms_url).map_err(refused)?;
        rmsc_serverconfig::generate(role, format, &connector, Some(&tenant)).map_err(refused)
    }
}

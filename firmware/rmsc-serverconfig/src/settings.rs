//! The registry values each kind of server needs, from the original connector's
//! server-configuration script (see shared/reference/connector-facts.md).
//!
//! Every key, value name and value here is derived from validated URLs only, so the
//! output generators can treat them as trusted text.

use crate::url::ServiceUrl;
use crate::{ConfigError, Role};

/// MSDRM client (Exchange, FCI): where to find the certification and licensing services.
const MSDRM_ACTIVATION: &str =
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\MSDRM\ServiceLocation\Activation";
const MSDRM_PUBLISHING: &str =
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\MSDRM\ServiceLocation\EnterprisePublishing";
/// MSIPC client (Exchange, SharePoint): the same services, plus licensing redirection.
const MSIPC_CERTIFICATION: &str =
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\MSIPC\ServiceLocation\EnterpriseCertification";
const MSIPC_PUBLISHING: &str =
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\MSIPC\ServiceLocation\EnterprisePublishing";
const MSIPC_LICENSING_REDIRECTION: &str =
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\MSIPC\ServiceLocation\LicensingRedirection";
/// Exchange 2013 and later (version 15) IRM: tenant URL → connector URL redirections.
const EXCHANGE_CERTIFICATION_REDIRECTION: &str =
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\ExchangeServer\v15\IRM\CertificationServerRedirection";
const EXCHANGE_LICENSE_REDIRECTION: &str =
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\ExchangeServer\v15\IRM\LicenseServerRedirection";

/// One REG_SZ value to write under HKEY_LOCAL_MACHINE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryValue {
    /// Full key path starting with `HKEY_LOCAL_MACHINE\`.
    pub key: &'static str,
    /// Value name; `None` is the key's default value (`@` in .reg files).
    pub name: Option<String>,
    /// String data.
    pub data: String,
}

impl RegistryValue {
    fn default_value(key: &'static str, data: String) -> Self {
        RegistryValue {
            key,
            name: None,
            data,
        }
    }

    fn named(key: &'static str, name: String, data: String) -> Self {
        RegistryValue {
            key,
            name: Some(name),
            data,
        }
    }

    /// The key path with `HKLM\` instead of `HKEY_LOCAL_MACHINE\` (Group Policy cmdlets).
    pub fn short_key(&self) -> String {
        match self.key.strip_prefix("HKEY_LOCAL_MACHINE\\") {
            Some(rest) => format!("HKLM\\{rest}"),
            None => self.key.to_string(),
        }
    }
}

/// The registry values that point a server of `role` at `connector`.
///
/// `tenant` is the tenant's cloud URL (what `GetRmsoUri.aspx` answers); Exchange and
/// SharePoint redirect it to the connector, so for them it is required.
pub fn registry_values(
    role: Role,
    connector: &ServiceUrl,
    tenant: Option<&ServiceUrl>,
) -> Result<Vec<RegistryValue>, ConfigError> {
    let msdrm = || {
        vec![
            RegistryValue::default_value(MSDRM_ACTIVATION, connector.certification()),
            RegistryValue::default_value(MSDRM_PUBLISHING, connector.licensing()),
        ]
    };
    let msipc = |tenant: &ServiceUrl| {
        vec![
            RegistryValue::default_value(MSIPC_CERTIFICATION, connector.certification()),
            RegistryValue::default_value(MSIPC_PUBLISHING, connector.licensing()),
            RegistryValue::named(
                MSIPC_LICENSING_REDIRECTION,
                tenant.licensing(),
                connector.licensing(),
            ),
        ]
    };
    let values = match role {
        Role::Exchange => {
            let tenant = tenant.ok_or(ConfigError::TenantUrlRequired(role))?;
            let mut values = vec![
                RegistryValue::named(
                    EXCHANGE_CERTIFICATION_REDIRECTION,
                    tenant.certification(),
                    connector.certification(),
                ),
                RegistryValue::named(
                    EXCHANGE_LICENSE_REDIRECTION,
                    tenant.licensing(),
                    connector.licensing(),
                ),
            ];
            values.extend(msdrm());
            values.extend(msipc(tenant));
            values
        }
        Role::SharePoint => {
            let tenant = tenant.ok_or(ConfigError::TenantUrlRequired(role))?;
            msipc(tenant)
        }
        Role::FileServer => msdrm(),
    };
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::Scheme;

    fn connector() -> ServiceUrl {
        ServiceUrl::new(Scheme::Https, "rmsconnector.contoso.com", "connector").expect("valid")
    }

    fn tenant() -> ServiceUrl {
        ServiceUrl::new(
            Scheme::Https,
            "5c6bb73b-1038-4eec-863d-49bded473437.rms.na.aadrm.com",
            "tenant",
        )
        .expect("valid")
    }

    #[test]
    fn file_server_gets_only_msdrm_service_locations() {
        let values = registry_values(Role::FileServer, &connector(), None).expect("ok");
        assert_eq!(values.len(), 2);
        assert!(values
            .iter()
            .all(|v| v.key.contains(r"\MSDRM\") && v.name.is_none()));
    }

    #[test]
    fn exchange_redirects_tenant_urls_to_the_connector() {
        let values = registry_values(Role::Exchange, &connector(), Some(&tenant())).expect("ok");
        let redirection = values
            .iter()
            .find(|v| v.key.ends_with("LicenseServerRedirection"))
            .expect("present");
        assert_eq!(
            redirection.name.as_deref(),
            Some("https://5c6bb73b-1038-4eec-863d-49bded473437.rms.na.aadrm.com/_wmcs/licensing")
        );
        assert_eq!(
            redirection.data,
            "https://rmsconnector.contoso.com/_wmcs/licensing"
        );
        assert_eq!(values.len(), 7);
    }

    #[test]
    fn exchange_and_sharepoint_need_the_tenant_url() {
        for role in [Role::Exchange, Role::SharePoint] {
            assert_eq!(
                registry_values(role, &connector(), None),
                Err(ConfigError::TenantUrlRequired(role))
            );
        }
    }

    #[test]
    fn short_key_uses_hklm() {
        let values = registry_values(Role::FileServer, &connector(), None).expect("ok");
        assert_eq!(
            values[0].short_key(),
            r"HKLM\SOFTWARE\Microsoft\MSDRM\ServiceLocation\Activation"
        );
    }
}

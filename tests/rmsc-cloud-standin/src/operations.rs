//! What each SOAP operation answers. Simple but real: rights-account and licensor certificates
//! name the caller; issuance licenses record their owner and are signed by the tenant; a use
//! license is granted to the owner, or to any caller relayed with the Exchange (super-user)
//! role, and refused with the original service's exception otherwise.

use rmsc_contract::Role;
use rmsc_soap::{escape_xml, extract_text, Operation};
use time::format_description::well_known::Rfc3339;

use crate::signing::{open_blob, PayloadBuilder};
use crate::state::Tenant;

/// Exception type of a refused license request (the original service's name).
pub const NO_RIGHTS_EXCEPTION: &str =
    "Microsoft.RightsManagementServices.NoRightsForRequestedOperationException";
/// Exception type of a missing, forged or foreign issuance license.
pub const INVALID_LICENSE_EXCEPTION: &str =
    "Microsoft.RightsManagementServices.InvalidLicenseException";
/// Exception type of an operation the stand-in does not implement.
pub const UNSUPPORTED_EXCEPTION: &str =
    "Microsoft.RightsManagementServices.UnsupportedOperationException";

/// The on-premises caller as the connector asserted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    pub sid: String,
    pub role: Role,
}

/// A refusal, answered as a SOAP `Server` fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpFault {
    pub exception_type: &'static str,
    pub message: String,
}

fn fault(exception_type: &'static str, message: impl Into<String>) -> OpFault {
    OpFault {
        exception_type,
        message: message.into(),
    }
}

/// The two fixed templates every tenant publishes.
pub const TEMPLATES: [(&str, &str); 2] = [
    ("7a1c0f2e-5b1d-4c38-9a54-0c6f9f1d2a01", "Confidential"),
    (
        "7a1c0f2e-5b1d-4c38-9a54-0c6f9f1d2a02",
        "Highly Confidential",
    ),
];

fn base_payload(tenant: &Tenant, op: &Operation, caller: &Caller) -> PayloadBuilder {
    let issued_at = time::OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    PayloadBuilder::new()
        .field("tenant", &tenant.tenant_id)
        .field("operation", &op.label())
        .field("caller_account", &caller.account)
        .field("caller_sid", &caller.sid)
        .field("role", caller.role.as_str())
        .field("issued_at", &issued_at)
}

/// The signed issuance license carried by a request, checked against the tenant key.
fn issuance_license(tenant: &Tenant, body: &[u8]) -> Result<crate::signing::SignedAnswer, OpFault> {
    let blob = extract_text(body, "IssuanceLicense").ok_or_else(|| {
        fault(
            INVALID_LICENSE_EXCEPTION,
            "the request carries no IssuanceLicense",
        )
    })?;
    let license = open_blob(&blob, tenant.key.public_bytes()).map_err(|e| {
        fault(
            INVALID_LICENSE_EXCEPTION,
            format!("the issuance license is not valid: {e}"),
        )
    })?;
    if license.get("kind") != Some("issuance_license")
        || license.get("tenant") != Some(tenant.tenant_id.as_str())
    {
        return Err(fault(
            INVALID_LICENSE_EXCEPTION,
            "the issuance license was not issued by this tenant",
        ));
    }
    Ok(license)
}

/// Who asks for a license: `<Requester>` if present, else the relayed caller.
fn requester(body: &[u8], caller: &Caller) -> String {
    extract_text(body, "Requester")
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| caller.account.clone())
}

/// Whether `requester` may use content owned by `owner`: `Some(super_user)` when allowed.
fn may_use(owner: &str, requester: &str, role: Role) -> Option<bool> {
    if owner.eq_ignore_ascii_case(requester) {
        Some(false)
    } else if role.is_super_user() {
        Some(true)
    } else {
        None
    }
}

/// The inner XML of the operation's `<OpResult>`: the signed elements plus any
/// operation-specific elements.
pub fn answer(
    tenant: &Tenant,
    op: &Operation,
    caller: &Caller,
    body: &[u8],
) -> Result<String, OpFault> {
    let payload = base_payload(tenant, op, caller);
    let license_id = uuid::Uuid::new_v4().to_string();
    let (payload, extra) = match op.name {
        "Certify" | "Activate" | "Precertify" => (
            payload
                .field("kind", "rights_account_certificate")
                .field("subject", &caller.account)
                .field("certificate_id", &license_id)
                .field("valid_days", "365"),
            String::new(),
        ),
        "GetLicensorCertificate" | "GetClientLicensorCert" => (
            payload
                .field(
                    "kind",
                    if op.name == "GetClientLicensorCert" {
                        "client_licensor_certificate"
                    } else {
                        "licensor_certificate"
                    },
                )
                .field("subject", &caller.account)
                .field("certificate_id", &license_id),
            String::new(),
        ),
        "AcquireIssuanceLicense" => {
            let owner = extract_text(body, "Owner")
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .unwrap_or_else(|| caller.account.clone());
            let payload = payload
                .field("kind", "issuance_license")
                .field("license_id", &license_id)
                .field("owner", &owner)
                .finish();
            let extra = format!(
                "<IssuanceLicense>{}</IssuanceLicense>",
                tenant.key.blob(payload.as_bytes())
            );
            return Ok(format!(
                "{}{extra}",
                tenant.key.signed_elements(payload.as_bytes())
            ));
        }
        "AcquireLicense" | "AcquirePreLicense" => {
            let license = issuance_license(tenant, body)?;
            let owner = license.get("owner").unwrap_or_default().to_owned();
            let requester = requester(body, caller);
            let super_user = may_use(&owner, &requester, caller.role).ok_or_else(|| {
                fault(
                    NO_RIGHTS_EXCEPTION,
                    format!("{requester} has no rights to content owned by {owner}"),
                )
            })?;
            (
                payload
                    .field(
                        "kind",
                        if op.name == "AcquireLicense" {
                            "use_license"
                        } else {
                            "pre_license"
                        },
                    )
                    .field("license_id", &license_id)
                    .field(
                        "issuance_license_id",
                        license.get("license_id").unwrap_or_default(),
                    )
                    .field("owner", &owner)
                    .field("requester", &requester)
                    .field("super_user", if super_user { "true" } else { "false" }),
                String::new(),
            )
        }
        "EditIssuanceLicense" => {
            let license = issuance_license(tenant, body)?;
            let owner = license.get("owner").unwrap_or_default().to_owned();
            let requester = requester(body, caller);
            let super_user = may_use(&owner, &requester, caller.role).ok_or_else(|| {
                fault(
                    NO_RIGHTS_EXCEPTION,
                    format!("{requester} may not edit content owned by {owner}"),
                )
            })?;
            let payload = payload
                .field("kind", "issuance_license")
                .field("license_id", &license_id)
                .field(
                    "previous_license_id",
                    license.get("license_id").unwrap_or_default(),
                )
                .field("owner", &owner)
                .field("edited_by", &requester)
                .field("super_user", if super_user { "true" } else { "false" })
                .finish();
            let extra = format!(
                "<IssuanceLicense>{}</IssuanceLicense>",
                tenant.key.blob(payload.as_bytes())
            );
            return Ok(format!(
                "{}{extra}",
                tenant.key.signed_elements(payload.as_bytes())
            ));
        }
        "AcquireTemplates" | "AcquireTemplateInformation" => {
            let mut payload = payload
                .field("kind", "templates")
                .field("template_count", &TEMPLATES.len().to_string());
            let mut extra = String::from("<Templates>");
            for (i, (id, name)) in TEMPLATES.iter().enumerate() {
                payload = payload
                    .field(&format!("template_{}_id", i + 1), id)
                    .field(&format!("template_{}_name", i + 1), name);
                extra.push_str(&format!(
                    "<Template><Id>{id}</Id><Name>{}</Name></Template>",
                    escape_xml(name)
                ));
            }
            extra.push_str("</Templates>");
            (payload, extra)
        }
        "FindServiceLocationsForUser" => {
            let cert = format!("{}/_wmcs/certification", tenant.rms_url);
            let lic = format!("{}/_wmcs/licensing", tenant.rms_url);
            let extra = format!(
                "<ServiceLocations><ServiceLocation><Type>EnterpriseCertification</Type><URL>{}</URL></ServiceLocation>\
                 <ServiceLocation><Type>EnterprisePublishing</Type><URL>{}</URL></ServiceLocation></ServiceLocations>",
                escape_xml(&cert),
                escape_xml(&lic)
            );
            (
                payload
                    .field("kind", "service_locations")
                    .field("certification_url", &cert)
                    .field("licensing_url", &lic),
                extra,
            )
        }
        "GetServerInfo" => (
            payload
                .field("kind", "server_info")
                .field("server_version", "1.0.0.0")
                .field("rms_url", &tenant.rms_url)
                .field("display_name", &tenant.display_name),
            String::new(),
        ),
        other => {
            return Err(fault(
                UNSUPPORTED_EXCEPTION,
                format!("{other} is not implemented by the stand-in"),
            ))
        }
    };
    let payload = payload.finish();
    Ok(format!(
        "{}{extra}",
        tenant.key.signed_elements(payload.as_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_may_use_their_content_and_only_exchange_is_super_user() {
        assert_eq!(
            may_use("CONTOSO\\alice", "contoso\\ALICE", Role::SharePoint),
            Some(false)
        );
        assert_eq!(
            may_use("CONTOSO\\alice", "CONTOSO\\alice", Role::Exchange),
            Some(false)
        );
        assert_eq!(
            may_use("CONTOSO\\alice", "CONTOSO\\bob", Role::Exchange),
            Some(true)
        );
        assert_eq!(
            may_use("CONTOSO\\alice", "CONTOSO\\bob", Role::SharePoint),
            None
        );
        assert_eq!(
            may_use("CONTOSO\\alice", "CONTOSO\\bob", Role::FileServer),
            None
        );
    }
}

//! The directory the stand-in pretends to be: tenants and their users, with a default fixture
//! that covers every sign-in outcome, loadable from (and overridable by) a JSON file.

use serde::{Deserialize, Serialize};

/// Administrative role of a cloud user. Only these three may set up a connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminRole {
    GlobalAdmin,
    RmsGlobalAdmin,
    ConnectorAdmin,
}

/// One cloud user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFixture {
    /// Sign-in name (UPN), matched case-insensitively.
    pub upn: String,
    pub password: String,
    /// Administrative role, `None` for content users.
    #[serde(default)]
    pub role: Option<AdminRole>,
    /// Whether sign-in needs a second factor (then the password grant is refused).
    #[serde(default)]
    pub mfa_required: bool,
    /// The fixed one-time code the device page accepts for this user.
    #[serde(default)]
    pub mfa_code: Option<String>,
    /// `false` for cloud-only accounts.
    #[serde(default = "yes")]
    pub synchronized: bool,
    /// Onboarding control: `false` means the tenant's onboarding policy excludes this user.
    #[serde(default = "yes")]
    pub may_protect: bool,
}

/// One tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantFixture {
    /// Short name used by the lib API and `standin.json` (e.g. `contoso`).
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    /// Fixed tenant id (a UUID); a random one is made when absent.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Whether the protection service is activated.
    #[serde(default = "yes")]
    pub activated: bool,
    #[serde(default)]
    pub users: Vec<UserFixture>,
}

/// Every tenant the stand-in serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fixture {
    pub tenants: Vec<TenantFixture>,
}

fn yes() -> bool {
    true
}

/// Password of the contoso global administrator: it holds every character the original
/// connector mishandled, so clients are forced to encode form bodies properly.
pub const ADMIN_PASSWORD: &str = "Adm1n&<>\"'pass";
/// Password of every other fixture user.
pub const DEFAULT_PASSWORD: &str = "Passw0rd!";
/// One-time code of `mfa@contoso.test`.
pub const MFA_CODE: &str = "424242";

fn user(upn: &str, role: Option<AdminRole>) -> UserFixture {
    UserFixture {
        upn: upn.to_owned(),
        password: DEFAULT_PASSWORD.to_owned(),
        role,
        mfa_required: false,
        mfa_code: None,
        synchronized: true,
        may_protect: true,
    }
}

impl Default for Fixture {
    fn default() -> Self {
        let mut admin = user("admin@contoso.test", Some(AdminRole::GlobalAdmin));
        admin.password = ADMIN_PASSWORD.to_owned();
        let mut mfa = user("mfa@contoso.test", Some(AdminRole::ConnectorAdmin));
        mfa.mfa_required = true;
        mfa.mfa_code = Some(MFA_CODE.to_owned());
        let mut cloud_only = user("cloudonly@contoso.test", Some(AdminRole::ConnectorAdmin));
        cloud_only.synchronized = false;
        let mut blocked = user("blocked@contoso.test", Some(AdminRole::ConnectorAdmin));
        blocked.may_protect = false;
        let contoso = TenantFixture {
            name: "contoso".to_owned(),
            display_name: "Contoso".to_owned(),
            tenant_id: None,
            activated: true,
            users: vec![
                admin,
                user("rmsadmin@contoso.test", Some(AdminRole::RmsGlobalAdmin)),
                user("connadmin@contoso.test", Some(AdminRole::ConnectorAdmin)),
                mfa,
                user("noroles@contoso.test", None),
                cloud_only,
                blocked,
                user("alice@contoso.test", None),
                user("bob@contoso.test", None),
            ],
        };
        let fabrikam = TenantFixture {
            name: "fabrikam".to_owned(),
            display_name: "Fabrikam".to_owned(),
            tenant_id: None,
            activated: false,
            users: vec![user("admin@fabrikam.test", Some(AdminRole::GlobalAdmin))],
        };
        Fixture {
            tenants: vec![contoso, fabrikam],
        }
    }
}

/// Why a fixture was refused.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("fixture is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("fixture has no tenants")]
    NoTenants,
    #[error("tenant name {0:?} appears twice")]
    DuplicateTenant(String),
    #[error("user {0:?} appears twice")]
    DuplicateUser(String),
    #[error("tenant {tenant:?} has an invalid tenant_id {id:?}")]
    BadTenantId { tenant: String, id: String },
    #[error("user {0:?} requires MFA but has no mfa_code")]
    MissingMfaCode(String),
}

impl Fixture {
    /// Parses and validates a fixture from JSON.
    pub fn from_json(text: &str) -> Result<Fixture, FixtureError> {
        let fixture: Fixture = serde_json::from_str(text)?;
        fixture.validate()?;
        Ok(fixture)
    }

    /// Checks what would otherwise surface as confusing sign-in failures later.
    pub fn validate(&self) -> Result<(), FixtureError> {
        if self.tenants.is_empty() {
            return Err(FixtureError::NoTenants);
        }
        let mut names = std::collections::HashSet::new();
        let mut upns = std::collections::HashSet::new();
        for tenant in &self.tenants {
            if !names.insert(tenant.name.to_ascii_lowercase()) {
                return Err(FixtureError::DuplicateTenant(tenant.name.clone()));
            }
            if let Some(id) = &tenant.tenant_id {
                if uuid::Uuid::parse_str(id).is_err() {
                    return Err(FixtureError::BadTenantId {
                        tenant: tenant.name.clone(),
                        id: id.clone(),
                    });
                }
            }
            for user in &tenant.users {
                if !upns.insert(user.upn.to_ascii_lowercase()) {
                    return Err(FixtureError::DuplicateUser(user.upn.clone()));
                }
                if user.mfa_required && user.mfa_code.is_none() {
                    return Err(FixtureError::MissingMfaCode(user.upn.clone()));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_fixture_is_valid_and_round_trips_through_json() {
        let fixture = Fixture::default();
        fixture.validate().expect("default fixture valid");
        let json = serde_json::to_string(&fixture).expect("serialize");
        assert_eq!(Fixture::from_json(&json).expect("parse"), fixture);
    }

    #[test]
    fn minimal_json_gets_sensible_defaults() {
        let fixture = Fixture::from_json(
            r#"{"tenants":[{"name":"t","users":[{"upn":"a@t","password":"p","role":"connector_admin"}]}]}"#,
        )
        .expect("parse");
        let user = &fixture.tenants[0].users[0];
        assert!(fixture.tenants[0].activated);
        assert!(user.synchronized && user.may_protect && !user.mfa_required);
        assert_eq!(user.role, Some(AdminRole::ConnectorAdmin));
    }

    #[test]
    fn duplicate_users_and_bad_ids_are_refused() {
        let dup = r#"{"tenants":[{"name":"t","users":[{"upn":"a@t","password":"p"},{"upn":"A@t","password":"q"}]}]}"#;
        assert!(matches!(
            Fixture::from_json(dup),
            Err(FixtureError::DuplicateUser(_))
        ));
        let bad_id = r#"{"tenants":[{"name":"t","tenant_id":"nope"}]}"#;
        assert!(matches!(
            Fixture::from_json(bad_id),
            Err(FixtureError::BadTenantId { .. })
        ));
        let mfa = r#"{"tenants":[{"name":"t","users":[{"upn":"a@t","password":"p","mfa_required":true}]}]}"#;
        assert!(matches!(
            Fixture::from_json(mfa),
            Err(FixtureError::MissingMfaCode(_))
        ));
        assert!(matches!(
            Fixture::from_json("{\"tenants\":[]}"),
            Err(FixtureError::NoTenants)
        ));
    }
}

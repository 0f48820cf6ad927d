//! Wire types of the upstream contract: what the connector and the cloud service say to each
//! other. `docs/upstream-contract.md` is the prose version of this file; the cloud stand-in
//! and the connector's cloud client both compile against these types, so they cannot drift.
//!
//! Everything here is plain data with serde derives: no I/O, no policy.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// URL paths of the control plane, relative to the cloud base URL.
pub mod paths {
    /// OAuth 2.0 token endpoint (password grant and device-code grant), form-encoded.
    pub const TOKEN: &str = "/oauth2/token";
    /// OAuth 2.0 device authorization endpoint (RFC 8628), form-encoded.
    pub const DEVICE_CODE: &str = "/oauth2/devicecode";
    /// Browser page where an administrator enters the user code.
    pub const DEVICE_VERIFY: &str = "/device";
    /// Tenant discovery (bearer token).
    pub const TENANT: &str = "/api/v1/tenant";
    /// Connector registrations: `POST` registers (bearer), `GET` lists.
    pub const CONNECTORS: &str = "/api/v1/connectors";
    /// The tenant's authorized-server list (`GET` with long-poll, `PUT` with If-Match).
    pub const AUTHORIZED_SERVERS: &str = "/api/v1/authorized-servers";
    /// The configuration a connector's appliances share, sealed with their group key
    /// (`GET` with long-poll, `PUT` of the next generation; mutual TLS only).
    pub const SHARED_CONFIGURATION: &str = "/api/v1/shared-configuration";
    /// Join requests of appliances pairing with a connector, filed under an id derived from
    /// the pairing code.
    pub const JOIN_REQUESTS: &str = "/api/v1/join-requests";

    /// Path of one join request (`PUT` files it, `GET` reads it with its answer).
    pub fn join_request(id: &str) -> String {
        format!("{JOIN_REQUESTS}/{id}")
    }
    /// Path of a join request's answer (`PUT`, mutual TLS).
    pub fn join_answer(id: &str) -> String {
        format!("{JOIN_REQUESTS}/{id}/answer")
    }

    /// Path of one registration (`DELETE` deregisters).
    pub fn connector(id: &str) -> String {
        format!("{CONNECTORS}/{id}")
    }
    /// Path that renews one registration's certificate from a fresh CSR (mutual TLS).
    pub fn connector_renew(id: &str) -> String {
        format!("{CONNECTORS}/{id}/renew")
    }
    /// Path where a registered connector reports that it is alive (mutual TLS).
    pub fn connector_heartbeat(id: &str) -> String {
        format!("{CONNECTORS}/{id}/heartbeat")
    }
}

/// Grant type names of the token endpoint.
pub mod grant {
    pub const PASSWORD: &str = "password";
    pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
}

/// OAuth client id the connector presents; the cloud uses it only for auditing.
pub const CLIENT_ID: &str = "rms-connector-appliance";

/// Headers by which a connector asserts the identity of the on-premises caller it relays.
/// The cloud honours them only on a mutual-TLS connection from a registered connector and
/// ignores (strips) them on any other connection.
pub mod caller_headers {
    /// Account name as `DOMAIN\name` (computer accounts end in `$`).
    pub const ACCOUNT: &str = "x-rms-caller-account";
    /// The caller's own SID, `S-1-5-21-...`.
    pub const SID: &str = "x-rms-caller-sid";
    /// Role of the authorized entry that matched: `exchange`, `sharepoint`, `fileserver`.
    pub const ROLE: &str = "x-rms-caller-role";
    /// Which authorized entry matched (its SID, or its account name when it has no SID).
    pub const MATCHED_ENTRY: &str = "x-rms-caller-matched-entry";
}

/// Stable machine-readable error codes of the control plane. The connector maps each to a
/// message an administrator can act on; the names never change once published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// User name or password is wrong (any characters are allowed in a password).
    InvalidCredentials,
    /// The account requires multi-factor sign-in: use the device-code grant.
    MfaRequired,
    /// The account holds none of: global admin, RMS global admin, connector administrator.
    MissingRole,
    /// Onboarding controls are on and this account may not protect content.
    OnboardingBlocked,
    /// The tenant's protection service is not activated.
    ProtectionNotActivated,
    /// The account is cloud-only; it must be synchronized from on-premises AD.
    AccountNotSynchronized,
    /// Device-code grant: the user has not finished at the verification page yet.
    AuthorizationPending,
    /// Device-code grant: polling faster than the advertised interval.
    SlowDown,
    /// Device-code grant: the code expired before the user finished.
    ExpiredToken,
    /// Device-code grant: the user declined at the verification page.
    AccessDenied,
    /// Bearer token missing, expired or unknown.
    InvalidToken,
    /// Client certificate missing, unknown, expired or revoked.
    UnknownConnector,
    /// If-Match did not match the current version: re-read and retry the edit.
    PreconditionFailed,
    /// The request is malformed.
    InvalidRequest,
    /// The named object does not exist.
    NotFound,
    /// The service failed; retrying later is safe.
    ServiceUnavailable,
}

impl ErrorCode {
    /// The wire spelling (also the serde spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::MfaRequired => "mfa_required",
            ErrorCode::MissingRole => "missing_role",
            ErrorCode::OnboardingBlocked => "onboarding_blocked",
            ErrorCode::ProtectionNotActivated => "protection_not_activated",
            ErrorCode::AccountNotSynchronized => "account_not_synchronized",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::UnknownConnector => "unknown_connector",
            ErrorCode::PreconditionFailed => "precondition_failed",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::NotFound => "not_found",
            ErrorCode::ServiceUnavailable => "service_unavailable",
        }
    }

    /// What an administrator should read and do, in one or two sentences.
    pub fn admin_message(self) -> &'static str {
        match self {
            ErrorCode::InvalidCredentials => "That user name and password combination is not correct.",
            ErrorCode::MfaRequired => "This account requires multi-factor sign-in. Use \"Sign in with a device code\" instead of a password.",
            ErrorCode::MissingRole => "This account is not a global administrator, a Rights Management global administrator or a connector administrator of the tenant. Assign it the ConnectorAdministrator role, or sign in with an account that has one.",
            ErrorCode::OnboardingBlocked => "Onboarding controls are enabled for the tenant and this account is not allowed to protect content. Add it to the group allowed by the onboarding policy, or use another account.",
            ErrorCode::ProtectionNotActivated => "The protection service is not activated for this tenant. Activate it, then sign in again.",
            ErrorCode::AccountNotSynchronized => "This account exists only in the cloud. The connector requires accounts synchronized from on-premises Active Directory.",
            ErrorCode::AuthorizationPending => "Waiting for the sign-in to be completed in the browser.",
            ErrorCode::SlowDown => "Waiting for the sign-in to be completed in the browser.",
            ErrorCode::ExpiredToken => "The sign-in code expired before sign-in was completed. Start again.",
            ErrorCode::AccessDenied => "The sign-in was declined in the browser.",
            ErrorCode::InvalidToken => "The sign-in session expired. Sign in again.",
            ErrorCode::UnknownConnector => "The cloud service does not recognise this connector's certificate. Register the appliance again.",
            ErrorCode::PreconditionFailed => "The authorized-server list changed meanwhile on another appliance.",
            ErrorCode::InvalidRequest => "The cloud service rejected the request as malformed.",
            ErrorCode::NotFound => "The cloud service does not know this object.",
            ErrorCode::ServiceUnavailable => "The cloud service is unavailable. Try again later.",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every control-plane error body: `{"error": "<code>", "error_description": "..."}`
/// (the OAuth 2.0 shape, used for every endpoint so clients need one parser).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudError {
    pub error: ErrorCode,
    #[serde(default)]
    pub error_description: String,
}

/// Successful token response of both grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// The signed-in account (UPN), for the audit trail.
    pub account: String,
}

/// Response of the device authorization endpoint (RFC 8628 section 3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCodeResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: u64,
    /// Minimum seconds between two polls of the token endpoint.
    pub interval: u64,
}

/// Tenant discovery answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantInfo {
    pub tenant_id: String,
    pub display_name: String,
    /// The tenant's public RMS URL (`https://<guid>.rms.<region>.aadrm.com`): what
    /// `GetRmsoUri.aspx` returns and what server registry settings are keyed by.
    pub rms_url: String,
    /// Base URL to which connectors relay SOAP calls (mutual TLS).
    pub relay_url: String,
    /// Whether the protection service is activated.
    pub activated: bool,
    /// Ed25519 public key (base64, 32 bytes) that signs every SOAP answer of the tenant.
    pub signing_key: String,
}

/// Registration of a new connector: the appliance sends only a CSR; its key never leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// The connector name callers use (the DNS name behind the load balancer).
    pub connector_name: String,
    /// This appliance's host name, shown in the cloud's list of connectors.
    pub appliance_name: String,
    /// Software version of the appliance.
    pub version: String,
    /// PKCS#10 certificate signing request, PEM.
    pub csr_pem: String,
}

/// Renewal of a registration: a fresh CSR over mutual TLS with the current certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewRequest {
    pub csr_pem: String,
}

/// The credential the cloud issues to a connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterResponse {
    pub connector_id: String,
    pub tenant_id: String,
    /// Client certificate, PEM.
    pub certificate_pem: String,
    /// CA that issued it (the cloud trusts connector certificates by this CA), PEM.
    pub ca_pem: String,
    /// Expiry of the certificate, Unix seconds.
    pub not_after: i64,
}

/// Heartbeat a registered connector sends so the tenant can list its appliances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub appliance_name: String,
    pub version: String,
    /// Address administrators browse to, if known.
    pub address: String,
    pub ready: bool,
}

/// One connector registration as the cloud lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    pub connector_id: String,
    pub connector_name: String,
    pub appliance_name: String,
    pub version: String,
    pub address: String,
    pub ready: bool,
    /// Unix seconds of the last heartbeat, 0 if none yet.
    pub last_seen: i64,
    pub not_after: i64,
}

/// Role an authorized entry grants. Exchange maps to the cloud's super-user role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Exchange,
    SharePoint,
    FileServer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Exchange, Role::SharePoint, Role::FileServer];

    /// The wire spelling, also used as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Exchange => "exchange",
            Role::SharePoint => "sharepoint",
            Role::FileServer => "fileserver",
        }
    }

    /// Whether callers with this role get the tenant's super-user rights.
    pub fn is_super_user(self) -> bool {
        matches!(self, Role::Exchange)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of the three.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown role {0:?}: expected exchange, sharepoint or fileserver")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "exchange" => Ok(Role::Exchange),
            "sharepoint" => Ok(Role::SharePoint),
            "fileserver" | "file-server" | "fci" => Ok(Role::FileServer),
            _ => Err(UnknownRole(s.to_owned())),
        }
    }
}

/// What kind of directory object an authorized entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A user or service account.
    #[default]
    Account,
    /// A computer account (`SERVERNAME$`).
    Computer,
    /// A security or distribution group.
    Group,
}

/// One entry of the tenant's authorized-server list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizedEntry {
    /// Account as `DOMAIN\name`, kept for display and for entries added without a SID.
    pub account: String,
    /// SID (`S-1-...`); matching prefers it because it survives renames.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default)]
    pub kind: EntryKind,
    pub role: Role,
    /// Who added the entry (administrator account), for the audit trail.
    #[serde(default)]
    pub added_by: String,
    /// When, Unix seconds.
    #[serde(default)]
    pub added_at: i64,
}

/// The tenant's authorized-server list with its version. Versions only grow; the HTTP
/// entity tag is the version in quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AuthorizedList {
    pub version: u64,
    pub entries: Vec<AuthorizedEntry>,
}

/// Body of a list write (`PUT` with `If-Match: "<version>"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizedListUpdate {
    pub entries: Vec<AuthorizedEntry>,
}

impl AuthorizedList {
    /// The HTTP entity tag of this version.
    pub fn etag(&self) -> String {
        etag_for(self.version)
    }
}

/// The entity tag of a list version: the decimal version in double quotes.
pub fn etag_for(version: u64) -> String {
    format!("\"{version}\"")
}

/// Parses an entity tag written by [`etag_for`]; weak tags (`W/`) are accepted.
pub fn parse_etag(tag: &str) -> Option<u64> {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// Longest long-poll wait the cloud honours, seconds (`?wait=N`).
pub const MAX_LONG_POLL_SECS: u64 = 30;

/// Names used inside signed SOAP answers of the cloud (see the contract document).
pub mod signed_answer {
    /// XML namespace of the signature elements the cloud adds inside each operation result.
    pub const NAMESPACE: &str = "urn:rms-connector-appliance:signed-answer";
    /// Element carrying the base64 payload that was signed.
    pub const PAYLOAD_ELEMENT: &str = "SignedPayload";
    /// Element carrying the base64 Ed25519 signature over the decoded payload bytes.
    pub const SIGNATURE_ELEMENT: &str = "Signature";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_round_trip_through_json() {
        for code in [
            ErrorCode::InvalidCredentials,
            ErrorCode::MfaRequired,
            ErrorCode::MissingRole,
            ErrorCode::OnboardingBlocked,
            ErrorCode::ProtectionNotActivated,
            ErrorCode::AccountNotSynchronized,
            ErrorCode::PreconditionFailed,
        ] {
            let json = serde_json::to_string(&code).expect("serialize");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, code);
        }
    }

    #[test]
    fn etags_round_trip_and_reject_garbage() {
        assert_eq!(parse_etag(&etag_for(42)), Some(42));
        assert_eq!(parse_etag("W/\"7\""), Some(7));
        assert_eq!(parse_etag("7"), None);
        assert_eq!(parse_etag("\"x\""), None);
    }

    #[test]
    fn roles_parse_case_insensitively() {
        assert_eq!("Exchange".parse::<Role>().ok(), Some(Role::Exchange));
        assert_eq!("FCI".parse::<Role>().ok(), Some(Role::FileServer));
        assert!("admin".parse::<Role>().is_err());
        assert!(Role::Exchange.is_super_user());
        assert!(!Role::SharePoint.is_super_user());
    }
}

/// A joining appliance's request, filed under the id its pairing code derives. Binary fields
/// are standard base64. The cloud cannot check the proof; the appliance showing the code does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    /// The joiner's one-time X25519 public key (32 bytes).
    pub public_key: String,
    /// HMAC-SHA256, under the code's MAC key, of `"join\0" || public_key`.
    pub proof: String,
    /// The joining appliance's name, for the administrator's list (not authenticated).
    #[serde(default)]
    pub appliance_name: String,
}

/// The answer of the appliance showing the pairing code: the group key and connector name,
/// encrypted to the joiner's key and MACed with the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinAnswer {
    /// The answering side's one-time X25519 public key.
    pub public_key: String,
    pub sealed: String,
    pub mac: String,
}

/// A join request as the cloud keeps it, with its answer once there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRecord {
    pub request_id: String,
    /// The signed-in account (bearer) or `connector:<id>` that filed it.
    pub requested_by: String,
    pub requested_at: i64,
    pub request: JoinRequest,
    #[serde(default)]
    pub answer: Option<JoinAnswer>,
    /// `connector:<id>` of the answering appliance.
    #[serde(default)]
    pub answered_by: Option<String>,
}

/// Join requests expire this long after they are filed.
pub const JOIN_REQUEST_TTL_SECS: u64 = 15 * 60;

/// The sealed shared configuration of a connector's appliances. `sealed` is standard base64 of
/// a random 12-byte nonce and the AES-256-GCM ciphertext with its tag, bound to `generation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedConfiguration {
    pub generation: u64,
    pub sealed: String,
    /// `connector:<id>` of the appliance that wrote it (filled by the cloud).
    #[serde(default)]
    pub updated_by: String,
    #[serde(default)]
    pub updated_at: i64,
}

/// `PUT` body: accepted only when `generation` is one more than the current one (0 when there
/// is none), so two appliances writing at once cannot overwrite each other unseen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedConfigurationUpdate {
    pub generation: u64,
    pub sealed: String,
}

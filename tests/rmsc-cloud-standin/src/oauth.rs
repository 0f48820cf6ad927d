//! The OAuth endpoints: `POST /oauth2/token` (password and device-code grants) and
//! `POST /oauth2/devicecode`, with the sign-in checks in the contract's precedence order.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rmsc_contract::{grant, paths, DeviceCodeResponse, ErrorCode, TokenResponse};
use serde::Deserialize;

use crate::context::Ctx;
use crate::http_util::{cloud_error, invalid_request, json};
use crate::state::{Device, DeviceStatus, TokenInfo, User};

/// Fields of a token request (form-encoded; unknown fields are ignored).
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    pub grant_type: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub device_code: Option<String>,
}

/// A random opaque secret (tokens, device codes).
pub fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Letters a person can read back without confusing them (no vowels, no I/O/0/1).
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

fn new_user_code() -> String {
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        let pick = usize::from(rand::random::<u8>()) % USER_CODE_ALPHABET.len();
        code.push(char::from(USER_CODE_ALPHABET[pick]));
    }
    code
}

/// A user code as typed by a person: case, dashes and spaces do not matter.
pub fn normalize_user_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The checks after the password (and MFA), in the contract's order.
pub fn admin_checks(user: &User) -> Result<(), ErrorCode> {
    if !user.fixture.synchronized {
        return Err(ErrorCode::AccountNotSynchronized);
    }
    if user.fixture.role.is_none() {
        return Err(ErrorCode::MissingRole);
    }
    if !user.tenant.activated() {
        return Err(ErrorCode::ProtectionNotActivated);
    }
    if !user.fixture.may_protect {
        return Err(ErrorCode::OnboardingBlocked);
    }
    Ok(())
}

/// The user if the password is right (compared in constant time, whatever its characters).
pub fn check_password<'a>(ctx: &'a Ctx, upn: &str, password: &str) -> Option<&'a User> {
    let user = ctx.state.user(upn)?;
    let expected = user.fixture.password.as_bytes();
    // Length leaks, content does not: enough for a stand-in, and no early exit on a mismatch.
    let same = expected.len() == password.len()
        && expected
            .iter()
            .zip(password.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then_some(user)
}

fn issue_token(ctx: &Ctx, user: &User) -> TokenResponse {
    let token = random_secret();
    let lifetime = ctx.config.token_lifetime_secs;
    ctx.state.registry().tokens.insert(
        token.clone(),
        TokenInfo {
            account: user.fixture.upn.clone(),
            tenant_id: user.tenant.tenant_id.clone(),
            expires_at: Instant::now() + Duration::from_secs(lifetime),
        },
    );
    TokenResponse {
        access_token: token,
        token_type: "Bearer".to_owned(),
        expires_in: lifetime,
        account: user.fixture.upn.clone(),
    }
}

/// The password grant.
pub fn password_grant(ctx: &Ctx, upn: &str, password: &str) -> Result<TokenResponse, ErrorCode> {
    let user = check_password(ctx, upn, password).ok_or(ErrorCode::InvalidCredentials)?;
    if user.fixture.mfa_required {
        return Err(ErrorCode::MfaRequired);
    }
    admin_checks(user)?;
    Ok(issue_token(ctx, user))
}

/// The device-code grant: one poll.
pub fn device_grant(ctx: &Ctx, device_code: &str) -> Result<TokenResponse, ErrorCode> {
    let now = Instant::now();
    let upn = {
        let mut registry = ctx.state.registry();
        let device = registry
            .devices
            .get_mut(device_code)
            .ok_or(ErrorCode::InvalidRequest)?;
        if device.expires_at <= now {
            let user_code = device.user_code.clone();
            registry.devices.remove(device_code);
            registry.user_codes.remove(&user_code);
            return Err(ErrorCode::ExpiredToken);
        }
        let interval = Duration::from_secs(device.interval_secs);
        let too_fast = device
            .last_poll
            .is_some_and(|last| now.duration_since(last) < interval);
        device.last_poll = Some(now);
        if too_fast {
            return Err(ErrorCode::SlowDown);
        }
        let outcome = match &device.status {
            DeviceStatus::Pending | DeviceStatus::AwaitingMfa { .. } => {
                return Err(ErrorCode::AuthorizationPending)
            }
            DeviceStatus::Denied => Err(ErrorCode::AccessDenied),
            DeviceStatus::Approved { upn } => Ok(upn.clone()),
        };
        // A finished authorization is used once, whatever its outcome.
        let user_code = device.user_code.clone();
        registry.devices.remove(device_code);
        registry.user_codes.remove(&user_code);
        outcome?
    };
    let user = ctx.state.user(&upn).ok_or(ErrorCode::InvalidCredentials)?;
    admin_checks(user)?;
    Ok(issue_token(ctx, user))
}

/// Starts a device authorization.
pub fn new_device_code(ctx: &Ctx) -> DeviceCodeResponse {
    let now = Instant::now();
    let lifetime = ctx.config.device_code_lifetime_secs;
    let interval = ctx.config.device_interval_secs;
    let device_code = random_secret();
    let mut registry = ctx.state.registry();
    // Forget abandoned authorizations so a long-running stand-in does not grow.
    let expired: Vec<String> = registry
        .devices
        .iter()
        .filter(|(_, d)| d.expires_at + Duration::from_secs(60) < now)
        .map(|(k, _)| k.clone())
        .collect();
    for key in expired {
        if let Some(device) = registry.devices.remove(&key) {
            registry.user_codes.remove(&device.user_code);
        }
    }
    let user_code = loop {
        let candidate = new_user_code();
        if !registry
            .user_codes
            .contains_key(&normalize_user_code(&candidate))
        {
            break candidate;
        }
    };
    registry
        .user_codes
        .insert(normalize_user_code(&user_code), device_code.clone());
    registry.devices.insert(
        device_code.clone(),
        Device {
            user_code: normalize_user_code(&user_code),
            expires_at: now + Duration::from_secs(lifetime),
            interval_secs: interval,
            last_poll: None,
            status: DeviceStatus::Pending,
        },
    );
    DeviceCodeResponse {
        device_code,
        user_code,
        verification_uri: format!("{}{}", ctx.base_url, paths::DEVICE_VERIFY),
        expires_in: lifetime,
        interval,
    }
}

fn oauth_error(code: ErrorCode) -> Response {
    cloud_error(StatusCode::BAD_REQUEST, code, code.admin_message())
}

/// `POST /oauth2/token`.
pub async fn token(
    State(ctx): State<Arc<Ctx>>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return invalid_request(
            "expected an application/x-www-form-urlencoded body with grant_type",
        );
    };
    let result = match form.grant_type.as_str() {
        grant::PASSWORD => match (form.username.as_deref(), form.password.as_deref()) {
            (Some(user), Some(password)) => password_grant(&ctx, user, password),
            _ => return invalid_request("username and password are required"),
        },
        grant::DEVICE_CODE => match form.device_code.as_deref() {
            Some(code) => device_grant(&ctx, code),
            None => return invalid_request("device_code is required"),
        },
        other => return invalid_request(format!("unsupported grant_type {other:?}")),
    };
    match result {
        Ok(token) => json(StatusCode::OK, &token),
        Err(ErrorCode::InvalidRequest) => invalid_request("unknown device_code"),
        Err(code) => oauth_error(code),
    }
}

/// `POST /oauth2/devicecode` (the form body, with `client_id`, is accepted and ignored).
pub async fn device_code(State(ctx): State<Arc<Ctx>>) -> Response {
    json(StatusCode::OK, &new_device_code(&ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_look_like_the_contract_says() {
        for _ in 0..50 {
            let code = new_user_code();
            assert_eq!(code.len(), 9);
            assert_eq!(code.as_bytes()[4], b'-');
            assert!(code
                .chars()
                .filter(|c| *c != '-')
                .all(|c| USER_CODE_ALPHABET.contains(&(c as u8))));
        }
        assert_eq!(normalize_user_code(" bcdf-ghjk "), "BCDFGHJK");
    }

    #[test]
    fn secrets_are_unique_and_url_safe() {
        let a = random_secret();
        assert_ne!(a, random_secret());
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}

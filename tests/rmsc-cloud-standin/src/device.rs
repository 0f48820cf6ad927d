//! The steps of the device verification page (RFC 8628 section 3.3) as plain functions over the
//! state, shared by the HTML page and by [`crate::RunningStandin::approve_device_code`].

use std::time::Instant;

use crate::context::Ctx;
use crate::oauth::{check_password, normalize_user_code};
use crate::state::{Device, DeviceStatus};

/// Why a step of the page failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("That code is not recognised. Check it and try again.")]
    UnknownCode,
    #[error("That code has expired. Start the sign-in again on the appliance.")]
    Expired,
    #[error("That code has already been used.")]
    Finished,
    #[error("That user name and password combination is not correct.")]
    BadCredentials,
    #[error("This account requires a one-time code.")]
    OtpRequired,
    #[error("That one-time code is not correct.")]
    BadOtp,
}

/// What follows a correct password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    Done,
    NeedsOtp,
}

fn with_device<R>(
    ctx: &Ctx,
    user_code: &str,
    step: impl FnOnce(&mut Device) -> Result<R, DeviceError>,
) -> Result<R, DeviceError> {
    let code = normalize_user_code(user_code);
    let mut registry = ctx.state.registry();
    let device_code = registry
        .user_codes
        .get(&code)
        .cloned()
        .ok_or(DeviceError::UnknownCode)?;
    let device = registry
        .devices
        .get_mut(&device_code)
        .ok_or(DeviceError::UnknownCode)?;
    if device.expires_at <= Instant::now() {
        return Err(DeviceError::Expired);
    }
    step(device)
}

fn open(device: &Device) -> Result<(), DeviceError> {
    match device.status {
        DeviceStatus::Pending | DeviceStatus::AwaitingMfa { .. } => Ok(()),
        DeviceStatus::Approved { .. } | DeviceStatus::Denied => Err(DeviceError::Finished),
    }
}

/// Checks that a code can still be used.
pub fn check_user_code(ctx: &Ctx, user_code: &str) -> Result<(), DeviceError> {
    with_device(ctx, user_code, |d| open(d))
}

/// User name and password step.
pub fn sign_in(
    ctx: &Ctx,
    user_code: &str,
    upn: &str,
    password: &str,
) -> Result<SignIn, DeviceError> {
    check_user_code(ctx, user_code)?;
    let user = check_password(ctx, upn, password).ok_or(DeviceError::BadCredentials)?;
    let upn = user.fixture.upn.clone();
    let needs_otp = user.fixture.mfa_required;
    with_device(ctx, user_code, |device| {
        open(device)?;
        if needs_otp {
            device.status = DeviceStatus::AwaitingMfa { upn };
            Ok(SignIn::NeedsOtp)
        } else {
            device.status = DeviceStatus::Approved { upn };
            Ok(SignIn::Done)
        }
    })
}

/// One-time code step, after a correct password.
pub fn submit_otp(ctx: &Ctx, user_code: &str, otp: &str) -> Result<(), DeviceError> {
    let upn = with_device(ctx, user_code, |device| match &device.status {
        DeviceStatus::AwaitingMfa { upn } => Ok(upn.clone()),
        DeviceStatus::Pending => Err(DeviceError::BadCredentials),
        _ => Err(DeviceError::Finished),
    })?;
    let expected = ctx
        .state
        .user(&upn)
        .and_then(|u| u.fixture.mfa_code.clone());
    if expected.as_deref() != Some(otp.trim()) {
        return Err(DeviceError::BadOtp);
    }
    with_device(ctx, user_code, |device| {
        if device.status != (DeviceStatus::AwaitingMfa { upn: upn.clone() }) {
            return Err(DeviceError::Finished);
        }
        device.status = DeviceStatus::Approved { upn };
        Ok(())
    })
}

/// The "Decline" button.
pub fn decline(ctx: &Ctx, user_code: &str) -> Result<(), DeviceError> {
    with_device(ctx, user_code, |device| {
        open(device)?;
        device.status = DeviceStatus::Denied;
        Ok(())
    })
}

/// Everything the page does, in one call (for tests without a browser).
pub fn approve(
    ctx: &Ctx,
    user_code: &str,
    upn: &str,
    password: &str,
    otp: Option<&str>,
) -> Result<(), DeviceError> {
    match sign_in(ctx, user_code, upn, password)? {
        SignIn::Done => Ok(()),
        SignIn::NeedsOtp => submit_otp(ctx, user_code, otp.ok_or(DeviceError::OtpRequired)?),
    }
}

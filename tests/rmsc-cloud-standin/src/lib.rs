//! The cloud stand-in: the upstream contract implemented locally for tests, benchmarks and the
//! demo. One HTTPS listener serves OAuth (password and device-code grants), the device page,
//! tenant discovery, connector registration, the authorized-server list and the mutual-TLS SOAP
//! relay with signed answers; `/_standin/*` adds a call record and fault injection.
//! `docs/upstream-contract.md` describes the contract.

mod auth;
mod authorized;
mod body;
pub mod calls;
mod config;
mod context;
mod control;
pub mod device;
mod device_page;
pub mod faults;
pub mod fixture;
mod handle;
mod http_util;
mod oauth;
pub mod operations;
mod registration;
mod relay;
mod router;
mod sample;
mod server;
mod sharing;
pub mod signing;
mod state;
pub mod tls;

pub use calls::{CallOutcome, CallRecord};
pub use config::StandinConfig;
pub use device::DeviceError;
pub use faults::{FaultMode, FaultPlan, FaultPlanError, FaultScope};
pub use fixture::{
    AdminRole, Fixture, TenantFixture, UserFixture, ADMIN_PASSWORD, DEFAULT_PASSWORD, MFA_CODE,
};
pub use handle::RunningStandin;
pub use operations::{INVALID_LICENSE_EXCEPTION, NO_RIGHTS_EXCEPTION};
pub use sample::{sample_headers, sample_request, sample_request_version};
pub use server::{base_url_for, Standin, StandinError};
pub use signing::{verify_blob, verify_signed_answer, SignedAnswer, VerifyError};

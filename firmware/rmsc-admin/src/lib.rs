//! Administration: the operations an administrator performs (cloud sign-in, registration,
//! the authorized-server list, status, events, the caller certificate, directory search,
//! server configuration files, backup and restore, appliance settings and maintenance) and
//! the JSON API that exposes them. The command line (over a local socket) and the web UI
//! call the same [`Admin`] operations.

mod api;
mod appliance;
mod backup;
mod cert_view;
mod certificate;
mod directory;
mod error;
mod handlers;
mod kerberos;
mod list_edit;
mod live_cert;
mod maintenance;
mod network;
mod ops;
mod pairing;
mod pairing_api;
mod proxy;
mod serverconfig;
mod sharing;
mod stats;

#[cfg(test)]
mod route_tests;
#[cfg(test)]
mod route_tests_backup;
#[cfg(test)]
mod route_tests_settings;
#[cfg(test)]
mod route_tests_tls;
#[cfg(test)]
mod test_support;

pub use api::{router, ACTOR_HEADER};
pub use appliance::{
    ApplianceControl, EraseOutcome, RecordingSystem, SystemAction, SystemControl, SystemError,
};
pub use backup::BackupFile;
pub use cert_view::{CertificateStatus, ChainEntry, ProblemEntry};
pub use certificate::{
    installed_caller_certificate, stored_caller_certificate, CertificateUpload, CsrCreated,
    INITIAL_CERT_SETTING, INITIAL_KEY_SECRET,
};
pub use directory::{DirectoryHit, DirectorySettings};
pub use error::AdminError;
pub use kerberos::{KerberosControl, KeytabStatus, MAX_KEYTAB_BYTES};
pub use list_edit::NewEntry;
pub use live_cert::LiveCertificate;
pub use maintenance::FACTORY_RESET_CONFIRMATION;
pub use network::{AddressMode, NetworkSettings};
pub use ops::{Admin, AdminConfig, DeviceSignIn, SignedIn, Status};
pub use pairing::{JoinOutcome, JoinedAppliance, PairingOffer, PairingStatus};
pub use proxy::{stored_proxy_route, ProxySettings, ProxyTest, ProxyUpdate};
pub use sharing::SharingStatus;
pub use stats::{ApplianceInfo, RequestStat, Stats};

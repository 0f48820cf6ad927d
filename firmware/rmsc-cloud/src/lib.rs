//! Everything that talks to the cloud service: TLS set-up (rustls, mutual TLS with the
//! connector certificate), the control-plane client (sign-in, discovery, registration, the
//! authorized list), the relay client (pooled keep-alive HTTPS), and the background tasks
//! that keep the authorized list current and the certificate renewed.
//!
//! Invariant: **only this crate opens connections to the cloud**.

mod client;
mod control;
mod credentials;
mod error;
mod proxy;
mod read_ahead;
mod relay;
mod sync;
mod tls;

pub use client::{Cloud, CloudOptions};
pub use control::{
    AnswerOutcome, ConnectorApi, ControlClient, DevicePoll, ListRead, ListWrite, SharedRead,
    SharedWrite,
};
pub use credentials::{new_connector_key, CsrBundle};
pub use error::{CloudCallError, CloudFailure};
pub use proxy::ProxyRoute;
/// Also used under the caller-side TLS by `rmsc-relay` (rustls reads 4 KB at a time there too).
pub use read_ahead::ReadAhead;
pub use relay::RelayClient;
pub use sync::{ListSync, SyncHealth, SyncOptions};
pub use tls::TlsMaterialError;

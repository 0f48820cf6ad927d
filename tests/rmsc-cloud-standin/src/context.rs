//! The shared context every handler gets: configuration, state, the connector CA, the call
//! record and the fault switch. Passed explicitly as axum state; there are no globals.

use bytes::Bytes;

use crate::calls::CallLog;
use crate::config::StandinConfig;
use crate::faults::FaultSwitch;
use crate::state::State;
use crate::tls::Authority;

/// Largest padding a request may ask for with `<StandinPadTo>`.
pub const MAX_PAD_BYTES: usize = 1024 * 1024;

pub struct Ctx {
    pub config: StandinConfig,
    pub state: State,
    pub connector_ca: Authority,
    pub connector_ca_pem: String,
    pub base_url: String,
    pub calls: CallLog,
    pub faults: FaultSwitch,
    /// One MiB of filler shared by every padded answer, sliced without copying.
    pub padding: Bytes,
}

//! The daemon's side of the helper socket: blocking calls (the daemon runs them on its
//! blocking pool), each one connection, bounded in time and in the answer's size.

use super::request::{NetworkRequest, Request};
use super::{HelperError, Response};
use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// Time for the whole exchange; the helper only writes a small file or sends a signal.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// An answer is a short JSON object.
const MAX_ANSWER_BYTES: u64 = 4 * 1024;

/// Talks to the system helper at `socket`.
#[derive(Debug, Clone)]
pub struct SystemHelperClient {
    pub socket: PathBuf,
}

impl SystemHelperClient {
    pub fn new(socket: PathBuf) -> Self {
        Self { socket }
    }

    pub fn reboot(&self) -> Result<(), HelperError> {
        self.call(&Request::Reboot)
    }

    pub fn shutdown(&self) -> Result<(), HelperError> {
        self.call(&Request::Shutdown)
    }

    pub fn erase_data(&self) -> Result<(), HelperError> {
        self.call(&Request::EraseData)
    }

    pub fn apply_network(&self, settings: &NetworkRequest) -> Result<(), HelperError> {
        self.call(&Request::ApplyNetwork(settings.clone()))
    }

    /// Sends one request and reads the answer; a refusal becomes [`HelperError::Refused`].
    pub fn call(&self, request: &Request) -> Result<(), HelperError> {
        let mut stream =
            UnixStream::connect(&self.socket).map_err(|source| HelperError::Unreachable {
                socket: self.socket.display().to_string(),
                source,
            })?;
        stream.set_read_timeout(Some(CALL_TIMEOUT))?;
        stream.set_write_timeout(Some(CALL_TIMEOUT))?;
        stream.write_all(&request.to_bytes())?;
        stream.shutdown(Shutdown::Write)?;
        // The helper answers a refused peer without reading its request; the kernel then
        // reports a reset after the answer, so what arrived before an error still counts.
        let mut answer = Vec::new();
        if let Err(error) = stream.take(MAX_ANSWER_BYTES + 1).read_to_end(&mut answer) {
            if answer.is_empty() {
                return Err(error.into());
            }
        }
        if answer.len() as u64 > MAX_ANSWER_BYTES {
            return Err(HelperError::BadAnswer("answer too long".into()));
        }
        let response: Response =
            serde_json::from_slice(&answer).map_err(|e| HelperError::BadAnswer(e.to_string()))?;
        if response.ok {
            Ok(())
        } else {
            Err(HelperError::Refused(
                response.error.unwrap_or_else(|| "refused".into()),
            ))
        }
    }
}

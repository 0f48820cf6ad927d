//! The relay client: forwards one caller request to the tenant's relay URL over the pooled,
//! keep-alive, mutual-TLS connections of the registered connector.

use crate::client::{CloudOptions, HttpClient};
use crate::control::classify;
use crate::error::{CloudCallError, CloudFailure};
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use std::sync::Arc;

/// Forwards SOAP calls to the cloud. Cheap to share: the pool lives in the client.
pub struct RelayClient {
    options: Arc<CloudOptions>,
    http: HttpClient,
    base: String,
}

impl RelayClient {
    pub(crate) fn new(options: Arc<CloudOptions>, http: HttpClient, relay_url: &str) -> Self {
        Self {
            options,
            http,
            base: relay_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Sends `body` to `<relay_url><path>` with `headers` and returns the response as soon as
    /// its headers arrive; the body streams from the returned response.
    ///
    /// A request that could not be sent at all (no connection) is retried once on a fresh
    /// connection: the cloud cannot have seen it. Anything else is not retried, because
    /// license requests are not idempotent from the cloud's point of view. `headers` builds
    /// the request headers for each attempt, so the usual single attempt copies nothing.
    pub async fn forward(
        &self,
        path: &str,
        headers: impl Fn() -> HeaderMap,
        body: Bytes,
    ) -> Result<Response<Incoming>, CloudCallError> {
        let uri = format!("{}{}", self.base, path);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = Request::builder()
                .method(Method::POST)
                .uri(&uri)
                .body(Full::new(body.clone()))
                .map_err(|e| CloudCallError::new("relay", CloudFailure::Protocol(e.to_string())))?;
            *request.headers_mut() = headers();
            let sent =
                tokio::time::timeout(self.options.response_timeout, self.http.request(request))
                    .await;
            let error = match sent {
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(e)) => CloudCallError::new("relay", classify(&e)),
                Err(_) => CloudCallError::new("relay", CloudFailure::Timeout),
            };
            if attempt >= 2 || !matches!(error.failure, CloudFailure::Connect(_)) {
                return Err(error);
            }
            tracing::debug!(%error, "relay connect failed; retrying once on a new connection");
        }
    }

    /// How long a response body may stay silent before the relay gives up.
    pub fn body_idle_timeout(&self) -> std::time::Duration {
        self.options.body_idle_timeout
    }
}

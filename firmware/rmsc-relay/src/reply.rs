//! Building responses for callers. Every refusal of a SOAP request is a SOAP fault with a
//! message that tells the caller's administrator what to fix, and never an internal detail.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use rmsc_soap::{fault, FaultKind, SoapVersion};

/// Body type of every caller response: a buffer, or the cloud's streamed answer.
pub type RelayBody = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

pub fn full(bytes: impl Into<Bytes>) -> RelayBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A plain (non-SOAP) answer.
pub fn text(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<RelayBody> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A SOAP fault answer.
pub struct Fault {
    pub status: StatusCode,
    pub kind: FaultKind,
    pub exception: &'static str,
    pub message: String,
    pub retry_after: Option<u32>,
    pub www_authenticate: Vec<HeaderValue>,
}

impl Fault {
    pub fn client(status: StatusCode, exception: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind: FaultKind::Client,
            exception,
            message: message.into(),
            retry_after: None,
            www_authenticate: Vec::new(),
        }
    }

    pub fn server(status: StatusCode, exception: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind: FaultKind::Server,
            exception,
            message: message.into(),
            retry_after: None,
            www_authenticate: Vec::new(),
        }
    }

    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn into_response(self, version: SoapVersion) -> Response<RelayBody> {
        let mut response = Response::new(full(fault(
            version,
            self.kind,
            self.exception,
            &self.message,
        )));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(version.content_type()),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        for value in self.www_authenticate {
            headers.append(WWW_AUTHENTICATE, value);
        }
        response
    }
}

//! Request dispatch on the caller ports: health probes, the GetRmsoUri page, help pages and
//! WSDL of every service, and SOAP calls. Paths under `/_wmcs/` are case-insensitive, as on IIS.

use crate::reply::{text, Fault, RelayBody};
use crate::server::ConnCtx;
use crate::soap_call;
use crate::state::RelayState;
use http::header::{ALLOW, HOST, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use rmsc_identity::AuthOutcome;
use rmsc_soap::{find_endpoint, help_page, wsdl, SoapVersion};
use std::sync::Arc;

const GET_RMSO_URI: &str = "/_wmcs/getrmsouri.aspx";

pub async fn dispatch(
    state: Arc<RelayState>,
    conn: Arc<ConnCtx>,
    request: Request<Incoming>,
) -> Response<RelayBody> {
    let path = request.uri().path().to_owned();
    match (request.method(), path.as_str()) {
        (&Method::GET, "/healthz") => {
            return text(StatusCode::OK, "text/plain; charset=utf-8", "ok\n")
        }
        (&Method::GET, "/readyz") => {
            let report = state.readiness.report();
            let status = if report.ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            return text(status, "application/json", report.to_json());
        }
        _ => {}
    }
    if path.eq_ignore_ascii_case(GET_RMSO_URI) {
        return get_rmso_uri(&state, &conn, &request).await;
    }
    let Some(endpoint) = path
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("/_wmcs/"))
        .and_then(|_| find_endpoint(&path))
    else {
        return text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "Not found.\n",
        );
    };
    match *request.method() {
        Method::POST => soap_call::handle(&state, &conn, endpoint, request).await,
        Method::GET => {
            let wants_wsdl = request
                .uri()
                .query()
                .is_some_and(|q| q.split('&').any(|p| p.eq_ignore_ascii_case("wsdl")));
            if wants_wsdl {
                let scheme = if conn.secure { "https" } else { "http" };
                let host = request
                    .headers()
                    .get(HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("localhost");
                let location = format!("{scheme}://{host}{}", endpoint.full_path());
                text(
                    StatusCode::OK,
                    "text/xml; charset=utf-8",
                    wsdl(endpoint, &location),
                )
            } else {
                text(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    help_page(endpoint),
                )
            }
        }
        _ => {
            let mut response = Fault::client(
                StatusCode::METHOD_NOT_ALLOWED,
                "System.Web.HttpException",
                "Use POST for SOAP calls or GET for the help page.",
            )
            .into_response(SoapVersion::V11);
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, POST"));
            response
        }
    }
}

/// `GET /_wmcs/GetRmsoUri.aspx`: the tenant's RMS URL, for Windows-authenticated callers
/// (the server-configuration script uses it).
async fn get_rmso_uri(
    state: &RelayState,
    conn: &ConnCtx,
    request: &Request<Incoming>,
) -> Response<RelayBody> {
    if request.method() != Method::GET {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "Use GET.\n",
        );
    }
    match state
        .identity
        .authenticate(request.headers(), &conn.auth)
        .await
    {
        AuthOutcome::Authenticated {
            response_header, ..
        } => {
            let url = state.store.registration().ok().flatten().map(|r| r.rms_url);
            let mut response = match url {
                Some(url) => text(StatusCode::OK, "text/plain; charset=utf-8", url),
                None => text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain; charset=utf-8",
                    "The connector is not registered yet.\n",
                ),
            };
            if let Some(token) = response_header {
                response.headers_mut().insert(WWW_AUTHENTICATE, token);
            }
            response
        }
        AuthOutcome::Refused {
            status,
            www_authenticate,
            reason,
        } => {
            let mut response = text(status, "text/plain; charset=utf-8", reason.caller_message());
            for value in www_authenticate {
                response.headers_mut().append(WWW_AUTHENTICATE, value);
            }
            response
        }
    }
}

//! A router over a fresh store, a manual clock and a stand-in for the connector API that
//! counts its calls and echoes the acting administrator.

use crate::{router, AdminAuth, AuthConfig, ConsoleEnv, ManualClock, PasswordCost, WebAdminState};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use http_body_util::BodyExt;
use rmsc_store::{EventFilter, EventRecord, Store};
use rmsc_telemetry::Events;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tower::ServiceExt;

pub(crate) const PASSWORD: &str = "a long enough password";

pub(crate) struct Harness {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) store: Store,
    pub(crate) auth: AdminAuth,
    pub(crate) console: ConsoleEnv,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) router: Router,
    /// How often the stand-in API's state-changing handler ran.
    pub(crate) calls: Arc<AtomicUsize>,
}

/// A signed-in browser: its cookie and CSRF token.
pub(crate) struct Browser {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) json: serde_json::Value,
}

impl Answer {
    pub(crate) fn error_code(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }
}

fn actor(headers: &HeaderMap) -> String {
    headers
        .get(crate::ACTOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn stand_in_api(calls: Arc<AtomicUsize>) -> Router {
    Router::new().route(
        "/api/v1/authorized",
        get(|headers: HeaderMap| async move { Json(serde_json::json!({ "actor": actor(&headers) })) })
            .post(move |headers: HeaderMap| {
                let calls = calls.clone();
                async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Json(serde_json::json!({ "actor": actor(&headers) }))
                }
            }),
    )
}

impl Harness {
    pub(crate) async fn new() -> Self {
        Self::with_config(AuthConfig {
            password_cost: PasswordCost::cheapest(),
            ..AuthConfig::default()
        })
        .await
    }

    pub(crate) async fn with_config(config: AuthConfig) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, _) = Store::open(dir.path()).expect("open store");
        let console = ConsoleEnv::new(dir.path());
        let clock = Arc::new(ManualClock::new());
        let auth = AdminAuth::start(
            store.clone(),
            Events::new(store.clone()),
            console.clone(),
            clock.clone(),
            config,
        )
        .await
        .expect("start auth");
        let calls = Arc::new(AtomicUsize::new(0));
        let router = router(
            WebAdminState::new(auth.clone()),
            stand_in_api(calls.clone()),
        );
        Harness {
            _dir: dir,
            store,
            auth,
            console,
            clock,
            router,
            calls,
        }
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Sends `request` as if from `client`.
    pub(crate) async fn send_from(&self, client: &str, mut request: Request<Body>) -> Answer {
        let addr: SocketAddr = client.parse().expect("client address");
        request.extensions_mut().insert(ConnectInfo(addr));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Answer {
            status,
            headers,
            json,
        }
    }

    pub(crate) async fn send(&self, request: Request<Body>) -> Answer {
        self.send_from("192.0.2.10:50000", request).await
    }

    /// Completes setup as `admin` and returns the signed-in browser.
    pub(crate) async fn set_up(&self) -> Browser {
        let code = self.auth.setup_code().expect("setup pending");
        let answer = self
            .send(json_request(
                Method::POST,
                "/api/v1/setup",
                serde_json::json!({ "setup_code": code, "username": "admin", "password": PASSWORD }),
                None,
            ))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
        browser_from(&answer)
    }

    pub(crate) fn admin_events(&self) -> Vec<EventRecord> {
        self.store
            .events(&EventFilter {
                id: Some(4002),
                limit: 1000,
                ..EventFilter::default()
            })
            .expect("events")
    }
}

/// The browser a sign-in answer leaves behind.
pub(crate) fn browser_from(answer: &Answer) -> Browser {
    let set_cookie = answer
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("set-cookie");
    let cookie = set_cookie
        .split(';')
        .next()
        .expect("cookie pair")
        .to_owned();
    Browser {
        cookie,
        csrf: answer.json["csrf_token"]
            .as_str()
            .expect("csrf token")
            .to_owned(),
    }
}

/// A request with a JSON body and, optionally, a browser's cookie (no CSRF header).
pub(crate) fn json_request(
    method: Method,
    uri: &str,
    body: serde_json::Value,
    browser: Option<&Browser>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(browser) = browser {
        builder = builder.header(header::COOKIE, browser.cookie.as_str());
    }
    builder.body(Body::from(body.to_string())).expect("request")
}

/// A request from `browser` carrying `csrf` (if any) in `x-csrf-token`.
pub(crate) fn with_csrf(mut request: Request<Body>, csrf: Option<&str>) -> Request<Body> {
    if let Some(token) = csrf {
        request.headers_mut().insert(
            crate::CSRF_HEADER,
            HeaderValue::from_str(token).expect("token"),
        );
    }
    request
}

pub(crate) fn get_request(uri: &str, browser: Option<&Browser>) -> Request<Body> {
    let mut builder = Request::builder().method(Method::GET).uri(uri);
    if let Some(browser) = browser {
        builder = builder.header(header::COOKIE, browser.cookie.as_str());
    }
    builder.body(Body::empty()).expect("request")
}

//! Test harness: an [`Admin`] over a real store in a temporary directory, a cloud client
//! that is never contacted, a recording system and a live caller certificate; plus a helper
//! that drives the router with `oneshot`, and certificate makers.

use crate::appliance::{ApplianceControl, RecordingSystem};
use crate::live_cert::LiveCertificate;
use crate::ops::{Admin, AdminConfig};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use rmsc_certs::Uploaded;
use rmsc_cloud::{Cloud, CloudOptions, ListSync, SyncOptions};
use rmsc_relay::Readiness;
use rmsc_store::{Registration, Secret, Store};
use rmsc_telemetry::{Events, Metrics};
use serde_json::Value;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;

pub(crate) const CONNECTOR: &str = "rmsconnector.contoso.com";

pub(crate) struct Harness {
    pub router: Router,
    pub store: Store,
    pub system: Arc<RecordingSystem>,
    pub live: Arc<LiveCertificate>,
    pub metrics: Metrics,
    _dir: tempfile::TempDir,
}

/// A self-signed certificate for `name`, made as if the clock read `now`.
pub(crate) fn self_signed_at(name: &str, now: OffsetDateTime) -> Uploaded {
    let (pem, key) = rmsc_certs::self_signed(name, now).expect("generate");
    rmsc_certs::complete_csr(pem.as_bytes(), &key).expect("read back")
}

pub(crate) fn self_signed(name: &str) -> Uploaded {
    self_signed_at(name, OffsetDateTime::now_utc())
}

/// A CA certificate and its key, for signing requests in tests.
pub(crate) fn test_ca() -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Contoso Test CA");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    params.not_after = OffsetDateTime::now_utc() + Duration::days(3650);
    let cert = params.self_signed(&key).expect("ca");
    (cert, key)
}

/// The PEM blocks of `pem` with the given label.
pub(crate) fn pem_blocks(pem: &str, label: &str) -> String {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = String::new();
    let mut rest = pem;
    while let Some(start) = rest.find(&begin) {
        let after = &rest[start..];
        let Some(stop) = after.find(&end) else { break };
        out.push_str(&after[..stop + end.len()]);
        out.push('\n');
        rest = &after[stop + end.len()..];
    }
    out
}

pub(crate) async fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = Store::open(dir.path()).expect("store");
    let events = Events::new(store.clone());
    let metrics = Metrics::new();
    let url = "https://127.0.0.1:1".parse().expect("url");
    let cloud = Arc::new(Cloud::new(CloudOptions::new(url)).expect("cloud"));
    let sync = ListSync::new(
        cloud.clone(),
        store.clone(),
        events.clone(),
        metrics.clone(),
        SyncOptions::default(),
    );
    let readiness = Arc::new(Readiness::new(cloud.clone(), sync.clone()));
    let admin = Admin::new(
        store.clone(),
        cloud,
        sync,
        events,
        readiness,
        AdminConfig {
            appliance_name: "rmsc01".into(),
            version: "test".into(),
        },
    );
    let system = Arc::new(RecordingSystem::new());
    let live = LiveCertificate::new(self_signed("initial.contoso.com")).expect("live");
    admin.attach_appliance(
        ApplianceControl::new(system.clone(), metrics.clone())
            .with_caller_certificate(live.clone())
            .with_directory(dir.path().join("directory.keytab"), Vec::new())
            .with_backup_kdf(rmsc_backup::KdfParams::MINIMAL),
    );
    let router = crate::api::router(admin.clone());
    Harness {
        router,
        store,
        system,
        live,
        metrics,
        _dir: dir,
    }
}

/// Stores a registration as if the appliance had registered (no cloud involved).
pub(crate) async fn register(store: &Store) {
    let registration = Registration {
        connector_id: "c-1".into(),
        tenant_id: "t-1".into(),
        connector_name: CONNECTOR.into(),
        cloud_url: "https://127.0.0.1:1".into(),
        rms_url: "https://t-1.rms.na.aadrm.com".into(),
        relay_url: "https://127.0.0.1:1/relay".into(),
        signing_key: String::new(),
        certificate_pem: String::new(),
        ca_pem: String::new(),
        key_pem: Secret::new(b"not a key".to_vec()),
        not_after: 0,
        registered_at: 0,
        registered_by: "admin@contoso.com".into(),
    };
    store
        .set_registration(&registration)
        .await
        .expect("register");
}

pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// Calls the router once, as the administrator "alice".
pub(crate) async fn call(router: &Router, method: &str, path: &str, body: Option<Value>) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(crate::api::ACTOR_HEADER, "alice");
    let body = match body {
        Some(json) => {
            request = request.header("content-type", "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let response = router
        .clone()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// Admin actions recorded with event 4002 and this action name.
pub(crate) fn audited(store: &Store, action: &str) -> usize {
    store
        .events(&rmsc_store::EventFilter {
            id: Some(4002),
            ..Default::default()
        })
        .expect("events")
        .iter()
        .filter(|e| e.fields.get("action").map(String::as_str) == Some(action))
        .count()
}

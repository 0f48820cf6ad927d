//! Fault injection: status, reset, stall and latency, by scope and count, on keep-alive
//! connections; the `/_standin/` endpoints themselves are never faulted.

mod common;

use std::time::{Duration, Instant};

use common::*;
use http::Method;
use rmsc_cloud_standin::{CallOutcome, CallRecord, FaultMode, FaultPlan, FaultScope};

const CERTIFY_PATH: &str = "certification/certification.asmx";

fn plan(scope: FaultScope, mode: FaultMode, remaining: Option<u32>) -> FaultPlan {
    FaultPlan {
        scope,
        mode,
        latency_ms: 0,
        remaining,
    }
}

async fn certify(
    c: &Registered,
    standin: &rmsc_cloud_standin::RunningStandin,
) -> Result<Resp, String> {
    let operation = op(CERTIFY_PATH, "Certify");
    let info = standin.tenant_info("contoso").expect("contoso");
    let action = format!("\"{}\"", operation.soap_action());
    let mut headers = caller(EXCHANGE.0, EXCHANGE.1, EXCHANGE.2);
    headers.push(("content-type", "text/xml; charset=utf-8"));
    headers.push(("soapaction", &action));
    c.client
        .try_send(
            Method::POST,
            &format!("{}/_wmcs/{CERTIFY_PATH}", info.relay_url),
            &headers,
            rmsc_cloud_standin::sample_request(operation, ""),
        )
        .await
}

#[tokio::test]
async fn status_faults_hit_their_scope_for_the_given_count() {
    let standin = start().await;
    let c = admin_connector(&standin).await;
    standin
        .set_faults(plan(FaultScope::Relay, FaultMode::Status(503), Some(2)))
        .expect("plan");
    // Control calls are outside the relay scope.
    assert_eq!(
        c.client.get("/api/v1/authorized-servers", &[]).await.status,
        200
    );
    for _ in 0..2 {
        let resp = certify(&c, &standin).await.expect("answered");
        assert_eq!(
            (resp.status, resp.error_code()),
            (503, "service_unavailable".to_owned())
        );
    }
    assert_eq!(certify(&c, &standin).await.expect("answered").status, 200);
    let outcomes: Vec<(CallOutcome, u16)> = standin
        .calls()
        .iter()
        .map(|c| (c.outcome, c.status))
        .collect();
    assert_eq!(
        outcomes,
        [
            (CallOutcome::Injected, 503),
            (CallOutcome::Injected, 503),
            (CallOutcome::Ok, 200)
        ]
    );

    standin
        .set_faults(plan(FaultScope::Control, FaultMode::Status(500), None))
        .expect("plan");
    let client = TestClient::new(&standin);
    let resp = client
        .form(
            "/oauth2/token",
            &[
                ("grant_type", "password"),
                ("username", ADMIN),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(resp.status, 500);
    assert_eq!(certify(&c, &standin).await.expect("answered").status, 200);
    standin.clear_faults();
    assert_eq!(
        c.client.get("/api/v1/authorized-servers", &[]).await.status,
        200
    );
    assert!(standin
        .set_faults(plan(FaultScope::All, FaultMode::Status(42), None))
        .is_err());
    standin.shutdown().await;
}

#[tokio::test]
async fn reset_drops_a_keep_alive_connection_without_an_answer() {
    let standin = start().await;
    let c = admin_connector(&standin).await;
    // The first call opens a pooled keep-alive connection that the reset then hits.
    assert_eq!(certify(&c, &standin).await.expect("answered").status, 200);
    standin
        .set_faults(plan(FaultScope::All, FaultMode::Reset, Some(1)))
        .expect("plan");
    assert!(
        certify(&c, &standin).await.is_err(),
        "reset must not answer"
    );
    assert_eq!(certify(&c, &standin).await.expect("answered").status, 200);
    let injected: Vec<CallRecord> = standin
        .calls()
        .into_iter()
        .filter(|c| c.outcome == CallOutcome::Injected)
        .collect();
    assert_eq!(injected.len(), 1);
    assert_eq!(injected[0].status, 0);
    assert_eq!(injected[0].caller_account, EXCHANGE.0);
    standin.shutdown().await;
}

#[tokio::test]
async fn stall_never_answers_and_shutdown_still_completes() {
    let standin = start().await;
    let c = admin_connector(&standin).await;
    standin
        .set_faults(plan(FaultScope::Relay, FaultMode::Stall, None))
        .expect("plan");
    let stalled = tokio::time::timeout(Duration::from_millis(500), certify(&c, &standin)).await;
    assert!(stalled.is_err(), "stall must not answer");
    // Control endpoints keep working meanwhile, and clearing the plan ends the stall for new calls.
    assert_eq!(
        c.client.get("/api/v1/authorized-servers", &[]).await.status,
        200
    );
    standin.clear_faults();
    assert_eq!(certify(&c, &standin).await.expect("answered").status, 200);
    // A call stalled at shutdown does not hold the shutdown up.
    standin
        .set_faults(plan(FaultScope::Relay, FaultMode::Stall, None))
        .expect("plan");
    let pending = {
        let client = c.client.clone();
        let info = standin.tenant_info("contoso").expect("contoso");
        tokio::spawn(async move {
            client
                .try_send(
                    Method::POST,
                    &format!("{}/_wmcs/{CERTIFY_PATH}", info.relay_url),
                    &[],
                    "x",
                )
                .await
        })
    };
    eventually(Duration::from_secs(5), || async {
        (standin
            .calls()
            .iter()
            .filter(|c| c.outcome == CallOutcome::Injected)
            .count()
            >= 2)
            .then_some(())
    })
    .await;
    let started = Instant::now();
    standin.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(pending.await.expect("task").is_err());
}

#[tokio::test]
async fn latency_delays_answers() {
    let standin = start().await;
    let c = admin_connector(&standin).await;
    standin
        .set_faults(FaultPlan {
            scope: FaultScope::Relay,
            mode: FaultMode::None,
            latency_ms: 300,
            remaining: Some(1),
        })
        .expect("plan");
    let started = Instant::now();
    assert_eq!(certify(&c, &standin).await.expect("answered").status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(certify(&c, &standin).await.expect("answered").status, 200);
    assert!(started.elapsed() < Duration::from_millis(300));
    standin.shutdown().await;
}

#[tokio::test]
async fn control_endpoints_set_faults_and_read_calls_and_are_never_faulted() {
    let standin = start().await;
    let c = admin_connector(&standin).await;
    let client = TestClient::new(&standin);
    let resp = client
        .send(
            Method::POST,
            "/_standin/faults",
            &[("content-type", "application/json")],
            r#"{"scope":"all","mode":{"status":503}}"#,
        )
        .await;
    assert_eq!(resp.status, 204);
    assert_eq!(client.get("/api/v1/tenant", &[]).await.status, 503);
    assert_eq!(certify(&c, &standin).await.expect("answered").status, 503);
    let plan: Option<FaultPlan> = client.get("/_standin/faults", &[]).await.json();
    assert_eq!(plan.map(|p| p.mode), Some(FaultMode::Status(503)));
    let calls: Vec<CallRecord> = client.get("/_standin/calls", &[]).await.json();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        client
            .send(Method::DELETE, "/_standin/faults", &[], "")
            .await
            .status,
        204
    );
    assert_eq!(certify(&c, &standin).await.expect("answered").status, 200);
    assert_eq!(
        client
            .send(Method::POST, "/_standin/calls/clear", &[], "")
            .await
            .status,
        204
    );
    assert!(standin.calls().is_empty());
    let bad = client
        .send(
            Method::POST,
            "/_standin/faults",
            &[("content-type", "application/json")],
            r#"{"mode":{"status":7}}"#,
        )
        .await;
    assert_eq!(bad.status, 400);
    let tenants: serde_json::Value = client.get("/_standin/tenants", &[]).await.json();
    assert_eq!(
        tenants["contoso"]["tenant_id"].as_str(),
        standin.tenant_id("contoso").as_deref()
    );
    standin.shutdown().await;
}

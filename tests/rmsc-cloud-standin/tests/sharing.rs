//! Join requests and the shared configuration: who may file, read and answer; single
//! answers; generation-checked writes with 412; the long-poll; bad bodies refused.

mod common;

use std::time::{Duration, Instant};

use common::*;
use http::Method;
use rmsc_contract::{
    JoinAnswer, JoinRecord, JoinRequest, SharedConfiguration, SharedConfigurationUpdate,
};

const ID: &str = "0123456789abcdef0123456789abcdef";
const SHARED: &str = "/api/v1/shared-configuration";
/// base64 of 32 bytes.
const KEY32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn join_path() -> String {
    format!("/api/v1/join-requests/{ID}")
}

#[tokio::test]
async fn a_join_request_is_filed_by_an_administrator_and_answered_once_by_a_connector() {
    let standin = start().await;
    let member = admin_connector(&standin).await;
    let joiner = TestClient::new(&standin);
    let auth = bearer(&token(&joiner, ADMIN, ADMIN_PASSWORD).await);
    let request = JoinRequest {
        public_key: KEY32.into(),
        proof: KEY32.into(),
        appliance_name: "appliance-2".into(),
    };
    assert_eq!(
        joiner
            .json(Method::PUT, &join_path(), &[], &request)
            .await
            .status,
        401
    );
    let bad = JoinRequest {
        public_key: "not base64!".into(),
        proof: KEY32.into(),
        appliance_name: String::new(),
    };
    let refused = joiner
        .json(Method::PUT, &join_path(), &[("authorization", &auth)], &bad)
        .await;
    assert_eq!(refused.status, 400);
    let bad_id = joiner
        .json(
            Method::PUT,
            "/api/v1/join-requests/NOTHEX",
            &[("authorization", &auth)],
            &request,
        )
        .await;
    assert_eq!(bad_id.status, 400);
    let filed = joiner
        .json(
            Method::PUT,
            &join_path(),
            &[("authorization", &auth)],
            &request,
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text());
    assert_eq!(filed.json::<JoinRecord>().requested_by, ADMIN);

    let seen = member.client.get(&join_path(), &[]).await;
    assert_eq!(seen.status, 200);
    assert!(seen.json::<JoinRecord>().answer.is_none());
    let answer = JoinAnswer {
        public_key: KEY32.into(),
        sealed: KEY32.into(),
        mac: KEY32.into(),
    };
    // Only a registered connector answers.
    let by_admin = joiner
        .json(
            Method::PUT,
            &format!("{}/answer", join_path()),
            &[("authorization", &auth)],
            &answer,
        )
        .await;
    assert_eq!(by_admin.status, 403, "{}", by_admin.text());
    let answered = member
        .client
        .json(
            Method::PUT,
            &format!("{}/answer", join_path()),
            &[],
            &answer,
        )
        .await;
    assert_eq!(answered.status, 200, "{}", answered.text());
    let again = member
        .client
        .json(
            Method::PUT,
            &format!("{}/answer", join_path()),
            &[],
            &answer,
        )
        .await;
    assert_eq!(again.status, 412);
    let record: JoinRecord = joiner
        .get(&join_path(), &[("authorization", &auth)])
        .await
        .json();
    assert_eq!(record.answer, Some(answer));
    assert!(record
        .answered_by
        .is_some_and(|by| by.starts_with("connector:")));
    let missing = member
        .client
        .get(
            "/api/v1/join-requests/ffffffffffffffffffffffffffffffff",
            &[],
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn shared_configuration_takes_only_the_next_generation_and_wakes_long_polls() {
    let standin = start().await;
    let a = admin_connector(&standin).await;
    let b = admin_connector(&standin).await;
    let none = a.client.get(SHARED, &[]).await;
    assert_eq!(none.status, 404);
    let admin = TestClient::new(&standin);
    let auth = bearer(&token(&admin, ADMIN, ADMIN_PASSWORD).await);
    assert_eq!(
        admin.get(SHARED, &[("authorization", &auth)]).await.status,
        403,
        "the shared configuration is for connectors only"
    );
    let write = |generation| SharedConfigurationUpdate {
        generation,
        sealed: KEY32.into(),
    };
    let skipped = a.client.json(Method::PUT, SHARED, &[], &write(2)).await;
    assert_eq!(skipped.status, 412);
    assert_eq!(skipped.header("etag").as_deref(), Some("\"0\""));
    let first = a.client.json(Method::PUT, SHARED, &[], &write(1)).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let stale = b.client.json(Method::PUT, SHARED, &[], &write(1)).await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.header("etag").as_deref(), Some("\"1\""));
    let empty = SharedConfigurationUpdate {
        generation: 2,
        sealed: String::new(),
    };
    assert_eq!(
        b.client.json(Method::PUT, SHARED, &[], &empty).await.status,
        400
    );

    let unchanged = b
        .client
        .get(&format!("{SHARED}?wait=0"), &[("if-none-match", "\"1\"")])
        .await;
    assert_eq!(unchanged.status, 304);
    // A long-poll on generation 1 wakes as soon as B writes generation 2.
    let waiting = {
        let client = TestClient::with_identity(&standin, &a.answer.certificate_pem, &a.key_pem);
        tokio::spawn(async move {
            let started = Instant::now();
            let resp = client
                .get(&format!("{SHARED}?wait=10"), &[("if-none-match", "\"1\"")])
                .await;
            (
                resp.status,
                resp.json::<SharedConfiguration>(),
                started.elapsed(),
            )
        })
    };
    // Whether the write lands before or during the wait, the answer is generation 2 at once.
    let second = b.client.json(Method::PUT, SHARED, &[], &write(2)).await;
    assert_eq!(second.status, 200);
    let (status, shared, waited) = waiting.await.expect("long-poll task");
    assert_eq!(status, 200);
    assert_eq!(shared.generation, 2);
    assert!(shared.updated_by.starts_with("connector:"));
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

//! The authorized-server list: initial state, If-Match writes, 412 on stale versions, and the
//! long-poll that wakes on change.

mod common;

use std::time::{Duration, Instant};

use common::*;
use http::Method;
use rmsc_contract::{AuthorizedEntry, AuthorizedList, AuthorizedListUpdate, EntryKind, Role};

const PATH: &str = "/api/v1/authorized-servers";

fn exchange_group() -> AuthorizedEntry {
    AuthorizedEntry {
        account: "CONTOSO\\Exchange Servers".into(),
        sid: Some("S-1-5-21-1-2-3-1107".into()),
        kind: EntryKind::Group,
        role: Role::Exchange,
        added_by: String::new(),
        added_at: 0,
    }
}

#[tokio::test]
async fn list_starts_empty_and_writes_need_the_current_version() {
    let standin = start().await;
    let client = TestClient::new(&standin);
    let auth = bearer(&token(&client, ADMIN, ADMIN_PASSWORD).await);
    let resp = client.get(PATH, &[("authorization", &auth)]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(
        resp.json::<AuthorizedList>(),
        AuthorizedList {
            version: 1,
            entries: vec![]
        }
    );
    assert_eq!(client.get(PATH, &[]).await.status, 401);

    let update = AuthorizedListUpdate {
        entries: vec![exchange_group()],
    };
    let no_match = client
        .json(Method::PUT, PATH, &[("authorization", &auth)], &update)
        .await;
    assert_eq!(no_match.status, 428);
    let written = client
        .json(
            Method::PUT,
            PATH,
            &[("authorization", &auth), ("if-match", "\"1\"")],
            &update,
        )
        .await;
    assert_eq!(written.status, 200, "{}", written.text());
    assert_eq!(written.header("etag").as_deref(), Some("\"2\""));
    let list: AuthorizedList = written.json();
    assert_eq!(list.version, 2);
    assert_eq!(list.entries[0].added_by, ADMIN);
    assert!(list.entries[0].added_at > 0);
    let stale = client
        .json(
            Method::PUT,
            PATH,
            &[("authorization", &auth), ("if-match", "\"1\"")],
            &update,
        )
        .await;
    assert_eq!(
        (stale.status, stale.error_code()),
        (412, "precondition_failed".to_owned())
    );
    assert_eq!(stale.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(
        standin.authorized_list("contoso").map(|l| l.version),
        Some(2)
    );

    let mut bad = exchange_group();
    bad.sid = Some("S-1-x".into());
    let resp = client
        .json(
            Method::PUT,
            PATH,
            &[("authorization", &auth), ("if-match", "\"2\"")],
            &AuthorizedListUpdate { entries: vec![bad] },
        )
        .await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (400, "invalid_request".to_owned())
    );
    let no_role = client
        .send(
            Method::PUT,
            PATH,
            &[
                ("authorization", &auth),
                ("if-match", "\"2\""),
                ("content-type", "application/json"),
            ],
            r#"{"entries":[{"account":"A"}]}"#,
        )
        .await;
    assert_eq!(no_role.status, 400);
    // Other tenants are separate.
    assert_eq!(
        standin.authorized_list("fabrikam").map(|l| l.version),
        Some(1)
    );
    standin.shutdown().await;
}

#[tokio::test]
async fn connectors_read_the_list_and_long_polls_wake_on_change() {
    let standin = start().await;
    let c = admin_connector(&standin).await;
    let resp = c.client.get(PATH, &[]).await;
    assert_eq!(resp.status, 200);
    // Unchanged and no wait: 304 at once.
    let resp = c.client.get(PATH, &[("if-none-match", "\"1\"")]).await;
    assert_eq!(
        (resp.status, resp.header("etag")),
        (304, Some("\"1\"".to_owned()))
    );
    // A stale tag gets the list at once.
    let resp = c
        .client
        .get(&format!("{PATH}?wait=30"), &[("if-none-match", "\"0\"")])
        .await;
    assert_eq!(resp.status, 200);

    let poller = c.client.clone();
    let started = Instant::now();
    let poll = tokio::spawn(async move {
        poller
            .get(&format!("{PATH}?wait=30"), &[("if-none-match", "\"1\"")])
            .await
    });
    // Change the list via the connector itself (mutual TLS PUT) once the poll is waiting.
    eventually(Duration::from_secs(5), || async {
        (started.elapsed() > Duration::from_millis(200)).then_some(())
    })
    .await;
    let update = AuthorizedListUpdate {
        entries: vec![exchange_group()],
    };
    let written = c
        .client
        .json(Method::PUT, PATH, &[("if-match", "\"1\"")], &update)
        .await;
    assert_eq!(written.status, 200);
    assert!(written.json::<AuthorizedList>().entries[0]
        .added_by
        .starts_with("connector:"));
    let woken = poll.await.expect("poll task");
    assert_eq!(woken.status, 200);
    assert_eq!(woken.json::<AuthorizedList>().version, 2);
    assert!(started.elapsed() < Duration::from_secs(10));

    // The lib API edit wakes polls too.
    let poller = c.client.clone();
    let poll = tokio::spawn(async move {
        poller
            .get(&format!("{PATH}?wait=30"), &[("if-none-match", "\"2\"")])
            .await
    });
    eventually(Duration::from_secs(5), || async {
        (started.elapsed() > Duration::from_millis(400)).then_some(())
    })
    .await;
    standin.set_authorized_list("contoso", vec![]).expect("set");
    assert_eq!(
        poll.await.expect("poll").json::<AuthorizedList>().version,
        3
    );
    standin.shutdown().await;
}

#[tokio::test]
async fn long_poll_answers_304_when_nothing_changes() {
    let standin = start().await;
    let c = admin_connector(&standin).await;
    let started = Instant::now();
    let resp = c
        .client
        .get(&format!("{PATH}?wait=1"), &[("if-none-match", "\"1\"")])
        .await;
    assert_eq!(resp.status, 304);
    assert!(started.elapsed() >= Duration::from_millis(900));
    let bad = c.client.get(&format!("{PATH}?wait=soon"), &[]).await;
    assert_eq!(bad.status, 400);
    standin.shutdown().await;
}

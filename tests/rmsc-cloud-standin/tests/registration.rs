//! Registration: certificates from CSRs, renewal over mutual TLS, expiry, listing,
//! heartbeats and deregistration.

mod common;

use std::time::Duration;

use common::*;
use http::Method;
use rmsc_contract::{ConnectorInfo, Heartbeat, RegisterResponse, RenewRequest};

#[tokio::test]
async fn expired_certificates_are_unknown_connectors_and_renewal_fixes_them() {
    let standin = start_with(|c| c.cert_validity_secs = 2).await;
    let c = admin_connector(&standin).await;
    let certify = op("certification/certification.asmx", "Certify");
    let path = "certification/certification.asmx";
    assert_eq!(
        relay(&c.client, &standin, path, certify, "", EXCHANGE, &[])
            .await
            .status,
        200
    );
    // Renew over mutual TLS while still valid.
    let (key_pem, csr_pem) = csr();
    let renew_path = format!("/api/v1/connectors/{}/renew", c.answer.connector_id);
    let resp = c
        .client
        .json(
            Method::POST,
            &renew_path,
            &[],
            &RenewRequest {
                csr_pem: csr_pem.clone(),
            },
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let renewed: RegisterResponse = resp.json();
    assert_eq!(renewed.connector_id, c.answer.connector_id);
    assert!(renewed.not_after >= c.answer.not_after);
    let renewed_client = TestClient::with_identity(&standin, &renewed.certificate_pem, &key_pem);
    assert_eq!(
        relay(&renewed_client, &standin, path, certify, "", EXCHANGE, &[])
            .await
            .status,
        200
    );
    // Renewal needs the connector's own certificate.
    let anonymous = TestClient::new(&standin);
    assert_eq!(
        anonymous
            .json(Method::POST, &renew_path, &[], &RenewRequest { csr_pem })
            .await
            .status,
        403
    );
    // Once expired, the old certificate still completes the handshake but is refused in JSON.
    eventually(Duration::from_secs(10), || async {
        let fresh = TestClient::with_identity(&standin, &c.answer.certificate_pem, &c.key_pem);
        let resp = relay(&fresh, &standin, path, certify, "", EXCHANGE, &[]).await;
        (resp.status == 403 && resp.error_code() == "unknown_connector").then_some(())
    })
    .await;
    standin.shutdown().await;
}

#[tokio::test]
async fn connectors_list_heartbeat_and_deregister() {
    let standin = start().await;
    let admin = TestClient::new(&standin);
    let token = token(&admin, ADMIN, ADMIN_PASSWORD).await;
    let auth = bearer(&token);
    let one = register(&standin, &admin, &token).await;
    let two = register(&standin, &admin, &token).await;
    let list: Vec<ConnectorInfo> = admin
        .get("/api/v1/connectors", &[("authorization", &auth)])
        .await
        .json();
    assert_eq!(list.len(), 2);
    let beat = Heartbeat {
        appliance_name: "node-a".into(),
        version: "0.2.0".into(),
        address: "https://10.0.0.5".into(),
        ready: true,
    };
    let path = format!("/api/v1/connectors/{}/heartbeat", one.answer.connector_id);
    assert_eq!(
        one.client
            .json(Method::POST, &path, &[], &beat)
            .await
            .status,
        204
    );
    // A connector cannot heartbeat for another.
    assert_eq!(
        two.client
            .json(Method::POST, &path, &[], &beat)
            .await
            .status,
        403
    );
    let list: Vec<ConnectorInfo> = one.client.get("/api/v1/connectors", &[]).await.json();
    let seen = list
        .iter()
        .find(|c| c.connector_id == one.answer.connector_id)
        .expect("listed");
    assert!(seen.ready && seen.last_seen > 0 && seen.appliance_name == "node-a");
    assert_eq!(standin.connectors("contoso").len(), 2);

    let del = format!("/api/v1/connectors/{}", two.answer.connector_id);
    assert_eq!(
        one.client.send(Method::DELETE, &del, &[], "").await.status,
        403
    );
    assert_eq!(
        two.client.send(Method::DELETE, &del, &[], "").await.status,
        204
    );
    assert_eq!(
        admin
            .send(Method::DELETE, &del, &[("authorization", &auth)], "")
            .await
            .status,
        404
    );
    let del_one = format!("/api/v1/connectors/{}", one.answer.connector_id);
    assert_eq!(
        admin
            .send(Method::DELETE, &del_one, &[("authorization", &auth)], "")
            .await
            .status,
        204
    );
    assert!(standin.connectors("contoso").is_empty());

    // Registration needs a bearer token and a real CSR.
    let bad = rmsc_contract::RegisterRequest {
        connector_name: "x".into(),
        appliance_name: "y".into(),
        version: "1".into(),
        csr_pem: "nope".into(),
    };
    assert_eq!(
        admin
            .json(Method::POST, "/api/v1/connectors", &[], &bad)
            .await
            .status,
        401
    );
    let resp = admin
        .json(
            Method::POST,
            "/api/v1/connectors",
            &[("authorization", &auth)],
            &bad,
        )
        .await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (400, "invalid_request".to_owned())
    );
    standin.shutdown().await;
}

//! Registration and the mutual-TLS relay: certificates, signed answers, super-user semantics,
//! refusals, gzip, padding and the call record.

mod common;

use common::*;
use http::Method;
use rmsc_cloud_standin::{verify_signed_answer, CallOutcome, NO_RIGHTS_EXCEPTION};
use rmsc_soap::extract_text;

const PUBLISH: &str = "licensing/publish.asmx";
const LICENSE: &str = "licensing/license.asmx";

fn key(standin: &rmsc_cloud_standin::RunningStandin) -> String {
    standin.tenant_info("contoso").expect("contoso").signing_key
}

/// Publishes content as `who` (owner from `<Owner>` if given) and returns the license blob.
async fn publish(
    standin: &rmsc_cloud_standin::RunningStandin,
    c: &Registered,
    who: (&'static str, &'static str, &'static str),
    owner: &str,
) -> String {
    let inner = if owner.is_empty() {
        String::new()
    } else {
        format!("<Owner>{owner}</Owner>")
    };
    let resp = relay(
        &c.client,
        standin,
        PUBLISH,
        op(PUBLISH, "AcquireIssuanceLicense"),
        &inner,
        who,
        &[],
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let answer = verify_signed_answer(&resp.body, &key(standin)).expect("signed");
    let expected_owner = if owner.is_empty() { who.0 } else { owner };
    assert_eq!(answer.get("owner"), Some(expected_owner));
    extract_text(&resp.body, "IssuanceLicense").expect("license blob")
}

#[tokio::test]
async fn registered_connector_relays_and_answers_are_signed() {
    let standin = start().await;
    let c = admin_connector(&standin).await;
    let tenant = standin.tenant_info("contoso").expect("contoso");
    assert_eq!(c.answer.tenant_id, tenant.tenant_id);
    assert_eq!(c.answer.ca_pem, standin.connector_ca_pem());
    let certify = op("certification/ServerCertification.asmx", "Certify");
    let resp = relay(
        &c.client,
        &standin,
        "Certification/SERVERcertification.asmx",
        certify,
        "",
        EXCHANGE,
        &[],
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(resp
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/xml"));
    let answer = verify_signed_answer(&resp.body, &tenant.signing_key).expect("verifies");
    assert_eq!(answer.get("tenant"), Some(tenant.tenant_id.as_str()));
    assert_eq!(
        answer.get("operation"),
        Some("CertificationService.Certify")
    );
    assert_eq!(answer.get("caller_account"), Some(EXCHANGE.0));
    assert_eq!(answer.get("caller_sid"), Some(EXCHANGE.1));
    assert_eq!(answer.get("role"), Some("exchange"));
    assert_eq!(answer.get("kind"), Some("rights_account_certificate"));
    assert!(answer.get("issued_at").is_some());
    // Another tenant's key does not verify it.
    let mut other = tenant.signing_key.clone().into_bytes();
    other[0] = if other[0] == b'A' { b'B' } else { b'A' };
    assert!(verify_signed_answer(&resp.body, &String::from_utf8(other).expect("ascii")).is_err());

    // Every operation of every endpoint answers a verifiable result.
    for endpoint in rmsc_soap::ENDPOINTS {
        for operation in endpoint.operations {
            if matches!(
                operation.name,
                "AcquireLicense" | "AcquirePreLicense" | "EditIssuanceLicense"
            ) {
                continue;
            }
            let resp = relay(
                &c.client,
                &standin,
                endpoint.path,
                operation,
                "",
                SHAREPOINT,
                &[],
            )
            .await;
            assert_eq!(resp.status, 200, "{} {}", endpoint.path, resp.text());
            let answer = verify_signed_answer(&resp.body, &tenant.signing_key).expect("verifies");
            assert_eq!(answer.get("operation"), Some(operation.label().as_str()));
        }
    }
    let calls = standin.calls();
    assert!(calls
        .iter()
        .all(|call| call.outcome == CallOutcome::Ok && call.status == 200));
    assert_eq!(calls[0].operation, "CertificationService.Certify");
    assert_eq!(calls[0].connector_id, c.answer.connector_id);
    assert_eq!(calls[0].caller_account, EXCHANGE.0);
    standin.shutdown().await;
}

#[tokio::test]
async fn use_licenses_go_to_owners_and_to_exchange_as_super_user_only() {
    let standin = start().await;
    let c = admin_connector(&standin).await;
    let acquire = op(LICENSE, "AcquireLicense");
    let blob = publish(&standin, &c, SHAREPOINT, "alice@contoso.test").await;
    let with = |requester: &str| {
        format!("<IssuanceLicense>{blob}</IssuanceLicense><Requester>{requester}</Requester>")
    };

    let owner = relay(
        &c.client,
        &standin,
        LICENSE,
        acquire,
        &with("ALICE@contoso.test"),
        SHAREPOINT,
        &[],
    )
    .await;
    assert_eq!(owner.status, 200, "{}", owner.text());
    let answer = verify_signed_answer(&owner.body, &key(&standin)).expect("signed");
    assert_eq!(
        (answer.get("kind"), answer.get("super_user")),
        (Some("use_license"), Some("false"))
    );
    assert_eq!(answer.get("requester"), Some("ALICE@contoso.test"));

    for who in [SHAREPOINT, FILESERVER] {
        let refused = relay(
            &c.client,
            &standin,
            LICENSE,
            acquire,
            &with("bob@contoso.test"),
            who,
            &[],
        )
        .await;
        assert_eq!(refused.status, 500);
        assert!(
            refused.text().contains(NO_RIGHTS_EXCEPTION),
            "{}",
            refused.text()
        );
        assert!(
            refused.text().contains("faultcode>soap:Server"),
            "{}",
            refused.text()
        );
    }
    let exchange = relay(
        &c.client,
        &standin,
        LICENSE,
        acquire,
        &with("bob@contoso.test"),
        EXCHANGE,
        &[],
    )
    .await;
    assert_eq!(exchange.status, 200, "{}", exchange.text());
    let answer = verify_signed_answer(&exchange.body, &key(&standin)).expect("signed");
    assert_eq!(answer.get("super_user"), Some("true"));
    assert_eq!(answer.get("owner"), Some("alice@contoso.test"));

    // Without <Requester> the relayed caller asks; without <Owner> the publisher owns.
    let own_blob = publish(&standin, &c, FILESERVER, "").await;
    let pre = op(LICENSE, "AcquirePreLicense");
    let inner = format!("<IssuanceLicense>{own_blob}</IssuanceLicense>");
    assert_eq!(
        relay(&c.client, &standin, LICENSE, pre, &inner, FILESERVER, &[])
            .await
            .status,
        200
    );
    assert_eq!(
        relay(&c.client, &standin, LICENSE, pre, &inner, SHAREPOINT, &[])
            .await
            .status,
        500
    );

    // Edit: owner or exchange get a new license; others are refused.
    let edit = op("licensing/editissuancelicense.asmx", "EditIssuanceLicense");
    let edited = relay(
        &c.client,
        &standin,
        "licensing/editissuancelicense.asmx",
        edit,
        &inner,
        EXCHANGE,
        &[],
    )
    .await;
    assert_eq!(edited.status, 200, "{}", edited.text());
    assert!(extract_text(&edited.body, "IssuanceLicense").is_some());
    let refused = relay(
        &c.client,
        &standin,
        "licensing/editissuancelicense.asmx",
        edit,
        &inner,
        SHAREPOINT,
        &[],
    )
    .await;
    assert_eq!(refused.status, 500);

    // Forged or missing licenses are faults. One base64 character of the signed payload is
    // changed: base64 of XML text often has no 'A' at all, so replacing the first 'A' (as
    // this test once did) left about one blob in twenty untouched.
    let mut forged_blob = blob.clone().into_bytes();
    forged_blob[10] = if forged_blob[10] == b'A' { b'B' } else { b'A' };
    let forged_blob = String::from_utf8(forged_blob).expect("base64 is ASCII");
    assert_ne!(forged_blob, blob);
    let forged = format!("<IssuanceLicense>{forged_blob}</IssuanceLicense>");
    let resp = relay(
        &c.client,
        &standin,
        LICENSE,
        acquire,
        &forged,
        EXCHANGE,
        &[],
    )
    .await;
    assert_eq!(resp.status, 500);
    assert!(resp.text().contains("InvalidLicenseException"));
    assert_eq!(
        relay(&c.client, &standin, LICENSE, acquire, "", EXCHANGE, &[])
            .await
            .status,
        500
    );
    let outcomes: Vec<CallOutcome> = standin.calls().iter().map(|c| c.outcome).collect();
    assert!(outcomes.contains(&CallOutcome::Fault) && outcomes.contains(&CallOutcome::Ok));
    standin.shutdown().await;
}

#[tokio::test]
async fn relay_refuses_without_valid_connector_or_caller_headers() {
    let standin = start().await;
    let c = admin_connector(&standin).await;
    let certify = op("certification/certification.asmx", "Certify");
    let path = "certification/certification.asmx";
    let anonymous = TestClient::new(&standin);
    let resp = relay(&anonymous, &standin, path, certify, "", EXCHANGE, &[]).await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (403, "unknown_connector".to_owned())
    );

    let info = standin.tenant_info("contoso").expect("contoso");
    let url = format!("{}/_wmcs/{path}", info.relay_url);
    let action = format!("\"{}\"", certify.soap_action());
    let body = rmsc_cloud_standin::sample_request(certify, "");
    let no_caller = c
        .client
        .send(
            Method::POST,
            &url,
            &[("content-type", "text/xml"), ("soapaction", &action)],
            body.clone(),
        )
        .await;
    assert_eq!(
        (no_caller.status, no_caller.error_code()),
        (400, "invalid_request".to_owned())
    );

    // Wrong SOAPAction for the endpoint, and a malformed envelope: client faults.
    let wrong = op(LICENSE, "AcquireLicense");
    let resp = relay(&c.client, &standin, path, wrong, "", EXCHANGE, &[]).await;
    assert_eq!(resp.status, 500);
    assert!(resp.text().contains("soap:Client"), "{}", resp.text());
    let garbage = c
        .client
        .send(
            Method::POST,
            &url,
            &[
                ("content-type", "text/xml"),
                ("soapaction", &action),
                ("x-rms-caller-account", "A"),
                ("x-rms-caller-sid", "S-1-5-21-1"),
                ("x-rms-caller-role", "exchange"),
            ],
            "<not-soap/>",
        )
        .await;
    assert_eq!(garbage.status, 500);
    assert!(garbage.text().contains("soap:Client"));
    let unknown = c
        .client
        .send(
            Method::POST,
            &format!("{}/_wmcs/licensing/nothere.asmx", info.relay_url),
            &[],
            "",
        )
        .await;
    assert_eq!(unknown.status, 404);

    // The other tenant's relay URL does not accept contoso's connector.
    let fabrikam = standin.tenant_info("fabrikam").expect("fabrikam");
    let resp = c
        .client
        .send(
            Method::POST,
            &format!("{}/_wmcs/{path}", fabrikam.relay_url),
            &[("content-type", "text/xml"), ("soapaction", &action)],
            body,
        )
        .await;
    assert_eq!(resp.status, 403);

    // Revoked connectors are refused, also on a live keep-alive connection.
    assert!(standin.revoke_connector(&c.answer.connector_id));
    let resp = relay(&c.client, &standin, path, certify, "", EXCHANGE, &[]).await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (403, "unknown_connector".to_owned())
    );
    let refused: Vec<_> = standin
        .calls()
        .into_iter()
        .filter(|c| c.outcome == CallOutcome::Refused)
        .collect();
    assert!(refused.len() >= 4, "{refused:?}");
    assert!(refused
        .iter()
        .any(|r| r.status == 403 && r.connector_id.is_empty()));
    standin.shutdown().await;
}

#[tokio::test]
async fn gzip_padding_and_version_data_pass_through() {
    let standin = start().await;
    let c = admin_connector(&standin).await;
    let info = op("licensing/server.asmx", "GetServerInfo");
    let path = "licensing/server.asmx";
    let padded = relay(
        &c.client,
        &standin,
        path,
        info,
        "<StandinPadTo>200000</StandinPadTo>",
        EXCHANGE,
        &[],
    )
    .await;
    assert_eq!(padded.status, 200);
    assert!(
        (200_000..201_000).contains(&padded.body.len()),
        "{}",
        padded.body.len()
    );
    assert!(verify_signed_answer(&padded.body, &key(&standin)).is_ok());
    let huge = relay(
        &c.client,
        &standin,
        path,
        info,
        "<StandinPadTo>99999999</StandinPadTo>",
        EXCHANGE,
        &[],
    )
    .await;
    assert!(huge.body.len() <= 1024 * 1024 + 4096);

    let gz = relay(
        &c.client,
        &standin,
        path,
        info,
        "<StandinPadTo>50000</StandinPadTo>",
        EXCHANGE,
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert!(gz.body.len() < 10_000);
    assert!(verify_signed_answer(&gz.body, &key(&standin)).is_ok());

    // The response header carries the request's VersionData.
    let tenant = standin.tenant_info("contoso").expect("contoso");
    let body = rmsc_cloud_standin::sample_request(info, "")
        .replace("<MaximumVersion>1.0.0.0<", "<MaximumVersion>1.0.0.9<");
    let action = format!("\"{}\"", info.soap_action());
    let mut headers = caller(EXCHANGE.0, EXCHANGE.1, EXCHANGE.2);
    headers.push(("content-type", "text/xml; charset=utf-8"));
    headers.push(("soapaction", &action));
    let resp = c
        .client
        .send(
            Method::POST,
            &format!("{}/_wmcs/{path}", tenant.relay_url),
            &headers,
            body,
        )
        .await;
    assert_eq!(
        extract_text(&resp.body, "MaximumVersion").as_deref(),
        Some("1.0.0.9")
    );

    // SOAP 1.2 calls are answered in SOAP 1.2.
    let v12 = rmsc_soap::SoapVersion::V12;
    let (content_type, _) = rmsc_cloud_standin::sample_headers(v12, info);
    let mut headers = caller(EXCHANGE.0, EXCHANGE.1, EXCHANGE.2);
    headers.push(("content-type", &content_type));
    let body = rmsc_cloud_standin::sample_request_version(v12, info, "");
    let resp = c
        .client
        .send(
            Method::POST,
            &format!("{}/_wmcs/{path}", tenant.relay_url),
            &headers,
            body,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(resp
        .header("content-type")
        .unwrap_or_default()
        .starts_with("application/soap+xml"));
    assert!(resp
        .text()
        .contains("http://www.w3.org/2003/05/soap-envelope"));
    standin.shutdown().await;
}

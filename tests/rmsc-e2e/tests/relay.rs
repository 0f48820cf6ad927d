//! The relay over real sockets: every operation of the facts table with the right role
//! upstream, super-user semantics, refusals without an upstream call, bad input.

use rmsc_cloud_standin::verify_signed_answer;
use rmsc_e2e::{identity, Connector, Lab, EXCH01, EXCHANGE_GROUP_SID, FS01, ROGUE, SP_APPPOOL};
use rmsc_soap::{extract_text, find_endpoint, ENDPOINTS};
use std::time::Duration;

async fn ready_lab() -> (Lab, Connector) {
    let lab = Lab::start().await.expect("lab");
    let connector = lab.connector().await.expect("connector");
    connector.set_up().await.expect("set up");
    connector.authorize_defaults().await.expect("authorize");
    (lab, connector)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_is_relayed_with_the_callers_role() {
    let (lab, connector) = ready_lab().await;
    let key = lab.signing_key();
    let callers = [
        (
            identity(EXCH01, &["S-1-5-21-1111-2222-3333-515", EXCHANGE_GROUP_SID]),
            "exchange",
            EXCH01.0,
        ),
        (identity(SP_APPPOOL, &[]), "sharepoint", SP_APPPOOL.0),
        (identity(FS01, &[]), "fileserver", FS01.0),
    ];
    for endpoint in ENDPOINTS {
        for op in endpoint.operations {
            for (caller, role, account) in &callers {
                // License operations need an issuance license the caller owns.
                let inner = if matches!(
                    op.name,
                    "AcquireLicense" | "AcquirePreLicense" | "EditIssuanceLicense"
                ) {
                    let publish = find_endpoint("licensing/publish.asmx").expect("publish");
                    let issued = connector
                        .soap(
                            "/_wmcs/licensing/publish.asmx",
                            &publish.operations[0],
                            caller,
                            "",
                        )
                        .await
                        .expect("publish");
                    assert_eq!(issued.status, 200, "{}", issued.text());
                    format!(
                        "<IssuanceLicense>{}</IssuanceLicense>",
                        extract_text(&issued.body, "IssuanceLicense").expect("license")
                    )
                } else {
                    String::new()
                };
                lab.standin.clear_calls();
                // Mixed-case paths work, as on IIS.
                let path = endpoint
                    .full_path()
                    .to_uppercase()
                    .replace("/_WMCS/", "/_wmcs/");
                let answer = connector
                    .soap(&path, op, caller, &inner)
                    .await
                    .expect("call");
                assert_eq!(answer.status, 200, "{} as {role}: {}", op, answer.text());
                let signed =
                    verify_signed_answer(&answer.body, &key).expect("signature by the tenant key");
                assert_eq!(
                    signed.fields.get("role").map(String::as_str),
                    Some(*role),
                    "{op}"
                );
                let calls = lab.standin.calls();
                assert_eq!(calls.len(), 1, "{op}");
                assert_eq!(calls[0].role, *role);
                assert_eq!(calls[0].caller_account, *account);
                assert_eq!(calls[0].operation, op.label());
            }
        }
    }
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_exchange_role_reads_content_owned_by_someone_else() {
    let (lab, connector) = ready_lab().await;
    let key = lab.signing_key();
    let publish = &find_endpoint("licensing/publish.asmx")
        .expect("publish")
        .operations[0];
    let acquire = &find_endpoint("licensing/license.asmx")
        .expect("license")
        .operations[0];
    let sharepoint = identity(SP_APPPOOL, &[]);
    let exchange = identity(EXCH01, &[EXCHANGE_GROUP_SID]);
    let issued = connector
        .soap(
            "/_wmcs/licensing/publish.asmx",
            publish,
            &sharepoint,
            "<Owner>alice@contoso.test</Owner>",
        )
        .await
        .expect("publish");
    assert_eq!(issued.status, 200, "{}", issued.text());
    let license = extract_text(&issued.body, "IssuanceLicense").expect("issuance license");
    let request = format!(
        "<IssuanceLicense>{license}</IssuanceLicense><Requester>bob@contoso.test</Requester>"
    );
    let refused = connector
        .soap(
            "/_wmcs/licensing/license.asmx",
            acquire,
            &sharepoint,
            &request,
        )
        .await
        .expect("call");
    assert_eq!(refused.status, 500, "the cloud's SOAP fault passes through");
    assert!(
        refused.text().contains("NoRightsForRequestedOperation"),
        "{}",
        refused.text()
    );
    let granted = connector
        .soap(
            "/_wmcs/licensing/license.asmx",
            acquire,
            &exchange,
            &request,
        )
        .await
        .expect("call");
    assert_eq!(granted.status, 200, "{}", granted.text());
    let signed = verify_signed_answer(&granted.body, &key).expect("signed");
    assert_eq!(
        signed.fields.get("super_user").map(String::as_str),
        Some("true")
    );
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_and_anonymous_callers_never_reach_the_cloud() {
    let (lab, connector) = ready_lab().await;
    let op = &find_endpoint("certification/ServerCertification.asmx")
        .expect("endpoint")
        .operations[0];
    lab.standin.clear_calls();
    let answer = connector
        .soap(
            "/_wmcs/certification/servercertification.asmx",
            op,
            &identity(ROGUE, &[]),
            "",
        )
        .await
        .expect("call");
    assert_eq!(answer.status, 403);
    assert!(
        answer.text().contains("not authorized"),
        "{}",
        answer.text()
    );
    let anonymous = connector
        .send(
            "POST",
            "/_wmcs/certification/servercertification.asmx",
            &[("soapaction", format!("\"{}\"", op.soap_action()))],
            "<x/>",
        )
        .await
        .expect("call");
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous
            .headers
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap_or("")),
        Some("Negotiate")
    );
    assert!(lab.standin.calls().is_empty(), "no upstream call");
    let events = connector.events(2001).await.expect("events");
    assert_eq!(events.len(), 1);
    assert!(events[0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("ROGUE01$"));
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_refusal_and_no_upstream_call() {
    let (lab, connector) = ready_lab().await;
    let caller = identity(EXCH01, &[EXCHANGE_GROUP_SID]);
    let cert_op = &find_endpoint("certification/ServerCertification.asmx")
        .expect("endpoint")
        .operations[0];
    let license_op = &find_endpoint("licensing/license.asmx")
        .expect("endpoint")
        .operations[0];
    lab.standin.clear_calls();
    let auth = ("x-rmsc-test-identity", caller.clone());
    let xml = ("content-type", "text/xml; charset=utf-8".to_owned());

    // Wrong SOAPAction for the path, unknown action, missing action.
    let wrong = ("soapaction", format!("\"{}\"", license_op.soap_action()));
    let r = connector
        .send(
            "POST",
            "/_wmcs/certification/ServerCertification.asmx",
            &[auth.clone(), xml.clone(), wrong],
            rmsc_cloud_standin::sample_request(license_op, ""),
        )
        .await
        .expect("call");
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("soap:Fault") || r.text().contains("Fault"),
        "{}",
        r.text()
    );
    let unknown = (
        "soapaction",
        "\"http://microsoft.com/DRM/CertificationService/Nope\"".to_owned(),
    );
    let r = connector
        .send(
            "POST",
            "/_wmcs/certification/ServerCertification.asmx",
            &[auth.clone(), xml.clone(), unknown],
            "<x/>",
        )
        .await
        .expect("call");
    assert_eq!(r.status, 400);
    let r = connector
        .send(
            "POST",
            "/_wmcs/certification/ServerCertification.asmx",
            &[auth.clone(), xml.clone()],
            "<x/>",
        )
        .await
        .expect("call");
    assert_eq!(r.status, 400);

    // Malformed XML, a DOCTYPE, the wrong operation element.
    let action = ("soapaction", format!("\"{}\"", cert_op.soap_action()));
    for body in [
        "<soap:Envelope",
        "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>",
        &rmsc_cloud_standin::sample_request(license_op, ""),
    ] {
        let r = connector
            .send(
                "POST",
                "/_wmcs/certification/ServerCertification.asmx",
                &[auth.clone(), xml.clone(), action.clone()],
                body.to_owned(),
            )
            .await
            .expect("call");
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert!(r.text().contains("Fault"));
    }

    // Unknown path.
    let r = connector
        .send(
            "POST",
            "/_wmcs/certification/nothing.asmx",
            &[auth.clone(), xml.clone(), action.clone()],
            "<x/>",
        )
        .await
        .expect("call");
    assert_eq!(r.status, 404);

    // Oversize body (default limit 1 MiB).
    // The connector answers 413 as soon as the declared length is over the limit and closes
    // the connection; a client still writing the body may see that close (broken pipe)
    // before it reads the answer. Either way nothing goes upstream (checked at the end).
    let big = format!("<x>{}</x>", "a".repeat(2 * 1024 * 1024));
    match connector
        .send(
            "POST",
            "/_wmcs/certification/ServerCertification.asmx",
            &[auth.clone(), xml.clone(), action.clone()],
            big,
        )
        .await
    {
        Ok(r) => assert_eq!(r.status, 413),
        Err(e) => {
            let text = format!("{e:#}");
            assert!(
                text.contains("Broken pipe") || text.contains("reset"),
                "oversize body: {text}"
            );
        }
    }

    // A 64 KB Negotiate-sized header is fine; 200 KB of headers is refused with 431.
    let padding = ("x-padding", "p".repeat(64 * 1024));
    let r = connector
        .soap_with(
            "/_wmcs/certification/ServerCertification.asmx",
            cert_op,
            &caller,
            &[padding],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let huge = ("x-padding", "p".repeat(200 * 1024));
    let r = connector
        .send(
            "POST",
            "/_wmcs/certification/ServerCertification.asmx",
            &[auth.clone(), huge],
            "<x/>",
        )
        .await
        .expect("call");
    assert_eq!(r.status, 431);

    let upstream: Vec<_> = lab
        .standin
        .calls()
        .into_iter()
        .filter(|c| c.status != 200)
        .collect();
    assert!(
        upstream.is_empty(),
        "refused requests reached the cloud: {upstream:?}"
    );
    assert_eq!(
        lab.standin.calls().len(),
        1,
        "only the valid 64 KB-header call went upstream"
    );
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_cut_off() {
    let (_lab, connector) = ready_lab().await;
    let caller = identity(EXCH01, &[EXCHANGE_GROUP_SID]);
    let op = &find_endpoint("certification/ServerCertification.asmx")
        .expect("endpoint")
        .operations[0];
    // Declare 1000 bytes, send 10, then go silent: the connector answers 408 after its 2 s body timeout.
    let request = format!(
        "POST /_wmcs/certification/ServerCertification.asmx HTTP/1.1\r\nhost: x\r\ncontent-type: text/xml\r\nsoapaction: \"{}\"\r\nx-rmsc-test-identity: {caller}\r\ncontent-length: 1000\r\n\r\n<soap:Enve",
        op.soap_action()
    );
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        raw_exchange(connector.http, request.into_bytes()),
    )
    .await
    .expect("answered in time");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    connector.shutdown().await;
}

async fn raw_exchange(addr: std::net::SocketAddr, bytes: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(&bytes).await.expect("write");
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.expect("read");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_pages_wsdl_and_the_tenant_url_are_served() {
    let (lab, connector) = ready_lab().await;
    let page = connector
        .send(
            "GET",
            "/_wmcs/certification/servercertification.asmx",
            &[],
            "",
        )
        .await
        .expect("page");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("ServerCertificationWebService"));
    let wsdl = connector
        .send("GET", "/_wmcs/licensing/license.asmx?WSDL", &[], "")
        .await
        .expect("wsdl");
    assert_eq!(wsdl.status, 200);
    assert!(wsdl
        .text()
        .contains("http://microsoft.com/DRM/LicensingService/AcquireLicense"));
    let anonymous = connector
        .send("GET", "/_wmcs/GetRmsoUri.aspx", &[], "")
        .await
        .expect("uri");
    assert_eq!(anonymous.status, 401);
    let uri = connector
        .send(
            "GET",
            "/_WMCS/getrmsouri.aspx",
            &[("x-rmsc-test-identity", identity(FS01, &[]))],
            "",
        )
        .await
        .expect("uri");
    assert_eq!(uri.status, 200);
    let tenant = lab.standin.tenant_info("contoso").expect("tenant");
    assert_eq!(uri.text(), tenant.rms_url);
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_answers_pass_through_untouched() {
    let (lab, connector) = ready_lab().await;
    let caller = identity(EXCH01, &[EXCHANGE_GROUP_SID]);
    let op = &find_endpoint("licensing/templateDistribution.asmx")
        .expect("endpoint")
        .operations[1];
    let answer = connector
        .soap_with(
            "/_wmcs/licensing/templateDistribution.asmx",
            op,
            &caller,
            &[("accept-encoding", "gzip".to_owned())],
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer
            .headers
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    verify_signed_answer(&answer.body, &lab.signing_key())
        .expect("gzip body verifies as sent by the cloud");
    connector.shutdown().await;
}

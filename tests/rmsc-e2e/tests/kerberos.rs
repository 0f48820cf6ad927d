//! Kerberos against the Samba AD lab: real tickets, real PACs, the connector's acceptor. Needs
//! a running lab (`RMSC_LAB_DIR`; `tests/run-all.sh` starts one); without it each test says
//! SKIPPED, and with `RMSC_LAB_REQUIRED=1` (CI) a missing lab fails. Directory changes are in
//! `kerberos_accounts.rs`, clocks and expired tickets in `kerberos_clock.rs`.

use base64::Engine;
use bytes::Bytes;
use rmsc_e2e::ad::{negotiate_header, publish_on_new_connection, RawConnection, AD_CONNECTOR_NAME};
use rmsc_e2e::{eventually, Answer, Connector};
use rmsc_kerberos::negotiate::{classify, TokenKind};
use serde_json::json;
use std::time::Duration;

async fn call(conn: &mut RawConnection, authorization: Option<String>) -> Answer {
    conn.publish(authorization).await.expect("request")
}

async fn call_new_connection(connector: &Connector, authorization: Option<String>) -> Answer {
    publish_on_new_connection(connector, authorization)
        .await
        .expect("request")
}

/// Whether `header` is `Negotiate <token>` with a SPNEGO response (NegTokenResp) carrying a
/// Kerberos AP-REP: the krb5 mechanism OID, token id 02 00 (RFC 4121) and [APPLICATION 15].
fn is_mutual_auth_reply(header: &str) -> bool {
    const KRB5_AP_REP: [u8; 12] = [
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x02, 0x00, 0x6f,
    ];
    let Some(token) = header
        .strip_prefix("Negotiate ")
        .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
    else {
        return false;
    };
    matches!(classify(&token), Ok(TokenKind::SpnegoResponse))
        && token.windows(KRB5_AP_REP.len()).any(|w| w == KRB5_AP_REP)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorized_servers_pass_with_their_role_from_the_pac() {
    let ad = rmsc_e2e::lab_or_skip!();
    let (lab, connector) = ad.kerberos_connector().await.expect("connector");
    // (keytab, account as the PAC names it, role): a direct member, a nested-group member,
    // a file server by group and a SharePoint app pool by its own SID.
    let callers = [
        ("EXCH01", "CONTOSO\\EXCH01$", "exchange"),
        ("EXCH03", "CONTOSO\\EXCH03$", "exchange"),
        ("FS01", "CONTOSO\\FS01$", "fileserver"),
        ("svc-spapppool", "CONTOSO\\svc-spapppool", "sharepoint"),
    ];
    for (keytab, account, role) in callers {
        lab.standin.clear_calls();
        let answer =
            call_new_connection(&connector, Some(ad.negotiate(keytab).expect("token"))).await;
        assert_eq!(answer.status, 200, "{account}: {}", answer.text());
        let mutual = answer
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            is_mutual_auth_reply(mutual),
            "mutual auth token for {account}: {mutual:?}"
        );
        let calls = lab.standin.calls();
        assert_eq!(calls.len(), 1);
        assert!(
            calls[0].caller_account.eq_ignore_ascii_case(account),
            "{:?}",
            calls[0].caller_account
        );
        assert_eq!(calls[0].role, role);
    }
    // Event 1002 the first time an authorized account connects.
    let first_seen = connector.events(1002).await.expect("events");
    assert!(
        first_seen.iter().any(|e| e.to_string().contains("EXCH01$")),
        "{first_seen:?}"
    );
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlisted_server_gets_403_and_event_2001_without_an_upstream_call() {
    let ad = rmsc_e2e::lab_or_skip!();
    let (lab, connector) = ad.kerberos_connector().await.expect("connector");
    lab.standin.clear_calls();
    let answer =
        call_new_connection(&connector, Some(ad.negotiate("ROGUE01").expect("token"))).await;
    assert_eq!(answer.status, 403, "{}", answer.text());
    assert!(lab.standin.calls().is_empty());
    let refused = connector.events(2001).await.expect("events");
    assert!(
        refused.iter().any(|e| e.to_string().contains("ROGUE01$")),
        "{refused:?}"
    );
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_alive_connection_authenticates_once() {
    let ad = rmsc_e2e::lab_or_skip!();
    let (_lab, connector) = ad.kerberos_connector().await.expect("connector");
    let mut conn = RawConnection::open(connector.http).await.expect("connect");
    let first = call(&mut conn, Some(ad.negotiate("EXCH01").expect("token"))).await;
    assert_eq!(first.status, 200, "{}", first.text());
    for _ in 0..3 {
        let again = call(&mut conn, None).await;
        assert_eq!(
            again.status,
            200,
            "later requests need no token: {}",
            again.text()
        );
    }
    // A new connection starts unauthenticated.
    let fresh = call_new_connection(&connector, None).await;
    assert_eq!(fresh.status, 401);
    assert_eq!(
        fresh
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Negotiate")
    );
    connector.shutdown().await;
}

/// The load generator's initiators: tickets copied into a `MEMORY:` cache keep working once
/// the `kinit` file is gone, including the service ticket fetched after the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_initiator_with_its_tickets_in_memory_needs_no_file() {
    let ad = rmsc_e2e::lab_or_skip!();
    let (_lab, connector) = ad.kerberos_connector().await.expect("connector");
    let ccache = ad.kinit("EXCH01").expect("kinit");
    let initiator = rmsc_kerberos::Initiator::from_ccache_in_memory(&ccache).expect("copy");
    std::fs::remove_file(&ccache).expect("remove the ccache file");
    for call in 0..2 {
        let token = initiator.token_for(AD_CONNECTOR_NAME).expect("token");
        let answer = call_new_connection(&connector, Some(negotiate_header(&token))).await;
        assert_eq!(answer.status, 200, "call {call}: {}", answer.text());
    }
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_with_their_reason_and_never_crash() {
    let ad = rmsc_e2e::lab_or_skip!();
    let (lab, connector) = ad.kerberos_connector().await.expect("connector");
    lab.standin.clear_calls();

    // No token: the challenge.
    assert_eq!(call_new_connection(&connector, None).await.status, 401);
    // NTLM, as a scheme and inside SPNEGO: 401 with the explanation, event 2000.
    let ntlm = call_new_connection(
        &connector,
        Some("NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==".into()),
    )
    .await;
    assert_eq!(ntlm.status, 401);
    assert!(ntlm.text().contains("Kerberos only"), "{}", ntlm.text());
    let ntlm_in_spnego = negotiate_header(b"NTLMSSP\0\x01\x00\x00\x00\x07\x82\x08\xa2");
    let answer = call_new_connection(&connector, Some(ntlm_in_spnego)).await;
    assert_eq!(answer.status, 401);
    assert!(answer.text().contains("SPN"), "{}", answer.text());
    // Garbage and truncation: 400, not a crash.
    let garbage = call_new_connection(&connector, Some("Negotiate bm90IGEgdG9rZW4=".into())).await;
    assert_eq!(garbage.status, 400, "{}", garbage.text());
    let not_base64 = call_new_connection(&connector, Some("Negotiate %%%".into())).await;
    assert_eq!(not_base64.status, 400);
    let token = ad
        .initiator("EXCH01")
        .expect("ticket")
        .token_for(AD_CONNECTOR_NAME)
        .expect("token");
    let truncated = call_new_connection(
        &connector,
        Some(negotiate_header(&token[..token.len() / 2])),
    )
    .await;
    assert!(
        matches!(truncated.status, 400 | 401),
        "{}",
        truncated.status
    );
    // A token presented twice: the replay is refused.
    let once = call_new_connection(&connector, Some(negotiate_header(&token))).await;
    assert_eq!(once.status, 200, "{}", once.text());
    let twice = call_new_connection(&connector, Some(negotiate_header(&token))).await;
    assert_eq!(twice.status, 401, "{}", twice.text());
    // A ticket for another service (SPN) than the keytab's.
    let other_spn = ad
        .initiator("EXCH01")
        .expect("ticket")
        .token_for("rc4.contoso.test")
        .expect("token");
    let wrong = call_new_connection(&connector, Some(negotiate_header(&other_spn))).await;
    assert_eq!(wrong.status, 401, "{}", wrong.text());
    // A 64 KB Negotiate header reaches the Kerberos layer (no 431).
    let big = call_new_connection(&connector, Some(negotiate_header(&vec![0x60u8; 48_000]))).await;
    assert_eq!(big.status, 400, "{}", big.text());

    // Only the one good call went upstream.
    assert_eq!(lab.standin.calls().len(), 1);
    let reasons: Vec<String> = connector
        .events(2000)
        .await
        .expect("events")
        .iter()
        .map(|e| {
            e["fields"]["reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    for reason in ["ntlm", "malformed", "rejected"] {
        assert!(
            reasons.iter().any(|r| r == reason),
            "{reason} in {reasons:?}"
        );
    }
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keytab_uploads_are_checked_and_answered_clearly() {
    let ad = rmsc_e2e::lab_or_skip!();
    let lab = rmsc_e2e::Lab::start().await.expect("stand-in");
    let connector = lab.kerberos_connector().await.expect("connector");
    let upload = |bytes: Vec<u8>| {
        let admin = &connector.admin;
        async move {
            admin
                .call_bytes(
                    "PUT",
                    "/api/v1/keytab",
                    Bytes::from(bytes),
                    "application/octet-stream",
                )
                .await
        }
    };
    let good = std::fs::read(ad.keytab("connector")).expect("keytab");
    // Before registration the connector name is unknown.
    let early = upload(good.clone()).await.expect_err("not registered");
    assert!(early.to_string().contains("not registered"), "{early}");
    connector.set_up().await.expect("set up");

    let garbage = upload(b"this is not a keytab".to_vec())
        .await
        .expect_err("garbage");
    assert!(
        garbage.to_string().contains("not a Kerberos keytab"),
        "{garbage}"
    );
    let wrong = upload(std::fs::read(ad.keytab("rc4-only")).expect("rc4"))
        .await
        .expect_err("wrong principal");
    assert!(
        wrong.to_string().contains("HTTP/rmsconnector.contoso.test"),
        "{wrong}"
    );
    let rc4 = upload(rc4_only_keytab_for(
        "HTTP",
        AD_CONNECTOR_NAME,
        "CONTOSO.TEST",
    ))
    .await
    .expect_err("rc4");
    assert!(
        rc4.to_string().contains("msDS-SupportedEncryptionTypes"),
        "{rc4}"
    );
    // Nothing was stored by the refusals.
    let status = connector
        .admin
        .call("GET", "/api/v1/keytab", None)
        .await
        .expect("status");
    assert_eq!(status["present"], json!(false));

    let installed = upload(good).await.expect("good keytab");
    assert_eq!(
        installed["principal"],
        json!("HTTP/rmsconnector.contoso.test@CONTOSO.TEST")
    );
    assert_eq!(installed["kvno"], json!(2));
    assert_eq!(installed["active"], json!(true));
    let enctypes = installed["enctypes"].to_string();
    assert!(enctypes.contains("aes256"), "{enctypes}");
    // It works at once, without a restart.
    ad.authorize_group(&connector, "Exchange Servers", "exchange")
        .await
        .expect("authorize");
    let answer = eventually(Duration::from_secs(10), || async {
        let a = call_new_connection(&connector, Some(ad.negotiate("EXCH01").ok()?)).await;
        (a.status == 200).then_some(a)
    })
    .await;
    assert!(answer.is_some(), "EXCH01 accepted after the upload");
    // The acceptor holds its keys in memory: its clear keytab does not stay in the runtime
    // directory. (The directory browser's own copy, `directory.keytab`, does.)
    let acceptor_keytabs: Vec<_> = std::fs::read_dir(lab.data_dir().join("run"))
        .expect("runtime directory")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("http-"))
        .collect();
    assert!(acceptor_keytabs.is_empty(), "{acceptor_keytabs:?}");
    connector.shutdown().await;
    // Restart: the sealed keytab is installed again from the store.
    let again = lab.kerberos_connector().await.expect("restart");
    again.wait_ready().await.expect("ready");
    let status = again
        .admin
        .call("GET", "/api/v1/keytab", None)
        .await
        .expect("status");
    assert_eq!(status["active"], json!(true), "{status}");
    again.shutdown().await;
}

/// A keytab (format 0x502) with one RC4-HMAC key for `service/host@realm`: what an account
/// without AES produces.
fn rc4_only_keytab_for(service: &str, host: &str, realm: &str) -> Vec<u8> {
    fn counted(out: &mut Vec<u8>, s: &[u8]) {
        out.extend((s.len() as u16).to_be_bytes());
        out.extend(s);
    }
    let mut entry = Vec::new();
    entry.extend(2u16.to_be_bytes()); // components
    counted(&mut entry, realm.as_bytes());
    counted(&mut entry, service.as_bytes());
    counted(&mut entry, host.as_bytes());
    entry.extend(1u32.to_be_bytes()); // KRB5_NT_PRINCIPAL
    entry.extend(0u32.to_be_bytes()); // timestamp
    entry.push(2); // kvno
    entry.extend(23u16.to_be_bytes()); // rc4-hmac
    counted(&mut entry, &[0x11; 16]);
    entry.extend(2u32.to_be_bytes());
    let mut file = vec![0x05, 0x02];
    file.extend((entry.len() as i32).to_be_bytes());
    file.extend(entry);
    file
}

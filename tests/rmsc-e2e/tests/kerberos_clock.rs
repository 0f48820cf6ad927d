//! Time against the Samba AD lab: clock skew beyond Kerberos' 5 minutes on either side, and
//! expired tickets. Clocks are moved with `faketime`: a caller's by running `rmsc-negotiate`
//! (and `kinit`) under it, the connector's by running the test itself again under it
//! (`rerun_with_clock`), so that the connector and its cloud stand-in share the moved clock
//! while the token comes from the real one.
//!
//! What MIT krb5 (1.20) does, which these tests pin down:
//! - the acceptor checks the ticket's start and end times (each with the 5-minute allowance)
//!   before the authenticator's time, so an expired ticket is reported as expired;
//! - MIT's initiator never uses a ticket that its own clock sees expired, so an expired
//!   ticket only arrives as a token presented too late, or to a connector whose clock is ahead;
//! - a client syncs with the KDC (`kdc_timesync`, on by default): `kinit` under a wrong
//!   clock stores the offset to the KDC's time in the credential cache, and the client's
//!   authenticators carry the KDC's time. Such a caller is not skewed at all (Windows
//!   clients correct for the DC's time as well); only an authenticator made with a wrong
//!   clock from tickets obtained with the right one is.

use rmsc_e2e::ad::{
    faketime_or_skip, negotiate_header, publish_on_new_connection, rerun_with_clock, with_clock,
    AdLab, Kinit, AD_CONNECTOR_NAME, CLOCK_CHILD_HEADER,
};
use rmsc_e2e::{Answer, Connector};
use rmsc_kerberos::Initiator;
use serde_json::Value;
use std::path::{Path, PathBuf};

async fn call_new_connection(connector: &Connector, authorization: String) -> Answer {
    publish_on_new_connection(connector, Some(authorization))
        .await
        .expect("request")
}

/// An `Authorization` value made by `rmsc-negotiate` under a clock moved by `offset`, from
/// the tickets in `ccache`.
fn negotiate_at(ad: &AdLab, ccache: &Path, offset: &str) -> String {
    let output = with_clock(offset, Path::new(env!("CARGO_BIN_EXE_rmsc-negotiate")))
        .arg(ccache)
        .arg(AD_CONNECTOR_NAME)
        .env("KRB5_CONFIG", ad.get("LAB_KRB5_CONF").expect("krb5.conf"))
        .output()
        .expect("rmsc-negotiate");
    assert!(
        output.status.success(),
        "rmsc-negotiate at {offset}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A ticket of EXCH01 for the connector, fetched with the right clock (the KDC would refuse
/// a skewed request), in its own credential cache.
fn exch01_with_service_ticket(ad: &AdLab, options: Kinit<'_>) -> PathBuf {
    let principal = ad.principal_of("EXCH01").expect("principal");
    let ccache = ad
        .kinit_as(&ad.keytab("EXCH01"), &principal, options)
        .expect("ticket");
    Initiator::from_ccache(&ccache)
        .expect("initiator")
        .token_for(AD_CONNECTOR_NAME)
        .expect("service ticket");
    ccache
}

/// The `reason` and `detail` of every event 2000 (no valid identity).
async fn refusals(connector: &Connector) -> Vec<(String, String)> {
    let field = |e: &Value, name: &str| e["fields"][name].as_str().unwrap_or_default().to_owned();
    connector
        .events(2000)
        .await
        .expect("events")
        .iter()
        .map(|e| (field(e, "reason"), field(e, "detail")))
        .collect()
}

/// In the child of `rerun_with_clock`: presents the parent's header to a connector living at
/// this process's (moved) time; returns the answer and the refusals logged.
async fn present_at_this_clock(ad: &AdLab, header: String) -> (Answer, Vec<(String, String)>) {
    let (_lab, connector) = ad.kerberos_connector().await.expect("connector");
    let answer = call_new_connection(&connector, header).await;
    let logged = refusals(&connector).await;
    connector.shutdown().await;
    (answer, logged)
}

macro_rules! lab_and_faketime_or_skip {
    () => {
        match AdLab::from_env().expect("lab") {
            Some(ad) if faketime_or_skip().expect("faketime") => ad,
            _ => return,
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authenticator_more_than_five_minutes_ahead_is_refused_for_clock_skew() {
    let ad = lab_and_faketime_or_skip!();
    let (_lab, connector) = ad.kerberos_connector().await.expect("connector");
    let ccache = exch01_with_service_ticket(&ad, Kinit::default());
    // Within the allowance: accepted.
    let close = call_new_connection(&connector, negotiate_at(&ad, &ccache, "+4m")).await;
    assert_eq!(close.status, 200, "4 minutes ahead: {}", close.text());
    for offset in ["+6m", "+10m", "+1h"] {
        let answer = call_new_connection(&connector, negotiate_at(&ad, &ccache, offset)).await;
        assert_eq!(answer.status, 401, "{offset}: {}", answer.text());
        assert!(
            answer.text().contains("clocks"),
            "{offset}: {}",
            answer.text()
        );
    }
    // Event 2000 is logged once a minute per address and cause.
    let logged = refusals(&connector).await;
    assert!(
        logged
            .iter()
            .any(|(reason, detail)| reason == "clock_skew"
                && detail.contains("Clock skew too great")),
        "{logged:?}"
    );
    connector.shutdown().await;
}

/// Why "a caller 10 minutes ahead was accepted" in this lab: its tickets came from a `kinit`
/// under the same wrong clock, so MIT's client stored the KDC's time offset with them and
/// stamped its authenticator with the KDC's time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_got_its_tickets_with_its_wrong_clock_is_accepted() {
    let ad = lab_and_faketime_or_skip!();
    let (_lab, connector) = ad.kerberos_connector().await.expect("connector");
    let principal = ad.principal_of("EXCH01").expect("principal");
    let skewed = Kinit {
        clock: Some("+10m"),
        ..Kinit::default()
    };
    let ccache = ad
        .kinit_as(&ad.keytab("EXCH01"), &principal, skewed)
        .expect("kinit 10 minutes ahead");
    let answer = call_new_connection(&connector, negotiate_at(&ad, &ccache, "+10m")).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_whose_clock_is_ahead_refuses_callers_for_clock_skew() {
    let ad = lab_and_faketime_or_skip!();
    if let Ok(header) = std::env::var(CLOCK_CHILD_HEADER) {
        // 10 minutes ahead: the ticket is valid, its authenticator 10 minutes old.
        let (answer, logged) = present_at_this_clock(&ad, header).await;
        assert_eq!(answer.status, 401, "{}", answer.text());
        assert!(answer.text().contains("clocks"), "{}", answer.text());
        assert!(
            logged.iter().any(|(reason, _)| reason == "clock_skew"),
            "{logged:?}"
        );
        return;
    }
    let header = ad.negotiate("EXCH01").expect("token");
    rerun_with_clock(
        "+10m",
        "a_connector_whose_clock_is_ahead_refuses_callers_for_clock_skew",
        &header,
    )
    .expect("the connector 10 minutes ahead");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_whose_clock_is_behind_reports_tickets_not_yet_valid_as_clock_skew() {
    let ad = lab_and_faketime_or_skip!();
    if let Ok(header) = std::env::var(CLOCK_CHILD_HEADER) {
        // 10 minutes behind: the ticket starts 10 minutes in this connector's future.
        let (answer, logged) = present_at_this_clock(&ad, header).await;
        assert_eq!(answer.status, 401, "{}", answer.text());
        assert!(answer.text().contains("clocks"), "{}", answer.text());
        assert!(
            logged.iter().any(|(reason, detail)| reason == "clock_skew"
                && detail.contains("not yet valid")
                && detail.contains("behind")),
            "{logged:?}"
        );
        return;
    }
    let header = ad.negotiate("EXCH01").expect("token");
    rerun_with_clock(
        "-10m",
        "a_connector_whose_clock_is_behind_reports_tickets_not_yet_valid_as_clock_skew",
        &header,
    )
    .expect("the connector 10 minutes behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_presented_after_it_expired_is_refused_as_expired() {
    let ad = lab_and_faketime_or_skip!();
    if let Ok(header) = std::env::var(CLOCK_CHILD_HEADER) {
        // 9 minutes later: the 3-minute ticket ended 6 minutes ago, beyond the 5-minute
        // allowance. (Its authenticator is 9 minutes old too, but MIT checks the ticket first.)
        let (answer, logged) = present_at_this_clock(&ad, header).await;
        assert_eq!(answer.status, 401, "{}", answer.text());
        assert!(
            !answer.text().contains("clocks"),
            "expired, not skewed: {}",
            answer.text()
        );
        assert!(
            logged.iter().any(|(reason, detail)| reason == "expired"
                && detail.contains("expired ticket")
                && detail.contains("Ticket expired")),
            "{logged:?}"
        );
        assert!(
            logged.iter().all(|(reason, _)| reason != "clock_skew"),
            "{logged:?}"
        );
        return;
    }
    // A 3-minute ticket, used at once: MIT's initiator would not use it once expired.
    let three_minutes = Kinit {
        lifetime: Some("3m"),
        ..Kinit::default()
    };
    let ccache = exch01_with_service_ticket(&ad, three_minutes);
    let token = Initiator::from_ccache(&ccache)
        .expect("initiator")
        .token_for(AD_CONNECTOR_NAME)
        .expect("token");
    rerun_with_clock(
        "+9m",
        "a_ticket_presented_after_it_expired_is_refused_as_expired",
        &negotiate_header(&token),
    )
    .expect("the token presented 9 minutes later");
}

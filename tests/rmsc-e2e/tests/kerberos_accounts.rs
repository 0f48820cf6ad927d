//! Directory changes seen through Kerberos, against the Samba AD lab: a server removed from
//! its group, an account renamed. Authorization follows the SIDs in the PAC of each new
//! ticket, never names. Needs a running lab (`RMSC_LAB_DIR`), as `kerberos.rs` does.

use rmsc_e2e::ad::{negotiate_header, publish_on_new_connection, wait_for_list, AD_CONNECTOR_NAME};
use rmsc_e2e::{Answer, Connector};
use rmsc_kerberos::Initiator;
use serde_json::json;
use std::path::Path;

async fn call_new_connection(connector: &Connector, authorization: String) -> Answer {
    publish_on_new_connection(connector, Some(authorization))
        .await
        .expect("request")
}

/// `Negotiate <token>` for the connector from the tickets in `ccache`.
fn negotiate_from(ccache: &Path) -> String {
    let token = Initiator::from_ccache(ccache)
        .expect("initiator")
        .token_for(AD_CONNECTOR_NAME)
        .expect("token");
    negotiate_header(&token)
}

/// The 1002 events (first contact of an authorized server) naming `sid`.
async fn first_contacts(connector: &Connector, sid: &str) -> usize {
    let events = connector.events(1002).await.expect("events");
    events
        .iter()
        .filter(|e| e["fields"]["sid"].as_str() == Some(sid))
        .count()
}

/// `sh -c` script: CONF OLD NEW KEYTAB PRINCIPAL CCACHE SERVICE. Renames the account OLD to
/// NEW, exports NEW's keys to KEYTAB, gets tickets for PRINCIPAL (NEW) and SERVICE into
/// CCACHE, and renames NEW back to OLD when it exits, also on failure.
const RENAME_AND_BACK: &str = r#"set -eu
conf=$1 old=$2 new=$3 keytab=$4 principal=$5 ccache=$6 service=$7
samba-tool user rename "$old" --samaccountname="$new" --configfile="$conf" >/dev/null
trap 'samba-tool user rename "$new" --samaccountname="$old" --configfile="$conf" >/dev/null' EXIT
samba-tool domain exportkeytab "$keytab" --principal="$principal" --configfile="$conf" >/dev/null
kinit -k -t "$keytab" -c "FILE:$ccache" "$principal"
KRB5CCNAME="FILE:$ccache" kvno -q "$service"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_removed_from_its_group_is_refused_once_its_new_ticket_lacks_the_group() {
    let ad = rmsc_e2e::lab_or_skip!();
    let (_lab, connector) = ad.kerberos_connector().await.expect("connector");
    let before = call_new_connection(&connector, ad.negotiate("EXCH02").expect("token")).await;
    assert_eq!(before.status, 200, "{}", before.text());
    // The membership is restored whatever happens in between (other tests use EXCH02).
    let removed = ad.lab_sh(&["remove-from-group", "EXCH02$", "Exchange Servers"]);
    let after = match (&removed, ad.negotiate("EXCH02")) {
        (Ok(()), Ok(header)) => Some(call_new_connection(&connector, header).await),
        _ => None,
    };
    ad.lab_sh(&["add-to-group", "EXCH02$", "Exchange Servers"])
        .expect("restore the group");
    removed.expect("remove from group");
    let after = after.expect("a new ticket");
    assert_eq!(after.status, 403, "{}", after.text());
    connector.shutdown().await;
}

/// `alice` (used by no other Kerberos test) is authorized by her SID, renamed in the
/// directory, and authenticates under the new name with a keytab exported for it: the PAC
/// names her anew, her SID is unchanged, so she keeps her role, and the connector does not
/// take her for a new server (event 1002 stays at one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_renamed_in_the_directory_keeps_its_authorization() {
    let ad = rmsc_e2e::lab_or_skip!();
    let (lab, connector) = ad.kerberos_connector().await.expect("connector");
    let sid = ad.sid("ALICE");
    connector
        .authorize(json!({ "account": "CONTOSO\\alice", "sid": sid, "kind": "account", "role": "sharepoint" }))
        .await
        .expect("authorize alice");
    wait_for_list(&connector, 4).await.expect("list synced");

    lab.standin.clear_calls();
    let before = call_new_connection(&connector, ad.negotiate("alice").expect("token")).await;
    assert_eq!(before.status, 200, "{}", before.text());
    assert_eq!(first_contacts(&connector, &sid).await, 1);

    // Under the lab's lock (other tests' `lab.sh` commands rewrite lab.env from the
    // directory): rename, export a keytab for the new name, get a ticket-granting and a
    // service ticket with it, and rename back (on any exit).
    const NEW_NAME: &str = "alice-renamed";
    let realm = ad.get("LAB_REALM").expect("realm");
    let principal = format!("{NEW_NAME}@{realm}");
    let work = tempfile::tempdir().expect("tempdir");
    let keytab = work.path().join("renamed.keytab");
    let ccache = work.path().join("renamed.ccache");
    let smb_conf = ad.dir.join("dc/etc/smb.conf");
    let service = format!("HTTP/{AD_CONNECTOR_NAME}@{realm}");
    ad.run_locked(
        "sh",
        &[
            "-c",
            RENAME_AND_BACK,
            "sh",
            &smb_conf.display().to_string(),
            "alice",
            NEW_NAME,
            &keytab.display().to_string(),
            &principal,
            &ccache.display().to_string(),
            &service,
        ],
    )
    .expect("a ticket under the new name");
    let after = call_new_connection(&connector, negotiate_from(&ccache)).await;
    assert_eq!(after.status, 200, "{}", after.text());
    let calls = lab.standin.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(
        calls[1]
            .caller_account
            .eq_ignore_ascii_case(&format!("CONTOSO\\{NEW_NAME}")),
        "the PAC names the account anew: {:?}",
        calls[1].caller_account
    );
    assert_eq!(calls[1].role, "sharepoint");
    assert_eq!(
        first_contacts(&connector, &sid).await,
        1,
        "the renamed account is not a new server"
    );
    connector.shutdown().await;
}

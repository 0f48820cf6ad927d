//! Round trips of every record type, secrets and the machine key.

use super::*;
use crate::{OpenOutcome, StoreError, MACHINE_KEY_FILE};
use rmsc_contract::{AuthorizedEntry, AuthorizedList, EntryKind, Role};
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn a_new_store_is_created_then_reopened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, outcome) = Store::open(dir.path()).expect("create");
    assert_eq!(outcome, OpenOutcome::Created);
    assert_eq!(store.data_dir(), dir.path());
    assert!(store.registration().expect("read").is_none());
    drop(store);
    let (_store, outcome) = reopen(dir.path()).expect("reopen");
    assert_eq!(outcome, OpenOutcome::Opened);
}

#[tokio::test]
async fn a_second_open_while_the_first_is_alive_reports_locked_and_sets_nothing_aside() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _store = open(dir.path());
    let err = Store::open(dir.path()).expect_err("locked");
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(dir.path().join("store").exists());
    let set_aside = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("store.corrupt-")
        });
    assert!(!set_aside);
}

#[tokio::test]
async fn registration_round_trips_and_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let reg = sample_registration();
    store.set_registration(&reg).await.expect("set");
    assert_eq!(store.registration().expect("read"), Some(reg.clone()));
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.registration().expect("read"), Some(reg));
    store.clear_registration().await.expect("clear");
    assert_eq!(store.registration().expect("read"), None);
}

#[tokio::test]
async fn registration_debug_hides_the_key() {
    let text = format!("{:?}", sample_registration());
    assert!(!text.contains(KEY_MARKER));
    assert!(text.contains("Secret(..)"));
}

#[tokio::test]
async fn private_key_and_secrets_never_appear_in_clear_under_the_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    store
        .set_registration(&sample_registration())
        .await
        .expect("set");
    store
        .put_secret("keytab", KEY_MARKER.as_bytes())
        .await
        .expect("put");
    store
        .set_setting("hostname", &"appliance1")
        .await
        .expect("setting");
    drop(store);
    let files = all_files(dir.path());
    assert!(files.iter().any(|p| p.ends_with("recovery.sealed")));
    for path in files {
        let bytes = std::fs::read(&path).expect("read");
        assert!(
            !bytes
                .windows(KEY_MARKER.len())
                .any(|w| w == KEY_MARKER.as_bytes()),
            "marker in clear in {}",
            path.display()
        );
    }
}

#[tokio::test]
async fn machine_key_file_has_mode_0600() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _store = open(dir.path());
    let meta = std::fs::metadata(dir.path().join(MACHINE_KEY_FILE)).expect("metadata");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), 32);
}

#[tokio::test]
async fn authorized_list_round_trips_with_fetch_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    assert!(store.authorized_list().expect("read").is_none());
    let list = AuthorizedList {
        version: 4,
        entries: vec![AuthorizedEntry {
            account: "CONTOSO\\EXCH01$".to_owned(),
            sid: Some("S-1-5-21-1-2-3-1001".to_owned()),
            kind: EntryKind::Computer,
            role: Role::Exchange,
            added_by: "admin@contoso.com".to_owned(),
            added_at: 1_700_000_000,
        }],
    };
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    store.set_authorized_list(&list).await.expect("set");
    drop(store);
    let stored = open(dir.path())
        .authorized_list()
        .expect("read")
        .expect("present");
    assert_eq!(stored.list, list);
    assert!(stored.fetched_at >= before);
}

#[tokio::test]
async fn settings_round_trip_and_can_be_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    assert_eq!(store.setting::<u32>("port").expect("read"), None);
    store.set_setting("port", &443u32).await.expect("set");
    store
        .set_setting("names", &vec!["a", "b"])
        .await
        .expect("set");
    assert_eq!(store.setting::<u32>("port").expect("read"), Some(443));
    assert_eq!(
        store.setting::<Vec<String>>("names").expect("read"),
        Some(vec!["a".to_owned(), "b".to_owned()])
    );
    let wrong_type = store.setting::<String>("port");
    assert!(matches!(wrong_type, Err(StoreError::Codec { .. })));
    store.remove_setting("port").await.expect("remove");
    store
        .remove_setting("never-set")
        .await
        .expect("remove absent");
    assert_eq!(store.setting::<u32>("port").expect("read"), None);
}

#[tokio::test]
async fn secrets_round_trip_and_can_be_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    assert!(store.secret("keytab").expect("read").is_none());
    store
        .put_secret("keytab", b"\x05\x02keytab")
        .await
        .expect("put");
    drop(store);
    let store = open(dir.path());
    let secret = store.secret("keytab").expect("read").expect("present");
    assert_eq!(secret.expose(), b"\x05\x02keytab");
    store.remove_secret("keytab").await.expect("remove");
    assert!(store.secret("keytab").expect("read").is_none());
}

#[tokio::test]
async fn a_tampered_or_swapped_secret_is_a_sealed_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    store.put_secret("tls-key", b"private").await.expect("put");
    let mut sealed = store
        .inner
        .trees
        .secrets
        .get("tls-key")
        .expect("get")
        .expect("present")
        .to_vec();
    // The same blob under another name must not open.
    store
        .inner
        .trees
        .secrets
        .insert("keytab", sealed.clone())
        .expect("swap");
    assert!(matches!(
        store.secret("keytab"),
        Err(StoreError::Sealed { .. })
    ));
    let last = sealed.len() - 1;
    sealed[last] ^= 0x01;
    store
        .inner
        .trees
        .secrets
        .insert("tls-key", sealed)
        .expect("tamper");
    let err = store.secret("tls-key").expect_err("tampered");
    assert!(
        matches!(err, StoreError::Sealed { ref name } if name == "tls-key"),
        "{err}"
    );
}

#[tokio::test]
async fn a_different_machine_key_gives_sealed_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    store.put_secret("keytab", b"secret").await.expect("put");
    store
        .set_registration(&sample_registration())
        .await
        .expect("set");
    drop(store);
    let key_path = dir.path().join(MACHINE_KEY_FILE);
    let original = std::fs::read(&key_path).expect("read key");
    std::fs::write(&key_path, [0x42u8; 32]).expect("replace key");
    let (store, outcome) = Store::open(dir.path()).expect("opens with the wrong key");
    assert_eq!(outcome, OpenOutcome::Opened);
    assert!(matches!(
        store.secret("keytab"),
        Err(StoreError::Sealed { .. })
    ));
    assert!(matches!(
        store.registration(),
        Err(StoreError::Sealed { .. })
    ));
    drop(store);
    // Putting the right key back makes everything readable again: nothing was rewritten.
    std::fs::write(&key_path, &original).expect("restore key");
    let store = open(dir.path());
    assert!(store.secret("keytab").expect("read").is_some());
    assert_eq!(
        store.registration().expect("read"),
        Some(sample_registration())
    );
}

#[tokio::test]
async fn a_machine_key_of_the_wrong_length_stops_the_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(MACHINE_KEY_FILE), b"too short").expect("write");
    let err = Store::open(dir.path()).expect_err("refused");
    assert!(matches!(err, StoreError::MachineKey(_)), "{err}");
}

#[tokio::test]
async fn first_seen_is_true_once_also_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    assert!(store
        .mark_first_seen("server", "EXCH01$")
        .await
        .expect("mark"));
    assert!(!store
        .mark_first_seen("server", "EXCH01$")
        .await
        .expect("mark"));
    assert!(store
        .mark_first_seen("server", "SP01$")
        .await
        .expect("mark"));
    assert!(store
        .mark_first_seen("other", "EXCH01$")
        .await
        .expect("mark"));
    drop(store);
    let store = open(dir.path());
    assert!(!store
        .mark_first_seen("server", "EXCH01$")
        .await
        .expect("mark"));
    assert!(store
        .mark_first_seen("server", "FS01$")
        .await
        .expect("mark"));
}

#[tokio::test]
async fn clones_share_one_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let clone = store.clone();
    clone.set_setting("x", &1u8).await.expect("set");
    assert_eq!(store.setting::<u8>("x").expect("read"), Some(1));
    assert!(format!("{store:?}").contains("Store"));
}

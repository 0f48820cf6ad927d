//! Corrupt databases are set aside and rebuilt from `recovery.sealed`.

use super::*;
use crate::{OpenOutcome, RECOVERY_FILE, STORE_DIR};
use std::path::PathBuf;

/// Stores a registration, a setting, a secret and an event, then closes the store.
async fn populated(dir: &Path) {
    let store = open(dir);
    store
        .set_registration(&sample_registration())
        .await
        .expect("set");
    store
        .set_setting("hostname", &"appliance1")
        .await
        .expect("setting");
    store.put_secret("keytab", b"kt").await.expect("secret");
    store
        .mark_first_seen("server", "EXCH01$")
        .await
        .expect("seen");
}

fn expect_recovered(outcome: OpenOutcome) -> (PathBuf, String, bool) {
    match outcome {
        OpenOutcome::Recovered {
            set_aside,
            reason,
            restored_registration,
        } => (set_aside, reason, restored_registration),
        other => panic!("expected Recovered, got {other:?}"),
    }
}

fn overwrite_with_garbage(path: &Path) {
    let len = std::fs::metadata(path)
        .map(|m| m.len())
        .unwrap_or(4096)
        .max(64) as usize;
    let garbage: Vec<u8> = (0..len).map(|i| (i * 151 % 251) as u8).collect();
    std::fs::write(path, garbage).expect("write garbage");
}

#[tokio::test]
async fn garbage_sled_files_are_set_aside_and_the_registration_restored() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated(dir.path()).await;
    let store_dir = dir.path().join(STORE_DIR);
    overwrite_with_garbage(&store_dir.join("conf"));
    overwrite_with_garbage(&store_dir.join("db"));

    let (store, outcome) = reopen(dir.path()).expect("open recovers");
    let (set_aside, reason, restored) = expect_recovered(outcome);
    assert!(restored, "{reason}");
    assert!(set_aside.is_dir());
    assert!(set_aside
        .file_name()
        .expect("name")
        .to_string_lossy()
        .starts_with("store.corrupt-"));
    assert_eq!(
        store.registration().expect("read"),
        Some(sample_registration())
    );
    assert_eq!(
        store
            .setting::<String>("hostname")
            .expect("read")
            .as_deref(),
        Some("appliance1")
    );
    // Not part of the recovery copy: secrets are re-provisioned, the list re-synced.
    assert!(store.secret("keytab").expect("read").is_none());
    drop(store);
    let (_store, outcome) = reopen(dir.path()).expect("reopen");
    assert_eq!(outcome, OpenOutcome::Opened);
}

#[tokio::test]
async fn an_unknown_schema_version_is_treated_as_corruption() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated(dir.path()).await;
    {
        let store = open(dir.path());
        store
            .inner
            .trees
            .meta
            .insert("schema", &b"99"[..])
            .expect("insert");
        store.flush().await.expect("flush");
    }
    let (store, outcome) = reopen(dir.path()).expect("open recovers");
    let (set_aside, reason, restored) = expect_recovered(outcome);
    assert!(reason.contains("schema version 99"), "{reason}");
    assert!(restored);
    assert!(set_aside.exists());
    assert_eq!(
        store.registration().expect("read"),
        Some(sample_registration())
    );
}

#[tokio::test]
async fn an_undecodable_registration_record_is_treated_as_corruption() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated(dir.path()).await;
    {
        let store = open(dir.path());
        store
            .inner
            .trees
            .registration
            .insert("current", &b"{not json"[..])
            .expect("insert");
        store.flush().await.expect("flush");
    }
    let (store, outcome) = reopen(dir.path()).expect("open recovers");
    let (_, reason, restored) = expect_recovered(outcome);
    assert!(reason.contains("registration"), "{reason}");
    // recovery.sealed was written by set_registration before the damage.
    assert!(restored);
    assert_eq!(
        store.registration().expect("read"),
        Some(sample_registration())
    );
}

#[tokio::test]
async fn without_a_recovery_file_the_rebuilt_store_is_empty_but_usable() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated(dir.path()).await;
    std::fs::remove_file(dir.path().join(RECOVERY_FILE)).expect("remove");
    overwrite_with_garbage(&dir.path().join(STORE_DIR).join("conf"));
    overwrite_with_garbage(&dir.path().join(STORE_DIR).join("db"));
    let (store, outcome) = reopen(dir.path()).expect("open recovers");
    let (_, reason, restored) = expect_recovered(outcome);
    assert!(!restored);
    assert!(reason.contains("recovery.sealed"), "{reason}");
    assert_eq!(store.registration().expect("read"), None);
    store.set_setting("x", &1u8).await.expect("usable");
}

#[tokio::test]
async fn only_the_three_newest_set_aside_copies_are_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    for round in 0..5 {
        {
            let store = open(dir.path());
            store.set_setting("round", &round).await.expect("set");
            store
                .inner
                .trees
                .meta
                .insert("schema", &b"0"[..])
                .expect("insert");
            store.flush().await.expect("flush");
        }
        let (store, outcome) = reopen(dir.path()).expect("open recovers");
        expect_recovered(outcome);
        assert_eq!(store.setting::<i32>("round").expect("read"), Some(round));
    }
    let set_aside = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("store.corrupt-")
        })
        .count();
    assert_eq!(set_aside, 3);
}

#[tokio::test]
async fn a_deleted_database_is_recreated_and_refilled_from_the_recovery_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated(dir.path()).await;
    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).expect("remove");
    let (store, outcome) = reopen(dir.path()).expect("open");
    assert_eq!(outcome, OpenOutcome::Created);
    assert_eq!(
        store.registration().expect("read"),
        Some(sample_registration())
    );
}

#[tokio::test]
async fn clearing_the_registration_also_clears_it_from_the_recovery_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated(dir.path()).await;
    open(dir.path()).clear_registration().await.expect("clear");
    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).expect("remove");
    let store = open(dir.path());
    assert_eq!(store.registration().expect("read"), None);
    assert_eq!(
        store
            .setting::<String>("hostname")
            .expect("read")
            .as_deref(),
        Some("appliance1")
    );
}

#[tokio::test]
async fn damage_to_the_data_file_alone_is_detected_and_recovered() {
    // sled reads a damaged log as empty rather than failing; the missing schema record is
    // what gives the damage away.
    for damage in ["garbage", "truncated", "bit flips"] {
        let dir = tempfile::tempdir().expect("tempdir");
        populated(dir.path()).await;
        let db = dir.path().join(STORE_DIR).join("db");
        let mut bytes = std::fs::read(&db).expect("read");
        match damage {
            "garbage" => overwrite_with_garbage(&db),
            "truncated" => std::fs::write(&db, &bytes[..bytes.len() / 2]).expect("write"),
            _ => {
                for b in bytes.iter_mut().skip(100).step_by(7) {
                    *b ^= 0x5a;
                }
                std::fs::write(&db, &bytes).expect("write");
            }
        }
        let (store, outcome) = reopen(dir.path()).expect("open recovers");
        let (_, _, restored) = expect_recovered(outcome);
        assert!(restored, "{damage}");
        assert_eq!(
            store.registration().expect("read"),
            Some(sample_registration()),
            "{damage}"
        );
    }
}

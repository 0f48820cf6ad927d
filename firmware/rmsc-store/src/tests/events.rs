//! The bounded event log: ordering, bounds, sequence numbers and filters.

use super::*;
use crate::{EventFilter, EventLevel, NewEvent};
use std::collections::BTreeMap;

fn event(id: u16, level: EventLevel, message: &str) -> NewEvent {
    NewEvent {
        id,
        level,
        message: message.to_owned(),
        fields: BTreeMap::new(),
    }
}

fn seqs(records: &[crate::EventRecord]) -> Vec<u64> {
    records.iter().map(|r| r.seq).collect()
}

#[tokio::test]
async fn events_come_back_newest_first_with_time_and_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let mut with_fields = event(3001, EventLevel::Info, "Server connected");
    with_fields
        .fields
        .insert("account".to_owned(), "CONTOSO\\EXCH01$".to_owned());
    let first = store
        .append_event(with_fields.clone())
        .await
        .expect("append");
    let second = store
        .append_event(event(3002, EventLevel::Error, "Relay failed"))
        .await
        .expect("append");
    assert_eq!((first.seq, second.seq), (0, 1));
    assert!(first.time > 1_600_000_000_000, "milliseconds");
    let all = store.events(&EventFilter::default()).expect("events");
    assert_eq!(seqs(&all), vec![1, 0]);
    assert_eq!(all[1].fields, with_fields.fields);
    assert_eq!(all[1].message, "Server connected");
}

#[tokio::test]
async fn the_ring_keeps_only_the_newest_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_small(dir.path(), 5);
    for i in 0..12u16 {
        store
            .append_event(event(i, EventLevel::Info, "tick"))
            .await
            .expect("append");
    }
    let all = store.events(&EventFilter::default()).expect("events");
    assert_eq!(seqs(&all), vec![11, 10, 9, 8, 7]);
    assert_eq!(store.inner.trees.events.len(), 5);
}

#[tokio::test]
async fn sequence_numbers_continue_after_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_small(dir.path(), 3);
    for _ in 0..4 {
        store
            .append_event(event(1, EventLevel::Info, "a"))
            .await
            .expect("append");
    }
    drop(store);
    let store = open_small(dir.path(), 3);
    let next = store
        .append_event(event(1, EventLevel::Info, "b"))
        .await
        .expect("append");
    assert_eq!(next.seq, 4);
    assert_eq!(
        seqs(&store.events(&EventFilter::default()).expect("events")),
        vec![4, 3, 2]
    );
}

#[tokio::test]
async fn filters_select_by_level_id_text_page_and_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let mut denied = event(2001, EventLevel::Warning, "Caller denied");
    denied
        .fields
        .insert("account".to_owned(), "CONTOSO\\Mallory".to_owned());
    store
        .append_event(event(1000, EventLevel::Info, "Started"))
        .await
        .expect("append"); // 0
    store.append_event(denied).await.expect("append"); // 1
    store
        .append_event(event(3000, EventLevel::Error, "Cloud unreachable"))
        .await
        .expect("append"); // 2
    store
        .append_event(event(1000, EventLevel::Info, "Started again"))
        .await
        .expect("append"); // 3

    let by_level = EventFilter {
        min_level: Some(EventLevel::Warning),
        ..Default::default()
    };
    assert_eq!(seqs(&store.events(&by_level).expect("events")), vec![2, 1]);

    let by_id = EventFilter {
        id: Some(1000),
        ..Default::default()
    };
    assert_eq!(seqs(&store.events(&by_id).expect("events")), vec![3, 0]);

    let by_message = EventFilter {
        text: Some("UNREACHABLE".to_owned()),
        ..Default::default()
    };
    assert_eq!(seqs(&store.events(&by_message).expect("events")), vec![2]);

    let by_field = EventFilter {
        text: Some("mallory".to_owned()),
        ..Default::default()
    };
    assert_eq!(seqs(&store.events(&by_field).expect("events")), vec![1]);

    let page = EventFilter {
        before_seq: Some(3),
        limit: 2,
        ..Default::default()
    };
    assert_eq!(seqs(&store.events(&page).expect("events")), vec![2, 1]);

    let combined = EventFilter {
        id: Some(1000),
        text: Some("again".to_owned()),
        ..Default::default()
    };
    assert_eq!(seqs(&store.events(&combined).expect("events")), vec![3]);

    let none = EventFilter {
        before_seq: Some(0),
        ..Default::default()
    };
    assert!(store.events(&none).expect("events").is_empty());
}

#[tokio::test]
async fn concurrent_appends_get_distinct_gapless_sequence_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let mut tasks = Vec::new();
    for i in 0..20u16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .append_event(event(i, EventLevel::Info, "x"))
                .await
                .expect("append")
                .seq
        }));
    }
    let mut got = Vec::new();
    for task in tasks {
        got.push(task.await.expect("join"));
    }
    got.sort_unstable();
    assert_eq!(got, (0..20).collect::<Vec<u64>>());
}

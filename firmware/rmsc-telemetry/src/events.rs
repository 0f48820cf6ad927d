//! The event catalogue and the recorder. Events are few and meaningful (an administrator
//! reads them); per-request detail goes to tracing and metrics instead.

use rmsc_store::{EventLevel, NewEvent, Store};
use std::collections::BTreeMap;

/// The original connector's event ids (see `connector-facts.md`), plus the appliance's own
/// in the 4000 range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventId {
    Started,
    Stopped,
    AuthorizedServerFirstSeen,
    ClientMovedToHttps,
    ListUpdated,
    NoValidIdentity,
    UnauthorizedAccess,
    PlainHttpClient,
    ListEmpty,
    UnhandledFailure,
    ListFetchFailed,
    /// The store could not be opened; it was set aside and rebuilt.
    StoreRecovered,
    /// Registration changed (registered, renewed, deregistered).
    RegistrationChanged,
    /// An administrator changed the configuration.
    AdminAction,
}

impl EventId {
    /// The numeric id shown to administrators.
    pub fn code(self) -> u16 {
        match self {
            EventId::Started => 1000,
            EventId::Stopped => 1001,
            EventId::AuthorizedServerFirstSeen => 1002,
            EventId::ClientMovedToHttps => 1003,
            EventId::ListUpdated => 1004,
            EventId::NoValidIdentity => 2000,
            EventId::UnauthorizedAccess => 2001,
            EventId::PlainHttpClient => 2002,
            EventId::ListEmpty => 2003,
            EventId::UnhandledFailure => 3000,
            EventId::ListFetchFailed => 3001,
            EventId::StoreRecovered => 4000,
            EventId::RegistrationChanged => 4001,
            EventId::AdminAction => 4002,
        }
    }

    /// The level the original gives the event.
    pub fn level(self) -> EventLevel {
        match self.code() {
            1000..=1999 | 4001 | 4002 => EventLevel::Info,
            2000..=2999 => EventLevel::Warning,
            _ => EventLevel::Error,
        }
    }
}

/// Records events in the store (the administrator's event list) and in the log.
#[derive(Clone)]
pub struct Events {
    store: Store,
}

impl Events {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Records an event. A store failure is logged, never propagated: losing an event must
    /// not fail the request or task that raised it.
    pub async fn record(&self, id: EventId, message: impl Into<String>, fields: &[(&str, &str)]) {
        let message = message.into();
        let fields: BTreeMap<String, String> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let code = id.code();
        match id.level() {
            EventLevel::Info => tracing::info!(event_id = code, ?fields, "{message}"),
            EventLevel::Warning => tracing::warn!(event_id = code, ?fields, "{message}"),
            EventLevel::Error => tracing::error!(event_id = code, ?fields, "{message}"),
        }
        let event = NewEvent {
            id: code,
            level: id.level(),
            message,
            fields,
        };
        if let Err(error) = self.store.append_event(event).await {
            tracing::error!(%error, event_id = code, "could not store event");
        }
    }

    /// Records `id` only the first time `key` is seen in `scope` (persistently), e.g. the
    /// first connection of an authorized server. Returns whether it recorded.
    pub async fn record_first(
        &self,
        scope: &str,
        key: &str,
        id: EventId,
        message: impl Into<String>,
        fields: &[(&str, &str)],
    ) -> bool {
        match self.store.mark_first_seen(scope, key).await {
            Ok(true) => {
                self.record(id, message, fields).await;
                true
            }
            Ok(false) => false,
            Err(error) => {
                tracing::error!(%error, scope, "could not track first-seen");
                false
            }
        }
    }

    /// The store behind the recorder, for reading events back.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_levels_follow_the_catalogue() {
        assert_eq!(EventId::UnauthorizedAccess.code(), 2001);
        assert_eq!(EventId::UnauthorizedAccess.level(), EventLevel::Warning);
        assert_eq!(EventId::ListFetchFailed.level(), EventLevel::Error);
        assert_eq!(EventId::ListUpdated.level(), EventLevel::Info);
        assert_eq!(EventId::StoreRecovered.level(), EventLevel::Error);
    }

    #[tokio::test]
    async fn first_seen_events_are_recorded_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, _) = Store::open(dir.path()).expect("open");
        let events = Events::new(store.clone());
        assert!(
            events
                .record_first(
                    "server",
                    "S-1-5-21-1",
                    EventId::AuthorizedServerFirstSeen,
                    "first",
                    &[]
                )
                .await
        );
        assert!(
            !events
                .record_first(
                    "server",
                    "S-1-5-21-1",
                    EventId::AuthorizedServerFirstSeen,
                    "first",
                    &[]
                )
                .await
        );
        let all = store
            .events(&rmsc_store::EventFilter {
                limit: 10,
                ..Default::default()
            })
            .expect("events");
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].id, 1002);
    }
}

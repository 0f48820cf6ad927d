//! The tenant's authorized-server list: `GET` with `If-None-Match` and `?wait=N` long-poll,
//! `PUT` with a required `If-Match`. Each tenant's list sits in a `watch` channel, so a write
//! wakes every waiting poll at once and no lock is held while waiting.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use rmsc_contract::{
    parse_etag, AuthorizedEntry, AuthorizedList, AuthorizedListUpdate, ErrorCode,
    MAX_LONG_POLL_SECS,
};
use serde::Deserialize;

use crate::auth::{principal, Accept, ConnInfo};
use crate::context::Ctx;
use crate::http_util::{cloud_error, invalid_request, json, ApiError};
use crate::state::Tenant;

/// Query of the `GET`.
#[derive(Debug, Deserialize)]
pub struct WaitQuery {
    #[serde(default)]
    pub wait: Option<u64>,
}

pub(crate) fn with_etag(mut response: Response, version: u64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&rmsc_contract::etag_for(version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

fn list_response(list: &AuthorizedList) -> Response {
    with_etag(json(StatusCode::OK, list), list.version)
}

/// Whether any tag of an `If-None-Match` header names `version`.
pub(crate) fn none_match_hits(headers: &HeaderMap, version: u64) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == "*" || parse_etag(tag) == Some(version))
}

fn tenant_of<'a>(ctx: &'a Ctx, tenant_id: &str) -> Result<&'a Arc<Tenant>, ApiError> {
    ctx.state
        .tenant_by_id(tenant_id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such tenant"))
}

/// `GET /api/v1/authorized-servers`.
pub async fn get(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
    query: Result<Query<WaitQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let who = match principal(&ctx, &headers, conn.as_deref(), Accept::Either) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let Ok(Query(query)) = query else {
        return invalid_request("wait must be a number of seconds");
    };
    let tenant = match tenant_of(&ctx, who.tenant_id()) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let mut changes = tenant.list.subscribe();
    let current = changes.borrow_and_update().clone();
    if !none_match_hits(&headers, current.version) {
        return list_response(&current);
    }
    match changed_within(&mut changes, query.wait).await {
        Some(newer) => list_response(&newer),
        None => with_etag(StatusCode::NOT_MODIFIED.into_response(), current.version),
    }
}

/// The long-poll of a conditional read: the value after the next change, if one comes within
/// `wait_secs` (capped at the contract's longest poll; none or 0: no wait).
pub(crate) async fn changed_within<T: Clone>(
    changes: &mut tokio::sync::watch::Receiver<T>,
    wait_secs: Option<u64>,
) -> Option<T> {
    let wait = Duration::from_secs(wait_secs.unwrap_or(0).min(MAX_LONG_POLL_SECS));
    if wait.is_zero() {
        return None;
    }
    match tokio::time::timeout(wait, changes.changed()).await {
        Ok(Ok(())) => Some(changes.borrow_and_update().clone()),
        _ => None,
    }
}

/// Whether a SID has the `S-1-<authority>-<sub>...` syntax.
pub fn valid_sid(sid: &str) -> bool {
    let Some(rest) = sid.strip_prefix("S-1-") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('-').collect();
    parts.len() <= 16
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks entries and fills the audit fields.
pub fn validate_entries(entries: &mut [AuthorizedEntry], by: &str, now: i64) -> Result<(), String> {
    for (i, entry) in entries.iter_mut().enumerate() {
        entry.account = entry.account.trim().to_owned();
        if entry.account.is_empty() || entry.account.chars().any(char::is_control) {
            return Err(format!("entry {i}: account must not be empty"));
        }
        if let Some(sid) = &entry.sid {
            if !valid_sid(sid) {
                return Err(format!("entry {i}: {sid:?} is not a SID (S-1-...)"));
            }
        }
        if entry.added_by.is_empty() {
            entry.added_by = by.to_owned();
        }
        if entry.added_at == 0 {
            entry.added_at = now;
        }
    }
    Ok(())
}

/// Replaces the list if its version is `expected` (`None` = unconditionally).
pub fn replace(
    tenant: &Tenant,
    expected: Option<u64>,
    entries: Vec<AuthorizedEntry>,
) -> Result<Arc<AuthorizedList>, u64> {
    let mut outcome = Err(0);
    tenant.list.send_if_modified(|list| {
        if expected.is_some_and(|v| v != list.version) {
            outcome = Err(list.version);
            return false;
        }
        let next = Arc::new(AuthorizedList {
            version: list.version + 1,
            entries,
        });
        *list = next.clone();
        outcome = Ok(next);
        true
    });
    outcome
}

/// `PUT /api/v1/authorized-servers`.
pub async fn put(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
    body: Result<Json<AuthorizedListUpdate>, JsonRejection>,
) -> Response {
    let who = match principal(&ctx, &headers, conn.as_deref(), Accept::Either) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let Some(if_match) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return cloud_error(
            StatusCode::PRECONDITION_REQUIRED,
            ErrorCode::InvalidRequest,
            "If-Match with the version that was read is required",
        );
    };
    let expected = if if_match.trim() == "*" {
        None
    } else {
        match parse_etag(if_match) {
            Some(v) => Some(v),
            None => return invalid_request("If-Match is not an entity tag"),
        }
    };
    let Ok(Json(update)) = body else {
        return invalid_request("expected a JSON AuthorizedListUpdate");
    };
    let mut entries = update.entries;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if let Err(problem) = validate_entries(&mut entries, &who.audit_name(), now) {
        return invalid_request(problem);
    }
    let tenant = match tenant_of(&ctx, who.tenant_id()) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    match replace(tenant, expected, entries) {
        Ok(list) => {
            tracing::info!(tenant = %tenant.name, version = list.version, by = %who.audit_name(), "authorized-server list updated");
            list_response(&list)
        }
        Err(current) => with_etag(
            cloud_error(
                StatusCode::PRECONDITION_FAILED,
                ErrorCode::PreconditionFailed,
                format!("the list is at version {current}; re-read it and retry"),
            ),
            current,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmsc_contract::{EntryKind, Role};

    fn entry(account: &str, sid: Option<&str>) -> AuthorizedEntry {
        AuthorizedEntry {
            account: account.to_owned(),
            sid: sid.map(str::to_owned),
            kind: EntryKind::Group,
            role: Role::Exchange,
            added_by: String::new(),
            added_at: 0,
        }
    }

    #[test]
    fn sid_syntax_is_checked() {
        assert!(valid_sid("S-1-5-21-1004336348-1177238915-682003330-512"));
        assert!(valid_sid("S-1-5-32-544"));
        assert!(!valid_sid("S-1-"));
        assert!(!valid_sid("S-1-5--1"));
        assert!(!valid_sid("s-1-5-21"));
        assert!(!valid_sid("S-2-5"));
        assert!(!valid_sid("S-1-5-x"));
    }

    #[test]
    fn entries_get_audit_fields_and_bad_ones_are_refused() {
        let mut good = vec![entry(
            " CONTOSO\\Exchange Servers ",
            Some("S-1-5-21-1-2-3-1107"),
        )];
        validate_entries(&mut good, "admin@contoso.test", 42).expect("valid");
        assert_eq!(good[0].account, "CONTOSO\\Exchange Servers");
        assert_eq!(
            (good[0].added_by.as_str(), good[0].added_at),
            ("admin@contoso.test", 42)
        );
        assert!(validate_entries(&mut [entry(" ", None)], "x", 1).is_err());
        assert!(validate_entries(&mut [entry("a", Some("S-1-bad"))], "x", 1).is_err());
    }

    #[test]
    fn none_match_accepts_lists_and_weak_tags() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"2\", W/\"3\""),
        );
        assert!(none_match_hits(&headers, 3));
        assert!(!none_match_hits(&headers, 4));
        assert!(!none_match_hits(&HeaderMap::new(), 1));
    }
}

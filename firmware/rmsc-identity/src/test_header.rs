//! A test-only identity source that believes a plain request header. It exists so the relay
//! can be tested before (and without) a domain controller; it is compiled only with the
//! `test-identity` feature, which the release build never enables.
//!
//! Header format: `X-Rmsc-Test-Identity: DOMAIN\account;S-1-...;S-1-group,S-1-group`.

use crate::{
    AuthOutcome, BoxFuture, CallerIdentity, ConnectionAuth, IdentitySource, RefusalReason,
};
use http::{HeaderMap, HeaderValue, StatusCode};
use std::sync::Arc;

/// The header the test source reads.
pub const HEADER: &str = "x-rmsc-test-identity";

/// Formats a header value for [`HEADER`].
pub fn header_value(account: &str, sid: &str, groups: &[&str]) -> String {
    format!("{account};{sid};{}", groups.join(","))
}

/// Identity from the [`HEADER`] request header; no header gives a Negotiate challenge, as the
/// real source would.
#[derive(Debug, Default)]
pub struct TestHeaderSource;

impl IdentitySource for TestHeaderSource {
    fn name(&self) -> &'static str {
        "test-header"
    }

    fn authenticate<'a>(
        &'a self,
        headers: &'a HeaderMap,
        _: &'a ConnectionAuth,
    ) -> BoxFuture<'a, AuthOutcome> {
        Box::pin(async move { parse(headers) })
    }
}

fn parse(headers: &HeaderMap) -> AuthOutcome {
    let refuse = |status, reason| AuthOutcome::Refused {
        status,
        www_authenticate: vec![HeaderValue::from_static("Negotiate")],
        reason,
    };
    let Some(value) = headers.get(HEADER) else {
        return refuse(StatusCode::UNAUTHORIZED, RefusalReason::NoCredentials);
    };
    let Ok(text) = value.to_str() else {
        return refuse(
            StatusCode::BAD_REQUEST,
            RefusalReason::Malformed("not ASCII".into()),
        );
    };
    let mut parts = text.splitn(3, ';');
    let (Some(account), Some(sid)) = (parts.next(), parts.next()) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            RefusalReason::Malformed("expected account;sid;groups".into()),
        );
    };
    if account.is_empty() || !crate::is_valid_sid(sid) {
        return refuse(
            StatusCode::BAD_REQUEST,
            RefusalReason::Malformed("bad account or SID".into()),
        );
    }
    let group_sids = parts
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    AuthOutcome::Authenticated {
        identity: Arc::new(CallerIdentity {
            account: account.to_owned(),
            sid: sid.to_owned(),
            group_sids,
            mechanism: "test-header",
        }),
        response_header: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let mut h = HeaderMap::new();
        assert!(matches!(
            parse(&h),
            AuthOutcome::Refused {
                status: StatusCode::UNAUTHORIZED,
                ..
            }
        ));
        h.insert(
            HEADER,
            HeaderValue::from_static("CONTOSO\\EXCH01$;S-1-5-21-1-2-3-1001;S-1-5-21-1-2-3-1100"),
        );
        match parse(&h) {
            AuthOutcome::Authenticated { identity, .. } => {
                assert_eq!(identity.short_name(), "EXCH01$");
                assert_eq!(identity.group_sids.len(), 1);
            }
            other => panic!("unexpected {other:?}"),
        }
        h.insert(HEADER, HeaderValue::from_static("x;not-a-sid;"));
        assert!(matches!(
            parse(&h),
            AuthOutcome::Refused {
                status: StatusCode::BAD_REQUEST,
                ..
            }
        ));
    }
}

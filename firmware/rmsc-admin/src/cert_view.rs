//! How a caller certificate is shown to the administrator (the `GET /api/v1/certificate`
//! answer) and how a failed check becomes a refusal with the problem's stable code.

use crate::certificate::sentence;
use crate::error::AdminError;
use rmsc_certs::{CertProblem, CertReport, Severity, Uploaded};
use serde::Serialize;
use time::OffsetDateTime;

/// The certificate the caller listeners present.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CertificateStatus {
    /// `self_signed`, `uploaded` or `csr_pending`; `None` when there is no certificate.
    pub source: Option<String>,
    pub subject: String,
    pub dns_names: Vec<String>,
    /// Unix seconds.
    pub not_after: Option<i64>,
    pub fingerprint_sha256: String,
    pub chain: Vec<ChainEntry>,
    pub problems: Vec<ProblemEntry>,
    /// The pending signing request, to download again.
    pub csr_pem: Option<String>,
    pub installed_by: Option<String>,
    pub installed_at: Option<i64>,
}

/// One certificate of the chain, leaf first.
#[derive(Debug, Clone, Serialize)]
pub struct ChainEntry {
    pub subject: String,
    pub issuer: String,
    pub not_after: i64,
    pub fingerprint_sha256: String,
}

/// One problem, with its stable code and a sentence for the administrator.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProblemEntry {
    pub code: String,
    /// `error` (callers will fail) or `warning`.
    pub severity: &'static str,
    pub message: String,
}

fn problem_entry(problem: &CertProblem) -> ProblemEntry {
    ProblemEntry {
        code: problem.code().to_owned(),
        severity: match problem.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        message: sentence(&problem.to_string()),
    }
}

/// The refusal for a report with error-severity problems (the first one decides the code;
/// the message lists them all), or `None` when the certificate is usable.
pub(crate) fn refused_by_report(report: &CertReport) -> Option<AdminError> {
    let code = report.first_error_code()?;
    let message = report
        .problems
        .iter()
        .filter(|p| p.severity() == Severity::Error)
        .map(|p| sentence(&p.to_string()))
        .collect::<Vec<_>>()
        .join(" ");
    Some(AdminError::Refused {
        code,
        message: format!("The certificate was not installed: {message}"),
    })
}

/// Describes `current` for the status answer. Without a connector name (not registered yet)
/// there is nothing to compare the names with, so no name problem is reported.
pub(crate) fn status_view(
    current: Option<&Uploaded>,
    connector_name: Option<&str>,
    now: OffsetDateTime,
    source: Option<String>,
) -> CertificateStatus {
    let Some(current) = current else {
        return CertificateStatus {
            source,
            ..CertificateStatus::default()
        };
    };
    let report = rmsc_certs::check(current, connector_name.unwrap_or("localhost"), now);
    let mut problems: Vec<ProblemEntry> = report
        .problems
        .iter()
        .filter(|p| connector_name.is_some() || !matches!(p, CertProblem::NameMismatch { .. }))
        .map(problem_entry)
        .collect();
    if source.as_deref() == Some("self_signed") {
        problems.push(ProblemEntry {
            code: "self_signed".into(),
            severity: "warning",
            message: "The certificate is self-signed: callers must be configured to trust it."
                .into(),
        });
    }
    CertificateStatus {
        source,
        subject: report.subject.clone(),
        dns_names: report.dns_names.clone(),
        not_after: Some(report.not_after.unix_timestamp()),
        fingerprint_sha256: report.fingerprint_sha256.clone(),
        chain: report
            .chain
            .iter()
            .map(|link| ChainEntry {
                subject: link.subject.clone(),
                issuer: link.issuer.clone(),
                not_after: link.not_after.unix_timestamp(),
                fingerprint_sha256: link.fingerprint_sha256.clone(),
            })
            .collect(),
        problems,
        csr_pem: None,
        installed_by: None,
        installed_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made_for(name: &str) -> Uploaded {
        let (pem, key) = rmsc_certs::self_signed(name, OffsetDateTime::now_utc()).expect("make");
        rmsc_certs::complete_csr(pem.as_bytes(), &key).expect("read")
    }

    #[test]
    fn a_matching_certificate_is_not_refused_and_a_foreign_one_is() {
        let cert = made_for("rms.contoso.com");
        let good = rmsc_certs::check(&cert, "rms.contoso.com", OffsetDateTime::now_utc());
        assert!(refused_by_report(&good).is_none());
        let bad = rmsc_certs::check(&cert, "other.contoso.com", OffsetDateTime::now_utc());
        let refusal = refused_by_report(&bad).expect("refused");
        assert_eq!(refusal.code(), "name_mismatch");
        assert!(refusal.to_string().contains("other.contoso.com"));
    }

    #[test]
    fn status_without_a_connector_name_reports_no_name_problem() {
        let cert = made_for("rms.contoso.com");
        let view = status_view(
            Some(&cert),
            None,
            OffsetDateTime::now_utc(),
            Some("self_signed".into()),
        );
        assert!(view.problems.iter().all(|p| p.code != "name_mismatch"));
        assert!(view.problems.iter().any(|p| p.code == "self_signed"));
        assert_eq!(view.dns_names, vec!["rms.contoso.com".to_owned()]);
        assert_eq!(view.chain.len(), 1);
        let none = status_view(None, None, OffsetDateTime::now_utc(), None);
        assert!(none.source.is_none() && none.subject.is_empty());
    }
}

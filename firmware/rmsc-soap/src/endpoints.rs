//! The table of services the connector answers under `/_wmcs/` (MS-RMPR 3.1.4.2, MS-RMSI 2.1)
//! and the SOAP operations each one accepts. Everything else in the crate is driven by it.

use std::fmt;

/// Path prefix of every relayed service, as callers spell it (matching is case-insensitive).
pub const WMCS_PREFIX: &str = "/_wmcs/";

/// The SOAP services of the protocol. Each has a target namespace
/// `http://microsoft.com/DRM/<Service>`; SOAPAction values are `<namespace>/<Operation>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Certification,
    Licensing,
    Publishing,
    TemplateDistribution,
    Server,
    Activation,
    ServiceLocator,
}

impl Service {
    pub const ALL: [Service; 7] = [
        Service::Certification,
        Service::Licensing,
        Service::Publishing,
        Service::TemplateDistribution,
        Service::Server,
        Service::Activation,
        Service::ServiceLocator,
    ];

    /// The name as it appears in namespaces and SOAPAction values.
    pub fn name(self) -> &'static str {
        match self {
            Service::Certification => "CertificationService",
            Service::Licensing => "LicensingService",
            Service::Publishing => "PublishingService",
            Service::TemplateDistribution => "TemplateDistributionService",
            Service::Server => "ServerService",
            Service::Activation => "ActivationService",
            Service::ServiceLocator => "ServiceLocatorService",
        }
    }

    /// The XML target namespace of the service.
    pub fn namespace(self) -> &'static str {
        match self {
            Service::Certification => "http://microsoft.com/DRM/CertificationService",
            Service::Licensing => "http://microsoft.com/DRM/LicensingService",
            Service::Publishing => "http://microsoft.com/DRM/PublishingService",
            Service::TemplateDistribution => "http://microsoft.com/DRM/TemplateDistributionService",
            Service::Server => "http://microsoft.com/DRM/ServerService",
            Service::Activation => "http://microsoft.com/DRM/ActivationService",
            Service::ServiceLocator => "http://microsoft.com/DRM/ServiceLocatorService",
        }
    }

    /// Looks a service up by the name used in namespaces (case-sensitive, as URIs are).
    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One SOAP operation of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operation {
    pub service: Service,
    /// Operation name, also the local name of the request element inside `soap:Body`.
    pub name: &'static str,
}

impl Operation {
    /// The SOAPAction URI of the operation.
    pub fn soap_action(&self) -> String {
        format!("{}/{}", self.service.namespace(), self.name)
    }

    /// Whether `action` is this operation's SOAPAction URI, compared exactly and without
    /// building the URI (this runs for every relayed request).
    pub fn has_soap_action(&self, action: &str) -> bool {
        action
            .strip_prefix(self.service.namespace())
            .and_then(|rest| rest.strip_prefix('/'))
            == Some(self.name)
    }

    /// A stable label for metrics and logs, e.g. `LicensingService.AcquireLicense`.
    pub fn label(&self) -> String {
        format!("{}.{}", self.service.name(), self.name)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.service.name(), self.name)
    }
}

/// One `.asmx` endpoint under `/_wmcs/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// Canonical path below `/_wmcs/`, spelled as the original spells it.
    pub path: &'static str,
    /// Title of the help page (what a browser GET shows), e.g. `ServerCertificationWebService`.
    pub title: &'static str,
    /// The operations this endpoint accepts.
    pub operations: &'static [Operation],
}

impl Endpoint {
    /// The full canonical path, with `/_wmcs/`.
    pub fn full_path(&self) -> String {
        format!("{WMCS_PREFIX}{}", self.path)
    }

    /// The operation named `name` (exact, as SOAP names are case-sensitive).
    pub fn operation(&self, name: &str) -> Option<&'static Operation> {
        self.operations.iter().find(|op| op.name == name)
    }

    /// The namespace of the endpoint's (first) service, used for its WSDL.
    pub fn service(&self) -> Service {
        self.operations[0].service
    }
}

const fn op(service: Service, name: &'static str) -> Operation {
    Operation { service, name }
}

/// Every endpoint the connector serves, in the order of the facts table.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        path: "certification/Activation.asmx",
        title: "ActivationWebService",
        operations: &[op(Service::Activation, "Activate")],
    },
    Endpoint {
        path: "certification/certification.asmx",
        title: "CertificationWebService",
        operations: &[op(Service::Certification, "Certify")],
    },
    Endpoint {
        path: "certification/ServerCertification.asmx",
        title: "ServerCertificationWebService",
        operations: &[op(Service::Certification, "Certify")],
    },
    Endpoint {
        path: "certification/MobileCertification.asmx",
        title: "MobileCertificationWebService",
        operations: &[op(Service::Certification, "Certify")],
    },
    Endpoint {
        path: "certification/Precertification.asmx",
        title: "PrecertificationWebService",
        operations: &[op(Service::Certification, "Precertify")],
    },
    Endpoint {
        path: "certification/server.asmx",
        title: "ServerWebService",
        operations: &[op(Service::Server, "GetLicensorCertificate")],
    },
    Endpoint {
        path: "certification/ServiceLocator.asmx",
        title: "ServiceLocatorWebService",
        operations: &[op(Service::ServiceLocator, "FindServiceLocationsForUser")],
    },
    Endpoint {
        path: "licensing/license.asmx",
        title: "LicenseWebService",
        operations: &[
            op(Service::Licensing, "AcquireLicense"),
            op(Service::Licensing, "AcquirePreLicense"),
        ],
    },
    Endpoint {
        path: "licensing/publish.asmx",
        title: "PublishWebService",
        operations: &[
            op(Service::Publishing, "AcquireIssuanceLicense"),
            op(Service::Publishing, "GetClientLicensorCert"),
        ],
    },
    Endpoint {
        path: "licensing/editissuancelicense.asmx",
        title: "EditIssuanceLicenseWebService",
        operations: &[op(Service::Publishing, "EditIssuanceLicense")],
    },
    Endpoint {
        path: "licensing/templateDistribution.asmx",
        title: "TemplateDistributionWebService",
        operations: &[
            op(Service::TemplateDistribution, "AcquireTemplateInformation"),
            op(Service::TemplateDistribution, "AcquireTemplates"),
        ],
    },
    Endpoint {
        path: "licensing/server.asmx",
        title: "ServerWebService",
        operations: &[
            op(Service::Server, "GetLicensorCertificate"),
            op(Service::Server, "GetServerInfo"),
        ],
    },
    Endpoint {
        path: "licensing/ServiceLocator.asmx",
        title: "ServiceLocatorWebService",
        operations: &[op(Service::ServiceLocator, "FindServiceLocationsForUser")],
    },
];

/// Finds the endpoint for a request path (with or without the `/_wmcs/` prefix),
/// ignoring ASCII case as IIS does. A query string must already be stripped.
pub fn find_endpoint(path: &str) -> Option<&'static Endpoint> {
    let rest = strip_prefix_ignore_case(path, WMCS_PREFIX)
        .or_else(|| strip_prefix_ignore_case(path, &WMCS_PREFIX[1..]))
        .unwrap_or(path);
    ENDPOINTS.iter().find(|e| e.path.eq_ignore_ascii_case(rest))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Every distinct operation of the table (each once), e.g. for metrics pre-registration.
pub fn all_operations() -> Vec<&'static Operation> {
    let mut ops: Vec<&'static Operation> = Vec::new();
    for endpoint in ENDPOINTS {
        for op in endpoint.operations {
            if !ops.contains(&op) {
                ops.push(op);
            }
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_case_insensitively() {
        let e = find_endpoint("/_WMCS/Certification/servercertification.ASMX").expect("found");
        assert_eq!(e.title, "ServerCertificationWebService");
        assert!(find_endpoint("/_wmcs/licensing/license.asmx").is_some());
        assert!(find_endpoint("licensing/LICENSE.asmx").is_some());
        assert!(find_endpoint("/_wmcs/licensing/nothere.asmx").is_none());
        assert!(find_endpoint("/other/licensing/license.asmx").is_none());
    }

    #[test]
    fn soap_actions_are_namespace_slash_operation() {
        let e = find_endpoint("licensing/license.asmx").expect("found");
        assert_eq!(
            e.operations[0].soap_action(),
            "http://microsoft.com/DRM/LicensingService/AcquireLicense"
        );
        for op in all_operations() {
            assert!(op.has_soap_action(&op.soap_action()));
            assert!(!op.has_soap_action(&format!("{}/", op.soap_action())));
            assert!(!op.has_soap_action(op.service.namespace()));
            assert!(!op.has_soap_action(&op.soap_action().to_lowercase()));
        }
    }

    #[test]
    fn every_endpoint_has_operations() {
        assert_eq!(ENDPOINTS.len(), 13);
        assert!(ENDPOINTS.iter().all(|e| !e.operations.is_empty()));
        assert_eq!(all_operations().len(), 13);
    }
}

//! Caller-facing SOAP facts of the rights-management protocol: the endpoint table, SOAPAction
//! checks, envelope validation, faults, help pages and WSDL. Pure functions over bytes and
//! strings: no I/O, so the relay, the cloud stand-in and the fuzz targets share them.

pub mod action;
pub mod endpoints;
pub mod envelope;
pub mod fault;
pub mod help;
pub mod request;
mod sanitize;
pub mod wsdl;
mod xml;

pub use action::{check_action, requested_action, ActionError, SoapVersion};
pub use endpoints::{
    all_operations, find_endpoint, Endpoint, Operation, Service, ENDPOINTS, WMCS_PREFIX,
};
pub use envelope::{
    body_operation_name, extract_text, extract_texts, validate_request, EnvelopeError, EnvelopeInfo,
};
pub use fault::{escape_xml, fault, fault_status, FaultKind};
pub use help::help_page;
pub use request::{request_envelope, response_envelope};
pub use wsdl::wsdl;

//! The WSDL 1.1 document served for `?wsdl` on an endpoint path: document/literal
//! operations with a `VersionData` header, bound to SOAP 1.1 and SOAP 1.2, in the layout
//! ASP.NET generates. Operation contents are typed loosely (`xs:any`), because the relay
//! does not interpret them and clients ship their own proxies.

use crate::endpoints::Endpoint;
use crate::fault::escape_xml;

const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
const WSDL_SOAP11_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap/";
const WSDL_SOAP12_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap12/";
const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
const HTTP_TRANSPORT: &str = "http://schemas.xmlsoap.org/soap/http";

/// The WSDL of `endpoint`, with both ports at `location_url`.
pub fn wsdl(endpoint: &Endpoint, location_url: &str) -> String {
    let tns = escape_xml(endpoint.service().namespace());
    let name = escape_xml(endpoint.title);
    let location = escape_xml(location_url);
    let mut out = String::with_capacity(8 * 1024);
    out.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <wsdl:definitions xmlns:wsdl=\"{WSDL_NS}\" xmlns:soap=\"{WSDL_SOAP11_NS}\" \
         xmlns:soap12=\"{WSDL_SOAP12_NS}\" xmlns:s=\"{XSD_NS}\" xmlns:tns=\"{tns}\" \
         targetNamespace=\"{tns}\">\n"
    ));
    push_types(&mut out, endpoint, &tns);
    push_messages(&mut out, endpoint);
    out.push_str(&format!("<wsdl:portType name=\"{name}Soap\">\n"));
    for op in endpoint.operations {
        let op = escape_xml(op.name);
        out.push_str(&format!(
            "<wsdl:operation name=\"{op}\"><wsdl:input message=\"tns:{op}SoapIn\" />\
             <wsdl:output message=\"tns:{op}SoapOut\" /></wsdl:operation>\n"
        ));
    }
    out.push_str("</wsdl:portType>\n");
    push_binding(&mut out, endpoint, &name, "soap", "Soap");
    push_binding(&mut out, endpoint, &name, "soap12", "Soap12");
    out.push_str(&format!(
        "<wsdl:service name=\"{name}\">\n\
         <wsdl:port name=\"{name}Soap\" binding=\"tns:{name}Soap\">\
         <soap:address location=\"{location}\" /></wsdl:port>\n\
         <wsdl:port name=\"{name}Soap12\" binding=\"tns:{name}Soap12\">\
         <soap12:address location=\"{location}\" /></wsdl:port>\n\
         </wsdl:service>\n</wsdl:definitions>\n"
    ));
    out
}

/// The schema: a request and a response element per operation, and the `VersionData` header.
fn push_types(out: &mut String, endpoint: &Endpoint, tns: &str) {
    out.push_str(&format!(
        "<wsdl:types><s:schema elementFormDefault=\"qualified\" targetNamespace=\"{tns}\">\n"
    ));
    let any = "<s:any minOccurs=\"0\" maxOccurs=\"unbounded\" processContents=\"lax\" />";
    for op in endpoint.operations {
        let op = escape_xml(op.name);
        out.push_str(&format!(
            "<s:element name=\"{op}\"><s:complexType><s:sequence>{any}\
             </s:sequence></s:complexType></s:element>\n\
             <s:element name=\"{op}Response\"><s:complexType><s:sequence>\
             <s:element minOccurs=\"0\" maxOccurs=\"1\" name=\"{op}Result\">\
             <s:complexType mixed=\"true\"><s:sequence>{any}</s:sequence></s:complexType>\
             </s:element></s:sequence></s:complexType></s:element>\n"
        ));
    }
    out.push_str(
        "<s:element name=\"VersionData\" type=\"tns:VersionData\" />\n\
         <s:complexType name=\"VersionData\"><s:sequence>\
         <s:element minOccurs=\"0\" maxOccurs=\"1\" name=\"MinimumVersion\" type=\"s:string\" />\
         <s:element minOccurs=\"0\" maxOccurs=\"1\" name=\"MaximumVersion\" type=\"s:string\" />\
         </s:sequence><s:anyAttribute /></s:complexType>\n\
         </s:schema></wsdl:types>\n",
    );
}

/// Input, output and header messages of every operation.
fn push_messages(out: &mut String, endpoint: &Endpoint) {
    for op in endpoint.operations {
        let op = escape_xml(op.name);
        out.push_str(&format!(
            "<wsdl:message name=\"{op}SoapIn\"><wsdl:part name=\"parameters\" element=\"tns:{op}\" /></wsdl:message>\n\
             <wsdl:message name=\"{op}SoapOut\"><wsdl:part name=\"parameters\" element=\"tns:{op}Response\" /></wsdl:message>\n\
             <wsdl:message name=\"{op}VersionData\"><wsdl:part name=\"VersionData\" element=\"tns:VersionData\" /></wsdl:message>\n"
        ));
    }
}

/// One binding: `prefix` is the WSDL SOAP extension prefix (`soap` or `soap12`).
fn push_binding(out: &mut String, endpoint: &Endpoint, name: &str, prefix: &str, suffix: &str) {
    out.push_str(&format!(
        "<wsdl:binding name=\"{name}{suffix}\" type=\"tns:{name}Soap\">\
         <{prefix}:binding transport=\"{HTTP_TRANSPORT}\" />\n"
    ));
    for op in endpoint.operations {
        let action = escape_xml(&op.soap_action());
        let op = escape_xml(op.name);
        let header = format!(
            "<{prefix}:header message=\"tns:{op}VersionData\" part=\"VersionData\" use=\"literal\" />"
        );
        out.push_str(&format!(
            "<wsdl:operation name=\"{op}\">\
             <{prefix}:operation soapAction=\"{action}\" style=\"document\" />\
             <wsdl:input><{prefix}:body use=\"literal\" />{header}</wsdl:input>\
             <wsdl:output><{prefix}:body use=\"literal\" />{header}</wsdl:output>\
             </wsdl:operation>\n"
        ));
    }
    out.push_str("</wsdl:binding>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::ENDPOINTS;
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    use quick_xml::NsReader;

    /// Every `soapAction` attribute of a binding operation, by binding namespace, and
    /// the `location` of every address; fails the test on malformed XML.
    fn parse(doc: &str) -> (Vec<(String, String)>, Vec<String>) {
        let mut reader = NsReader::from_str(doc);
        let mut actions = Vec::new();
        let mut locations = Vec::new();
        loop {
            let (ns, event) = reader.read_resolved_event().expect("well-formed WSDL");
            let ns = match ns {
                ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
                _ => String::new(),
            };
            match event {
                Event::Start(e) | Event::Empty(e) => {
                    for a in e.attributes() {
                        let a = a.expect("attribute");
                        let value = a.unescape_value().expect("value").into_owned();
                        match (e.local_name().as_ref(), a.key.as_ref()) {
                            (b"operation", b"soapAction") => actions.push((ns.clone(), value)),
                            (b"address", b"location") => locations.push(value),
                            _ => {}
                        }
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        (actions, locations)
    }

    #[test]
    fn every_endpoint_wsdl_parses_and_names_each_soap_action_in_both_bindings() {
        for endpoint in ENDPOINTS {
            let doc = wsdl(endpoint, "https://rms.example.com/_wmcs/x.asmx");
            let (actions, locations) = parse(&doc);
            assert!(
                crate::xml::nodes(doc.as_bytes()).is_ok(),
                "strictly well-formed"
            );
            for op in endpoint.operations {
                for binding_ns in [WSDL_SOAP11_NS, WSDL_SOAP12_NS] {
                    assert!(
                        actions.contains(&(binding_ns.to_string(), op.soap_action())),
                        "{} in {}",
                        op,
                        endpoint.path
                    );
                }
            }
            assert_eq!(actions.len(), 2 * endpoint.operations.len());
            assert_eq!(locations.len(), 2);
            assert!(doc.contains(&format!(
                "targetNamespace=\"{}\"",
                endpoint.service().namespace()
            )));
        }
    }

    #[test]
    fn location_is_escaped() {
        let hostile = "https://h/x.asmx?a=1&b=\"<script>";
        let (_, locations) = parse(&wsdl(&ENDPOINTS[0], hostile));
        assert_eq!(locations, vec![hostile.to_string(), hostile.to_string()]);
    }

    #[test]
    fn each_endpoint_serves_a_single_service() {
        for endpoint in ENDPOINTS {
            assert!(endpoint
                .operations
                .iter()
                .all(|op| op.service == endpoint.service()));
        }
    }
}

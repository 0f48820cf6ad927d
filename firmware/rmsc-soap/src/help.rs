//! The HTML page a browser GET of an `.asmx` path shows, like ASP.NET's service help page.
//! Administrators open it to check that the service answers, so it names the service the
//! same way the original does. Self-contained: inline style, no scripts, no external links.

use crate::endpoints::Endpoint;
use crate::fault::escape_xml;

/// The help page of `endpoint`: its title, its operations with their SOAPAction, and a
/// link to its WSDL.
pub fn help_page(endpoint: &Endpoint) -> String {
    let title = escape_xml(endpoint.title);
    let file = escape_xml(file_name(endpoint.path));
    let namespace = escape_xml(endpoint.service().namespace());
    let operations: String = endpoint
        .operations
        .iter()
        .map(|op| {
            format!(
                "<li><strong>{}</strong><br><span class=\"action\">SOAPAction: {}</span></li>\n",
                escape_xml(op.name),
                escape_xml(&op.soap_action())
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html>\n\
         <html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>\
         body{{font-family:Verdana,sans-serif;margin:0;color:#000;background:#fff}}\
         #banner{{background:#003366;color:#fff;padding:12px 24px}}\
         h1{{margin:0;font-size:1.6em;font-weight:normal}}\
         #content{{padding:12px 24px}}\
         .action{{font-family:monospace;color:#555}}\
         li{{margin-bottom:8px}}\
         </style>\n</head>\n<body>\n\
         <div id=\"banner\"><h1>{title}</h1></div>\n\
         <div id=\"content\">\n\
         <p>The following operations are supported. For a formal definition, please review \
         the <a href=\"{file}?wsdl\">Service Description</a>.</p>\n\
         <ul>\n{operations}</ul>\n\
         <p>Namespace: <span class=\"action\">{namespace}</span></p>\n\
         </div>\n</body>\n</html>\n"
    )
}

/// The last segment of an endpoint path, which a relative link resolves against.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::{find_endpoint, ENDPOINTS};

    #[test]
    fn title_and_heading_name_the_service() {
        let e = find_endpoint("certification/servercertification.asmx").expect("endpoint");
        let page = help_page(e);
        assert!(page.contains("<title>ServerCertificationWebService</title>"));
        assert!(page.contains("<h1>ServerCertificationWebService</h1>"));
        assert!(page.contains("href=\"ServerCertification.asmx?wsdl\""));
    }

    #[test]
    fn every_operation_is_listed_and_no_script_is_present() {
        for e in ENDPOINTS {
            let page = help_page(e);
            for op in e.operations {
                assert!(page.contains(&format!("<strong>{}</strong>", op.name)));
                assert!(page.contains(&op.soap_action()));
            }
            assert!(!page.to_ascii_lowercase().contains("<script"));
            assert!(!page.contains("http-equiv"));
        }
    }
}

//! The connector's key pair and certificate signing request. The key is generated here and
//! only its sealed form is ever written; the cloud sees the CSR, never the key.

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

/// A fresh key and the CSR that asks the cloud to certify it.
pub struct CsrBundle {
    /// PKCS#8 PEM of the private key: to be sealed in the store, nowhere else.
    pub key_pem: String,
    /// PKCS#10 PEM to send to the cloud.
    pub csr_pem: String,
}

impl std::fmt::Debug for CsrBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrBundle")
            .field("csr_pem", &self.csr_pem)
            .finish_non_exhaustive()
    }
}

/// Generates an ECDSA P-256 key and a CSR with the connector name as common name.
pub fn new_connector_key(connector_name: &str) -> Result<CsrBundle, rcgen::Error> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, connector_name);
    dn.push(DnType::OrganizationName, "RMS Connector Appliance");
    params.distinguished_name = dn;
    let csr = params.serialize_request(&key)?;
    Ok(CsrBundle {
        key_pem: key.serialize_pem(),
        csr_pem: csr.pem()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_parses_back_and_key_is_pkcs8() {
        let bundle = new_connector_key("rmsconnector.contoso.test").expect("key");
        assert!(bundle.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let parsed =
            rcgen::CertificateSigningRequestParams::from_pem(&bundle.csr_pem).expect("csr");
        let cn = parsed
            .params
            .distinguished_name
            .get(&DnType::CommonName)
            .cloned();
        assert!(
            matches!(cn, Some(rcgen::DnValue::Utf8String(ref s)) if s == "rmsconnector.contoso.test")
        );
        assert!(!format!("{bundle:?}").contains("PRIVATE KEY"));
    }
}

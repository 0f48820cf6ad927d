//! How to reach and authenticate to the directory.

use std::path::PathBuf;
use std::time::Duration;

/// How the connector authenticates to the domain controllers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryAuth {
    /// SASL GSSAPI (Kerberos) with the keys of a keytab file: the connector's service account
    /// keytab. The connection is then sealed by Kerberos, so no TLS is needed.
    Keytab {
        /// Path of the keytab file.
        path: PathBuf,
        /// Principal to authenticate as; by default the first one in the keytab, which
        /// works when the account's userPrincipalName equals it (what `ktpass` sets up).
        principal: Option<String>,
    },
}

/// Where the directory is and how long to wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryConfig {
    /// `ldap://dc1.contoso.com` URLs tried in order. The host part names the server's SPN
    /// (`ldap/<host>`), so use the DC's DNS name (or an address registered as an SPN).
    pub ldap_urls: Vec<String>,
    /// Search base such as `DC=contoso,DC=com`; read from the rootDSE when `None`.
    pub base_dn: Option<String>,
    /// Credentials.
    pub auth: DirectoryAuth,
    /// Time allowed to open the TCP connection to one server.
    pub connect_timeout: Duration,
    /// Time allowed for one operation (the bind, or one search) including its answer.
    pub operation_timeout: Duration,
    /// Most entries one search returns (also asked of the server as its size limit).
    pub size_limit: usize,
}

impl DirectoryConfig {
    /// A configuration with the defaults: 5 s to connect, 10 s per operation, 100 entries.
    pub fn new(ldap_urls: Vec<String>, auth: DirectoryAuth) -> Self {
        Self {
            ldap_urls,
            base_dn: None,
            auth,
            connect_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(10),
            size_limit: 100,
        }
    }
}

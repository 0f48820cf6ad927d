//! The directory client: one Kerberos-sealed LDAP session, reopened when it breaks, and the
//! three look-ups the admin UI needs (search, SID to entry, name to entry).

use std::path::Path;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchOptions};
use rmsc_kerberos::keytab;
use rmsc_kerberos::Sid;
use tokio::sync::Mutex;

use crate::config::{DirectoryAuth, DirectoryConfig};
use crate::entry::{decode_entry, to_directory_entry, DirectoryEntry, KindFilter, ATTRIBUTES};
use crate::error::{from_gss_text, from_ldap, from_result_code, DirectoryError};
use crate::filter::{check_query, escape_bytes, name_filter, search_filter};
use crate::gss::acquire_initiator;
use crate::sid::encode_sid;

const LDAP_SUCCESS: u32 = 0;
const LDAP_TIME_LIMIT_EXCEEDED: u32 = 3;
const LDAP_SIZE_LIMIT_EXCEEDED: u32 = 4;

/// A connected, authenticated view of the domain.
pub struct Directory {
    config: DirectoryConfig,
    cred: libgssapi::credential::Cred,
    base_dn: String,
    /// The open session; `None` after a failure, so the next call reconnects.
    session: Mutex<Option<Ldap>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("ldap_urls", &self.config.ldap_urls)
            .field("base_dn", &self.base_dn)
            .finish_non_exhaustive()
    }
}

impl Directory {
    /// Acquires credentials from the keytab, connects to the first reachable server, binds
    /// with SASL GSSAPI and learns the base DN from the rootDSE unless configured.
    pub async fn connect(config: DirectoryConfig) -> Result<Self, DirectoryError> {
        for url in &config.ldap_urls {
            server_host(url)?;
        }
        if config.ldap_urls.is_empty() {
            return Err(DirectoryError::Config("no LDAP URL configured".into()));
        }
        // The LDAP server first, so that an unreachable server is reported as such rather
        // than as a Kerberos failure; then the credentials (MIT contacts the KDC as soon as
        // they are acquired); then the bind.
        // A keytab that cannot work is a configuration error whatever the network does.
        let principal = resolve_principal(&config.auth).await?;
        let (ldap, host, discovered) = open_any(&config, config.base_dn.is_none()).await?;
        let cred = acquire(&config.auth, principal).await?;
        bind(&ldap, host, &cred, config.operation_timeout).await?;
        let base_dn = match (&config.base_dn, discovered) {
            (Some(dn), _) => dn.clone(),
            (None, Some(dn)) => dn,
            (None, None) => {
                return Err(DirectoryError::Protocol(
                    "the rootDSE has no defaultNamingContext; configure the base DN".into(),
                ))
            }
        };
        Ok(Self {
            config,
            cred,
            base_dn,
            session: Mutex::new(Some(ldap)),
        })
    }

    /// The search base in use.
    pub fn base_dn(&self) -> &str {
        &self.base_dn
    }

    /// Accounts and groups of the requested kinds whose names contain `query`, sorted by
    /// name, at most `size_limit` of them.
    pub async fn search(
        &self,
        query: &str,
        kinds: KindFilter,
    ) -> Result<Vec<DirectoryEntry>, DirectoryError> {
        let query = check_query(query)?;
        if !(kinds.users || kinds.computers || kinds.groups) {
            return Ok(Vec::new());
        }
        let mut entries = self.run(&search_filter(query, kinds)).await?;
        entries.retain(|e| kinds.admits(e.kind));
        entries.sort_by_key(|e| e.name.to_lowercase());
        Ok(entries)
    }

    /// The account or group with this SID, if the domain has one.
    pub async fn resolve_sid(&self, sid: &Sid) -> Result<Option<DirectoryEntry>, DirectoryError> {
        let filter = format!("(objectSid={})", escape_bytes(&encode_sid(sid)));
        let entries = self.run(&filter).await?;
        Ok(entries.into_iter().find(|e| &e.sid == sid))
    }

    /// The account or group called `name`: `CONTOSO\EXCH01$`, `EXCH01$`, `EXCH01`,
    /// `alice@contoso.com` or `Exchange Servers`. An exact account name wins over a match on
    /// the common name or the added `$`.
    pub async fn resolve_name(&self, name: &str) -> Result<Option<DirectoryEntry>, DirectoryError> {
        let name = check_query(name)?;
        let bare = name.rsplit_once('\\').map_or(name, |(_, n)| n);
        let entries = self.run(&name_filter(name)).await?;
        let exact = entries
            .iter()
            .position(|e| e.sam_account_name.eq_ignore_ascii_case(bare));
        Ok(match exact {
            Some(i) => entries.into_iter().nth(i),
            None => entries.into_iter().next(),
        })
    }

    /// Runs one subtree search, reconnecting once if the kept session turned out dead.
    async fn run(&self, filter: &str) -> Result<Vec<DirectoryEntry>, DirectoryError> {
        let mut last = None;
        for _attempt in 0..2 {
            let (ldap, reused) = self.session().await?;
            match self.search_on(ldap, filter).await {
                Ok(entries) => return Ok(entries),
                Err(e) => {
                    *self.session.lock().await = None;
                    let retry = reused && matches!(e, DirectoryError::Unreachable(_));
                    last = Some(e);
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last.unwrap_or_else(|| DirectoryError::Protocol("search not attempted".into())))
    }

    /// The open session (and whether it was already open), opening one when needed.
    async fn session(&self) -> Result<(Ldap, bool), DirectoryError> {
        let mut slot = self.session.lock().await;
        if let Some(ldap) = slot.as_mut() {
            if !ldap.is_closed() {
                return Ok((ldap.clone(), true));
            }
        }
        let ldap = open_session(&self.config, &self.cred).await?;
        *slot = Some(ldap.clone());
        Ok((ldap, false))
    }

    async fn search_on(
        &self,
        mut ldap: Ldap,
        filter: &str,
    ) -> Result<Vec<DirectoryEntry>, DirectoryError> {
        let timeout = self.config.operation_timeout;
        let limit = self.config.size_limit;
        let options = SearchOptions::new()
            .sizelimit(i32::try_from(limit).unwrap_or(i32::MAX))
            .timelimit(server_seconds(timeout));
        let result = ldap
            .with_search_options(options)
            .with_timeout(timeout)
            .search(&self.base_dn, Scope::Subtree, filter, ATTRIBUTES.to_vec())
            .await
            .map_err(|e| from_ldap(e, timeout))?;
        let ldap3::SearchResult(items, status) = result;
        match status.rc {
            LDAP_SUCCESS | LDAP_SIZE_LIMIT_EXCEEDED => {}
            LDAP_TIME_LIMIT_EXCEEDED => return Err(DirectoryError::TimedOut(timeout)),
            rc => return Err(from_result_code(rc, &status.text)),
        }
        Ok(items
            .into_iter()
            .filter(|item| !item.is_ref() && !item.is_intermediate())
            .filter_map(|item| decode_entry(item.0))
            .filter_map(|raw| to_directory_entry(&raw))
            .take(limit)
            .collect())
    }
}

/// The server's time limit in whole seconds, at least one.
fn server_seconds(timeout: Duration) -> i32 {
    i32::try_from(timeout.as_secs().max(1)).unwrap_or(i32::MAX)
}

/// The host of an `ldap://` URL, which names the server's SPN `ldap/<host>`.
fn server_host(url: &str) -> Result<String, DirectoryError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| DirectoryError::Config(format!("bad LDAP URL {url:?}: {e}")))?;
    if parsed.scheme() != "ldap" {
        return Err(DirectoryError::Config(format!(
            "{url:?}: only ldap:// is supported (Kerberos seals the connection)"
        )));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| DirectoryError::Config(format!("{url:?} has no host")))?;
    Ok(host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned())
}

/// The first principal of the keytab file. Blocking.
fn keytab_principal(path: &Path) -> Result<String, DirectoryError> {
    let unreadable = |e: std::io::Error| {
        DirectoryError::Config(format!("cannot read keytab {}: {e}", path.display()))
    };
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > keytab::MAX_KEYTAB_SIZE as u64 {
        return Err(DirectoryError::Config(format!(
            "keytab {} is too large",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    let parsed = keytab::parse(&bytes)
        .map_err(|e| DirectoryError::Config(format!("keytab {}: {e}", path.display())))?;
    parsed
        .principals()
        .first()
        .map(|p| p.to_string())
        .ok_or_else(|| DirectoryError::Config(format!("keytab {} is empty", path.display())))
}

/// The principal to authenticate as: the configured one, else the keytab's first (which
/// also checks that the keytab is readable and well-formed).
async fn resolve_principal(auth: &DirectoryAuth) -> Result<String, DirectoryError> {
    let DirectoryAuth::Keytab { path, principal } = auth.clone();
    tokio::task::spawn_blocking(move || match principal {
        Some(p) => Ok(p),
        None => keytab_principal(&path),
    })
    .await
    .map_err(|e| DirectoryError::Protocol(format!("keytab task failed: {e}")))?
}

/// Acquires initiator credentials from the configured keytab, on a blocking thread.
async fn acquire(
    auth: &DirectoryAuth,
    principal: String,
) -> Result<libgssapi::credential::Cred, DirectoryError> {
    let DirectoryAuth::Keytab { path, .. } = auth.clone();
    // Unique per client so two clients never share (or destroy) each other's tickets.
    let ccache = format!("MEMORY:rmsc-directory-{}", uuid::Uuid::new_v4());
    tokio::task::spawn_blocking(move || {
        acquire_initiator(&path, &principal, &ccache).map_err(|e| from_gss_text(e.0))
    })
    .await
    .map_err(|e| DirectoryError::Protocol(format!("credential task failed: {e}")))?
}

/// The most telling of several servers' failures: auth and timeouts say more than
/// "unreachable" when servers failed differently.
fn most_telling(mut failures: Vec<DirectoryError>) -> DirectoryError {
    failures.sort_by_key(|e| match e {
        DirectoryError::AuthFailed(_) => 0,
        DirectoryError::TimedOut(_) => 1,
        _ => 2,
    });
    failures
        .into_iter()
        .next()
        .unwrap_or_else(|| DirectoryError::Config("no LDAP URL configured".into()))
}

/// Connects to the first server that answers, reading its base DN when asked.
async fn open_any(
    config: &DirectoryConfig,
    discover_base: bool,
) -> Result<(Ldap, String, Option<String>), DirectoryError> {
    let mut failures = Vec::new();
    for url in &config.ldap_urls {
        match open_transport(config, url, discover_base).await {
            Ok(session) => return Ok(session),
            Err(e) => {
                tracing::warn!(url = %url, error = %e, "directory server failed");
                failures.push(e);
            }
        }
    }
    Err(most_telling(failures))
}

/// Connects and binds to the first server where both work.
async fn open_session(
    config: &DirectoryConfig,
    cred: &libgssapi::credential::Cred,
) -> Result<Ldap, DirectoryError> {
    let mut failures = Vec::new();
    for url in &config.ldap_urls {
        let attempt = async {
            let (ldap, host, _) = open_transport(config, url, false).await?;
            bind(&ldap, host, cred, config.operation_timeout).await?;
            Ok::<_, DirectoryError>(ldap)
        };
        match attempt.await {
            Ok(ldap) => return Ok(ldap),
            Err(e) => {
                tracing::warn!(url = %url, error = %e, "directory server failed");
                failures.push(e);
            }
        }
    }
    Err(most_telling(failures))
}

/// Opens the TCP connection and starts its driver; reads the rootDSE's
/// defaultNamingContext anonymously when asked (AD allows that before any bind).
async fn open_transport(
    config: &DirectoryConfig,
    url: &str,
    discover_base: bool,
) -> Result<(Ldap, String, Option<String>), DirectoryError> {
    let host = server_host(url)?;
    let connect_timeout = config.connect_timeout;
    let settings = LdapConnSettings::new().set_conn_timeout(connect_timeout);
    let (conn, mut ldap) =
        tokio::time::timeout(connect_timeout, LdapConnAsync::with_settings(settings, url))
            .await
            .map_err(|_| DirectoryError::TimedOut(connect_timeout))?
            .map_err(|e| match from_ldap(e, connect_timeout) {
                DirectoryError::Unreachable(why) => {
                    DirectoryError::Unreachable(format!("{url}: {why}"))
                }
                other => other,
            })?;
    // The driver ends by itself once every handle to the connection is dropped.
    tokio::spawn(async move {
        if let Err(e) = conn.drive().await {
            tracing::debug!(error = %e, "LDAP connection ended");
        }
    });
    let base = if discover_base {
        read_default_naming_context(&mut ldap, config.operation_timeout).await?
    } else {
        None
    };
    Ok((ldap, host, base))
}

/// SASL GSSAPI bind as `cred` to the server's `ldap/<host>` SPN. The bind talks to the KDC
/// with blocking calls inside ldap3's future, so it runs on a blocking thread, driven there
/// by the runtime's handle.
async fn bind(
    ldap: &Ldap,
    host: String,
    cred: &libgssapi::credential::Cred,
    timeout: Duration,
) -> Result<(), DirectoryError> {
    let handle = tokio::runtime::Handle::current();
    let bind_cred = cross_krb5::Cred::from(cred.clone());
    let mut bind_ldap = ldap.clone();
    let bound = tokio::task::spawn_blocking(move || {
        handle.block_on(async move {
            tokio::time::timeout(timeout, bind_ldap.sasl_gssapi_cred_bind(bind_cred, &host)).await
        })
    })
    .await
    .map_err(|e| DirectoryError::Protocol(format!("bind task failed: {e}")))?
    .map_err(|_| DirectoryError::TimedOut(timeout))?
    .map_err(|e| from_ldap(e, timeout))?;
    if bound.rc != LDAP_SUCCESS {
        return Err(from_result_code(bound.rc, &bound.text));
    }
    Ok(())
}

async fn read_default_naming_context(
    ldap: &mut Ldap,
    timeout: Duration,
) -> Result<Option<String>, DirectoryError> {
    let ldap3::SearchResult(items, status) = ldap
        .with_timeout(timeout)
        .search(
            "",
            Scope::Base,
            "(objectClass=*)",
            vec!["defaultNamingContext"],
        )
        .await
        .map_err(|e| from_ldap(e, timeout))?;
    if status.rc != LDAP_SUCCESS {
        return Err(from_result_code(status.rc, &status.text));
    }
    Ok(items
        .into_iter()
        .filter_map(|item| decode_entry(item.0))
        .find_map(|raw| raw.text("defaultnamingcontext").map(str::to_owned)))
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;

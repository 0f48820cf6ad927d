//! Keytab files: parsing and validation of an uploaded keytab (MIT format 0x0501 and 0x0502).
//!
//! The administrator uploads the keytab exported for the connector's service account
//! (`ktpass` on Windows, `samba-tool domain exportkeytab` on Samba). Before it is stored we
//! check that it is a well-formed keytab, that it holds keys for `HTTP/<connector name>` and
//! that those keys are usable (AES, one key version). The summary types never keep key bytes:
//! the raw file is what gets stored, the summary is what gets shown.

use std::collections::BTreeSet;
use std::fmt;

/// Largest keytab accepted. A real one holds a handful of entries of under 100 bytes each.
pub const MAX_KEYTAB_SIZE: usize = 1 << 20;
/// Most entries accepted, which bounds the work done on a hostile file made of tiny entries.
pub const MAX_ENTRIES: usize = 4096;
/// Most name components in one principal (`HTTP/host` has two).
pub const MAX_COMPONENTS: usize = 16;

/// A keytab could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeytabError {
    /// The file is larger than [`MAX_KEYTAB_SIZE`].
    #[error("keytab is {size} bytes, more than the {limit} bytes allowed")]
    TooLarge {
        /// Size of the upload.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The file does not start with 0x05 0x01 or 0x05 0x02.
    #[error("not a keytab file (version bytes {0:#06x}, expected 0x0501 or 0x0502)")]
    BadVersion(u16),
    /// A field runs past the end of its entry or of the file.
    #[error("keytab truncated: {field} at byte {offset} runs past the end")]
    Truncated {
        /// What was being read.
        field: &'static str,
        /// Byte offset of that field in the file.
        offset: usize,
    },
    /// A count or length is outside what this format allows.
    #[error("keytab field {field} at byte {offset} has an invalid value {value}")]
    BadValue {
        /// What was being read.
        field: &'static str,
        /// Byte offset of that field in the file.
        offset: usize,
        /// The value found.
        value: i64,
    },
    /// A realm or principal component is not UTF-8 text.
    #[error("keytab field {field} at byte {offset} is not UTF-8 text")]
    NotText {
        /// What was being read.
        field: &'static str,
        /// Byte offset of that field in the file.
        offset: usize,
    },
    /// More entries than [`MAX_ENTRIES`].
    #[error("keytab has more than {0} entries")]
    TooManyEntries(usize),
}

/// A Kerberos principal name such as `HTTP/rmsconnector.contoso.com@CONTOSO.COM`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Principal {
    /// Name components: `["HTTP", "rmsconnector.contoso.com"]`.
    pub components: Vec<String>,
    /// The realm, e.g. `CONTOSO.COM`.
    pub realm: String,
}

impl Principal {
    /// The name without the realm, e.g. `HTTP/rmsconnector.contoso.com`.
    pub fn name(&self) -> String {
        self.components
            .iter()
            .map(|c| escape_component(c))
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Escapes the characters that delimit a principal's text form, as MIT's unparse does, so
/// that a component containing `/` or `@` cannot pass for a different principal.
fn escape_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '/' | '@' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name(), escape_component(&self.realm))
    }
}

/// A Kerberos encryption type number with its RFC 3961/8009 name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EncType(pub i32);

impl EncType {
    /// aes128-cts-hmac-sha1-96.
    pub const AES128_SHA1: EncType = EncType(17);
    /// aes256-cts-hmac-sha1-96.
    pub const AES256_SHA1: EncType = EncType(18);
    /// rc4-hmac (arcfour-hmac), which Microsoft is retiring.
    pub const RC4_HMAC: EncType = EncType(23);

    /// The standard name, or `None` for numbers this code does not know.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "des-cbc-crc",
            2 => "des-cbc-md4",
            3 => "des-cbc-md5",
            16 => "des3-cbc-sha1",
            17 => "aes128-cts-hmac-sha1-96",
            18 => "aes256-cts-hmac-sha1-96",
            19 => "aes128-cts-hmac-sha256-128",
            20 => "aes256-cts-hmac-sha384-192",
            23 => "rc4-hmac",
            24 => "rc4-hmac-exp",
            _ => return None,
        })
    }

    /// AES in either the RFC 3962 or the RFC 8009 flavour: the only types we accept.
    pub fn is_aes(self) -> bool {
        matches!(self.0, 17..=20)
    }
}

impl fmt::Display for EncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "enctype {}", self.0),
        }
    }
}

/// One key of a keytab, without the key bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeytabEntry {
    /// Whose key this is.
    pub principal: Principal,
    /// Seconds since 1970 when the key was written (informational only).
    pub timestamp: u32,
    /// Key version number: the 32-bit field when present and non-zero, else the 8-bit one.
    pub kvno: u32,
    /// Encryption type number of the key.
    pub enctype: i32,
    /// Length of the key in bytes.
    pub key_len: usize,
}

/// The parsed content of a keytab file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keytab {
    /// Entries in file order; holes (deleted entries) are skipped.
    pub entries: Vec<KeytabEntry>,
}

impl Keytab {
    /// Distinct principals in order of first appearance.
    pub fn principals(&self) -> Vec<&Principal> {
        let mut seen = Vec::new();
        for entry in &self.entries {
            if !seen.contains(&&entry.principal) {
                seen.push(&entry.principal);
            }
        }
        seen
    }
}

/// Reads fields of one keytab in the byte order its version prescribes.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    end: usize,
    /// Version 0x0501 wrote integers in the writer's native order; nearly all such files
    /// come from little-endian machines. Version 0x0502 is big-endian.
    little_endian: bool,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, field: &'static str) -> Result<&'a [u8], KeytabError> {
        let truncated = KeytabError::Truncated {
            field,
            offset: self.pos,
        };
        let stop = self.pos.checked_add(len).ok_or(truncated.clone())?;
        if stop > self.end {
            return Err(truncated);
        }
        let bytes = self.data.get(self.pos..stop).ok_or(truncated)?;
        self.pos = stop;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], KeytabError> {
        let offset = self.pos;
        let bytes = self.take(N, field)?;
        let mut out: [u8; N] = bytes
            .try_into()
            .map_err(|_| KeytabError::Truncated { field, offset })?;
        if self.little_endian {
            out.reverse();
        }
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, KeytabError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, KeytabError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, KeytabError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, KeytabError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    /// A 16-bit counted string that must be non-empty UTF-8 text.
    fn text(&mut self, field: &'static str) -> Result<String, KeytabError> {
        let len = usize::from(self.u16(field)?);
        let offset = self.pos;
        let bytes = self.take(len, field)?;
        if bytes.is_empty() {
            return Err(KeytabError::BadValue {
                field,
                offset,
                value: 0,
            });
        }
        String::from_utf8(bytes.to_vec()).map_err(|_| KeytabError::NotText { field, offset })
    }
}

/// Parses a keytab file. Never panics; every length is checked against its entry and the file.
pub fn parse(bytes: &[u8]) -> Result<Keytab, KeytabError> {
    if bytes.len() > MAX_KEYTAB_SIZE {
        return Err(KeytabError::TooLarge {
            size: bytes.len(),
            limit: MAX_KEYTAB_SIZE,
        });
    }
    let version = match bytes {
        [0x05, minor @ (0x01 | 0x02), ..] => *minor,
        [a, b, ..] => return Err(KeytabError::BadVersion(u16::from_be_bytes([*a, *b]))),
        _ => {
            return Err(KeytabError::Truncated {
                field: "version",
                offset: 0,
            })
        }
    };
    let mut file = Reader {
        data: bytes,
        pos: 2,
        end: bytes.len(),
        little_endian: version == 0x01,
    };
    let mut entries = Vec::new();
    // MIT stops at the end of the file or at a zero size, which it writes as a terminator.
    while file.pos < file.end {
        let size_offset = file.pos;
        let size = file.i32("entry size")?;
        if size == 0 {
            break;
        }
        let len = usize::try_from(size.unsigned_abs()).map_err(|_| KeytabError::BadValue {
            field: "entry size",
            offset: size_offset,
            value: i64::from(size),
        })?;
        let record_start = file.pos;
        file.take(len, "entry")?;
        if size < 0 {
            // A hole: the space of a deleted entry, kept so that offsets stay valid.
            continue;
        }
        if entries.len() == MAX_ENTRIES {
            return Err(KeytabError::TooManyEntries(MAX_ENTRIES));
        }
        let mut record = Reader {
            data: bytes,
            pos: record_start,
            end: file.pos,
            little_endian: file.little_endian,
        };
        entries.push(parse_entry(&mut record, version)?);
    }
    Ok(Keytab { entries })
}

fn parse_entry(r: &mut Reader<'_>, version: u8) -> Result<KeytabEntry, KeytabError> {
    let count_offset = r.pos;
    let raw_count = r.u16("component count")?;
    // Version 0x0501 counted the realm among the components.
    let count = if version == 0x01 {
        raw_count.checked_sub(1)
    } else {
        Some(raw_count)
    };
    let count = match count.map(usize::from) {
        Some(n) if (1..=MAX_COMPONENTS).contains(&n) => n,
        _ => {
            return Err(KeytabError::BadValue {
                field: "component count",
                offset: count_offset,
                value: i64::from(raw_count),
            })
        }
    };
    let realm = r.text("realm")?;
    let mut components = Vec::with_capacity(count);
    for _ in 0..count {
        components.push(r.text("principal component")?);
    }
    if version == 0x02 {
        r.u32("name type")?;
    }
    let timestamp = r.u32("timestamp")?;
    let kvno8 = r.u8("kvno")?;
    // The keytab stores the enctype in 16 bits; negative (private) numbers are sign-extended.
    let enctype = i32::from(i16::from_be_bytes(r.u16("enctype")?.to_be_bytes()));
    let key_len = usize::from(r.u16("key length")?);
    r.take(key_len, "key")?;
    // Newer writers append a 32-bit kvno, which wins when present and non-zero because the
    // 8-bit field wraps at 256 (AD kvnos can exceed that).
    let kvno = if r.end - r.pos >= 4 {
        match r.u32("kvno32")? {
            0 => u32::from(kvno8),
            kvno => kvno,
        }
    } else {
        u32::from(kvno8)
    };
    Ok(KeytabEntry {
        principal: Principal { components, realm },
        timestamp,
        kvno,
        enctype,
        key_len,
    })
}

/// Something wrong with a keytab that makes it unusable for the connector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeytabProblem {
    /// The file parsed but holds no keys.
    #[error("the keytab holds no keys")]
    NoEntries,
    /// No key for the connector's service principal.
    #[error(
        "the keytab holds keys for {found}, not for {expected}: export the keytab for the \
         connector name that the servers use (ktpass /princ {expected}@REALM)"
    )]
    WrongPrincipal {
        /// The principals the keytab does hold, comma-separated.
        found: String,
        /// `HTTP/<connector name>`.
        expected: String,
    },
    /// Keys exist only for RC4 (or DES), which Windows is retiring and the connector refuses.
    #[error(
        "the keytab for {principal} holds only {enctypes} keys, no AES key. On the domain, set \
         msDS-SupportedEncryptionTypes to 24 (AES128+AES256) on the service account, e.g. \
         `Set-ADUser <account> -KerberosEncryptionType AES128,AES256`, then export the keytab \
         again with `ktpass ... /crypto AES256-SHA1` and upload it. Exporting bumps the key \
         version (kvno): install the new keytab on every connector node"
    )]
    Rc4Only {
        /// The service principal.
        principal: String,
        /// The weak encryption types found, comma-separated.
        enctypes: String,
    },
}

/// Something odd about a usable keytab, shown to the administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeytabWarning {
    /// Keys of several versions: only the highest is used.
    MixedKvno {
        /// The kvno kept.
        kept: u32,
        /// The older kvnos ignored.
        ignored: Vec<u32>,
    },
    /// RC4/DES keys sit beside the AES ones; clients could still be issued RC4 tickets.
    WeakKeysPresent(Vec<EncType>),
    /// Keys for principals other than the connector's, which are ignored.
    OtherPrincipals(Vec<String>),
}

impl fmt::Display for KeytabWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeytabWarning::MixedKvno { kept, ignored } => write!(
                f,
                "the keytab holds several key versions; using kvno {kept}, ignoring {}",
                join(ignored)
            ),
            KeytabWarning::WeakKeysPresent(types) => write!(
                f,
                "the keytab also holds {} keys; set the service account to AES only",
                join(types)
            ),
            KeytabWarning::OtherPrincipals(names) => {
                write!(f, "keys for {} are ignored", names.join(", "))
            }
        }
    }
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What an accepted keytab holds for the connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeytabSummary {
    /// The service principal with its realm, e.g. `HTTP/rmsconnector.contoso.com@CONTOSO.COM`.
    pub principal: String,
    /// The realm of that principal.
    pub realm: String,
    /// The key version in use (the highest one present).
    pub kvno: u32,
    /// Encryption types of the keys of that version, in file order.
    pub enctypes: Vec<EncType>,
    /// Things to show the administrator that do not prevent use.
    pub warnings: Vec<KeytabWarning>,
}

/// Checks that `keytab` can serve `HTTP/<expected_service_host>` (host compared without case,
/// any realm) with AES keys, and summarises what it holds.
pub fn validate(
    keytab: &Keytab,
    expected_service_host: &str,
) -> Result<KeytabSummary, KeytabProblem> {
    if keytab.entries.is_empty() {
        return Err(KeytabProblem::NoEntries);
    }
    let host = expected_service_host.trim().trim_end_matches('.');
    let is_ours = |p: &Principal| match p.components.as_slice() {
        [service, name] => {
            service.eq_ignore_ascii_case("HTTP")
                && name.trim_end_matches('.').eq_ignore_ascii_case(host)
        }
        _ => false,
    };
    let ours: Vec<&KeytabEntry> = keytab
        .entries
        .iter()
        .filter(|e| is_ours(&e.principal))
        .collect();
    let others: Vec<String> = keytab
        .principals()
        .into_iter()
        .filter(|p| !is_ours(p))
        .map(ToString::to_string)
        .collect();
    let kvno = match ours.iter().map(|e| e.kvno).max() {
        Some(kvno) => kvno,
        None => {
            return Err(KeytabProblem::WrongPrincipal {
                found: others.join(", "),
                expected: format!("HTTP/{host}"),
            })
        }
    };
    let current: Vec<&KeytabEntry> = ours.iter().copied().filter(|e| e.kvno == kvno).collect();
    let principal = current
        .first()
        .map(|e| e.principal.clone())
        .ok_or(KeytabProblem::NoEntries)?;
    let mut enctypes = Vec::new();
    for entry in &current {
        let enctype = EncType(entry.enctype);
        if !enctypes.contains(&enctype) {
            enctypes.push(enctype);
        }
    }
    let (strong, weak): (Vec<EncType>, Vec<EncType>) =
        enctypes.iter().copied().partition(|e| e.is_aes());
    if strong.is_empty() {
        return Err(KeytabProblem::Rc4Only {
            principal: principal.to_string(),
            enctypes: join(&weak),
        });
    }
    let mut warnings = Vec::new();
    let ignored: BTreeSet<u32> = ours.iter().map(|e| e.kvno).filter(|k| *k != kvno).collect();
    if !ignored.is_empty() {
        warnings.push(KeytabWarning::MixedKvno {
            kept: kvno,
            ignored: ignored.into_iter().collect(),
        });
    }
    if !weak.is_empty() {
        warnings.push(KeytabWarning::WeakKeysPresent(weak));
    }
    if !others.is_empty() {
        warnings.push(KeytabWarning::OtherPrincipals(others));
    }
    Ok(KeytabSummary {
        principal: principal.to_string(),
        realm: principal.realm,
        kvno,
        enctypes,
        warnings,
    })
}

#[cfg(test)]
#[path = "keytab_tests.rs"]
mod tests;

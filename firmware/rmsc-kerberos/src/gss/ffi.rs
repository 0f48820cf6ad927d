//! The only unsafe code of the project: thin owners of MIT GSSAPI handles (credential,
//! context, name, buffer) that release them on drop, the handful of calls the acceptor and
//! the test initiator need, and (in `memory_keytab`) the acceptor's keys held in memory.
//! Everything above this module is safe Rust.
//!
//! The safe `libgssapi` crate cannot acquire credentials from an explicit keytab and replay
//! cache (`gss_acquire_cred_from`) and does not expose name attributes
//! (`gss_get_name_attribute`, which yields the verified PAC), and it keeps the raw name handle
//! private, so these calls go straight to `libgssapi-sys`.
#![allow(unsafe_code)]

mod memory_keytab;

pub(super) use memory_keytab::MemoryKeytab;

use super::GssError;
use libgssapi_sys as sys;
use std::ffi::{c_int, c_void, CString};
use std::ptr;

/// `GSS_C_NO_OID_SET`, `GSS_C_NO_CREDENTIAL` and friends are C macros (null casts).
const NO_OID_SET: sys::gss_OID_set = ptr::null_mut();
const NO_CHANNEL_BINDINGS: sys::gss_channel_bindings_t = ptr::null_mut();
/// `GSS_C_ACCEPT` / `GSS_C_INITIATE` credential usage.
const ACCEPT: sys::gss_cred_usage_t = 2;
#[cfg(feature = "initiator")]
const INITIATE: sys::gss_cred_usage_t = 1;

fn is_error(major: u32) -> bool {
    // The calling-error and routine-error fields; the low 16 bits are informational.
    major & 0xffff_0000 != 0
}

/// A buffer that GSSAPI allocated; released with `gss_release_buffer`.
struct OwnedBuffer(sys::gss_buffer_desc);

impl OwnedBuffer {
    fn empty() -> Self {
        OwnedBuffer(sys::gss_buffer_desc {
            length: 0,
            value: ptr::null_mut(),
        })
    }

    fn as_slice(&self) -> &[u8] {
        if self.0.value.is_null() || self.0.length == 0 {
            return &[];
        }
        // SAFETY: GSSAPI filled `value` with `length` readable bytes that live until release.
        unsafe { std::slice::from_raw_parts(self.0.value as *const u8, self.0.length) }
    }
}

impl Drop for OwnedBuffer {
    fn drop(&mut self) {
        if !self.0.value.is_null() {
            let mut minor = 0;
            // SAFETY: the buffer was allocated by GSSAPI and is released once.
            unsafe { sys::gss_release_buffer(&mut minor, &mut self.0) };
        }
    }
}

/// A borrowed input buffer pointing into Rust memory. GSSAPI takes input buffers through a
/// mutable pointer but does not write through it.
fn input_buffer(bytes: &[u8]) -> sys::gss_buffer_desc {
    sys::gss_buffer_desc {
        length: bytes.len(),
        value: bytes.as_ptr() as *mut c_void,
    }
}

/// The text of a status code, for logs (`gss_display_status`, looping over the messages).
pub(super) fn status_text(code: u32, kind: u32) -> String {
    let mut out = String::new();
    let mut context = 0u32;
    // Bounded: a misbehaving library cannot keep us here.
    for _ in 0..8 {
        let mut minor = 0;
        let mut buffer = OwnedBuffer::empty();
        // SAFETY: all pointers are valid for the call; the output buffer is owned and released.
        let major = unsafe {
            sys::gss_display_status(
                &mut minor,
                code,
                kind as c_int,
                ptr::null_mut(),
                &mut context,
                &mut buffer.0,
            )
        };
        if is_error(major) {
            break;
        }
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(&String::from_utf8_lossy(buffer.as_slice()));
        if context == 0 {
            break;
        }
    }
    out
}

fn error(major: u32, minor: u32, during: &'static str) -> GssError {
    GssError::new(major, minor, during)
}

#[link(name = "krb5")]
extern "C" {
    fn krb5_init_context(context: *mut *mut c_void) -> i32;
    fn krb5_free_context(context: *mut c_void);
}

/// A krb5 library context that is never used, only kept: while one is alive, MIT's profile
/// library keeps its parse of krb5.conf and merely checks the file's time (at most once a
/// second) when GSSAPI makes the context of each accept or initiation. Without one, every
/// such context parses krb5.conf anew. Measured in W3 (a new authentication per call), the
/// profile set-up fell from 4.7% to 2.9% of the connector's CPU and from 7.3% to 2.2% of the
/// load generator's. A changed krb5.conf is still read again, as before.
pub(super) struct ConfigHold(*mut c_void);

// SAFETY: the context is created and freed here and never used in between, so no thread
// ever touches it concurrently.
unsafe impl Send for ConfigHold {}
// SAFETY: as above.
unsafe impl Sync for ConfigHold {}

impl ConfigHold {
    /// `None` when the library cannot make a context; GSSAPI will then report why itself.
    pub(super) fn new() -> Option<Self> {
        let mut context = ptr::null_mut();
        // SAFETY: a valid out-pointer; on success the context is owned by the returned value.
        let code = unsafe { krb5_init_context(&mut context) };
        (code == 0 && !context.is_null()).then_some(Self(context))
    }
}

impl Drop for ConfigHold {
    fn drop(&mut self) {
        // SAFETY: the context came from krb5_init_context and is freed once.
        unsafe { krb5_free_context(self.0) };
    }
}

/// A credential handle.
pub(super) struct Credential(sys::gss_cred_id_t);

// SAFETY: MIT GSSAPI credential handles may be used from several threads at once for
// accepting contexts (the library locks what it shares); they are released only on drop.
unsafe impl Send for Credential {}
// SAFETY: as above.
unsafe impl Sync for Credential {}

impl Drop for Credential {
    fn drop(&mut self) {
        if !self.0.is_null() {
            let mut minor = 0;
            // SAFETY: the handle came from gss_acquire_cred_from and is released once.
            unsafe { sys::gss_release_cred(&mut minor, &mut self.0) };
        }
    }
}

/// Acquires credentials from an explicit credential store (`keytab`, `rcache`, `ccache`,
/// `client_keytab` keys), so that no process-wide environment variable is involved.
fn acquire_from(
    name: Option<&NameHandle>,
    store: &[(&str, &str)],
    usage: sys::gss_cred_usage_t,
) -> Result<Credential, GssError> {
    let owned: Vec<(CString, CString)> = store
        .iter()
        .map(|(k, v)| {
            Ok((
                CString::new(*k).map_err(|_| GssError::invalid_argument("credential store key"))?,
                CString::new(*v)
                    .map_err(|_| GssError::invalid_argument("credential store value"))?,
            ))
        })
        .collect::<Result<_, GssError>>()?;
    let mut elements: Vec<sys::gss_key_value_element_desc> = owned
        .iter()
        .map(|(k, v)| sys::gss_key_value_element_desc {
            key: k.as_ptr(),
            value: v.as_ptr(),
        })
        .collect();
    let set = sys::gss_key_value_set_desc {
        count: elements.len() as u32,
        elements: elements.as_mut_ptr(),
    };
    let mut minor = 0;
    let mut cred: sys::gss_cred_id_t = ptr::null_mut();
    // SAFETY: `set` and the strings it points to outlive the call; the output handle is owned
    // by the returned Credential.
    let major = unsafe {
        sys::gss_acquire_cred_from(
            &mut minor,
            name.map_or(ptr::null_mut(), |n| n.0),
            sys::_GSS_C_INDEFINITE,
            NO_OID_SET,
            usage,
            &set,
            &mut cred,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if is_error(major) {
        return Err(error(major, minor, "acquiring credentials"));
    }
    Ok(Credential(cred))
}

/// Acceptor credentials for `principal` (`service/host@REALM`) from `keytab`, with the replay
/// cache `rcache`. Naming the principal makes the library refuse tickets issued for any other
/// service, even one whose key happens to decrypt them (a shared password gives accounts the
/// same RC4 key). The default mechanism set is used so that SPNEGO-wrapped tokens are accepted.
pub(super) fn acceptor_credential(
    keytab: &str,
    rcache: &str,
    principal: &str,
) -> Result<Credential, GssError> {
    let name = import_name(principal, &KRB5_PRINCIPAL_NAME)?;
    acquire_from(
        Some(&name),
        &[("keytab", keytab), ("rcache", rcache)],
        ACCEPT,
    )
}

/// GSS_KRB5_NT_PRINCIPAL_NAME (1.2.840.113554.1.2.2.1): a Kerberos principal, taken as is,
/// with no host name canonicalization.
const KRB5_PRINCIPAL_NAME: [u8; 10] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01];

fn import_name(text: &str, name_type: &[u8]) -> Result<NameHandle, GssError> {
    let mut oid = sys::gss_OID_desc {
        length: name_type.len() as u32,
        elements: name_type.as_ptr() as *mut c_void,
    };
    let mut minor = 0;
    let mut buffer = input_buffer(text.as_bytes());
    let mut name = NameHandle(ptr::null_mut());
    // SAFETY: `oid` and `buffer` point into live Rust memory for the call; the library copies
    // what it keeps; the output handle is owned by `name`.
    let major = unsafe { sys::gss_import_name(&mut minor, &mut buffer, &mut oid, &mut name.0) };
    if is_error(major) {
        return Err(error(major, minor, "importing the service principal"));
    }
    Ok(name)
}

/// A security context handle; deleted on drop.
pub(super) struct Context(sys::gss_ctx_id_t);

// SAFETY: a context is used by one thread at a time (it moves between the blocking pool and
// the connection that owns it, never shared).
unsafe impl Send for Context {}

impl Context {
    pub(super) fn new() -> Self {
        Context(ptr::null_mut())
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        if !self.0.is_null() {
            let mut minor = 0;
            // SAFETY: the handle came from GSSAPI and is deleted once.
            unsafe { sys::gss_delete_sec_context(&mut minor, &mut self.0, ptr::null_mut()) };
        }
    }
}

/// A name handle; released on drop.
struct NameHandle(sys::gss_name_t);

impl Drop for NameHandle {
    fn drop(&mut self) {
        if !self.0.is_null() {
            let mut minor = 0;
            // SAFETY: the handle came from GSSAPI and is released once.
            unsafe { sys::gss_release_name(&mut minor, &mut self.0) };
        }
    }
}

/// What one `gss_accept_sec_context` step produced.
pub(super) struct AcceptResult {
    pub complete: bool,
    pub output_token: Vec<u8>,
    /// The initiator's principal (`name@REALM`), once complete.
    pub principal: Option<String>,
    /// The verified PAC logon-info buffer, when the library vouches for it.
    pub logon_info: Option<Vec<u8>>,
    /// A logon-info buffer was present but the library did not mark it authenticated.
    pub unverified_pac: bool,
}

/// Feeds `token` to the context; on completion reads the initiator's name and verified PAC.
pub(super) fn accept_step(
    context: &mut Context,
    credential: &Credential,
    token: &[u8],
) -> Result<AcceptResult, GssError> {
    let mut minor = 0;
    let mut input = input_buffer(token);
    let mut output = OwnedBuffer::empty();
    let mut source = NameHandle(ptr::null_mut());
    let mut flags = 0u32;
    // SAFETY: every pointer is valid for the call; `input` points into `token`, which
    // outlives it; outputs are owned by RAII wrappers.
    let major = unsafe {
        sys::gss_accept_sec_context(
            &mut minor,
            &mut context.0,
            credential.0,
            &mut input,
            NO_CHANNEL_BINDINGS,
            &mut source.0,
            ptr::null_mut(),
            &mut output.0,
            &mut flags,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if is_error(major) {
        return Err(error(major, minor, "accepting the security context"));
    }
    let complete = major & sys::_GSS_S_CONTINUE_NEEDED == 0;
    let mut result = AcceptResult {
        complete,
        output_token: output.as_slice().to_vec(),
        principal: None,
        logon_info: None,
        unverified_pac: false,
    };
    if complete && !source.0.is_null() {
        result.principal = Some(display_name(&source)?);
        match logon_info(&source)? {
            Some((bytes, true)) => result.logon_info = Some(bytes),
            Some((_, false)) => result.unverified_pac = true,
            None => {}
        }
    }
    Ok(result)
}

fn display_name(name: &NameHandle) -> Result<String, GssError> {
    let mut minor = 0;
    let mut buffer = OwnedBuffer::empty();
    // SAFETY: `name` is a valid handle; the output buffer is owned.
    let major =
        unsafe { sys::gss_display_name(&mut minor, name.0, &mut buffer.0, ptr::null_mut()) };
    if is_error(major) {
        return Err(error(major, minor, "reading the caller's name"));
    }
    Ok(String::from_utf8_lossy(buffer.as_slice()).into_owned())
}

/// The `urn:mspac:logon-info` attribute and whether the library verified it. `None` when the
/// ticket carries no PAC (or the library hid one it could not verify).
fn logon_info(name: &NameHandle) -> Result<Option<(Vec<u8>, bool)>, GssError> {
    const ATTRIBUTE: &[u8] = b"urn:mspac:logon-info";
    const GSS_S_UNAVAILABLE: u32 = 16 << 16;
    let mut minor = 0;
    let mut attribute = input_buffer(ATTRIBUTE);
    let mut authenticated: c_int = 0;
    let mut complete: c_int = 0;
    let mut value = OwnedBuffer::empty();
    let mut display = OwnedBuffer::empty();
    // -1 asks for the first value.
    let mut more: c_int = -1;
    // SAFETY: valid handle and pointers; output buffers are owned.
    let major = unsafe {
        sys::gss_get_name_attribute(
            &mut minor,
            name.0,
            &mut attribute,
            &mut authenticated,
            &mut complete,
            &mut value.0,
            &mut display.0,
            &mut more,
        )
    };
    if major & 0x00ff_0000 == GSS_S_UNAVAILABLE {
        return Ok(None);
    }
    if is_error(major) {
        return Err(error(major, minor, "reading the PAC"));
    }
    Ok(Some((value.as_slice().to_vec(), authenticated != 0)))
}

/// Initiator credentials from a credential cache file (tests and the load generator).
#[cfg(feature = "initiator")]
pub(super) fn initiator_credential(ccache: &str) -> Result<Credential, GssError> {
    acquire_from(None, &[("ccache", ccache)], INITIATE)
}

/// Copies the tickets of the initiator `credential` into the credential cache `ccache` (for
/// example `MEMORY:name`), replacing what it held.
#[cfg(feature = "initiator")]
pub(super) fn store_initiator_credential(
    credential: &Credential,
    ccache: &str,
) -> Result<(), GssError> {
    // 1.2.840.113554.1.2.2, the Kerberos 5 mechanism: the tickets are its credentials.
    const KRB5: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
    let mut krb5 = sys::gss_OID_desc {
        length: KRB5.len() as u32,
        elements: KRB5.as_ptr() as *mut c_void,
    };
    let key = c"ccache";
    let value = CString::new(ccache).map_err(|_| GssError::invalid_argument("ccache name"))?;
    let mut element = sys::gss_key_value_element_desc {
        key: key.as_ptr(),
        value: value.as_ptr(),
    };
    let set = sys::gss_key_value_set_desc {
        count: 1,
        elements: &mut element,
    };
    let mut minor = 0;
    // SAFETY: valid handle; `set`, the OID and the strings outlive the call; no outputs asked.
    let major = unsafe {
        sys::gss_store_cred_into(
            &mut minor,
            credential.0,
            INITIATE,
            &mut krb5,
            1, // overwrite what the cache held
            0, // not the default credentials
            &set,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if is_error(major) {
        return Err(error(major, minor, "storing credentials"));
    }
    Ok(())
}

/// Produces the first SPNEGO token for `HTTP@<host>` with mutual authentication requested.
#[cfg(feature = "initiator")]
pub(super) fn initiate(credential: &Credential, service: &str) -> Result<Vec<u8>, GssError> {
    // 1.3.6.1.5.5.2, the SPNEGO mechanism, as HTTP Negotiate uses it.
    const SPNEGO: [u8; 6] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
    let mut spnego = sys::gss_OID_desc {
        length: SPNEGO.len() as u32,
        elements: SPNEGO.as_ptr() as *mut c_void,
    };
    let mut minor = 0;
    let mut name_buffer = input_buffer(service.as_bytes());
    let mut target = NameHandle(ptr::null_mut());
    // SAFETY: the name type is a library-provided static OID; pointers are valid.
    let major = unsafe {
        sys::gss_import_name(
            &mut minor,
            &mut name_buffer,
            sys::GSS_C_NT_HOSTBASED_SERVICE,
            &mut target.0,
        )
    };
    if is_error(major) {
        return Err(error(major, minor, "importing the service name"));
    }
    let mut context = Context::new();
    let mut output = OwnedBuffer::empty();
    // SAFETY: valid handles and pointers; outputs owned.
    let major = unsafe {
        sys::gss_init_sec_context(
            &mut minor,
            credential.0,
            &mut context.0,
            target.0,
            &mut spnego,
            sys::GSS_C_MUTUAL_FLAG,
            0,
            NO_CHANNEL_BINDINGS,
            ptr::null_mut(),
            ptr::null_mut(),
            &mut output.0,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if is_error(major) {
        return Err(error(major, minor, "initiating the security context"));
    }
    Ok(output.as_slice().to_vec())
}

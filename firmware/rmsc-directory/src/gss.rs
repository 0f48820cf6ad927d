//! Initiator credentials from a keytab through `gss_acquire_cred_from` (MIT credential store).
//!
//! The only module of this crate with unsafe code. The credential store lets us name the
//! client keytab and a private in-memory ticket cache per call, instead of the process-wide
//! `KRB5_CLIENT_KTNAME`/`KRB5CCNAME` environment, which other parts of the appliance (the
//! acceptor) must not see changed. MIT refreshes the tickets from the keytab when they expire.
#![allow(unsafe_code)]

use std::ffi::{c_void, CString};
use std::path::Path;
use std::ptr;

use libgssapi_sys::{
    gss_OID_desc, gss_OID_set_desc, gss_acquire_cred_from, gss_buffer_desc, gss_cred_id_t,
    gss_import_name, gss_key_value_element_desc, gss_key_value_set_desc, gss_name_t,
    gss_release_name, OM_uint32, _GSS_C_INDEFINITE, GSS_C_INITIATE, GSS_S_COMPLETE,
};

/// 1.2.840.113554.1.2.2: the Kerberos 5 mechanism.
const KRB5_MECH: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02";
/// 1.2.840.113554.1.2.2.1: GSS_KRB5_NT_PRINCIPAL_NAME, a principal in its text form.
const KRB5_PRINCIPAL_NAME: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x01";

/// Credentials could not be acquired; the text names the failing step and MIT's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GssFailure(pub String);

/// Acquires initiator credentials for `principal` whose keys are in the keytab file at
/// `keytab`, caching tickets in the MIT memory cache named `ccache` (e.g. `MEMORY:x`).
/// Blocking (reads the keytab and runs the AS exchange with the KDC at once); call it on a
/// blocking thread.
pub(crate) fn acquire_initiator(
    keytab: &Path,
    principal: &str,
    ccache: &str,
) -> Result<libgssapi::credential::Cred, GssFailure> {
    let text = |what: &str, value: &str| {
        CString::new(value).map_err(|_| GssFailure(format!("{what} contains a NUL byte")))
    };
    let keytab_name = text("keytab path", &format!("FILE:{}", keytab.display()))?;
    let ccache_name = text("ccache name", ccache)?;
    let client_keytab = text("key", "client_keytab")?;
    let ccache_key = text("key", "ccache")?;

    let mut minor: OM_uint32 = 0;
    let mut name: gss_name_t = ptr::null_mut();
    let mut principal_buf = gss_buffer_desc {
        length: principal.len(),
        value: principal.as_ptr() as *mut c_void,
    };
    let mut name_type = oid(KRB5_PRINCIPAL_NAME)?;
    // SAFETY: every pointer refers to a live local: the buffer borrows `principal` (MIT copies
    // it and never writes through it) and the OID borrows a static array. `name` receives a
    // name that we release below on every path.
    let major =
        unsafe { gss_import_name(&mut minor, &mut principal_buf, &mut name_type, &mut name) };
    if major != GSS_S_COMPLETE {
        return Err(failure("importing the principal name", major, minor));
    }

    let mut elements = [
        gss_key_value_element_desc {
            key: client_keytab.as_ptr(),
            value: keytab_name.as_ptr(),
        },
        gss_key_value_element_desc {
            key: ccache_key.as_ptr(),
            value: ccache_name.as_ptr(),
        },
    ];
    let store = gss_key_value_set_desc {
        count: 2,
        elements: elements.as_mut_ptr(),
    };
    let mut mech = oid(KRB5_MECH)?;
    let mut mechs = gss_OID_set_desc {
        count: 1,
        elements: &mut mech,
    };
    let mut cred: gss_cred_id_t = ptr::null_mut();
    // SAFETY: `name` is the valid name imported above; the store, its strings and the mech set
    // are locals that outlive the call (MIT only reads them). The optional outputs
    // (actual mechs, lifetime) are null, which the API allows.
    let major = unsafe {
        gss_acquire_cred_from(
            &mut minor,
            name,
            _GSS_C_INDEFINITE,
            &mut mechs,
            GSS_C_INITIATE as i32,
            &store,
            &mut cred,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    let acquire_minor = minor;
    // SAFETY: `name` came from gss_import_name and is released exactly once.
    unsafe { gss_release_name(&mut minor, &mut name) };
    if major != GSS_S_COMPLETE {
        return Err(failure(
            "acquiring credentials from the keytab",
            major,
            acquire_minor,
        ));
    }
    // libgssapi takes ownership and releases the credential when the last clone drops.
    Ok(libgssapi::credential::Cred::from(cred))
}

fn oid(bytes: &'static [u8]) -> Result<gss_OID_desc, GssFailure> {
    Ok(gss_OID_desc {
        length: u32::try_from(bytes.len()).map_err(|_| GssFailure("OID too long".into()))?,
        elements: bytes.as_ptr() as *mut c_void,
    })
}

/// MIT's own text for a status pair, through libgssapi's safe `Display`.
fn failure(step: &str, major: OM_uint32, minor: OM_uint32) -> GssFailure {
    let error = libgssapi::error::Error {
        major: libgssapi::error::MajorFlags::from_bits_retain(major),
        minor,
    };
    GssFailure(format!("{step}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../rmsc-kerberos/tests/fixtures")
            .join(name)
    }

    #[test]
    fn acquiring_reads_the_keytab_then_asks_the_kdc() {
        // MIT runs the AS exchange during acquisition; with no KDC configured for the lab
        // realm the failure names the KDC, which proves the keytab was found and read.
        let err = acquire_initiator(
            &fixture("connector.keytab"),
            "HTTP/rmsconnector.contoso.test@CONTOSO.TEST",
            "MEMORY:rmsc-directory-gss-test",
        )
        .expect_err("no KDC for CONTOSO.TEST here");
        assert!(err.0.contains("KDC"), "{}", err.0);
    }

    #[test]
    fn principal_absent_from_the_keytab_is_refused() {
        let err = acquire_initiator(
            &fixture("connector.keytab"),
            "nobody@CONTOSO.TEST",
            "MEMORY:rmsc-directory-gss-test-2",
        )
        .expect_err("no key for that principal");
        assert!(err.0.starts_with("acquiring credentials"), "{}", err.0);
    }

    #[test]
    fn nul_bytes_are_refused_before_any_call() {
        let err = acquire_initiator(Path::new("/x\0y"), "a@B", "MEMORY:z").expect_err("NUL");
        assert!(err.0.contains("NUL"));
    }
}

//! The acceptor's keys in process memory: an MIT `MEMORY:` keytab filled from the installed
//! keytab file. Each accept then finds its key in memory instead of opening, locking, seeking
//! and reading the file (measured in W3, a new authentication per call: about 2.5% of the
//! connector's CPU), and the clear keytab need not stay on disk once the credential exists.
//! Dropping the owner removes every entry; MIT zeroes a key when it frees it.

use super::super::GssError;
use std::ffi::{c_char, c_void, CString};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};

/// `krb5_keyblock` (krb5.h); the layout has been stable since krb5 1.0.
#[repr(C)]
struct KeyBlock {
    magic: i32,
    enctype: i32,
    length: u32,
    contents: *mut u8,
}

/// `krb5_keytab_entry` (krb5.h).
#[repr(C)]
struct KeytabEntry {
    magic: i32,
    principal: *mut c_void,
    timestamp: i32,
    vno: u32,
    key: KeyBlock,
}

impl KeytabEntry {
    fn empty() -> Self {
        Self {
            magic: 0,
            principal: ptr::null_mut(),
            timestamp: 0,
            vno: 0,
            key: KeyBlock {
                magic: 0,
                enctype: 0,
                length: 0,
                contents: ptr::null_mut(),
            },
        }
    }
}

#[link(name = "krb5")]
extern "C" {
    fn krb5_kt_resolve(context: *mut c_void, name: *const c_char, keytab: *mut *mut c_void) -> i32;
    fn krb5_kt_close(context: *mut c_void, keytab: *mut c_void) -> i32;
    fn krb5_kt_start_seq_get(
        context: *mut c_void,
        keytab: *mut c_void,
        cursor: *mut *mut c_void,
    ) -> i32;
    fn krb5_kt_next_entry(
        context: *mut c_void,
        keytab: *mut c_void,
        entry: *mut KeytabEntry,
        cursor: *mut *mut c_void,
    ) -> i32;
    fn krb5_kt_end_seq_get(
        context: *mut c_void,
        keytab: *mut c_void,
        cursor: *mut *mut c_void,
    ) -> i32;
    fn krb5_kt_add_entry(context: *mut c_void, keytab: *mut c_void, entry: *mut KeytabEntry)
        -> i32;
    fn krb5_kt_remove_entry(
        context: *mut c_void,
        keytab: *mut c_void,
        entry: *mut KeytabEntry,
    ) -> i32;
    fn krb5_free_keytab_entry_contents(context: *mut c_void, entry: *mut KeytabEntry) -> i32;
}

/// `KRB5_KT_END` (krb5 error table): no more entries.
const KT_END: i32 = -1765328202;
/// More entries than any real keytab has; bounds the loops below.
const MAX_ENTRIES: usize = 4096;
/// GSS_S_FAILURE, for errors that come from krb5 rather than GSSAPI.
const FAILURE: u32 = 13 << 16;

/// MIT keeps `MEMORY:` keytabs in one process-wide list keyed by name, and closing a handle
/// does not empty one, so each copy needs a name no other copy in this process has used.
/// (The emptied list entry itself stays: a few dozen bytes per keytab installation.)
static NEXT_NAME: AtomicU64 = AtomicU64::new(1);

fn krb5_error(code: i32, during: &'static str) -> GssError {
    GssError::new(FAILURE, code as u32, during)
}

/// A krb5 context with a resolved keytab handle; closes both on drop.
struct KeytabHandle {
    context: *mut c_void,
    keytab: *mut c_void,
}

impl KeytabHandle {
    fn resolve(name: &str) -> Result<Self, GssError> {
        let name = CString::new(name).map_err(|_| GssError::invalid_argument("keytab name"))?;
        let mut context = ptr::null_mut();
        // SAFETY: a valid out-pointer; the context is owned by the returned value.
        let code = unsafe { super::krb5_init_context(&mut context) };
        if code != 0 || context.is_null() {
            return Err(krb5_error(code, "making a krb5 context"));
        }
        let mut handle = Self {
            context,
            keytab: ptr::null_mut(),
        };
        // SAFETY: a live context, a NUL-terminated name and a valid out-pointer.
        let code = unsafe { krb5_kt_resolve(handle.context, name.as_ptr(), &mut handle.keytab) };
        if code != 0 {
            return Err(krb5_error(code, "opening a keytab"));
        }
        Ok(handle)
    }

    /// Copies of every entry, read with one cursor that is closed before this returns (a
    /// keytab must not change under an open cursor). Bounded by [`MAX_ENTRIES`].
    fn entries(&self) -> Result<Vec<Entry<'_>>, GssError> {
        let mut cursor = ptr::null_mut();
        // SAFETY: live handles and a valid cursor out-pointer.
        let code = unsafe { krb5_kt_start_seq_get(self.context, self.keytab, &mut cursor) };
        if code != 0 {
            return Err(krb5_error(code, "reading a keytab"));
        }
        let mut entries = Vec::new();
        let mut result = Ok(());
        while entries.len() < MAX_ENTRIES {
            let mut entry = Entry {
                handle: self,
                raw: KeytabEntry::empty(),
            };
            // SAFETY: live handles; `entry` owns the contents the library fills in.
            let code = unsafe {
                krb5_kt_next_entry(self.context, self.keytab, &mut entry.raw, &mut cursor)
            };
            match code {
                0 => entries.push(entry),
                KT_END => break,
                _ => {
                    result = Err(krb5_error(code, "reading a keytab entry"));
                    break;
                }
            }
        }
        // SAFETY: the cursor came from krb5_kt_start_seq_get on this keytab.
        unsafe { krb5_kt_end_seq_get(self.context, self.keytab, &mut cursor) };
        result.map(|()| entries)
    }
}

/// A copy of one keytab entry, freed on drop.
struct Entry<'h> {
    handle: &'h KeytabHandle,
    raw: KeytabEntry,
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        // SAFETY: the contents were allocated by krb5_kt_next_entry (or are null) and are
        // freed once.
        unsafe { krb5_free_keytab_entry_contents(self.handle.context, &mut self.raw) };
    }
}

impl Drop for KeytabHandle {
    fn drop(&mut self) {
        // SAFETY: the handles came from krb5_kt_resolve and krb5_init_context and are closed
        // once, the keytab before its context.
        unsafe {
            if !self.keytab.is_null() {
                krb5_kt_close(self.context, self.keytab);
            }
            super::krb5_free_context(self.context);
        }
    }
}

/// A `MEMORY:` keytab holding a copy of a keytab file's entries, emptied on drop.
pub(in crate::gss) struct MemoryKeytab {
    handle: KeytabHandle,
    name: String,
}

// SAFETY: the context and keytab handle are used only in `copy_of` and in `drop`, which
// have the value to themselves; MIT locks a memory keytab's entries for the acceptors that
// read them through their own handles.
unsafe impl Send for MemoryKeytab {}
// SAFETY: as above; no method touches the handles through a shared reference.
unsafe impl Sync for MemoryKeytab {}

impl MemoryKeytab {
    /// Copies every entry of the keytab file at `path` into a new memory keytab.
    pub(in crate::gss) fn copy_of(path: &str) -> Result<Self, GssError> {
        let name = format!(
            "MEMORY:rmsc-acceptor-{}",
            NEXT_NAME.fetch_add(1, Ordering::Relaxed)
        );
        let file = KeytabHandle::resolve(&format!("FILE:{path}"))?;
        let memory = Self {
            handle: KeytabHandle::resolve(&name)?,
            name,
        };
        for mut entry in file.entries()? {
            // SAFETY: live handles; the library copies the entry it is given.
            let code = unsafe {
                krb5_kt_add_entry(memory.handle.context, memory.handle.keytab, &mut entry.raw)
            };
            if code != 0 {
                return Err(krb5_error(code, "copying a keytab entry into memory"));
            }
        }
        Ok(memory)
    }

    /// The keytab's name (`MEMORY:...`), as credential stores take it.
    pub(in crate::gss) fn name(&self) -> &str {
        &self.name
    }

    /// Entries held (for tests).
    #[cfg(test)]
    pub(in crate::gss) fn entry_count(&self) -> usize {
        self.handle.entries().map_or(0, |entries| entries.len())
    }
}

impl Drop for MemoryKeytab {
    fn drop(&mut self) {
        // Every entry is listed first, then removed: never under an open cursor.
        for mut entry in self.handle.entries().unwrap_or_default() {
            // SAFETY: live handles; the copy identifies the entry to remove and stays ours.
            unsafe {
                krb5_kt_remove_entry(self.handle.context, self.handle.keytab, &mut entry.raw)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn a_copy_holds_the_file_entries_until_it_is_dropped() {
        let copy = MemoryKeytab::copy_of(&fixture("connector.keytab")).expect("copy");
        // AES256 and AES128 for HTTP/rmsconnector.contoso.test, kvno 2.
        assert_eq!(copy.entry_count(), 2);
        let other = MemoryKeytab::copy_of(&fixture("rc4-only.keytab")).expect("copy");
        assert_ne!(copy.name(), other.name(), "each copy has a name of its own");
        assert_eq!(other.entry_count(), 1);

        let name = copy.name().to_owned();
        drop(copy);
        // The list entry MIT keeps under the name is empty now: the keys are gone.
        let reopened = KeytabHandle::resolve(&name).expect("resolve");
        assert_eq!(reopened.entries().expect("read").len(), 0);
        assert_eq!(other.entry_count(), 1, "other copies are untouched");
    }

    #[test]
    fn a_missing_or_broken_file_is_an_error() {
        let missing = MemoryKeytab::copy_of("/nonexistent/keytab");
        assert!(missing.is_err());
        let dir = tempfile::tempdir().expect("tempdir");
        let broken = dir.path().join("broken.keytab");
        std::fs::write(&broken, b"not a keytab at all").expect("write");
        assert!(MemoryKeytab::copy_of(broken.to_str().expect("utf-8")).is_err());
    }

    #[test]
    fn the_entry_layout_is_the_one_of_krb5_h() {
        // sizeof and offsetof of krb5_keytab_entry on x86_64, from a C program built
        // against Debian's krb5.h.
        assert_eq!(std::mem::size_of::<KeytabEntry>(), 48);
        assert_eq!(std::mem::offset_of!(KeytabEntry, principal), 8);
        assert_eq!(std::mem::offset_of!(KeytabEntry, timestamp), 16);
        assert_eq!(std::mem::offset_of!(KeytabEntry, vno), 20);
        assert_eq!(std::mem::offset_of!(KeytabEntry, key), 24);
        assert_eq!(std::mem::size_of::<KeyBlock>(), 24);
        assert_eq!(std::mem::offset_of!(KeyBlock, contents), 16);
    }
}

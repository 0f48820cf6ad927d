//! Opening the store: machine key, database, schema check, and recovery from corruption.
//!
//! A database that cannot be opened is set aside and recreated rather than failing the
//! start: a crash loop would leave the appliance unmanageable. Only damage is treated this
//! way; a lock held by another process or an operating-system error (disk full, permission
//! denied) is returned as an error, because moving a healthy database aside would lose it.

use crate::error::StoreError;
use crate::events::next_seq_after;
use crate::model::StoredRegistration;
use crate::recovery::{self, Snapshot};
use crate::seal::{load_or_create_machine_key, Sealer};
use crate::store::{Inner, Store, Trees, CURRENT};
use crate::{fsutil, EVENT_CAPACITY, STORE_DIR};
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Version of the record layout; a database with another version is not understood.
const SCHEMA_VERSION: u32 = 1;
const SCHEMA_KEY: &[u8] = b"schema";
/// Prefix of set-aside database directories.
const SET_ASIDE_PREFIX: &str = "store.corrupt-";
/// How many set-aside databases are kept for diagnosis.
const SET_ASIDE_KEEP: usize = 3;
/// Page cache bound: the appliance's state is small and memory is shared with the relay.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Tunables of [`Store::open_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// How many events the log keeps (at least one).
    pub event_capacity: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            event_capacity: EVENT_CAPACITY,
        }
    }
}

/// What [`Store::open`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOutcome {
    /// There was no database; a new one was created (and refilled from `recovery.sealed`
    /// if that file exists).
    Created,
    /// The existing database opened normally.
    Opened,
    /// The database was damaged: it was moved to `set_aside` and a new one was created
    /// and refilled from `recovery.sealed`.
    Recovered {
        set_aside: PathBuf,
        reason: String,
        restored_registration: bool,
    },
}

/// Why a database could not be used.
enum Problem {
    /// Damaged or not understood: set it aside and start over.
    Corrupt(String),
    /// Anything else: report it, leave the database where it is.
    Fatal(StoreError),
}

impl Store {
    /// Opens (or creates) the store in `data_dir` with default options.
    pub fn open(data_dir: &Path) -> Result<(Store, OpenOutcome), StoreError> {
        Store::open_with(data_dir, StoreOptions::default())
    }

    /// Opens (or creates) the store in `data_dir`. A damaged database is set aside as
    /// `store.corrupt-<unix-ts>` (the newest three are kept), recreated and refilled from
    /// `recovery.sealed`.
    pub fn open_with(
        data_dir: &Path,
        options: StoreOptions,
    ) -> Result<(Store, OpenOutcome), StoreError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(|e| StoreError::io(data_dir, e))?;
        let key = load_or_create_machine_key(data_dir)?;
        let sealer = Sealer::new(key.expose())?;
        drop(key);
        let store_dir = data_dir.join(STORE_DIR);
        let existed = store_dir
            .try_exists()
            .map_err(|e| StoreError::io(&store_dir, e))?;

        let (db, trees, outcome) = match open_checked(&store_dir, existed) {
            Ok((db, trees)) if existed => (db, trees, OpenOutcome::Opened),
            Ok((db, trees)) => {
                match restore(data_dir, &sealer, &db, &trees) {
                    Ok(true) => tracing::warn!(
                        "database was missing; registration restored from recovery.sealed"
                    ),
                    Ok(false) => {}
                    Err(note) => tracing::warn!(%note, "new database not refilled"),
                }
                (db, trees, OpenOutcome::Created)
            }
            Err(Problem::Fatal(e)) => return Err(e),
            Err(Problem::Corrupt(mut reason)) => {
                tracing::error!(%reason, path = %store_dir.display(), "database unusable; setting it aside");
                let set_aside = set_aside(data_dir, &store_dir)?;
                prune_set_aside(data_dir);
                let (db, trees) = open_checked(&store_dir, false).map_err(|p| match p {
                    Problem::Fatal(e) => e,
                    Problem::Corrupt(reason) => StoreError::Corrupt {
                        path: store_dir.clone(),
                        reason: format!("even a freshly created database is unusable: {reason}"),
                    },
                })?;
                let restored_registration = match restore(data_dir, &sealer, &db, &trees) {
                    Ok(restored) => restored,
                    Err(note) => {
                        tracing::error!(%note, "rebuilt database not refilled");
                        reason = format!("{reason}; {note}");
                        false
                    }
                };
                let outcome = OpenOutcome::Recovered {
                    set_aside,
                    reason,
                    restored_registration,
                };
                (db, trees, outcome)
            }
        };

        recovery::sync_at_open(data_dir, &sealer, &trees);
        let next_seq = next_seq_after(&trees.events)?;
        let inner = Inner {
            data_dir: data_dir.to_path_buf(),
            db,
            trees,
            sealer,
            event_capacity: options.event_capacity.max(1),
            recovery_lock: std::sync::Mutex::new(()),
            next_event_seq: tokio::sync::Mutex::new(next_seq),
        };
        Ok((
            Store {
                inner: Arc::new(inner),
            },
            outcome,
        ))
    }
}

/// Opens the database and checks that it is one this code understands. sled may panic on
/// damaged files; a panic is caught and treated as damage.
fn open_checked(store_dir: &Path, existed: bool) -> Result<(sled::Db, Trees), Problem> {
    match catch_unwind(AssertUnwindSafe(|| open_and_check(store_dir, existed))) {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(Problem::Corrupt(format!(
                "the database library panicked: {message}"
            )))
        }
    }
}

fn open_and_check(store_dir: &Path, existed: bool) -> Result<(sled::Db, Trees), Problem> {
    let classify = |e: sled::Error| classify(e, store_dir);
    let db = sled::Config::new()
        .path(store_dir)
        .cache_capacity(CACHE_BYTES)
        .open()
        .map_err(classify)?;
    let trees = Trees::open(&db).map_err(classify)?;
    match trees.meta.get(SCHEMA_KEY).map_err(classify)? {
        // Every database this code creates gets a schema record before first use, so an
        // existing one without it was lost or damaged.
        None if existed => return Err(Problem::Corrupt("no schema record".to_owned())),
        None => {
            let version = SCHEMA_VERSION.to_string();
            trees
                .meta
                .insert(SCHEMA_KEY, version.as_bytes())
                .map_err(classify)?;
            db.flush().map_err(classify)?;
        }
        Some(bytes) => match std::str::from_utf8(&bytes).ok().map(str::parse::<u32>) {
            Some(Ok(SCHEMA_VERSION)) => {}
            Some(Ok(other)) => {
                return Err(Problem::Corrupt(format!("unknown schema version {other}")))
            }
            _ => return Err(Problem::Corrupt("undecodable schema record".to_owned())),
        },
    }
    if let Some(bytes) = trees.registration.get(CURRENT).map_err(classify)? {
        if let Err(e) = serde_json::from_slice::<StoredRegistration>(&bytes) {
            return Err(Problem::Corrupt(format!(
                "undecodable registration record: {e}"
            )));
        }
    }
    Ok((db, trees))
}

/// Tells damage apart from conditions that setting the database aside would not fix.
fn classify(e: sled::Error, store_dir: &Path) -> Problem {
    match e {
        sled::Error::Io(ref io) if io.to_string().contains("acquire lock") => {
            Problem::Fatal(StoreError::Locked {
                path: store_dir.to_path_buf(),
            })
        }
        // Errors straight from the kernel (ENOSPC, EACCES, EIO, EROFS ...) describe the
        // machine, not the files' contents.
        sled::Error::Io(ref io) if io.raw_os_error().is_some() => {
            Problem::Fatal(StoreError::Sled(e))
        }
        other => Problem::Corrupt(other.to_string()),
    }
}

/// Refills a new database from `recovery.sealed`. Ok(true) if a registration came back;
/// Err explains why nothing could be restored.
fn restore(data_dir: &Path, sealer: &Sealer, db: &sled::Db, trees: &Trees) -> Result<bool, String> {
    let snapshot: Snapshot = match recovery::read(data_dir, sealer) {
        Ok(Some(snapshot)) => snapshot,
        Ok(None) => return Err("no recovery.sealed to restore from".to_owned()),
        Err(e) => return Err(format!("recovery.sealed unusable: {e}")),
    };
    let restored = snapshot
        .apply(trees)
        .map_err(|e| format!("restoring from recovery.sealed failed: {e}"))?;
    db.flush()
        .map_err(|e| format!("flushing the restored records failed: {e}"))?;
    Ok(restored)
}

/// Moves the damaged database to `store.corrupt-<unix-ts>` (with `-N` appended if that
/// name is taken) and returns the new path.
fn set_aside(data_dir: &Path, store_dir: &Path) -> Result<PathBuf, StoreError> {
    // Nanoseconds, so a copy set aside after an older one was pruned can never reuse the
    // pruned name and sort as the oldest (which would delete the newest copy).
    let ts = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64;
    let mut target = data_dir.join(format!("{SET_ASIDE_PREFIX}{ts}"));
    let mut n = 1;
    while target
        .try_exists()
        .map_err(|e| StoreError::io(&target, e))?
    {
        target = data_dir.join(format!("{SET_ASIDE_PREFIX}{ts}-{n}"));
        n += 1;
    }
    fs::rename(store_dir, &target).map_err(|e| StoreError::io(store_dir, e))?;
    fsutil::sync_dir(data_dir)?;
    Ok(target)
}

/// Orders set-aside names by timestamp, then by the `-N` suffix.
fn set_aside_order(name: &str) -> Option<(i64, u64)> {
    let rest = name.strip_prefix(SET_ASIDE_PREFIX)?;
    let (ts, n) = match rest.split_once('-') {
        Some((ts, n)) => (ts, n.parse().ok()?),
        None => (rest, 0),
    };
    Some((ts.parse().ok()?, n))
}

/// Deletes all but the newest set-aside databases. Failures are only logged: they cost
/// disk space, not correctness.
fn prune_set_aside(data_dir: &Path) {
    let entries = match fs::read_dir(data_dir) {
        Ok(entries) => entries,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list set-aside databases");
            return;
        }
    };
    let mut found: Vec<((i64, u64), PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let order = set_aside_order(entry.file_name().to_str()?)?;
            Some((order, entry.path()))
        })
        .collect();
    found.sort();
    let excess = found.len().saturating_sub(SET_ASIDE_KEEP);
    for (_, path) in found.into_iter().take(excess) {
        if let Err(e) = fs::remove_dir_all(&path) {
            tracing::warn!(path = %path.display(), error = %e, "cannot delete old set-aside database");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_aside_names_sort_by_time_then_suffix() {
        assert_eq!(set_aside_order("store.corrupt-100"), Some((100, 0)));
        assert_eq!(set_aside_order("store.corrupt-100-2"), Some((100, 2)));
        assert_eq!(set_aside_order("store.corrupt-x"), None);
        assert_eq!(set_aside_order("store"), None);
        assert!(set_aside_order("store.corrupt-100-2") < set_aside_order("store.corrupt-101"));
    }

    #[test]
    fn pruning_keeps_the_three_newest() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "store.corrupt-1",
            "store.corrupt-2",
            "store.corrupt-2-1",
            "store.corrupt-3",
            "other",
        ] {
            fs::create_dir(dir.path().join(name)).expect("mkdir");
        }
        prune_set_aside(dir.path());
        assert!(!dir.path().join("store.corrupt-1").exists());
        for name in [
            "store.corrupt-2",
            "store.corrupt-2-1",
            "store.corrupt-3",
            "other",
        ] {
            assert!(dir.path().join(name).exists(), "{name}");
        }
    }
}

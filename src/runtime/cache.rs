//! Compiled-artefact cache keyed by content hash, bounded in size.
//!
//! In: a kind (`cpp`, `ptx`), the bytes that decide the artefact (source,
//! flags, compiler version) and a function that builds it into a path. Out:
//! an [`Entry`]: the artefact's path, which stays valid (no eviction can
//! remove it) until the entry is dropped, and whether it was a cache hit.
//! Also [`Cache::info`] and [`Cache::clear`] for `brisk cache info|clear`.
//!
//! Layout: `<root>/<kind>/<key>`, one file per artefact, where the root is
//! `$BRISK_CACHE_DIR`, else `$XDG_CACHE_HOME/brisk`, else `~/.cache/brisk`;
//! builds in progress are `<root>/<kind>/.tmp-*`. The root is shared by
//! every project of the user.
//!
//! Size: after a build adds an entry, the least recently used entries are
//! deleted until all entries together take at most `BRISK_CACHE_MAX_BYTES`
//! ([`DEFAULT_MAX_BYTES`], 1 GiB, when unset; `K`, `M`, `G`, `T` suffixes
//! are powers of 1024). An entry's modification time is its last use: a hit
//! sets it to now. A build's leftovers (`.tmp-*` older than a day, from a
//! killed build) are deleted on the way.
//!
//! Concurrency (builds in other processes and threads), with `flock`:
//! * a user opens the entry's file, takes a *shared* lock on it and then
//!   checks that the entry's path still names the file it locked (if not,
//!   it was evicted in between: a miss). It keeps the lock until it has
//!   loaded the artefact (`dlopen`, reading the PTX): until [`Entry`] drops;
//! * eviction takes an *exclusive, non-blocking* lock: an entry in use is
//!   skipped; with the lock it checks that the path still names the locked
//!   file and only then unlinks the path;
//! * a new entry is published with `link(tmp, path)`, which never replaces
//!   an existing entry (a concurrent build of the same key that lost the
//!   race uses its own file, deleted when its [`Entry`] drops); the builder
//!   takes its shared lock on the file before publishing it.
//!
//! So a path's file changes only by eviction (under the exclusive lock) or by
//! creation where no file is, and a user holding its shared lock on the file
//! its path named keeps that file at that path until it lets go. (On a file
//! system without hard links, publishing falls back to `rename`, which may
//! replace a same-key entry in use by another build: that build has its file
//! open, but loads by path an identical artefact, which eviction may remove.)

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use rustix::fs::{flock, FlockOperation};
use sha2::{Digest, Sha256};

use crate::diag::{Error, Result};

/// The size limit when `BRISK_CACHE_MAX_BYTES` is unset: 1 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// The environment variable that sets the size limit.
pub const MAX_BYTES_ENV: &str = "BRISK_CACHE_MAX_BYTES";

/// Leftover `.tmp-*` files older than this are a killed build's: deleted.
const STALE_TMP: Duration = Duration::from_secs(24 * 3600);

/// The cache root: `$BRISK_CACHE_DIR`, else `$XDG_CACHE_HOME/brisk`, else `~/.cache/brisk`.
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("BRISK_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("brisk");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".cache").join("brisk");
    }
    std::env::temp_dir().join("brisk-cache")
}

/// The size limit from `BRISK_CACHE_MAX_BYTES` (bytes, or with a `K`, `M`,
/// `G` or `T` suffix, optionally followed by `B` or `iB`).
pub fn max_bytes() -> Result<u64> {
    match std::env::var(MAX_BYTES_ENV) {
        Ok(text) => parse_size(&text).ok_or_else(|| {
            Error::runtime(format!(
                "{MAX_BYTES_ENV}={text:?} is not a size (bytes, or e.g. 500M, 2G)"
            ))
        }),
        Err(_) => Ok(DEFAULT_MAX_BYTES),
    }
}

fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.chars().last()?.to_ascii_uppercase() {
        'K' => (&t[..t.len() - 1], 10),
        'M' => (&t[..t.len() - 1], 20),
        'G' => (&t[..t.len() - 1], 30),
        'T' => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()?
        .checked_mul(1u64 << shift)
}

/// Hex SHA-256 of the key parts (each length-prefixed).
pub fn key(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Returns the artefact for `key_parts` from the user's cache
/// ([`cache_root`], [`max_bytes`]), calling `build(tmp_path)` when it is missing.
pub fn cached(
    kind: &str,
    key_parts: &[&[u8]],
    build: impl FnOnce(&Path) -> Result<()>,
) -> Result<(Entry, bool)> {
    Cache::new(cache_root(), max_bytes()?).get_or_build(kind, key_parts, build)
}

/// A cached artefact in use: its path names it (no eviction removes it)
/// until this is dropped. Dereferences to the path.
#[derive(Debug)]
pub struct Entry {
    path: PathBuf,
    /// The open file, shared-locked.
    _lock: File,
    /// A build that lost the race to publish its key: its own file, deleted on drop.
    private: bool,
}

impl Entry {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::ops::Deref for Entry {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Entry {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if self.private {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// What [`Cache::info`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    pub entries: u64,
    pub bytes: u64,
    /// (kind, entries, bytes), by kind.
    pub kinds: Vec<(String, u64, u64)>,
}

/// What [`Cache::clear`] (or an eviction) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    pub entries: u64,
    pub bytes: u64,
    /// Entries left in place because a build was using them.
    pub in_use: u64,
}

/// One cached file: (path, bytes, last use).
struct Listed {
    path: PathBuf,
    bytes: u64,
    used: SystemTime,
}

/// A cache folder with a size limit.
#[derive(Debug, Clone)]
pub struct Cache {
    pub root: PathBuf,
    pub max_bytes: u64,
}

static BUILDS: AtomicU64 = AtomicU64::new(0);

impl Cache {
    pub fn new(root: PathBuf, max_bytes: u64) -> Cache {
        Cache { root, max_bytes }
    }

    /// The user's cache: [`cache_root`] and [`max_bytes`].
    pub fn from_env() -> Result<Cache> {
        Ok(Cache::new(cache_root(), max_bytes()?))
    }

    /// Returns the artefact for `key_parts` (and whether it was a hit),
    /// calling `build(tmp_path)` when it is missing; a build evicts the
    /// least recently used entries past the size limit.
    pub fn get_or_build(
        &self,
        kind: &str,
        key_parts: &[&[u8]],
        build: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<(Entry, bool)> {
        let dir = self.root.join(kind);
        std::fs::create_dir_all(&dir).map_err(|e| {
            Error::runtime(format!("cannot create cache folder {}: {e}", dir.display()))
        })?;
        let key = key(key_parts);
        let path = dir.join(&key);
        if let Some(file) = open_locked(&path)? {
            let _ = file.set_modified(SystemTime::now());
            return Ok((
                Entry {
                    path,
                    _lock: file,
                    private: false,
                },
                true,
            ));
        }
        let n = BUILDS.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".tmp-{}-{n}-{key}", std::process::id()));
        if let Err(e) = build(&tmp) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let stored = |e: std::io::Error| {
            Error::runtime(format!("cannot store {} in the cache: {e}", path.display()))
        };
        let file = File::open(&tmp).map_err(stored)?;
        flock(&file, FlockOperation::LockShared).map_err(|e| stored(e.into()))?;
        let entry = match std::fs::hard_link(&tmp, &path) {
            Ok(()) => {
                let _ = std::fs::remove_file(&tmp);
                Entry {
                    path,
                    _lock: file,
                    private: false,
                }
            }
            // a concurrent build of the same key published first: use this build's own file
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Entry {
                path: tmp,
                _lock: file,
                private: true,
            },
            Err(_) => {
                std::fs::rename(&tmp, &path).map_err(stored)?;
                Entry {
                    path,
                    _lock: file,
                    private: false,
                }
            }
        };
        // best effort: a cache that cannot shrink still gives the artefact
        let _ = self.evict(self.max_bytes);
        Ok((entry, false))
    }

    /// Every entry (not builds in progress), oldest use first; deletes stale
    /// leftovers of killed builds on the way.
    fn list(&self) -> Result<Vec<(String, Listed)>> {
        let mut out = Vec::new();
        let kinds = match std::fs::read_dir(&self.root) {
            Ok(k) => k,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(out),
            Err(e) => {
                return Err(Error::runtime(format!(
                    "cannot read the cache folder {}: {e}",
                    self.root.display()
                )))
            }
        };
        let now = SystemTime::now();
        for kind in kinds.flatten() {
            if !kind.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let kind_name = kind.file_name().to_string_lossy().into_owned();
            let Ok(files) = std::fs::read_dir(kind.path()) else {
                continue;
            };
            for f in files.flatten() {
                let Ok(meta) = f.metadata() else { continue };
                if !meta.is_file() {
                    continue;
                }
                let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                if f.file_name().to_string_lossy().starts_with('.') {
                    if now.duration_since(used).is_ok_and(|age| age > STALE_TMP) {
                        let _ = std::fs::remove_file(f.path());
                    }
                    continue;
                }
                out.push((
                    kind_name.clone(),
                    Listed {
                        path: f.path(),
                        bytes: meta.len(),
                        used,
                    },
                ));
            }
        }
        out.sort_by_key(|(_, l)| l.used);
        Ok(out)
    }

    /// The entries and their bytes.
    pub fn info(&self) -> Result<Info> {
        let mut info = Info::default();
        for (kind, l) in self.list()? {
            info.entries += 1;
            info.bytes += l.bytes;
            match info.kinds.iter_mut().find(|(k, _, _)| *k == kind) {
                Some(k) => {
                    k.1 += 1;
                    k.2 += l.bytes;
                }
                None => info.kinds.push((kind, 1, l.bytes)),
            }
        }
        info.kinds.sort();
        Ok(info)
    }

    /// Deletes least recently used entries not in use until the rest take at
    /// most `limit` bytes.
    pub fn evict(&self, limit: u64) -> Result<Removed> {
        let listed = self.list()?;
        let mut total: u64 = listed.iter().map(|(_, l)| l.bytes).sum();
        let mut removed = Removed::default();
        for (_, l) in listed {
            if total <= limit {
                break;
            }
            match try_remove(&l.path) {
                Ok(true) => {
                    total -= l.bytes;
                    removed.entries += 1;
                    removed.bytes += l.bytes;
                }
                Ok(false) => removed.in_use += 1,
                Err(e) => {
                    return Err(Error::runtime(format!(
                        "cannot delete the cache entry {}: {e}",
                        l.path.display()
                    )))
                }
            }
        }
        Ok(removed)
    }

    /// Deletes every entry not in use (`brisk cache clear`).
    pub fn clear(&self) -> Result<Removed> {
        self.evict(0)
    }
}

/// The entry at `path`, open and shared-locked, or None if there is none
/// (or it was evicted while we waited for the lock).
fn open_locked(path: &Path) -> Result<Option<File>> {
    let fail = |e: std::io::Error| {
        Error::runtime(format!(
            "cannot open the cache entry {}: {e}",
            path.display()
        ))
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(e)),
    };
    flock(&file, FlockOperation::LockShared).map_err(|e| fail(e.into()))?;
    Ok(same_file(&file, path).then_some(file))
}

/// Whether `path` names the open `file` now.
fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Deletes the entry at `path` unless a build holds it. Ok(false): in use
/// (or already gone).
fn try_remove(path: &Path) -> std::io::Result<bool> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() || !same_file(&file, path) {
        return Ok(false);
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
    // (the lock goes with `file`)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    fn write(bytes: usize, byte: u8) -> impl FnOnce(&Path) -> Result<()> {
        move |p: &Path| {
            std::fs::write(p, vec![byte; bytes]).map_err(|e| Error::runtime(e.to_string()))
        }
    }

    fn set_used(cache: &Cache, kind: &str, parts: &[&[u8]], secs_ago: u64) {
        let f = File::options()
            .write(true)
            .open(cache.root.join(kind).join(key(parts)))
            .unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(secs_ago))
            .unwrap();
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("500M"), Some(500 << 20));
        assert_eq!(parse_size(" 2GiB "), Some(2 << 30));
        assert_eq!(parse_size("3k"), Some(3 << 10));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("99999999999T"), None);
    }

    #[test]
    fn hits_miss_and_evict_the_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf(), 350);
        for (name, ago) in [(b"a", 30), (b"b", 20), (b"c", 10)] {
            let (_, hit) = cache
                .get_or_build("cpp", &[name], write(100, name[0]))
                .unwrap();
            assert!(!hit);
            set_used(&cache, "cpp", &[name], ago);
        }
        // a hit makes `a` the most recently used
        let (a, hit) = cache
            .get_or_build("cpp", &[b"a"], |_| panic!("a hit builds nothing"))
            .unwrap();
        assert!(hit);
        assert_eq!(std::fs::read(a.path()).unwrap(), vec![b'a'; 100]);
        drop(a);
        // 400 bytes > 350: `b` goes
        drop(
            cache
                .get_or_build("cpp", &[b"d"], write(100, b'd'))
                .unwrap(),
        );
        let exists = |n: &[u8]| cache.root.join("cpp").join(key(&[n])).exists();
        assert!(exists(b"a") && !exists(b"b") && exists(b"c") && exists(b"d"));
        assert_eq!(
            cache.info().unwrap(),
            Info {
                entries: 3,
                bytes: 300,
                kinds: vec![("cpp".into(), 3, 300)]
            }
        );
    }

    #[test]
    fn an_entry_in_use_is_not_evicted_and_clear_removes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf(), 0);
        let (held, _) = cache.get_or_build("ptx", &[b"held"], write(10, 1)).unwrap();
        drop(
            cache
                .get_or_build("ptx", &[b"other"], write(10, 2))
                .unwrap(),
        );
        // limit 0: each build's eviction skipped the entries in use (its own included)
        assert!(held.path().exists());
        assert_eq!(cache.info().unwrap().entries, 2);
        assert_eq!(
            cache.clear().unwrap(),
            Removed {
                entries: 1,
                bytes: 10,
                in_use: 1
            }
        );
        assert!(held.path().exists());
        drop(held);
        assert_eq!(
            cache.clear().unwrap(),
            Removed {
                entries: 1,
                bytes: 10,
                in_use: 0
            }
        );
        assert_eq!(cache.info().unwrap().entries, 0);
    }

    #[test]
    fn a_build_that_lost_the_race_uses_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf(), 1 << 20);
        let path = cache.root.join("cpp").join(key(&[b"k"]));
        let (inner, _) = cache
            .get_or_build("cpp", &[b"k"], |out| {
                // another build publishes the same key while this one compiles
                let other = Cache::new(cache.root.clone(), 1 << 20);
                drop(other.get_or_build("cpp", &[b"k"], write(5, 7)).unwrap());
                write(5, 7)(out)
            })
            .unwrap();
        assert_ne!(inner.path(), path.as_path());
        let private = inner.path().to_path_buf();
        assert_eq!(std::fs::read(&private).unwrap(), vec![7; 5]);
        drop(inner);
        assert!(!private.exists() && path.exists());
    }

    /// Builds that evict (a limit of 4 entries, 64 new keys each) while
    /// others read a few keys: every read finds its artefact whole, and the
    /// cache ends within its limit.
    #[test]
    fn eviction_while_other_builds_read() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(Cache::new(dir.path().to_path_buf(), 4 * 4096));
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..3u8)
            .map(|r| {
                let (cache, stop) = (Arc::clone(&cache), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let mut reads = 0;
                    while !stop.load(Ordering::Relaxed) || reads < 50 {
                        let k = [b'r', r, (reads % 3) as u8];
                        let (entry, _) =
                            cache.get_or_build("cpp", &[&k], write(4096, k[2])).unwrap();
                        // the artefact is read by its path, as dlopen does, while others evict
                        std::thread::yield_now();
                        let bytes = std::fs::read(entry.path())
                            .unwrap_or_else(|e| panic!("{}: {e}", entry.display()));
                        assert_eq!(bytes, vec![k[2]; 4096]);
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        let writers: Vec<_> = (0..2u8)
            .map(|w| {
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || {
                    for i in 0..64u8 {
                        drop(
                            cache
                                .get_or_build("ptx", &[&[w, i]], write(4096, i))
                                .unwrap(),
                        );
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() >= 50);
        }
        cache.evict(cache.max_bytes).unwrap();
        let info = cache.info().unwrap();
        assert!(info.bytes <= cache.max_bytes, "{info:?}");
        assert!(std::fs::read_dir(cache.root.join("ptx")).unwrap().count() <= 4);
    }
}

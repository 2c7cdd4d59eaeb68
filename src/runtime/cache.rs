//! Compiled-artefact cache keyed by content hash.
//!
//! In: a kind (`cpp`, `ptx`), the bytes that decide the artefact (source,
//! flags, compiler version) and a function that builds it into a path. Out:
//! the cached artefact's path. Builds go to a temporary name first and are
//! renamed into place, so a crash never leaves a half-written artefact and
//! concurrent builds of the same key are safe.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::diag::{Error, Result};

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

/// Hex SHA-256 of the key parts (each length-prefixed).
pub fn key(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Returns the artefact for `key_parts`, calling `build(tmp_path)` when it is missing.
pub fn cached(kind: &str, key_parts: &[&[u8]], build: impl FnOnce(&Path) -> Result<()>) -> Result<(PathBuf, bool)> {
    let dir = cache_root().join(kind);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::runtime(format!("cannot create cache folder {}: {e}", dir.display())))?;
    let path = dir.join(key(key_parts));
    if path.is_file() {
        return Ok((path, true));
    }
    let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), key(key_parts)));
    let result = build(&tmp);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &path)
        .map_err(|e| Error::runtime(format!("cannot store {} in the cache: {e}", path.display())))?;
    Ok((path, false))
}

//! Results writer: Brian's raw results folder, written atomically.
//!
//! In: the export (file names) and the executor's [`Finished`] state. Out:
//! `<results>/<array file>` for every Brian array (raw little-endian, bool
//! as one byte, 2-D arrays row-major), `last_run_info.txt` and, after runs
//! with `profile=True`, `profiling_info.txt`.
//!
//! Everything is written into a sibling temporary folder
//! (`.<name>.tmp-<pid>`), which then takes the results folder's place in
//! one atomic exchange (`renameat2(RENAME_EXCHANGE)`; a plain rename when
//! there is no folder yet), so a reader or a kill at any moment sees either
//! the old results or the new ones, never a mix or nothing. A [`ResultsLock`]
//! (`.<name>.lock`, an exclusive `flock`) keeps two runs from writing one
//! results folder; temporaries left by killed runs are removed when the next
//! run takes the lock.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::diag::{Error, Result};
use crate::export::Export;
use crate::runtime::exec::Finished;

/// The exclusive right to write one results folder, held for a whole run.
pub struct ResultsLock {
    dir: PathBuf,
    _file: File,
}

fn split(dir: &Path) -> (PathBuf, String) {
    let dir = dir.components().collect::<PathBuf>();
    let parent = dir
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "results".into());
    (parent, name)
}

impl ResultsLock {
    /// Takes the lock of results folder `dir` (creating its parent), or
    /// fails at once when another run holds it; removes stale temporaries.
    pub fn acquire(dir: &Path) -> Result<ResultsLock> {
        let (parent, name) = split(dir);
        std::fs::create_dir_all(&parent)
            .map_err(|e| Error::runtime(format!("cannot create {}: {e}", parent.display())))?;
        let path = parent.join(format!(".{name}.lock"));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| {
                Error::runtime(format!(
                    "cannot open the results lock {}: {e}",
                    path.display()
                ))
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::runtime(format!(
                    "the results folder {} is being written by another brisk run (lock {}); \
                     wait for it or build into another directory",
                    parent.join(&name).display(),
                    path.display()
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::runtime(format!(
                    "cannot lock {}: {e}",
                    path.display()
                )));
            }
        }
        // holding the lock: any temporary of this folder is a killed run's
        let prefix = format!(".{name}.tmp-");
        if let Ok(entries) = std::fs::read_dir(&parent) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        Ok(ResultsLock {
            dir: parent.join(name),
            _file: file,
        })
    }
}

/// Writes the results folder the lock is for (replacing any previous one).
pub fn write(export: &Export, finished: &Finished, lock: &ResultsLock) -> Result<()> {
    let dir = &lock.dir;
    let (parent, name) = split(dir);
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = write_into(export, finished, &tmp).and_then(|()| swap_in(&tmp, dir));
    // after an exchange `tmp` holds the previous results; after a failure, the partial ones
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// Puts folder `new` at `dir` atomically; the old `dir` (if any) ends at `new`.
fn swap_in(new: &Path, dir: &Path) -> Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => match renameat_with(CWD, new, CWD, dir, RenameFlags::EXCHANGE)
        {
            Ok(()) => Ok(()),
            // file systems without RENAME_EXCHANGE: the old folder moves aside first
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
                let aside = new.with_extension("old");
                std::fs::rename(dir, &aside).map_err(|e| {
                    Error::runtime(format!("cannot replace {}: {e}", dir.display()))
                })?;
                let moved = std::fs::rename(new, dir);
                let _ = std::fs::remove_dir_all(&aside);
                moved.map_err(|e| {
                    Error::runtime(format!("cannot move results into {}: {e}", dir.display()))
                })
            }
            Err(e) => Err(Error::runtime(format!(
                "cannot replace {}: {e}",
                dir.display()
            ))),
        },
        Ok(_) => Err(Error::runtime(format!(
            "{} exists and is not a folder",
            dir.display()
        ))),
        Err(_) => std::fs::rename(new, dir).map_err(|e| {
            Error::runtime(format!("cannot move results into {}: {e}", dir.display()))
        }),
    }
}

fn write_into(export: &Export, finished: &Finished, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::runtime(format!("cannot create {}: {e}", dir.display())))?;
    for (decl, bytes) in export.arrays.iter().zip(&finished.arrays) {
        std::fs::write(dir.join(&decl.file), bytes).map_err(|e| {
            Error::runtime(format!("cannot write results for '{}': {e}", decl.name))
        })?;
    }
    let (seconds, fraction) = finished.last_run;
    std::fs::write(
        dir.join("last_run_info.txt"),
        format!("{seconds} {fraction}\n"),
    )
    .map_err(|e| Error::runtime(format!("cannot write last_run_info.txt: {e}")))?;
    if let Some(profile) = &finished.profile {
        let text: String = profile
            .iter()
            .map(|(name, secs)| format!("{name}\t{secs}\n"))
            .collect();
        std::fs::write(dir.join("profiling_info.txt"), text)
            .map_err(|e| Error::runtime(format!("cannot write profiling_info.txt: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_cannot_take_the_lock_and_stale_temporaries_go() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("results");
        std::fs::create_dir_all(dir.path().join(".results.tmp-999999/x")).unwrap();
        let lock = ResultsLock::acquire(&results).unwrap();
        assert!(
            !dir.path().join(".results.tmp-999999").exists(),
            "stale temporary kept"
        );
        let second = ResultsLock::acquire(&results)
            .err()
            .expect("a second lock must fail");
        assert!(second.message.contains("another brisk run"), "{second}");
        drop(lock);
        ResultsLock::acquire(&results).unwrap();
    }

    #[test]
    fn swapping_replaces_the_folder_whole() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("results");
        std::fs::create_dir_all(&results).unwrap();
        std::fs::write(results.join("old_only"), b"1").unwrap();
        let new = dir.path().join(".results.tmp-1");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("new_only"), b"2").unwrap();
        swap_in(&new, &results).unwrap();
        assert!(results.join("new_only").exists() && !results.join("old_only").exists());
        assert!(
            new.join("old_only").exists(),
            "the old results end at the temporary's path"
        );
    }
}

//! Results writer: Brian's raw results folder, written atomically.
//!
//! In: the export (file names) and the executor's [`Finished`] state. Out:
//! `<results>/<array file>` for every Brian array (raw little-endian, bool
//! as one byte, 2-D arrays row-major), `last_run_info.txt` and, after runs
//! with `profile=True`, `profiling_info.txt`. Everything is
//! written into a sibling temporary folder first and renamed into place, so
//! a failure never leaves a half-written results folder.

use std::path::{Path, PathBuf};

use crate::diag::{Error, Result};
use crate::export::Export;
use crate::runtime::exec::Finished;

/// Writes the results folder `dir` (replacing any previous one).
pub fn write(export: &Export, finished: &Finished, dir: &Path) -> Result<()> {
    let dir = dir.components().collect::<PathBuf>();
    let parent = dir.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&parent)
        .map_err(|e| Error::runtime(format!("cannot create {}: {e}", parent.display())))?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "results".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = write_into(export, finished, &tmp).and_then(|()| {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| Error::runtime(format!("cannot replace {}: {e}", dir.display())))?;
        }
        std::fs::rename(&tmp, &dir).map_err(|e| Error::runtime(format!("cannot move results into {}: {e}", dir.display())))
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn write_into(export: &Export, finished: &Finished, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::runtime(format!("cannot create {}: {e}", dir.display())))?;
    for (decl, bytes) in export.arrays.iter().zip(&finished.arrays) {
        std::fs::write(dir.join(&decl.file), bytes)
            .map_err(|e| Error::runtime(format!("cannot write results for '{}': {e}", decl.name)))?;
    }
    let (seconds, fraction) = finished.last_run;
    std::fs::write(dir.join("last_run_info.txt"), format!("{seconds} {fraction}\n"))
        .map_err(|e| Error::runtime(format!("cannot write last_run_info.txt: {e}")))?;
    if let Some(profile) = &finished.profile {
        let text: String = profile.iter().map(|(name, secs)| format!("{name}\t{secs}\n")).collect();
        std::fs::write(dir.join("profiling_info.txt"), text)
            .map_err(|e| Error::runtime(format!("cannot write profiling_info.txt: {e}")))?;
    }
    Ok(())
}

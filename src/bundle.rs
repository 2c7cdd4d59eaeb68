//! Portable bundles: an export with its generated programs, runnable by
//! `brisk run BUNDLE` on a machine without Python or Brian.
//!
//! In: a validated export (for [`write`]) or a bundle folder (for
//! [`Bundle::open`]). Out: the folder
//!
//! ```text
//! BUNDLE/bundle.json        format, version, the brisk that wrote it, a SHA-256 per source
//! BUNDLE/export/            the export's manifest.json
//! BUNDLE/static_arrays/     Brian's static arrays
//! BUNDLE/generated/         brisk.cpp, brisk.cu and plan.json as generated
//! BUNDLE/README.md          how to run it and read the results back
//! ```
//!
//! and, when a bundle runs, the program of a target: the generated source,
//! or the file in `generated/` when its hash differs from the one recorded
//! (a hand edit, used and reported). The export of a bundle passes the same
//! validation as any export ([`crate::validate::read`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::codegen::{Program, Target};
use crate::diag::{Error, Result};
use crate::pipeline::Prepared;

/// The bundle format this build writes and reads.
pub const BUNDLE_VERSION: u32 = 1;

/// `bundle.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleInfo {
    /// Always `"brisk-bundle"`.
    pub format: String,
    pub version: u32,
    /// The `brisk` version that wrote the bundle.
    pub brisk: String,
    /// File name in `generated/` -> SHA-256 (hex) of the source as generated.
    pub sources: BTreeMap<String, String>,
}

/// An opened bundle.
pub struct Bundle {
    pub dir: PathBuf,
    pub info: BundleInfo,
}

fn io<'a>(what: &str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    let what = what.to_string();
    move |e| Error::runtime(format!("cannot {what} {}: {e}", path.display()))
}

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn source_name(target: Target) -> String {
    format!("brisk.{}", target.extension())
}

/// True when `dir` is a bundle (holds `bundle.json`).
pub fn is_bundle(dir: &Path) -> bool {
    dir.join("bundle.json").is_file()
}

/// Writes the bundle of `prepared` into `out` (created; an existing bundle there is replaced).
pub fn write(prepared: &Prepared, programs: &[Program], plan_json: &str, out: &Path) -> Result<()> {
    if out.exists()
        && !is_bundle(out)
        && std::fs::read_dir(out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Error::runtime(format!(
            "{} exists and is not a bundle: not overwriting it",
            out.display()
        )));
    }
    for sub in ["export", "static_arrays", "generated"] {
        let dir = out.join(sub);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
    }
    let export = &prepared.export;
    let manifest = export.dir.join("manifest.json");
    std::fs::copy(&manifest, out.join("export/manifest.json")).map_err(io("copy", &manifest))?;
    // validation checked that each static array is a regular file with a plain name
    for name in export.static_arrays.keys() {
        let from = export.static_dir().join(name);
        std::fs::copy(&from, out.join("static_arrays").join(name)).map_err(io("copy", &from))?;
    }
    let mut sources = BTreeMap::new();
    for program in programs {
        let name = source_name(program.target);
        let path = out.join("generated").join(&name);
        std::fs::write(&path, &program.source).map_err(io("write", &path))?;
        sources.insert(name, sha256(&program.source));
    }
    let plan = out.join("generated/plan.json");
    std::fs::write(&plan, plan_json).map_err(io("write", &plan))?;
    let info = BundleInfo {
        format: "brisk-bundle".to_string(),
        version: BUNDLE_VERSION,
        brisk: env!("CARGO_PKG_VERSION").to_string(),
        sources,
    };
    let text = serde_json::to_string_pretty(&info).map_err(|e| Error::runtime(e.to_string()))?;
    std::fs::write(out.join("bundle.json"), text + "\n")
        .map_err(io("write", &out.join("bundle.json")))?;
    let readme = out.join("README.md");
    std::fs::write(&readme, README).map_err(io("write", &readme))?;
    Ok(())
}

const README: &str = include_str!("../templates/bundle/README.md");

impl Bundle {
    /// Opens `dir` (which holds `bundle.json`), checking its format and version.
    pub fn open(dir: &Path) -> Result<Bundle> {
        let path = dir.join("bundle.json");
        let text = std::fs::read_to_string(&path).map_err(io("read", &path))?;
        let info: BundleInfo =
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(&text))
                .map_err(|e| {
                    Error::export(format!("malformed {}: {}", path.display(), e.inner()))
                        .at_path(&e.path().to_string())
                })?;
        if info.format != "brisk-bundle" || info.version != BUNDLE_VERSION {
            return Err(Error::export(format!(
                "{} is a {:?} of version {}, this brisk reads brisk-bundle version {BUNDLE_VERSION}",
                path.display(),
                info.format,
                info.version
            )));
        }
        Ok(Bundle {
            dir: dir.to_path_buf(),
            info,
        })
    }

    /// The export folder inside the bundle.
    pub fn export_dir(&self) -> PathBuf {
        self.dir.join("export")
    }

    /// The bundle's program for `target` when it was edited by hand (its hash
    /// differs from the one recorded), with a note saying so; `None` runs the
    /// program generated from the export.
    pub fn edited_program(&self, target: Target) -> Option<(Program, String)> {
        let name = source_name(target);
        let path = self.dir.join("generated").join(&name);
        let on_disk = std::fs::read_to_string(&path).ok()?;
        match self.info.sources.get(&name) {
            Some(recorded) if *recorded != sha256(&on_disk) => {
                let note = format!(
                    "using the hand-edited {} (it differs from the generated source)",
                    path.display()
                );
                Some((
                    Program {
                        target,
                        source: on_disk,
                    },
                    note,
                ))
            }
            _ => None,
        }
    }
}

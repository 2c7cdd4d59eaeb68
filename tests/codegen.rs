//! Generated C++ and CUDA for every fixture export, snapshot-tested.
//!
//! The support header is the same for every program and is left out of the
//! snapshots (it has its own known-answer tests in `tests/nvrtc.rs`).

use std::path::Path;

use brisk::codegen::{generate, Target, SUPPORT_HEADER};
use brisk::diag::ErrorKind;
use brisk::export::Export;

fn program_text(dir: &Path, target: Target) -> Option<String> {
    let export = Export::read(dir).expect("fixture export reads");
    let cos = match brisk::ir::lower::lower_all(&export) {
        Ok(cos) => cos,
        Err(e) if e.kind == ErrorKind::NotImplemented => return None,
        Err(e) => panic!("fixture {} does not lower: {e}", dir.display()),
    };
    let plan = brisk::plan::build(&export, &cos).expect("plan");
    let program = generate(&plan, &cos, target).ok()?;
    Some(program.source.replace(SUPPORT_HEADER, "// <support.h>\n"))
}

#[test]
fn generated_sources() {
    insta::glob!("../fixtures/exports", "*/export/manifest.json", |path| {
        let dir = path.parent().expect("export folder");
        for target in [Target::Cpp, Target::Cuda] {
            let Some(text) = program_text(dir, target) else { return };
            insta::assert_snapshot!(target.name(), text);
        }
    });
}

#[test]
fn generation_is_deterministic() {
    for entry in std::fs::read_dir("fixtures/exports").expect("fixtures") {
        let dir = entry.expect("entry").path().join("export");
        for target in [Target::Cpp, Target::Cuda] {
            assert_eq!(program_text(&dir, target), program_text(&dir, target), "{}", dir.display());
        }
    }
}

//! Generated C++ and CUDA for every fixture export, snapshot-tested.
//!
//! The support header is the same for every program and is left out of the
//! snapshots (it has its own known-answer tests in `tests/nvrtc.rs`).

use std::path::Path;

use brisk::codegen::{generate, Target, SUPPORT_HEADER};

/// The program of the fixture export in `dir` for `target`: every fixture
/// lowers, plans and generates for both targets (a failure fails the test).
fn program_text(dir: &Path, target: Target) -> String {
    let export = brisk::validate::read(dir).expect("fixture export reads");
    let cos = brisk::lower::lower_all(&export)
        .unwrap_or_else(|e| panic!("fixture {} does not lower: {e}", dir.display()));
    let plan = brisk::planner::build(&export, &cos)
        .unwrap_or_else(|e| panic!("fixture {}: no plan: {e}", dir.display()));
    let program = generate(&plan, &cos, target).unwrap_or_else(|e| {
        panic!(
            "fixture {}: no {} program: {e}",
            dir.display(),
            target.name()
        )
    });
    program.source.replace(SUPPORT_HEADER, "// <support.h>\n")
}

#[test]
fn generated_sources() {
    insta::glob!("../fixtures/exports", "*/export/manifest.json", |path| {
        let dir = path.parent().expect("export folder");
        for target in [Target::Cpp, Target::Cuda] {
            insta::assert_snapshot!(target.name(), program_text(dir, target));
        }
    });
}

#[test]
fn generation_is_deterministic() {
    let mut fixtures = 0;
    for entry in std::fs::read_dir("fixtures/exports").expect("fixtures") {
        let dir = entry.expect("entry").path().join("export");
        for target in [Target::Cpp, Target::Cuda] {
            let (first, second) = (program_text(&dir, target), program_text(&dir, target));
            assert!(!first.is_empty(), "{}", dir.display());
            assert_eq!(first, second, "{}", dir.display());
        }
        fixtures += 1;
    }
    assert!(
        fixtures >= 20,
        "the fixture exports are missing ({fixtures} found)"
    );
}

/// The plan of every fixture export, as JSON: what the plan decides (kernels,
/// launch shapes, delivery, fusion, buffers) shows in review.
#[test]
fn plans() {
    insta::glob!("../fixtures/exports", "*/export/manifest.json", |path| {
        let dir = path.parent().expect("export folder");
        let export = brisk::validate::read(dir).expect("fixture export reads");
        let cos = brisk::lower::lower_all(&export).expect("fixture lowers");
        let plan = brisk::planner::build(&export, &cos).expect("plan");
        insta::assert_json_snapshot!("plan", plan);
    });
}

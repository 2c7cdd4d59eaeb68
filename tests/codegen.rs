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

/// A profiled run's `synapses` gets a queue-walk kernel: the delivery's walk
/// over the due synapses, each one's index stored into a volatile local, and
/// none of the synapses' statements.
#[test]
fn a_profiled_delivery_walks_its_queue_without_its_statements() {
    let fixture = Path::new("fixtures/exports/synapses/export");
    let dir = tempfile::tempdir().expect("temporary folder");
    let copy = |from: &Path, to: &Path| {
        for entry in std::fs::read_dir(from).expect("fixture") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
            }
        }
    };
    copy(fixture, dir.path());
    if fixture.join("static_arrays").is_dir() {
        std::fs::create_dir(dir.path().join("static_arrays")).expect("folder");
        copy(
            &fixture.join("static_arrays"),
            &dir.path().join("static_arrays"),
        );
    }
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("manifest.json")).unwrap())
            .unwrap();
    for entry in m["main_queue"].as_array_mut().unwrap() {
        if entry["kind"] == "run_network" {
            entry["profile"] = serde_json::json!(true);
        }
    }
    std::fs::write(dir.path().join("manifest.json"), m.to_string()).unwrap();
    for target in [Target::Cpp, Target::Cuda] {
        let text = program_text(dir.path(), target);
        let at = text
            .find("_queue_walk(")
            .unwrap_or_else(|| panic!("{}: no queue walk kernel", target.name()));
        let walk = &text[at..];
        let walk = &walk[..walk.find("\n}\n").expect("the kernel's end")];
        assert!(
            walk.contains("volatile int64_t _walked = 0;\n") && walk.contains("(void)_walked;"),
            "{}: {walk}",
            target.name()
        );
        assert!(
            walk.contains("_walked = _idx;"),
            "{}: {walk}",
            target.name()
        );
        // the delivery's statements (the fixture's on_pre writes `apre` and `v`) are not there
        assert!(
            !walk.contains("_ptr_dynamic_array_synapses_apre[_idx] =")
                && !walk.contains("_ptr_array_neurongroup_v[_postsynaptic_idx] ="),
            "{}: {walk}",
            target.name()
        );
        let main = &text[text
            .find("brisk_synapses_pre_codeobject(")
            .expect("the delivery")..];
        assert!(
            main.contains("_ptr_dynamic_array_synapses_apre[_idx] = apre;"),
            "the delivery itself writes apre"
        );
    }
}

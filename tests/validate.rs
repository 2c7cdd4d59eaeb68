//! The trust boundary: damaged or hostile exports give a clear error naming
//! the JSON path (and the Brian object), and nothing after validation
//! panics on an export that passed it or reports an internal error (a check
//! of planning or code generation that validation should have made true).
//!
//! Each targeted test edits a fixture export the way a case of issue 13 did
//! and checks the error. `mutated_exports_never_panic` applies random
//! mutations to every fixture (`BRISK_FUZZ_CASES` per fixture, 40 by default:
//! 760 exports; `scripts/fuzz-exports` runs millions) and runs validation,
//! lowering, planning and code generation for both targets on each one:
//! errors are fine, panics and `ErrorKind::Internal` are not.
//! `mutated_exports_run_or_fail_cleanly` runs the `brisk` binary (C++ target)
//! on the first `BRISK_FUZZ_RUNS` accepted mutations of each fixture (1 by
//! default): each run ends with results or an error line, never a signal, a
//! panic or a results folder after a failure.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use brisk::codegen::{generate, Target};
use brisk::diag::Error;
use serde_json::{json, Value};

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/exports");
    let mut out: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/exports")
        .join(name)
}

fn manifest(fixture: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture.join("export/manifest.json")).unwrap())
        .unwrap()
}

/// A copy of `fixture` (its static arrays) in `dir` with this manifest.
fn write_export(dir: &Path, fixture: &Path, manifest: &Value) -> PathBuf {
    let export = dir.join("export");
    std::fs::create_dir_all(&export).unwrap();
    let statics = dir.join("static_arrays");
    if !statics.exists() {
        std::fs::create_dir_all(&statics).unwrap();
        if let Ok(entries) = std::fs::read_dir(fixture.join("static_arrays")) {
            for e in entries {
                let e = e.unwrap();
                std::fs::copy(e.path(), statics.join(e.file_name())).unwrap();
            }
        }
    }
    std::fs::write(
        export.join("manifest.json"),
        serde_json::to_string(manifest).unwrap(),
    )
    .unwrap();
    export
}

/// The error of reading `fixture` with `edit` applied to its manifest.
fn read_edited(name: &str, edit: impl FnOnce(&mut Value)) -> Error {
    let fx = fixture(name);
    let mut m = manifest(&fx);
    edit(&mut m);
    let dir = tempfile::tempdir().unwrap();
    let export = write_export(dir.path(), &fx, &m);
    match brisk::validate::read(&export) {
        Ok(_) => panic!("the edited export of {name} was accepted"),
        Err(e) => e,
    }
}

fn code_object<'a>(m: &'a mut Value, template: &str) -> &'a mut Value {
    m["code_objects"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["template"] == template)
        .unwrap()
}

#[test]
fn fixtures_pass_validation() {
    for fx in fixtures() {
        brisk::validate::read(&fx.join("export"))
            .unwrap_or_else(|e| panic!("{}: {e}", fx.display()));
    }
}

#[test]
fn a_name_cannot_inject_code() {
    let e = read_edited("lif", |m| {
        code_object(m, "stateupdate")["name"] =
            json!("x(){} int main(){system(\"touch /tmp/pwned\");} void y");
    });
    assert!(e.path.as_deref().unwrap().ends_with(".name"), "{e}");
    assert!(e.message.contains("not a valid name"), "{e}");
    let e = read_edited("lif", |m| {
        let vars = code_object(m, "stateupdate")["variables"]
            .as_object_mut()
            .unwrap();
        let v = vars.remove("v").unwrap();
        vars.insert("v;abort()".into(), v);
    });
    assert!(
        e.path.as_deref().unwrap().contains("variables.v;abort()"),
        "{e}"
    );
    let e = read_edited("synapses", |m| {
        code_object(m, "synapses_create_generator")["template_kwds"]["outer_index_offset"] =
            json!("0; abort()");
    });
    assert!(
        e.path
            .as_deref()
            .unwrap()
            .ends_with("template_kwds.outer_index_offset"),
        "{e}"
    );
}

#[test]
fn file_names_stay_inside_their_folders() {
    for bad in ["../escaped", "/tmp/absolute", "a/b", "..", ""] {
        let e = read_edited("lif", |m| m["arrays"][0]["file"] = json!(bad));
        assert_eq!(e.path.as_deref(), Some("arrays[0].file"), "{bad}: {e}");
    }
    let e = read_edited("monitors", |m| {
        let statics = m["static_arrays"].as_object_mut().unwrap();
        let (k, v) = statics
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), v.clone()))
            .unwrap();
        statics.remove(&k);
        statics.insert("../../outside".into(), v);
    });
    assert!(
        e.path.as_deref().unwrap().starts_with("static_arrays."),
        "{e}"
    );
}

#[test]
fn sizes_must_agree() {
    // the spike space is too small for the thresholder
    let e = read_edited("threshold_reset", |m| {
        for a in m["arrays"].as_array_mut().unwrap() {
            if a["var"] == "_spikespace" {
                a["size"] = json!(2);
            }
        }
    });
    assert!(e.message.contains("event space"), "{e}");
    assert!(e.object.is_some(), "{e}");
    // a StateMonitor index past the end of its group
    let e = read_edited("monitors", |m| {
        for a in m["arrays"].as_array_mut().unwrap() {
            if a["var"] == "_indices" && a["owner"] == "statemonitor" {
                a["init"] = json!("arange");
                a["arange_start"] = json!(1000);
            }
        }
    });
    assert!(e.message.contains("StateMonitor records index"), "{e}");
    // a group larger than its arrays
    let e = read_edited("lif", |m| {
        code_object(m, "stateupdate")["variables"]["N"]["value"] = json!(1_000_000)
    });
    assert!(e.message.contains("elements, the group has N"), "{e}");
    // sizes whose byte count overflows
    let e = read_edited("lif", |m| m["arrays"][0]["size"] = json!(u64::MAX / 2));
    assert_eq!(e.path.as_deref(), Some("arrays[0].size"), "{e}");
    let e = read_edited("monitors", |m| {
        for a in m["arrays"].as_array_mut().unwrap() {
            if a["ndim"] == 2 {
                a["size"] = json!([u64::MAX, 3]);
            }
        }
    });
    assert!(e.path.as_deref().unwrap().ends_with(".size"), "{e}");
}

/// `monitors` with its first StateMonitor (v and z of 6 neurons, indices 0..5)
/// reading both through the index array `index` (one more array, of `owner`).
fn monitor_through_index(m: &mut Value, index: &str, owner: &str, dynamic: bool, size: u64) {
    let array = format!("_array_{owner}_{index}");
    m["arrays"].as_array_mut().unwrap().push(json!({
        "name": array, "owner": owner, "var": index, "dtype": "int32", "size": size,
        "dynamic": dynamic, "ndim": 1, "scalar": false, "read_only": true, "constant": true,
        "file": format!("{array}_1"), "init": "arange", "arange_start": 0
    }));
    let co = m["code_objects"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == "statemonitor_codeobject")
        .unwrap();
    let vars = &mut co["variables"];
    vars[index] = json!({
        "kind": "array", "array": array, "dtype": "int32", "scalar": false, "read_only": true,
        "constant": true, "dynamic": dynamic, "ndim": 1, "owner": owner, "index": "_idx"
    });
    vars["_source_v"]["index"] = json!(index);
    vars["_source_z"]["index"] = json!(index);
}

/// Issue 20: a StateMonitor's indices are checked against the group it
/// records (the arrays it indexes by `_idx`), not against a variable read
/// through another index: a Synapses' monitor of a postsynaptic variable
/// records synapse indices (their number is made by connect(): checked by
/// the runtime), a subgroup's monitor indices of the subgroup.
#[test]
fn statemonitor_indices_lie_inside_the_monitored_group() {
    // a Synapses (dynamic `_postsynaptic_idx`): synapse 1000 onto a group of 6 neurons
    // is left to the runtime
    let fx = fixture("monitors");
    let mut m = manifest(&fx);
    monitor_through_index(&mut m, "_postsynaptic_idx", "synapses", true, 0);
    for a in m["arrays"].as_array_mut().unwrap() {
        if a["name"] == "_array_statemonitor__indices" {
            a["init"] = json!("arange");
            a["arange_start"] = json!(1000);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    brisk::validate::read(&write_export(dir.path(), &fx, &m))
        .unwrap_or_else(|e| panic!("refused: {e}"));
    // a subgroup of 2 neurons (`_sub_idx`): index 2..5 lie outside it
    let e = read_edited("monitors", |m| {
        monitor_through_index(m, "_sub_idx", "subgroup", false, 2)
    });
    assert!(
        e.message
            .contains("outside its group 'subgroup' of 2 elements"),
        "{e}"
    );
    assert!(e.path.as_deref().unwrap().starts_with("main_queue["), "{e}");
}

#[test]
fn dtypes_must_agree() {
    let e = read_edited("lif", |m| {
        code_object(m, "stateupdate")["variables"]["v"]["dtype"] = json!("float32")
    });
    assert!(
        e.path.as_deref().unwrap().ends_with("variables.v.dtype"),
        "{e}"
    );
    assert!(
        e.message.contains("float32") && e.message.contains("float64"),
        "{e}"
    );
}

#[test]
fn clocks_need_a_positive_dt() {
    let e = read_edited("lif", |m| m["clocks"][0]["dt"] = json!(0.0));
    assert_eq!(e.path.as_deref(), Some("clocks[0].dt"), "{e}");
    let e = read_edited("lif", |m| {
        for q in m["main_queue"].as_array_mut().unwrap() {
            if q["array"] == "_array_defaultclock_dt" {
                q["value"] = json!(0.0);
            }
        }
    });
    assert!(e.path.as_deref().unwrap().starts_with("main_queue["), "{e}");
    let e = read_edited("lif", |m| {
        for q in m["main_queue"].as_array_mut().unwrap() {
            if q["kind"] == "run_network" {
                q["duration"] = json!(1e300);
            }
        }
    });
    assert!(e.message.contains("2^53 steps"), "{e}");
}

#[test]
fn malformed_fields_name_their_path() {
    let e = read_edited("lif", |m| m["arrays"][2]["dtype"] = json!("complex128"));
    assert_eq!(e.path.as_deref(), Some("arrays[2].dtype"), "{e}");
    let e = read_edited("lif", |m| {
        code_object(m, "threshold")["blocks"][0]["vector"] = json!(7)
    });
    assert!(
        e.path.as_deref().unwrap().ends_with("blocks[0].vector"),
        "{e}"
    );
}

// ------------------------------------------------------------------ fuzzing

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Every node of `v`, as JSON pointers.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, x)| pointers(x, format!("{at}/{i}"), out)),
        Value::Object(map) => map.iter().for_each(|(k, x)| {
            pointers(
                x,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        _ => {}
    }
    out.push(at);
}

fn mutate(m: &mut Value, rng: &mut Rng) {
    let mut all = Vec::new();
    pointers(m, String::new(), &mut all);
    let at = all[rng.below(all.len())].clone();
    let Some(node) = m.pointer_mut(&at) else {
        return;
    };
    let replacements = [
        json!(0),
        json!(-1),
        json!(1),
        json!(3),
        json!(1_000_000_007),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1e308),
        json!(-0.5),
        json!(null),
        json!(true),
        json!(""),
        json!("../x"),
        json!("/etc/passwd"),
        json!("a;b"),
        json!("nan"),
        json!("inf"),
        json!("float32"),
        json!("int32"),
        json!("_idx"),
        json!("0"),
        json!([]),
        json!({}),
        json!([2, 3]),
    ];
    match rng.below(4) {
        // a number scaled, or any scalar replaced
        0 => {
            if let Some(x) = node.as_f64() {
                let factor = [0.0, -1.0, 2.0, 1e6, 0.5][rng.below(5)];
                *node = if node.is_i64() || node.is_u64() {
                    json!((x * factor) as i64)
                } else {
                    json!(x * factor)
                };
            } else {
                *node = replacements[rng.below(replacements.len())].clone();
            }
        }
        // an element removed or duplicated, a key removed
        1 => match node {
            Value::Array(items) if !items.is_empty() => {
                let i = rng.below(items.len());
                if rng.below(2) == 0 {
                    items.remove(i);
                } else {
                    let x = items[i].clone();
                    items.push(x);
                }
            }
            Value::Object(map) if !map.is_empty() => {
                let k = map.keys().nth(rng.below(map.len())).unwrap().clone();
                map.remove(&k);
            }
            _ => *node = replacements[rng.below(replacements.len())].clone(),
        },
        // a string swapped for another name of the manifest
        2 => {
            let names: Vec<String> = all
                .iter()
                .filter_map(|p| m.pointer(p)?.as_str().map(str::to_string))
                .collect();
            if let (Some(node), false) = (m.pointer_mut(&at), names.is_empty()) {
                *node = json!(names[rng.below(names.len())].clone());
            }
        }
        _ => *node = replacements[rng.below(replacements.len())].clone(),
    }
}

/// Validation, lowering, planning and code generation of one export: an
/// `Err` is fine, a panic is not, and neither is an internal error (a check
/// after validation that validation should have made true); it is returned.
fn pipeline(export: &Path) -> Option<String> {
    let internal =
        |e: brisk::diag::Error| (e.kind == brisk::diag::ErrorKind::Internal).then(|| e.to_string());
    let export = brisk::validate::read(export).ok()?;
    let cos = match brisk::lower::lower_all(&export) {
        Ok(cos) => cos,
        Err(e) => return internal(e),
    };
    if let Err(e) = brisk::schedule::build(&export) {
        return internal(e);
    }
    let plan = match brisk::planner::build(&export, &cos) {
        Ok(plan) => plan,
        Err(e) => return internal(e),
    };
    for target in [Target::Cpp, Target::Cuda] {
        if let Some(e) = generate(&plan, &cos, target).err().and_then(internal) {
            return Some(e);
        }
    }
    None
}

#[test]
fn mutated_exports_never_panic() {
    let cases: usize = std::env::var("BRISK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let seed: u64 = std::env::var("BRISK_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2026);
    let mut rng = Rng(seed);
    let mut panics = Vec::new();
    let mut accepted = 0usize;
    let mut total = 0usize;
    for fx in fixtures() {
        let base = manifest(&fx);
        let dir = tempfile::tempdir().unwrap();
        for case in 0..cases {
            let mut m = base.clone();
            for _ in 0..=rng.below(3) {
                mutate(&mut m, &mut rng);
            }
            let export = write_export(dir.path(), &fx, &m);
            total += 1;
            accepted += usize::from(brisk::validate::read(&export).is_ok());
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| pipeline(&export)));
            let failure = match outcome {
                Err(_) => Some("panic".to_string()),
                Ok(internal) => internal,
            };
            if let Some(failure) = failure {
                let keep = std::env::temp_dir().join(format!(
                    "brisk-fuzz-{}-{case}.json",
                    fx.file_name().unwrap().to_string_lossy()
                ));
                let _ = std::fs::write(&keep, serde_json::to_string_pretty(&m).unwrap());
                panics.push(format!("{}: {failure}", keep.display()));
            }
        }
    }
    eprintln!(
        "{total} mutated exports, {accepted} accepted by validation, {} panics or internal errors",
        panics.len()
    );
    assert!(
        panics.is_empty(),
        "panics or internal errors on mutated exports (kept): {panics:#?}"
    );
}

/// The first `n` mutations of `fx` that validation accepts (at most 400 tries each).
fn accepted_mutations(fx: &Path, n: usize, rng: &mut Rng, dir: &Path) -> Vec<Value> {
    let base = manifest(fx);
    let mut out = Vec::new();
    for _ in 0..400 * n {
        if out.len() == n {
            break;
        }
        let mut m = base.clone();
        for _ in 0..=rng.below(2) {
            mutate(&mut m, rng);
        }
        if m == base {
            continue;
        }
        let export = write_export(dir, fx, &m);
        if brisk::validate::read(&export).is_ok() {
            out.push(m);
        }
    }
    out
}

/// The longest a fuzzed run may take before it is stopped (a long valid simulation).
const RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// `brisk run` of `export` on the C++ target, or `None` when it ran past [`RUN_LIMIT`].
fn run_with_timeout(export: &Path, results: &Path) -> Option<std::process::Output> {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_brisk"))
        .args(["run", "--backend", "cpu", "--results"])
        .arg(results)
        .arg(export)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // read stderr while the child runs (a long compiler log must not block it)
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut pipe, &mut buf);
        buf
    });
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(std::process::Output {
                status,
                stdout: Vec::new(),
                stderr: reader.join().unwrap(),
            });
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn mutated_exports_run_or_fail_cleanly() {
    let runs: usize = std::env::var("BRISK_FUZZ_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let seed: u64 = std::env::var("BRISK_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11);
    if std::process::Command::new("c++")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("BRISK_REQUIRE_CXX").is_err(),
            "BRISK_REQUIRE_CXX=1 but there is no C++ compiler"
        );
        eprintln!("SKIPPED mutated_exports_run_or_fail_cleanly: no C++ compiler");
        return;
    }
    let mut rng = Rng(seed);
    let mut bad = Vec::new();
    let mut counts = [0usize; 3];
    for fx in fixtures() {
        let dir = tempfile::tempdir().unwrap();
        for (k, m) in accepted_mutations(&fx, runs, &mut rng, dir.path())
            .into_iter()
            .enumerate()
        {
            let export = write_export(dir.path(), &fx, &m);
            let results = dir.path().join("results");
            let Some(out) = run_with_timeout(&export, &results) else {
                // a mutated duration can make a valid run of hours: stopped, not a failure
                counts[2] += 1;
                let _ = std::fs::remove_dir_all(&results);
                continue;
            };
            let stderr = String::from_utf8_lossy(&out.stderr);
            let name = fx.file_name().unwrap().to_string_lossy().into_owned();
            match out.status.code() {
                Some(0) => counts[0] += 1,
                Some(1) if stderr.contains("brisk-error-json: ") && !results.exists() => {
                    counts[1] += 1
                }
                _ => {
                    let keep = std::env::temp_dir().join(format!("brisk-fuzz-run-{name}-{k}.json"));
                    let _ = std::fs::write(&keep, serde_json::to_string_pretty(&m).unwrap());
                    let tail: String = stderr.lines().rev().take(4).collect::<Vec<_>>().join(" | ");
                    bad.push(format!(
                        "{name}: {:?} (kept {}): {tail}",
                        out.status,
                        keep.display()
                    ));
                }
            }
            let _ = std::fs::remove_dir_all(&results);
        }
    }
    eprintln!(
        "mutated exports run: {} finished, {} failed with an error, {} stopped after {RUN_LIMIT:?}",
        counts[0], counts[1], counts[2]
    );
    assert!(bad.is_empty(), "runs that did not end cleanly: {bad:#?}");
}

#[test]
fn a_shared_write_outside_a_state_update_is_rejected() {
    // Brian's cpp_standalone writes shared variables only from a state update (run_regularly);
    // a reset that does would race between GPU blocks: lowering rejects it, naming it.
    let fx = fixture("threshold_reset");
    let mut m = manifest(&fx);
    let mut array = m["arrays"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "_array_defaultclock_dt")
        .unwrap()
        .clone();
    array["name"] = json!("_array_neurongroup_1_s");
    array["owner"] = json!("neurongroup_1");
    array["var"] = json!("s");
    array["file"] = json!("_array_neurongroup_1_s_1");
    array["read_only"] = json!(false);
    array["constant"] = json!(false);
    let arrays = m["arrays"].as_array_mut().unwrap();
    arrays.push(array);
    arrays.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let reset = code_object(&mut m, "reset");
    reset["variables"]["s"] = json!({"kind": "array", "array": "_array_neurongroup_1_s", "dtype": "float64",
        "scalar": true, "read_only": false, "constant": false, "dynamic": false, "ndim": 1,
        "owner": "neurongroup_1", "index": "0"});
    reset["blocks"][0]["scalar"] = json!([{"var": "s", "op": "=", "expr": "s + 1", "dtype": "float64",
        "constant": false, "scalar": true}]);
    let dir = tempfile::tempdir().unwrap();
    let export = brisk::validate::read(&write_export(dir.path(), &fx, &m)).expect("a valid export");
    let e =
        brisk::lower::lower_all(&export).expect_err("lowering accepts a shared write in a reset");
    assert!(e.message.contains("writes the shared variable 's'"), "{e}");
    assert_eq!(e.object.as_deref(), Some("neurongroup_1"), "{e}");
}

#[test]
fn sizes_and_offsets_that_would_overflow_are_rejected() {
    // (found by the run fuzzer: a summed variable's N_post of 1e308 overflowed its CSR's
    // length; a connect()'s _target_offset of 2^64-1 wrapped N_incoming's length around,
    // and the generated code wrote past it)
    let e = read_edited("synapses", |m| {
        code_object(m, "summed_variable")["variables"]["N_post"]["value"] = json!(1e308);
    });
    assert!(
        e.path.as_deref().unwrap().ends_with(".variables.N_post"),
        "{e}"
    );
    let e = read_edited("synapses", |m| {
        code_object(m, "summed_variable")["variables"]["N_post"]["value"] = json!(5);
    });
    assert!(e.message.contains("its range 0..4 has 4"), "{e}");
    let e = read_edited("synapses_delays", |m| {
        code_object(m, "synapses_create_generator")["variables"]["_target_offset"]["value"] =
            json!(u64::MAX);
    });
    assert!(
        e.path
            .as_deref()
            .unwrap()
            .ends_with(".variables._target_offset"),
        "{e}"
    );
    let e = read_edited("synapses_delays", |m| {
        code_object(m, "synapses_create_generator")["variables"]["N_pre"]["value"] = json!(-3);
    });
    assert!(e.message.contains("a size is a whole number"), "{e}");
}

#[test]
fn connect_resizes_every_per_synapse_array_it_needs() {
    // (found by the run fuzzer: a connect() entry whose resized arrays lacked
    // `_synaptic_post` let the generated code write past its end)
    let e = read_edited("synapses_grouped", |m| {
        code_object(m, "synapses_create_generator")["connect"]["registered"] = json!([]);
    });
    assert!(e.message.contains("does not resize it"), "{e}");
    let e = read_edited("synapses_grouped", |m| {
        let registered = code_object(m, "synapses_create_generator")["connect"]["registered"]
            .as_array_mut()
            .unwrap();
        registered.retain(|a| a != "_dynamic_array_synapses__synaptic_pre");
    });
    assert!(
        e.message
            .contains("'_dynamic_array_synapses__synaptic_pre'"),
        "{e}"
    );
    // another object's array is not the Synapses' to resize
    let e = read_edited("synapses_delays", |m| {
        let registered = code_object(m, "synapses_create_generator")["connect"]["registered"]
            .as_array_mut()
            .unwrap();
        registered.push(json!("_dynamic_array_synapses_1__synaptic_pre"));
    });
    assert!(
        e.message.contains("not a per-synapse array of 'synapses'"),
        "{e}"
    );
}

#[test]
fn a_generator_loops_with_its_own_offset_and_size() {
    // (found by the run fuzzer: a result_index_offset naming N_post shifted every target
    // index past N_incoming's end)
    let e = read_edited("synapses", |m| {
        code_object(m, "synapses_create_generator")["template_kwds"]["result_index_offset"] =
            json!("N_post");
    });
    assert!(
        e.path
            .as_deref()
            .unwrap()
            .ends_with("template_kwds.result_index_offset"),
        "{e}"
    );
    let e = read_edited("synapses", |m| {
        code_object(m, "synapses_create_generator")["template_kwds"]["outer_index_size"] =
            json!("N_post");
    });
    assert!(
        e.message.contains("not '_source_offset' and 'N_pre'"),
        "{e}"
    );
}

#[test]
fn a_spike_monitor_counts_into_an_array_of_its_range() {
    // (found by the run fuzzer: a `count` array of 0 elements for 8 neurons corrupted the heap)
    let e = read_edited("float32", |m| {
        let count = m["arrays"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|a| a["name"] == "_array_spikemonitor_count")
            .unwrap();
        count["size"] = json!(0);
    });
    assert!(e.message.contains("counts the events of 0..8"), "{e}");
}

/// `brisk run` (C++ target) of fixture `name` with its manifest edited; `None`
/// (the test skips) without a C++ compiler. Returns the exit code, stderr, and
/// whether a results folder was left.
fn run_edited(name: &str, edit: impl FnOnce(&mut Value)) -> Option<(Option<i32>, String, bool)> {
    if std::process::Command::new("c++")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("BRISK_REQUIRE_CXX").is_err(),
            "BRISK_REQUIRE_CXX=1 but there is no C++ compiler"
        );
        eprintln!("SKIPPED a run of the edited {name}: no C++ compiler");
        return None;
    }
    let fx = fixture(name);
    let mut m = manifest(&fx);
    edit(&mut m);
    let dir = tempfile::tempdir().unwrap();
    let export = write_export(dir.path(), &fx, &m);
    let results = dir.path().join("results");
    let out = run_with_timeout(&export, &results).expect("the run ends");
    Some((
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        results.exists(),
    ))
}

#[test]
fn synapses_reaching_outside_their_groups_are_a_runtime_error() {
    // (found by the run fuzzer: a connect() _target_offset of 10^9 made postsynaptic indices
    // far outside the target group; the delivery crashed with SIGSEGV)
    let Some((code, stderr, results)) = run_edited("spikegenerator", |m| {
        code_object(m, "synapses_create_generator")["variables"]["_target_offset"]["value"] =
            json!(1_000_000_007);
    }) else {
        return;
    };
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("'_dynamic_array_synapses__synaptic_post' is 1000000007, outside '_array_neurongroup_v'"), "{stderr}");
    assert!(!results);
}

#[test]
fn connect_with_index_arrays_outside_the_groups_is_an_index_error() {
    // (found by the run fuzzer: a synapses_create_array target of inf crashed the kernel;
    // Brian's runtime raises an IndexError for indices outside the groups)
    let Some((code, stderr, results)) = run_edited("synapses_delays", |m| {
        code_object(m, "synapses_create_array")["blocks"][0]["vector"][1]["expr"] =
            json!("targets + 100");
    }) else {
        return;
    };
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("\"kind\":\"index\"") && stderr.contains("outside allowed range"),
        "{stderr}"
    );
    assert!(!results);
}

#[test]
fn every_array_the_spatial_solve_indexes_is_checked() {
    // (issue 21: the spatial view read 12 arrays validation never asked for)
    for var in [
        "_ab_star0",
        "_ab_star1",
        "_ab_star2",
        "_b_plus",
        "_b_minus",
        "_v_previous",
        "_gtot_all",
        "_I0_all",
        "_P_diag",
        "_P_children",
        "_B",
        "Ri",
    ] {
        let e = read_edited("spatial", |m| {
            let co = code_object(m, "spatialstateupdate");
            co["variables"].as_object_mut().unwrap().remove(var);
        });
        assert!(
            e.message
                .contains(&format!("needs '{var}' as an array variable")),
            "{var}: {e}"
        );
        // and too short: one element fewer than the solve indexes
        if var == "Ri" {
            continue; // (one value)
        }
        let e = read_edited("spatial", |m| {
            let co = code_object(m, "spatialstateupdate");
            let array = co["variables"][var]["array"].as_str().unwrap().to_string();
            let a = m["arrays"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|a| a["name"] == array.as_str())
                .unwrap();
            a["size"] = json!(a["size"].as_u64().unwrap() - 1);
        });
        assert!(
            e.message.contains(&format!("'{var}'"))
                || e.path.as_deref().is_some_and(|p| p.contains(var)),
            "{var}: {e}"
        );
    }
}

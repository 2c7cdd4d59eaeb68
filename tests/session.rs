//! The live-session protocol (`brisk::session::serve`) on a fixture export,
//! C++ backend: syncs that continue from the state, reads between them, bad
//! requests answered with an error while the session goes on.

use std::io::{BufRead, Cursor, Read};
use std::path::Path;

use brisk::pipeline::Backend;
use serde_json::Value;

fn cxx_available() -> bool {
    if std::process::Command::new("c++")
        .arg("--version")
        .output()
        .is_ok()
    {
        return true;
    }
    assert!(
        std::env::var("BRISK_REQUIRE_CXX").is_err(),
        "BRISK_REQUIRE_CXX=1 but there is no C++ compiler"
    );
    false
}

/// Runs a session on `requests` (lines); returns each reply's head and payload.
fn session(requests: &[String]) -> Vec<(Value, Vec<u8>)> {
    let mut input = Cursor::new(
        requests
            .iter()
            .map(|r| format!("{r}\n"))
            .collect::<String>()
            .into_bytes(),
    );
    let mut reply = Vec::new();
    brisk::session::serve(Backend::Cpu, &mut input, &mut reply)
        .expect("the session ends cleanly at the end of its input");
    let mut out = Vec::new();
    let mut cursor = Cursor::new(reply);
    loop {
        let mut line = String::new();
        if cursor.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let head: Value = serde_json::from_str(&line).unwrap();
        let mut payload =
            vec![0u8; head.get("bytes").and_then(Value::as_u64).unwrap_or(0) as usize];
        cursor.read_exact(&mut payload).unwrap();
        out.push((head, payload));
    }
    out
}

fn sync(export: &Path) -> String {
    serde_json::json!({"op": "sync", "export": export}).to_string()
}

fn read(array: &str) -> String {
    serde_json::json!({"op": "read", "array": array}).to_string()
}

#[test]
fn a_session_continues_from_its_state_and_answers_reads() {
    if !cxx_available() {
        eprintln!("SKIPPED a_session_continues_from_its_state_and_answers_reads: no C++ compiler");
        return;
    }
    let export = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/exports/lif/export");
    let replies = session(&[
        read("_array_neurongroup_v"),
        sync(&export),
        read("_array_neurongroup_v"),
        read("_dynamic_array_statemonitor_t"),
        "{\"op\": \"no_such_request\"}".to_string(),
        read("no_such_array"),
        sync(&export),
        read("_dynamic_array_statemonitor_t"),
        "{\"op\": \"random_state\"}".to_string(),
        serde_json::json!({"op": "load_state", "network": "magicnetwork", "name": "x", "bytes": 3})
            .to_string(),
        "abc{\"op\": \"close\"}".to_string(),
        read("_array_neurongroup_v"),
    ]);
    // (the load_state payload "abc" is read as its bytes, not as a request; nothing after close)
    assert_eq!(replies.len(), 10, "{replies:?}");
    let ok = |k: usize| replies[k].0["ok"].as_bool() == Some(true);
    assert!(
        !ok(0),
        "a read before any sync is an error: {:?}",
        replies[0].0
    );
    assert!(ok(1), "{:?}", replies[1].0);
    assert_eq!(replies[1].0["rebuilt"], true);
    let t1 = replies[1].0["network_t"]["magicnetwork"].as_f64().unwrap();
    assert!(t1 > 0.0);
    let v = &replies[2];
    assert!(
        ok(2) && v.1.len() == 8 * v.0["len"].as_u64().unwrap() as usize && !v.1.is_empty(),
        "{:?}",
        v.0
    );
    let records_1 = replies[3].0["len"].as_u64().unwrap();
    assert!(records_1 > 0, "the monitor recorded: {:?}", replies[3].0);
    assert!(
        !ok(4)
            && replies[4].0["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not understood")
    );
    assert!(
        !ok(5)
            && replies[5].0["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no_such_array")
    );
    // the same entries again: the program stays, the run continues where the last one ended
    assert!(ok(6), "{:?}", replies[6].0);
    assert_eq!(replies[6].0["rebuilt"], false);
    let t2 = replies[6].0["network_t"]["magicnetwork"].as_f64().unwrap();
    assert!((t2 - 2.0 * t1).abs() < 1e-12, "{t1} then {t2}");
    assert!(
        replies[7].0["len"].as_u64().unwrap() > records_1,
        "the monitor goes on recording"
    );
    assert!(ok(8) && replies[8].0["seed"].is_u64());
    assert!(
        !ok(9)
            && replies[9].0["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not a Brisk stored state")
    );
}

/// Copies the directory `from` into `to` (the fixture's export and static arrays).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn run_requests_repeat_a_planned_run_and_refuse_anything_else() {
    if !cxx_available() {
        eprintln!(
            "SKIPPED run_requests_repeat_a_planned_run_and_refuse_anything_else: no C++ compiler"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/exports/lif"),
        dir.path(),
    );
    let export = dir.path().join("export");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(export.join("manifest.json")).unwrap())
            .unwrap();
    let run = manifest["main_queue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "run_network")
        .unwrap()
        .clone();
    // values set from Python: 10 values of I in a static array written for the request
    let values: Vec<u8> = (0..10)
        .flat_map(|k| (k as f64 * 1e-10).to_le_bytes())
        .collect();
    std::fs::write(
        dir.path().join("static_arrays/_static_array_new_I"),
        &values,
    )
    .unwrap();
    let request = |entries: Vec<Value>, statics: Value| {
        serde_json::json!({"op": "run", "entries": entries, "static_arrays": statics, "check": ["_array_neurongroup_v"]})
            .to_string()
    };
    let set_i = serde_json::json!({"kind": "set_by_array", "array": "_array_neurongroup_I", "static_array": "_static_array_new_I"});
    let new_i = serde_json::json!({"_static_array_new_I": {"dtype": "float64", "size": 10}});
    let mut other_schedule = run.clone();
    other_schedule["objects"].as_array_mut().unwrap().pop();
    let mut negative = run.clone();
    negative["duration"] = serde_json::json!(-1.0);
    let replies = session(&[
        request(vec![run.clone()], serde_json::json!({})),
        sync(&export),
        request(vec![set_i.clone(), run.clone()], new_i.clone()),
        read("_array_neurongroup_I"),
        request(vec![other_schedule], serde_json::json!({})),
        request(vec![negative], serde_json::json!({})),
        request(
            vec![set_i.clone()],
            serde_json::json!({"../_static_array_new_I": {"dtype": "float64", "size": 10}}),
        ),
        request(
            vec![set_i.clone()],
            serde_json::json!({"_static_array_new_I": {"dtype": "float64", "size": 11}}),
        ),
        request(vec![set_i], serde_json::json!({})),
        request(
            vec![
                serde_json::json!({"kind": "run_code_object", "code_object": "no_such_code_object"}),
            ],
            serde_json::json!({}),
        ),
        request(vec![run.clone()], serde_json::json!({})),
    ]);
    assert_eq!(replies.len(), 11, "{replies:?}");
    let ok = |k: usize| replies[k].0["ok"].as_bool() == Some(true);
    let message = |k: usize| {
        replies[k].0["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(!ok(0), "a run request before any sync: {:?}", replies[0].0);
    assert!(ok(1), "{:?}", replies[1].0);
    let t1 = replies[1].0["network_t"]["magicnetwork"].as_f64().unwrap();
    // the repeated run continues the network with the values set before it
    assert!(ok(2), "{:?}", replies[2].0);
    assert_eq!(replies[2].0["rebuilt"], false);
    assert_eq!(replies[2].0["invalid"], serde_json::json!([]));
    let t2 = replies[2].0["network_t"]["magicnetwork"].as_f64().unwrap();
    assert!((t2 - 2.0 * t1).abs() < 1e-12, "{t1} then {t2}");
    assert_eq!(
        replies[3].1, values,
        "I holds the values set by the run request"
    );
    assert!(
        !ok(4) && message(4).contains("repeats no run"),
        "{:?}",
        replies[4].0
    );
    assert!(
        !ok(5) && replies[5].0["error"]["path"] == "run request[0].duration",
        "{:?}",
        replies[5].0
    );
    assert!(
        !ok(6) && message(6).contains("not a name of a static array"),
        "{:?}",
        replies[6].0
    );
    assert!(
        !ok(7) && message(7).contains("80 bytes"),
        "{:?}",
        replies[7].0
    );
    // a static array that was declared by an earlier request only is no longer there
    assert!(
        !ok(8) && message(8).contains("_static_array_new_I"),
        "{:?}",
        replies[8].0
    );
    assert!(
        !ok(9) && message(9).contains("no_such_code_object"),
        "{:?}",
        replies[9].0
    );
    // after the refused requests, the session goes on from where it was
    assert!(ok(10), "{:?}", replies[10].0);
    let t3 = replies[10].0["network_t"]["magicnetwork"].as_f64().unwrap();
    assert!((t3 - 3.0 * t1).abs() < 1e-12, "{t1} then {t3}");
}

//! The live-session protocol (`brisk::session::serve`) on a fixture export,
//! C++ backend: syncs that continue from the state, reads between them, bad
//! requests answered with an error while the session goes on.

use std::io::{BufRead, Cursor, Read};
use std::path::Path;

use brisk::pipeline::Backend;
use serde_json::Value;

fn cxx_available() -> bool {
    if std::process::Command::new("c++").arg("--version").output().is_ok() {
        return true;
    }
    assert!(std::env::var("BRISK_REQUIRE_CXX").is_err(), "BRISK_REQUIRE_CXX=1 but there is no C++ compiler");
    false
}

/// Runs a session on `requests` (lines); returns each reply's head and payload.
fn session(requests: &[String]) -> Vec<(Value, Vec<u8>)> {
    let mut input = Cursor::new(requests.iter().map(|r| format!("{r}\n")).collect::<String>().into_bytes());
    let mut reply = Vec::new();
    brisk::session::serve(Backend::Cpu, &mut input, &mut reply).expect("the session ends cleanly at the end of its input");
    let mut out = Vec::new();
    let mut cursor = Cursor::new(reply);
    loop {
        let mut line = String::new();
        if cursor.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let head: Value = serde_json::from_str(&line).unwrap();
        let mut payload = vec![0u8; head.get("bytes").and_then(Value::as_u64).unwrap_or(0) as usize];
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
        serde_json::json!({"op": "load_state", "network": "magicnetwork", "name": "x", "bytes": 3}).to_string(),
        "abc{\"op\": \"close\"}".to_string(),
        read("_array_neurongroup_v"),
    ]);
    // (the load_state payload "abc" is read as its bytes, not as a request; nothing after close)
    assert_eq!(replies.len(), 10, "{replies:?}");
    let ok = |k: usize| replies[k].0["ok"].as_bool() == Some(true);
    assert!(!ok(0), "a read before any sync is an error: {:?}", replies[0].0);
    assert!(ok(1), "{:?}", replies[1].0);
    assert_eq!(replies[1].0["rebuilt"], true);
    let t1 = replies[1].0["network_t"]["magicnetwork"].as_f64().unwrap();
    assert!(t1 > 0.0);
    let v = &replies[2];
    assert!(ok(2) && v.1.len() == 8 * v.0["len"].as_u64().unwrap() as usize && !v.1.is_empty(), "{:?}", v.0);
    let records_1 = replies[3].0["len"].as_u64().unwrap();
    assert!(records_1 > 0, "the monitor recorded: {:?}", replies[3].0);
    assert!(!ok(4) && replies[4].0["error"]["message"].as_str().unwrap().contains("not understood"));
    assert!(!ok(5) && replies[5].0["error"]["message"].as_str().unwrap().contains("no_such_array"));
    // the same entries again: the program stays, the run continues where the last one ended
    assert!(ok(6), "{:?}", replies[6].0);
    assert_eq!(replies[6].0["rebuilt"], false);
    let t2 = replies[6].0["network_t"]["magicnetwork"].as_f64().unwrap();
    assert!((t2 - 2.0 * t1).abs() < 1e-12, "{t1} then {t2}");
    assert!(replies[7].0["len"].as_u64().unwrap() > records_1, "the monitor goes on recording");
    assert!(ok(8) && replies[8].0["seed"].is_u64());
    assert!(!ok(9) && replies[9].0["error"]["message"].as_str().unwrap().contains("not a Brisk stored state"));
}

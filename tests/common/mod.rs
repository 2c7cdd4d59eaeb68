//! Shared by the integration tests: host C++ programs built and run with
//! the flags of the generated C++ (`runtime::cpu::CXX_FLAGS`, less those
//! of a shared library), so what they check is what a run compiles.

use std::process::Command;

use brisk::runtime::cpu::CXX_FLAGS;

/// Compiles `program` with `$CXX` (else `c++`), runs it and returns its
/// stdout. Without a compiler: None after a skip message, or a failure when
/// `required`.
pub fn run_host_cpp(test: &str, program: &str, required: bool) -> Option<String> {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("host.cpp");
    let exe = dir.path().join("host");
    std::fs::write(&src, program).unwrap();
    let flags = CXX_FLAGS.iter().filter(|f| !matches!(**f, "-shared" | "-fPIC"));
    let compiled = match Command::new(&cxx).args(flags).arg("-o").arg(&exe).arg(&src).output() {
        Ok(o) => o,
        Err(e) if !required => {
            eprintln!("SKIPPED {test}: cannot run '{cxx}': {e}");
            return None;
        }
        Err(e) => panic!("cannot run the C++ compiler '{cxx}': {e}"),
    };
    assert!(compiled.status.success(), "{cxx} failed:\n{}", String::from_utf8_lossy(&compiled.stderr));
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    Some(String::from_utf8(run.stdout).unwrap())
}

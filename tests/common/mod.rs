//! Shared by the integration tests: host C++ programs built and run with
//! the flags of the generated C++ (`runtime::cpu::CXX_FLAGS`, less those
//! of a shared library), so what they check is what a run compiles.

use std::process::Command;

use brisk::runtime::cpu::CXX_FLAGS;

/// Whether a missing C++ compiler must fail a test instead of skipping it
/// (`CI` set, or `BRISK_REQUIRE_CXX=1`, which `scripts/test` sets).
pub fn cxx_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
        || std::env::var("BRISK_REQUIRE_CXX").is_ok_and(|v| v == "1")
}

/// Compiles `program` with `$CXX` (else `c++`), runs it and returns its
/// stdout. Without a compiler: None after a skip message, or a failure when
/// `required`. `extra` flags come after Brisk's (e.g. `-mno-avx2`, to take support.h's
/// portable paths on a machine that has the vector units).
pub fn run_host_cpp(
    test: &str,
    program: &str,
    required: bool,
    extra: &[&str],
) -> Option<String> {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("host.cpp");
    let exe = dir.path().join("host");
    std::fs::write(&src, program).unwrap();
    let flags = CXX_FLAGS
        .iter()
        .filter(|f| !matches!(**f, "-shared" | "-fPIC"));
    let compiled = match Command::new(&cxx)
        .args(flags)
        .args(extra)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
    {
        Ok(o) => o,
        Err(e) if !required => {
            eprintln!("SKIPPED {test}: cannot run '{cxx}': {e}");
            return None;
        }
        Err(e) => panic!("cannot run the C++ compiler '{cxx}': {e}"),
    };
    assert!(
        compiled.status.success(),
        "{cxx} failed:\n{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    Some(String::from_utf8(run.stdout).unwrap())
}

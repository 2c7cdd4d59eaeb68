//! The vectorised `exp` of the generated C++ (`templates/common/vector_exp.h`)
//! returns the C library's `exp`, bit for bit: every vector-ABI variant and a
//! loop the compiler vectorises, on random inputs over exp's whole range,
//! arbitrary bit patterns and the special values; and a loop calling `exp`
//! does vectorise through it (else the header would silently do nothing).
//!
//! Needs a C++ compiler (`CXX` or `c++`): without one the tests print a skip
//! message and pass, unless `CI` is set, where they fail.

use std::process::Command;

use brisk::codegen::SUPPORT_HEADER;
use brisk::runtime::cpu::CXX_FLAGS;

mod common;

/// Whether this machine's compiler takes the vector path: GCC on x86-64 with
/// AVX2 and FMA (`-march=native`), as the header requires (its glibc check
/// aside, which the program reports).
fn machine_has_vector_path() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

const PROGRAM: &str = r#"
#include <cstdio>
#include <vector>
static uint64_t bits_of(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static double of_bits(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
__attribute__((noinline)) void brisk_test_loop(const double* __restrict x, double* __restrict y, long n) {
#pragma GCC ivdep
    for (long i = 0; i < n; i++) y[i] = exp(x[i]);
}
int main() {
    double (*volatile library)(double) = exp;  // the C library's scalar exp
    std::vector<double> xs;
    uint64_t s = 88172645463325252ULL;
    auto next = [&] { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; };
    for (int i = 0; i < 2000000; i++) xs.push_back(-760.0 + 1480.0 * (next() >> 11) * 0x1p-53);
    for (int i = 0; i < 1000000; i++) xs.push_back(-2.0 + 4.0 * (next() >> 11) * 0x1p-53);
    for (int i = 0; i < 1000000; i++) xs.push_back(of_bits(next()));
    // around the tiny-input bound (2^-54) and below it
    for (int i = 0; i < 500000; i++) {
        const uint64_t e = 0x3b0 + next() % 0x60;
        xs.push_back(of_bits((next() & 0x800fffffffffffffULL) | (e << 52)));
    }
    const double special[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, 512.0, -512.0,
        std::nextafter(512.0, 0.0), std::nextafter(-512.0, 0.0), 709.782712893384, 709.7827128933841,
        -745.1332191019411, -745.1332191019412, -708.3964185322641, 0x1p-54, -0x1p-54,
        std::nextafter(0x1p-54, 0.0), 1e-300, 4.9e-324, 1.0, -1.0};
    for (double v : special) xs.push_back(v);
    while (xs.size() % 8) xs.push_back(0.5);
    const long n = (long)xs.size();
    std::vector<double> ref(n), y(n);
    for (long i = 0; i < n; i++) ref[i] = library(xs[i]);
    long loop = 0, b = 0, d = 0, e = 0;
    brisk_test_loop(xs.data(), y.data(), n);
    for (long i = 0; i < n; i++) loop += bits_of(y[i]) != bits_of(ref[i]);
#ifdef BRISK_VECTOR_EXP
    double out[8];
    for (long i = 0; i < n; i += 2) {
        _mm_storeu_pd(out, _ZGVbN2v_exp(_mm_loadu_pd(&xs[i])));
        for (int k = 0; k < 2; k++) b += bits_of(out[k]) != bits_of(ref[i + k]);
    }
    for (long i = 0; i < n; i += 4) {
        _mm256_storeu_pd(out, _ZGVdN4v_exp(_mm256_loadu_pd(&xs[i])));
        for (int k = 0; k < 4; k++) d += bits_of(out[k]) != bits_of(ref[i + k]);
        _mm256_storeu_pd(out, _ZGVcN4v_exp(_mm256_loadu_pd(&xs[i])));
        for (int k = 0; k < 4; k++) d += bits_of(out[k]) != bits_of(ref[i + k]);
    }
#ifdef __AVX512F__
    for (long i = 0; i < n; i += 8) {
        _mm512_storeu_pd(out, _ZGVeN8v_exp(_mm512_loadu_pd(&xs[i])));
        for (int k = 0; k < 8; k++) e += bits_of(out[k]) != bits_of(ref[i + k]);
    }
    printf("avx512 1\n");
#endif
    printf("vector 1\nglibc_lanes %u\n", brisk_exp_lanes_to_glibc);
#endif
    printf("checked %ld\nloop %ld\nb %ld\nd %ld\ne %ld\n", n, loop, b, d, e);
    return 0;
}
"#;

/// Runs the program with `extra` flags; None without a compiler (outside CI).
fn run_program(test: &str, extra: &[&str]) -> Option<String> {
    let program = format!("{SUPPORT_HEADER}\n{PROGRAM}");
    common::run_host_cpp(test, &program, common::cxx_required(), extra)
}

/// A `key value` line of the program's output.
fn value(out: &str, key: &str) -> Option<i64> {
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.trim().parse().unwrap())
}

#[test]
fn every_variant_returns_the_c_librarys_exp() {
    let Some(out) = run_program("every_variant_returns_the_c_librarys_exp", &[]) else {
        return;
    };
    let value = |key: &str| value(&out, key);
    if machine_has_vector_path() && cfg!(target_env = "gnu") {
        assert_eq!(value("vector"), Some(1), "the vector path is off on this machine:\n{out}");
        // the load-time check passed: the lanes take the vector path
        assert_eq!(value("glibc_lanes"), Some(0), "{out}");
    }
    assert_eq!(value("checked"), Some(4_500_024));
    for key in ["loop", "b", "d", "e"] {
        assert_eq!(value(key), Some(0), "{key}: values other than the C library's exp\n{out}");
    }
}

/// A vector path that disagrees with the C library (here a wrong polynomial
/// coefficient; in life a glibc whose exp changed) is caught at load: every
/// lane then goes to the C library's exp, and the values stay its own.
#[test]
fn a_vector_path_that_disagrees_is_not_used() {
    if !machine_has_vector_path() || !cfg!(target_env = "gnu") {
        eprintln!("SKIPPED a_vector_path_that_disagrees_is_not_used: no AVX2 and FMA, or not glibc");
        return;
    }
    let Some(out) = run_program(
        "a_vector_path_that_disagrees_is_not_used",
        &["-DBRISK_TEST_EXP_BREAK"],
    ) else {
        return;
    };
    assert_eq!(value(&out, "glibc_lanes"), Some(255), "{out}");
    for key in ["loop", "b", "d", "e"] {
        assert_eq!(value(&out, key), Some(0), "{key}: values other than the C library's exp\n{out}");
    }
}

/// The generated code's flags make a loop calling `exp` call the vector
/// variants (on a machine with the vector path).
#[test]
fn a_loop_calling_exp_vectorises() {
    if !machine_has_vector_path() || !cfg!(target_env = "gnu") {
        eprintln!("SKIPPED a_loop_calling_exp_vectorises: no AVX2 and FMA, or not glibc");
        return;
    }
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("loop.cpp");
    let asm = dir.path().join("loop.s");
    std::fs::write(&src, format!("{SUPPORT_HEADER}\n{PROGRAM}")).unwrap();
    let flags = CXX_FLAGS
        .iter()
        .filter(|f| !matches!(**f, "-shared" | "-fPIC"));
    let compiled = match Command::new(&cxx)
        .args(flags)
        .arg("-S")
        .arg("-o")
        .arg(&asm)
        .arg(&src)
        .output()
    {
        Ok(o) => o,
        Err(e) if !common::cxx_required() => {
            eprintln!("SKIPPED a_loop_calling_exp_vectorises: cannot run '{cxx}': {e}");
            return;
        }
        Err(e) => panic!("cannot run the C++ compiler '{cxx}': {e}"),
    };
    assert!(compiled.status.success(), "{}", String::from_utf8_lossy(&compiled.stderr));
    let text = std::fs::read_to_string(&asm).unwrap();
    let body = text
        .split("_Z15brisk_test_loopPKdPdl:")
        .nth(1)
        .and_then(|rest| rest.split(".cfi_endproc").next())
        .expect("the loop function in the assembly");
    assert!(
        body.lines().any(|l| l.contains("call") && l.contains("_ZGV") && l.contains("_exp")),
        "the loop calls no vector exp:\n{body}"
    );
}

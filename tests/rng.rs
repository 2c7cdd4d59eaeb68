//! Brisk's random numbers on the host, as the generated C++ computes them:
//! the look-ahead blocks of the element loops (`brisk_rng_prefetch`, and
//! `brisk_rng_prefetch_normal` with its first ziggurat attempts) give
//! exactly `brisk_rng_make`'s numbers, and `brisk_randn` (the ziggurat) is a
//! standard normal: moments, the Kolmogorov-Smirnov distance to the normal
//! CDF, and the tail beyond the ziggurat's base layer and beyond 4.
//!
//! Needs a C++ compiler (`CXX` or `c++`): without one the tests print a skip
//! message and pass, unless `CI` is set, where they fail.

use std::collections::BTreeMap;

use brisk::codegen::SUPPORT_HEADER;

mod common;

/// Compiles and runs `main_body` after the support header; None when there is
/// no compiler outside CI. Output: `key value` lines.
fn run_host(test: &str, main_body: &str) -> Option<BTreeMap<String, f64>> {
    run_host_with(test, main_body, &[])
}

/// [`run_host`] with extra compiler flags.
fn run_host_with(
    test: &str,
    main_body: &str,
    extra: &[&str],
) -> Option<BTreeMap<String, f64>> {
    let program = format!(
        "{SUPPORT_HEADER}\n#include <cstdio>\n#include <vector>\n#include <algorithm>\nint main() {{\n{main_body}\n    return 0;\n}}\n"
    );
    let text = common::run_host_cpp(test, &program, common::cxx_required(), extra)?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_string(), v.trim().parse::<f64>().unwrap()))
            .collect(),
    )
}

/// The look-ahead blocks are computed by AVX-512 or AVX2 intrinsics where the
/// machine has them, else by a portable loop: each path, forced by turning the
/// wider units off, gives brisk_rng_make's numbers.
#[test]
fn look_ahead_blocks_give_the_same_numbers() {
    // (flags, the widest lanes that path may use)
    let paths: [(&[&str], f64); 3] = [
        (&[], 16.0),
        (&["-mno-avx512f"], 8.0),
        (&["-mno-avx512f", "-mno-avx2"], 0.0),
    ];
    // The flags exist only for x86-64 compilers; elsewhere the default path runs.
    let forced = if cfg!(target_arch = "x86_64") { 3 } else { 1 };
    for (flags, widest) in paths.into_iter().take(forced) {
        let Some(out) = run_host_with(
            "look_ahead_blocks_give_the_same_numbers",
            LOOK_AHEAD_BODY,
            flags,
        ) else {
            return;
        };
        assert!(out["lanes"] <= widest, "{flags:?}: {} lanes", out["lanes"]);
        assert_eq!(out["checked"], 120_000.0);
        assert_eq!(
            out["mismatches"], 0.0,
            "the look-ahead path ({flags:?}, {} lanes) draws other numbers than brisk_rng_make",
            out["lanes"]
        );
    }
}

const LOOK_AHEAD_BODY: &str = r#"
    long checked = 0, mismatches = 0;
    const uint64_t seeds[2] = {0ULL, 0x123456789ABCULL};
    const uint64_t streams[3] = {0ULL, 1ULL, 0x100000002ULL};
    BriskRngBlocks blocks;
    for (int normals = 0; normals < 2; ++normals)
    for (uint64_t seed : seeds) for (uint64_t stream : streams) {
        for (int64_t e = 0; e < 1000; ++e) {
            if (e % BRISK_AHEAD == 0) {
                if (normals) brisk_rng_prefetch_normal(&blocks, seed, stream, e);
                else brisk_rng_prefetch(&blocks, seed, stream, e);
            }
            BriskRng plain = brisk_rng_make(seed, stream, (uint32_t)e);
            BriskRng ahead = brisk_rng_from_blocks(&blocks, seed, stream, e);
            // the first draw comes from the block, the later ones from Philox
            for (int d = 0; d < 3; ++d) {
                mismatches += brisk_randn(&plain) != brisk_randn(&ahead);
                mismatches += brisk_rand(&plain) != brisk_rand(&ahead);
                mismatches += brisk_poisson(&plain, 3.5) != brisk_poisson(&ahead, 3.5);
                checked += 3;
            }
            BriskRng plain_u = brisk_rng_make(seed, stream, (uint32_t)e);
            BriskRng ahead_u = brisk_rng_from_blocks(&blocks, seed, stream, e);
            mismatches += brisk_rand(&plain_u) != brisk_rand(&ahead_u);
            checked += 1;
        }
    }
#ifdef BRISK_LANES
    std::printf("lanes %d\n", BRISK_LANES);
#else
    std::printf("lanes 0\n");
#endif
    std::printf("checked %ld\nmismatches %ld\n", checked, mismatches);
"#;

#[test]
fn randn_is_a_standard_normal() {
    let body = r#"
    const int64_t elements = 1000000, draws = 4;
    std::vector<double> z;
    z.reserve(elements * draws);
    for (int64_t e = 0; e < elements; ++e) {
        BriskRng r = brisk_rng_make(2024, 7, (uint32_t)e);
        for (int d = 0; d < draws; ++d) z.push_back(brisk_randn(&r));
    }
    const double n = (double)z.size();
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0, base_tail = 0, tail4 = 0;
    for (double x : z) {
        m1 += x; m2 += x * x; m3 += x * x * x; m4 += x * x * x * x;
        base_tail += fabs(x) > BRISK_ZIG_R;
        tail4 += fabs(x) > 4.0;
    }
    std::sort(z.begin(), z.end());
    double ks = 0;
    for (size_t k = 0; k < z.size(); ++k) {
        const double cdf = 0.5 * erfc(-z[k] / sqrt(2.0));
        ks = std::max(ks, std::max(fabs(cdf - k / n), fabs((k + 1) / n - cdf)));
    }
    std::printf("n %.0f\nmean %.17g\nvar %.17g\nskew %.17g\nkurt %.17g\nks %.17g\n", n, m1 / n, m2 / n, m3 / n, m4 / n, ks);
    std::printf("base_tail %.0f\nbase_tail_p %.17g\ntail4 %.0f\ntail4_p %.17g\n", base_tail, erfc(BRISK_ZIG_R / sqrt(2.0)), tail4, erfc(4.0 / sqrt(2.0)));
"#;
    let Some(out) = run_host("randn_is_a_standard_normal", body) else {
        return;
    };
    let n = out["n"];
    let within = |name: &str, got: f64, want: f64, sd: f64| {
        assert!(
            (got - want).abs() < 5.0 * sd,
            "{name}: {got} against {want} (5 standard errors: {})",
            5.0 * sd
        );
    };
    within("mean", out["mean"], 0.0, (1.0 / n).sqrt());
    within("variance", out["var"], 1.0, (2.0 / n).sqrt());
    within("third moment", out["skew"], 0.0, (15.0 / n).sqrt());
    within("fourth moment", out["kurt"], 3.0, (96.0 / n).sqrt());
    // Kolmogorov-Smirnov: sqrt(n) D exceeds 1.95 with probability 0.001.
    assert!(
        out["ks"] * n.sqrt() < 1.95,
        "KS distance {} for {n} draws",
        out["ks"]
    );
    for (count, p) in [("base_tail", "base_tail_p"), ("tail4", "tail4_p")] {
        let expected = n * out[p];
        within(
            count,
            out[count],
            expected,
            (expected * (1.0 - out[p])).sqrt(),
        );
    }
}

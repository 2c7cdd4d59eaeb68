//! NVRTC compiles the generated CUDA of every fixture export; compile errors
//! name the generated line; Brisk's Philox4x32-10 matches Random123's
//! known-answer vectors.
//!
//! Needs libnvrtc (the `nvidia-cuda-nvrtc==13.0.*` wheel; `BRISK_NVRTC_LIB`
//! or the repository's `.venv` is searched), but no GPU. Without NVRTC the
//! NVRTC tests print a skip message and pass, unless `CI` is set or
//! `BRISK_REQUIRE_NVRTC=1` (`scripts/test` sets it), where they fail.
//! `gpu_device_round_trip` needs a CUDA driver and is ignored unless asked
//! for (`--include-ignored`, as `scripts/gpu-check` and
//! `scripts/test-cuda-emu` do).

use std::path::{Path, PathBuf};

use brisk::codegen::{self, Target, SUPPORT_HEADER};
use brisk::diag::ErrorKind;
use brisk::plan::{BufferId, KernelId};
use brisk::runtime::cuda;

mod common;

const ARCH: &str = "compute_90";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether a missing tool must fail the test instead of skipping it.
fn required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
        || std::env::var("BRISK_REQUIRE_NVRTC").is_ok_and(|v| v == "1")
}

/// True when NVRTC is usable; otherwise skips (prints and returns false) or,
/// where NVRTC is required, fails.
fn nvrtc_or_skip(test: &str) -> bool {
    if std::env::var_os(cuda::NVRTC_LIB_ENV).is_none() {
        // The repository's own virtual environment (scripts/setup installs the wheel there).
        let lib = root().join(".venv").join("lib");
        if let Ok(entries) = std::fs::read_dir(&lib) {
            for e in entries.flatten() {
                let candidate = e
                    .path()
                    .join("site-packages/nvidia/cu13/lib/libnvrtc.so.13");
                if candidate.is_file() {
                    let _ = cuda::load_nvrtc(&candidate);
                    break;
                }
            }
        }
    }
    match cuda::nvrtc_info() {
        Ok(_) => true,
        Err(e) if required() => {
            panic!(
                "{test}: NVRTC is required here (CI or BRISK_REQUIRE_NVRTC=1) but unavailable: {e}"
            )
        }
        Err(e) => {
            eprintln!("SKIPPED {test}: NVRTC not available: {e}");
            false
        }
    }
}

/// Every `fixtures/exports/<name>/export` holding a manifest, sorted.
fn fixture_exports() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures").join("exports"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path().join("export"))
                .filter(|p| p.join("manifest.json").is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn cuda_program(dir: &Path) -> brisk::diag::Result<(String, Vec<String>)> {
    let export = brisk::validate::read(dir)?;
    let code_objects = brisk::lower::lower_all(&export)?;
    let plan = brisk::planner::build(&export, &code_objects)?;
    let program = codegen::generate(&plan, &code_objects, Target::Cuda)?;
    let symbols = plan.kernels.iter().map(|k| k.symbol.clone()).collect();
    Ok((program.source, symbols))
}

#[test]
fn every_fixture_compiles_with_nvrtc() {
    if !nvrtc_or_skip("every_fixture_compiles_with_nvrtc") {
        return;
    }
    let info = cuda::nvrtc_info().unwrap();
    eprintln!(
        "NVRTC {}.{} ({:?})",
        info.version.0, info.version.1, info.library
    );
    let exports = fixture_exports();
    assert!(
        !exports.is_empty(),
        "no fixture exports under fixtures/exports/*/export"
    );
    let mut failures = Vec::new();
    for dir in &exports {
        let name = dir
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (source, symbols) = match cuda_program(dir) {
            Ok(p) => p,
            Err(e) if e.kind == ErrorKind::NotImplemented => {
                // A feature the pipeline does not support yet: nothing for NVRTC to compile.
                eprintln!("{name}: not compiled, the pipeline does not support it yet: {e}");
                continue;
            }
            Err(e) => {
                failures.push(format!("{name}: cannot generate CUDA: {e}"));
                continue;
            }
        };
        let started = std::time::Instant::now();
        match cuda::compile_ptx(&source, ARCH) {
            Ok(ptx) => {
                assert!(
                    ptx.contains(".target sm_90"),
                    "{name}: PTX for another target"
                );
                for symbol in &symbols {
                    // One parameter: `const BriskArgs _ain` by value, 9 x 8 bytes.
                    if !ptx.contains(&format!(".entry {symbol}(")) {
                        failures.push(format!("{name}: the PTX has no kernel entry '{symbol}'"));
                    } else if !ptx.contains(&format!(".param .align 8 .b8 {symbol}_param_0[96]"))
                        || ptx.contains(&format!("{symbol}_param_1"))
                    {
                        failures.push(format!(
                            "{name}: kernel '{symbol}' does not take one 96-byte BriskArgs"
                        ));
                    }
                }
                eprintln!(
                    "{name}: {} kernels, {} lines of CUDA -> {} bytes of PTX in {:.0} ms",
                    symbols.len(),
                    source.lines().count(),
                    ptx.len(),
                    started.elapsed().as_secs_f64() * 1e3
                );
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failures.len(),
        exports.len(),
        failures.join("\n\n")
    );
}

#[test]
fn broken_source_is_a_compile_error_naming_the_line() {
    if !nvrtc_or_skip("broken_source_is_a_compile_error_naming_the_line") {
        return;
    }
    let mut source = format!("#define BRISK_BLOCK 256\n{SUPPORT_HEADER}\n");
    source.push_str("extern \"C\" __global__ void brisk_neurongroup_stateupdater_codeobject(const BriskArgs _a)\n{\n");
    let bad_line = source.lines().count() + 1;
    source.push_str("    double v = not_a_brian_variable * 2.0;\n}\n");
    let e = cuda::compile_ptx(&source, ARCH).expect_err("NVRTC accepted an undefined identifier");
    assert_eq!(e.kind, ErrorKind::Compile, "{e}");
    let log = e.log.as_deref().unwrap_or("");
    assert!(
        log.contains(&format!("default_program({bad_line}): error")),
        "log does not name line {bad_line}:\n{log}"
    );
    assert!(log.contains("not_a_brian_variable"), "{log}");
    assert!(
        e.message.contains(&format!("generated line {bad_line}")),
        "{}",
        e.message
    );
    assert!(
        e.message
            .contains("brisk_neurongroup_stateupdater_codeobject"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("double v = not_a_brian_variable * 2.0;"),
        "{}",
        e.message
    );
    assert_eq!(
        e.kernel.as_deref(),
        Some("brisk_neurongroup_stateupdater_codeobject")
    );
}

#[test]
fn bad_architecture_is_an_error_not_a_panic() {
    let e = cuda::compile_ptx("", "compute_90; rm").expect_err("accepted a bad architecture");
    assert_eq!(e.kind, ErrorKind::Runtime);
}

/// Random123's kat_vectors, philox4x32 10: (counter, key, expected output).
const PHILOX_KAT: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
    (
        [0, 0, 0, 0],
        [0, 0],
        [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
    ),
    (
        [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
        [0xffffffff, 0xffffffff],
        [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ),
    (
        [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
        [0xa4093822, 0x299f31d0],
        [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ),
];

fn kat_initialiser() -> String {
    PHILOX_KAT
        .iter()
        .map(|(c, k, _)| {
            format!(
                "{{{}u, {}u, {}u, {}u, {}u, {}u}}",
                c[0], c[1], c[2], c[3], k[0], k[1]
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn philox_kernel_compiles_with_nvrtc() {
    if !nvrtc_or_skip("philox_kernel_compiles_with_nvrtc") {
        return;
    }
    // The same known-answer computation as the host test, as a kernel (compiled only: no GPU here).
    let source = format!(
        "#define BRISK_BLOCK 256\n{SUPPORT_HEADER}\n\
         __constant__ uint32_t brisk_kat_in[3][6] = {{{}}};\n\
         extern \"C\" __global__ void brisk_philox_kat(uint32_t* out)\n\
         {{\n\
             const int i = threadIdx.x;\n\
             if (i >= 3) return;\n\
             uint32_t c[4] = {{brisk_kat_in[i][0], brisk_kat_in[i][1], brisk_kat_in[i][2], brisk_kat_in[i][3]}};\n\
             brisk_philox(c, brisk_kat_in[i][4], brisk_kat_in[i][5]);\n\
             for (int w = 0; w < 4; ++w) out[4 * i + w] = c[w];\n\
             BriskRng r = brisk_rng_make(42ull, (uint64_t)i, (uint32_t)i);\n\
             out[12 + i] = (uint32_t)(1e9 * brisk_rand(&r)) ^ (uint32_t)(1e6 * brisk_randn(&r)) ^ (uint32_t)brisk_poisson(&r, 20.0);\n\
         }}\n",
        kat_initialiser()
    );
    let ptx = cuda::compile_ptx(&source, ARCH).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        ptx.contains(".entry brisk_philox_kat("),
        "no kernel entry in the PTX"
    );
}

#[test]
fn philox_matches_random123_known_answers_on_the_host() {
    let program = format!(
        "{SUPPORT_HEADER}\n#include <cstdio>\n\
         static const uint32_t kat_in[3][6] = {{{}}};\n\
         int main() {{\n\
             for (int i = 0; i < 3; ++i) {{\n\
                 uint32_t c[4] = {{kat_in[i][0], kat_in[i][1], kat_in[i][2], kat_in[i][3]}};\n\
                 brisk_philox(c, kat_in[i][4], kat_in[i][5]);\n\
                 std::printf(\"%08x %08x %08x %08x\\n\", c[0], c[1], c[2], c[3]);\n\
             }}\n\
             return 0;\n\
         }}\n",
        kat_initialiser()
    );
    let Some(got) = common::run_host_cpp(
        "philox_matches_random123_known_answers_on_the_host",
        &program,
        common::cxx_required(),
        &[],
    ) else {
        return;
    };
    let expected: String = PHILOX_KAT
        .iter()
        .map(|(_, _, o)| format!("{:08x} {:08x} {:08x} {:08x}\n", o[0], o[1], o[2], o[3]))
        .collect();
    assert_eq!(
        got, expected,
        "Philox4x32-10 differs from Random123's known answers"
    );
}

#[test]
fn ptx_is_cached_by_content() {
    if !nvrtc_or_skip("ptx_is_cached_by_content") {
        return;
    }
    let source = format!(
        "#define BRISK_BLOCK 256\n{SUPPORT_HEADER}\n\
         extern \"C\" __global__ void brisk_cache_probe(const BriskArgs _a) {{ ((double*)_a.arrays[0])[0] = _a.t; }}\n"
    );
    let (first, _) = cuda::compile_ptx_cached(&source, ARCH).unwrap_or_else(|e| panic!("{e}"));
    let (second, hit) = cuda::compile_ptx_cached(&source, ARCH).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        hit,
        "the second compilation of the same source missed the cache"
    );
    assert_eq!(first, second);
    assert!(second.contains(".entry brisk_cache_probe("));
}

#[test]
fn driver_probe_is_an_error_not_a_panic() {
    if cuda::driver_available() {
        let info = cuda::driver_info().unwrap();
        assert!(info.devices >= 1);
        return;
    }
    let e = cuda::driver_info().expect_err("driver_available() disagrees with driver_info()");
    assert_eq!(e.kind, ErrorKind::Runtime, "{e}");
    eprintln!("no CUDA driver here: {e}");
    let e = cuda::CudaDevice::new("", "", &[])
        .err()
        .expect("a CUDA device without a driver");
    assert_eq!(e.kind, ErrorKind::Runtime, "{e}");
    assert!(cuda::compute_capability().is_err());
}

/// Buffers, both launch shapes, the pointer and size tables, resize, and
/// Philox on the device against Random123's answers. Needs a CUDA driver with
/// a device: a GPU (`scripts/gpu-check`) or the emulated driver
/// (`scripts/test-cuda-emu`, which also sets `BRISK_CUDA_EMULATION=1`).
#[test]
#[ignore = "needs a CUDA driver with a device: scripts/gpu-check (a GPU) or scripts/test-cuda-emu (emulated CUDA) run it"]
fn gpu_device_round_trip() {
    if let Err(e) = cuda::driver_info() {
        panic!("gpu_device_round_trip needs a CUDA driver with a device: {e}");
    }
    assert!(
        nvrtc_or_skip("gpu_device_round_trip"),
        "gpu_device_round_trip needs NVRTC"
    );
    use brisk::plan::Launch;
    use brisk::runtime::{Device, StepArgs};
    let source = format!(
        "#define BRISK_BLOCK 256\n{SUPPORT_HEADER}\n\
         __constant__ uint32_t brisk_kat_in[3][6] = {{{}}};\n\
         extern \"C\" __global__ void brisk_test_grid(const BriskArgs _a)\n\
         {{\n\
             double* x = (double*)_a.arrays[0];\n\
             for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < _a.n; i += (int64_t)gridDim.x * blockDim.x)\n\
                 x[i] = _a.t * i + (double)_a.sizes[0];\n\
         }}\n\
         extern \"C\" __global__ void brisk_test_block(const BriskArgs _a)\n\
         {{\n\
             int64_t* c = (int64_t*)_a.arrays[1];\n\
             if (threadIdx.x == 0) {{ c[0] = blockDim.x; c[1] = gridDim.x; c[2] = _a.timestep; c[3] = (int64_t)_a.seed; c[4] = _a.n; }}\n\
         }}\n\
         extern \"C\" __global__ void brisk_test_philox(const BriskArgs _a)\n\
         {{\n\
             uint32_t* out = (uint32_t*)_a.arrays[2];\n\
             const int i = threadIdx.x;\n\
             if (i >= 3) return;\n\
             uint32_t c[4] = {{brisk_kat_in[i][0], brisk_kat_in[i][1], brisk_kat_in[i][2], brisk_kat_in[i][3]}};\n\
             brisk_philox(c, brisk_kat_in[i][4], brisk_kat_in[i][5]);\n\
             for (int w = 0; w < 4; ++w) out[4 * i + w] = c[w];\n\
         }}\n",
        kat_initialiser()
    );
    let arch = cuda::device_arch().unwrap_or_else(|e| panic!("{e}"));
    let ptx = cuda::compile_ptx(&source, &arch).unwrap_or_else(|e| panic!("{e}"));
    let symbols: Vec<String> = ["brisk_test_grid", "brisk_test_block", "brisk_test_philox"]
        .map(String::from)
        .to_vec();
    let mut dev = cuda::CudaDevice::new(&ptx, &source, &symbols).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "GPU: {} (compute {:?}), PTX for {arch}",
        dev.name(),
        dev.compute_capability()
    );
    let n = 1000usize;
    let names: Vec<String> = ["out", "keys", "counters", "empty"]
        .map(String::from)
        .to_vec();
    dev.allocate(&[n * 8, 5 * 8, 12 * 4, 0], &names).unwrap();
    dev.set_lens(&[n as i64, 5, 12, 0]).unwrap();
    let f64s = |b: Vec<u8>| {
        b.chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect::<Vec<f64>>()
    };
    let i64s = |b: Vec<u8>| {
        b.chunks(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect::<Vec<i64>>()
    };
    let args = |n: usize| StepArgs {
        t: 0.5,
        dt: 0.1,
        timestep: 7,
        seed: 0x1234_5678_9abc,
        stream: 0,
        n: n as i64,
        step: 0,
    };

    dev.launch(KernelId(0), Launch::Grid, &args(n)).unwrap();
    let x = f64s(dev.read(BufferId(0), 0, n * 8).unwrap());
    assert!(
        x.iter()
            .enumerate()
            .all(|(i, &v)| v == 0.5 * i as f64 + n as f64),
        "grid kernel: {:?}",
        &x[..4]
    );

    dev.launch(KernelId(1), Launch::Block, &args(n)).unwrap();
    assert_eq!(
        i64s(dev.read(BufferId(1), 0, 40).unwrap()),
        vec![256, 1, 7, 0x1234_5678_9abc, n as i64]
    );

    dev.launch(KernelId(2), Launch::Block, &args(3)).unwrap();
    let words: Vec<u32> = dev
        .read(BufferId(2), 0, 48)
        .unwrap()
        .chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let expected: Vec<u32> = PHILOX_KAT.iter().flat_map(|(_, _, o)| *o).collect();
    assert_eq!(
        words, expected,
        "Philox4x32-10 on the GPU differs from Random123's known answers"
    );

    // Resize keeps the prefix, zeroes the tail, and the kernels see the new pointer and size.
    dev.write(BufferId(0), 8, &42.0f64.to_le_bytes()).unwrap();
    dev.resize(BufferId(0), 2 * n * 8).unwrap();
    let x = f64s(dev.read(BufferId(0), 0, 2 * n * 8).unwrap());
    assert_eq!(x[1], 42.0);
    assert_eq!(x[2], 0.5 * 2.0 + n as f64);
    assert!(x[n..].iter().all(|&v| v == 0.0));
    dev.set_lens(&[2 * n as i64, 5, 12, 0]).unwrap();
    dev.launch(KernelId(0), Launch::Grid, &args(2 * n)).unwrap();
    let x = f64s(dev.read(BufferId(0), 0, 2 * n * 8).unwrap());
    assert!(x
        .iter()
        .enumerate()
        .all(|(i, &v)| v == 0.5 * i as f64 + 2.0 * n as f64));

    // Zero-length buffers are valid; out-of-range access is an error.
    assert!(dev.read(BufferId(3), 0, 0).unwrap().is_empty());
    dev.resize(BufferId(3), 16).unwrap();
    assert_eq!(dev.read(BufferId(3), 0, 16).unwrap(), vec![0u8; 16]);
    assert!(dev.read(BufferId(3), 8, 16).is_err());
    assert!(dev.write(BufferId(9), 0, &[1]).is_err());
    assert!(dev.launch(KernelId(3), Launch::Grid, &args(1)).is_err());
    dev.synchronize().unwrap();
}

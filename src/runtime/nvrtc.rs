//! NVRTC: finds libnvrtc and compiles generated CUDA to PTX.
//!
//! In: a CUDA program's source and a `compute_XY` architecture. Out: PTX text
//! (cached by content hash, see [`compile_ptx_cached`]) or a compile error
//! quoting the generated lines and kernels NVRTC rejected. Neither libnvrtc
//! nor libcuda is linked: both are opened at run time, libnvrtc searched for
//! in the Python environment that runs Brian (the `nvidia-cuda-nvrtc` wheel)
//! before the system paths. cudarc panics when a library is missing, so
//! every entry point first probes with `is_culib_present` and calls into
//! cudarc run under [`std::panic::catch_unwind`] ([`guard`]): a missing
//! library is an error, never a panic.

use std::any::Any;
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cudarc::nvrtc::{result as nvrtc_result, sys as nvrtc_sys};

use crate::diag::{Error, Result};
use crate::runtime::cache;
use crate::runtime::compile_log::{compile_failure, Compiler};

/// Environment variable naming libnvrtc by absolute path.
pub const NVRTC_LIB_ENV: &str = "BRISK_NVRTC_LIB";
/// The pip requirement that provides libnvrtc (pinned to the driver's CUDA version).
pub const NVRTC_REQUIREMENT: &str = "nvidia-cuda-nvrtc==13.0.*";
/// Options passed to NVRTC besides the architecture. No `--use_fast_math`:
/// IEEE division, square root and denormals, as on the CPU target. Warnings
/// 177 and 550 (variable unused / set but never used) are silenced: Brian's
/// templates declare every constant and `_vectorisation_idx` whether used or
/// not, and they would bury real errors in the log.
/// `-default-device`: user functions' C++ code (no execution-space
/// annotation) compiles as `__device__` code.
pub const NVRTC_OPTIONS: &[&str] = &["--std=c++17", "--diag-suppress=177,550", "-default-device"];

/// The library file name inside the wheel (`nvidia/cu13/lib`).
pub(crate) const NVRTC_FILE: &str = "libnvrtc.so.13";

// ---- Library discovery -----------------------------------------------------

/// What the one-time search for libnvrtc did.
pub(crate) struct Preload {
    /// The library opened by absolute path, if any.
    loaded: Option<PathBuf>,
    /// Candidates that exist but could not be opened, with the loader's reason.
    failures: Vec<String>,
    /// `BRISK_NVRTC_LIB` was set and could not be opened (then nothing else is tried).
    explicit_failed: bool,
}

static PRELOAD: OnceLock<Preload> = OnceLock::new();

/// Opens `path` with `RTLD_NOW | RTLD_GLOBAL` and keeps it loaded for the
/// whole process, so that cudarc's later `dlopen("libnvrtc.so.13")` finds the
/// already-loaded library by its SONAME.
#[cfg(unix)]
fn open_global(path: &Path) -> std::result::Result<(), String> {
    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
    // SAFETY: loading libnvrtc runs only its own initialisers, which set up
    // NVRTC's internal state and have no preconditions on the caller.
    let lib =
        unsafe { Library::open(Some(path), RTLD_NOW | RTLD_GLOBAL) }.map_err(|e| e.to_string())?;
    // Never unloaded: cudarc keeps using the symbols for the life of the process.
    std::mem::forget(lib);
    Ok(())
}

#[cfg(not(unix))]
fn open_global(_path: &Path) -> std::result::Result<(), String> {
    Err("loading libnvrtc by path is only supported on Unix".to_string())
}

/// Opens libnvrtc at `path` together with the builtins library next to it.
///
/// libnvrtc opens `libnvrtc-builtins.so.<major>.<minor>` by bare name at its
/// first compilation, and the 13.0 wheels set no RPATH, so outside
/// `LD_LIBRARY_PATH` that lookup fails (`NVRTC_ERROR_BUILTIN_OPERATION_FAILURE`).
/// Loading the builtins first by absolute path makes the bare name resolve
/// to the already-loaded library (matched by its SONAME).
fn open_nvrtc(path: &Path) -> std::result::Result<(), String> {
    if let Some(dir) = path.parent() {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut builtins: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().map(|n| n.to_string_lossy()).is_some_and(|n| {
                        n.starts_with("libnvrtc-builtins.so.") && !n.contains(".alt.")
                    })
                })
                .collect();
            builtins.sort();
            for b in builtins {
                // A failure here surfaces at compile time with NVRTC's own message.
                let _ = open_global(&b);
            }
        }
    }
    open_global(path)
}

/// Loads libnvrtc from `path` (an absolute path to `libnvrtc.so.13`; the
/// builtins library next to it is loaded too), ahead of the automatic
/// search. Takes effect only before the first NVRTC call of the process.
pub fn load_nvrtc(path: &Path) -> Result<()> {
    open_nvrtc(path).map_err(|e| Error::runtime(format!("cannot load {}: {e}", path.display())))
}

/// `<prefix>/lib/python3*/site-packages/nvidia/cu13/lib/libnvrtc.so.13` that exist, for each prefix.
pub(crate) fn wheel_candidates(prefixes: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for prefix in prefixes {
        let Ok(entries) = std::fs::read_dir(prefix.join("lib")) else {
            continue;
        };
        let mut pythons: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
            .map(|e| e.path())
            .collect();
        pythons.sort();
        for python in pythons {
            let candidate = python
                .join("site-packages")
                .join("nvidia")
                .join("cu13")
                .join("lib")
                .join(NVRTC_FILE);
            if candidate.is_file() && !out.contains(&candidate) {
                out.push(candidate);
            }
        }
    }
    out
}

/// Python environments to search: `$VIRTUAL_ENV`, then the prefix of the
/// running executable (installed as `<venv>/bin/brisk`), resolved and as invoked.
pub(crate) fn python_prefixes() -> Vec<PathBuf> {
    let mut prefixes = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        prefixes.push(PathBuf::from(venv));
    }
    let mut exes = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        exes.push(exe);
    }
    if let Some(arg0) = std::env::args_os().next().map(PathBuf::from) {
        if arg0.components().count() > 1 {
            if let Ok(abs) = std::path::absolute(&arg0) {
                exes.push(abs);
            }
        }
    }
    for exe in exes {
        if let Some(prefix) = exe.parent().and_then(Path::parent) {
            let prefix = prefix.to_path_buf();
            if !prefixes.contains(&prefix) {
                prefixes.push(prefix);
            }
        }
    }
    prefixes
}

pub(crate) fn preload() -> &'static Preload {
    PRELOAD.get_or_init(|| {
        let mut p = Preload {
            loaded: None,
            failures: Vec::new(),
            explicit_failed: false,
        };
        if let Some(path) = std::env::var_os(NVRTC_LIB_ENV).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(path);
            match open_nvrtc(&path) {
                Ok(()) => p.loaded = Some(path),
                Err(e) => {
                    p.failures
                        .push(format!("{NVRTC_LIB_ENV}={}: {e}", path.display()));
                    p.explicit_failed = true;
                }
            }
            return p;
        }
        for path in wheel_candidates(&python_prefixes()) {
            match open_nvrtc(&path) {
                Ok(()) => {
                    p.loaded = Some(path);
                    return p;
                }
                Err(e) => p.failures.push(format!("{}: {e}", path.display())),
            }
        }
        p
    })
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Runs `f`, turning a panic inside cudarc (a library or symbol that cannot
/// be loaded) into a runtime error about `what`.
pub(crate) fn guard<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(Error::runtime(format!(
            "{what}: the CUDA library failed: {}",
            panic_message(payload.as_ref())
        ))),
    }
}

pub(crate) fn missing_nvrtc(p: &Preload) -> Error {
    let mut message = format!(
        "NVRTC (the CUDA runtime compiler, {NVRTC_FILE}) was not found, so the generated CUDA code cannot be \
         compiled. Install it into the Python environment that runs Brian: pip install \"{NVRTC_REQUIREMENT}\" \
         (keep its CUDA version no newer than the GPU driver's), or set {NVRTC_LIB_ENV} to the absolute path of \
         {NVRTC_FILE}. Searched: ${NVRTC_LIB_ENV}, $VIRTUAL_ENV and the executable's environment \
         (lib/python3*/site-packages/nvidia/cu13/lib), then the system library path."
    );
    for f in &p.failures {
        message.push_str(&format!("\n  could not load {f}"));
    }
    Error::runtime(message)
}

// ---- NVRTC -----------------------------------------------------------------

/// The NVRTC library in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvrtcInfo {
    /// (major, minor), e.g. (13, 0). The PTX ISA version of its output follows it.
    pub version: (i32, i32),
    /// Virtual architectures it can target, e.g. `[75, 80, ..., 90, 100, 120]`.
    pub archs: Vec<i32>,
    /// The library opened by absolute path; `None` when the system search found it.
    pub library: Option<PathBuf>,
}

pub(crate) static NVRTC: OnceLock<NvrtcInfo> = OnceLock::new();

fn nvrtc_error(call: &str, e: nvrtc_result::NvrtcError) -> Error {
    Error::runtime(format!("NVRTC call {call} failed: {:?}", e.0))
}

/// Finds and loads libnvrtc (see the module docs) and reports its version.
/// A missing library is an [`crate::diag::ErrorKind::Runtime`] error saying how to install it.
pub fn nvrtc_info() -> Result<NvrtcInfo> {
    if let Some(info) = NVRTC.get() {
        return Ok(info.clone());
    }
    let p = preload();
    if p.explicit_failed {
        return Err(missing_nvrtc(p));
    }
    // SAFETY: only dlopen-probes the candidate names and closes them again.
    let present = guard("looking for libnvrtc", || {
        Ok(unsafe { nvrtc_sys::is_culib_present() })
    })?;
    if !present {
        return Err(missing_nvrtc(p));
    }
    let info = guard("querying NVRTC", || {
        let (mut major, mut minor): (c_int, c_int) = (0, 0);
        // SAFETY: both pointers are valid for writes of one c_int.
        unsafe { nvrtc_sys::nvrtcVersion(&mut major, &mut minor) }
            .result()
            .map_err(|e| nvrtc_error("nvrtcVersion", e))?;
        let mut count: c_int = 0;
        // SAFETY: `count` is valid for a write of one c_int.
        unsafe { nvrtc_sys::nvrtcGetNumSupportedArchs(&mut count) }
            .result()
            .map_err(|e| nvrtc_error("nvrtcGetNumSupportedArchs", e))?;
        let mut archs = vec![0 as c_int; usize::try_from(count).unwrap_or(0)];
        if !archs.is_empty() {
            // SAFETY: `archs` holds exactly the `count` entries NVRTC reported.
            unsafe { nvrtc_sys::nvrtcGetSupportedArchs(archs.as_mut_ptr()) }
                .result()
                .map_err(|e| nvrtc_error("nvrtcGetSupportedArchs", e))?;
        }
        Ok(NvrtcInfo {
            version: (major, minor),
            archs,
            library: p.loaded.clone(),
        })
    })?;
    Ok(NVRTC.get_or_init(|| info).clone())
}

/// Whether NVRTC can be loaded. Never panics.
pub fn nvrtc_available() -> bool {
    nvrtc_info().is_ok()
}

/// An NVRTC program, destroyed on drop.
struct NvrtcProgram(nvrtc_sys::nvrtcProgram);

impl Drop for NvrtcProgram {
    fn drop(&mut self) {
        // SAFETY: the handle came from `create_program` and is destroyed only here.
        let _ = unsafe { nvrtc_result::destroy_program(self.0) };
    }
}

/// NVRTC's C string buffer (log, PTX) as text, up to its terminating NUL.
pub(crate) fn c_text(buf: &[c_char]) -> String {
    let bytes: Vec<u8> = buf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Checks an architecture name: `compute_90`, `sm_90`, `compute_90a`, ...
pub(crate) fn check_arch(arch: &str) -> Result<()> {
    let digits = arch
        .strip_prefix("compute_")
        .or_else(|| arch.strip_prefix("sm_"));
    let ok = digits.is_some_and(|d| {
        let d = d.strip_suffix(['a', 'f']).unwrap_or(d);
        !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(Error::runtime(format!(
            "'{arch}' is not a CUDA architecture (expected e.g. compute_90)"
        )))
    }
}

/// The options of an NVRTC compilation for `arch`.
pub fn nvrtc_options(arch: &str) -> Vec<String> {
    let mut options: Vec<String> = NVRTC_OPTIONS.iter().map(|s| s.to_string()).collect();
    options.push(format!("--gpu-architecture={arch}"));
    options
}

/// Compiles CUDA `source` to PTX for `arch` (a virtual architecture such as
/// `compute_90`). NVRTC's rejection is an [`crate::diag::ErrorKind::Compile`]
/// error whose message quotes the offending generated lines and kernels and
/// whose log is NVRTC's program log.
pub fn compile_ptx(source: &str, arch: &str) -> Result<String> {
    check_arch(arch)?;
    nvrtc_info()?;
    let c_source = CString::new(source).map_err(|_| {
        Error::compile(
            "the generated CUDA source contains a NUL byte",
            String::new(),
        )
    })?;
    let options = nvrtc_options(arch);
    guard("compiling with NVRTC", || {
        let program = NvrtcProgram(
            nvrtc_result::create_program(&c_source, None)
                .map_err(|e| nvrtc_error("nvrtcCreateProgram", e))?,
        );
        // SAFETY: `program` is a live program; the options contain no NUL bytes
        // (fixed strings and an architecture checked by `check_arch`).
        let compiled = unsafe { nvrtc_result::compile_program(program.0, &options) };
        // SAFETY: `program` is a live program.
        let log = unsafe { nvrtc_result::get_program_log(program.0) }
            .map(|l| c_text(&l))
            .unwrap_or_default();
        match compiled {
            Ok(()) => {}
            Err(e) if e.0 == nvrtc_sys::nvrtcResult::NVRTC_ERROR_COMPILATION => {
                return Err(compile_failure(Compiler::Nvrtc, source, &log));
            }
            Err(e) => {
                let mut err = nvrtc_error("nvrtcCompileProgram", e);
                err.message
                    .push_str(&format!(" (options: {})", options.join(" ")));
                err.log = Some(log);
                return Err(err);
            }
        }
        // SAFETY: `program` is a live, successfully compiled program.
        let ptx = unsafe { nvrtc_result::get_ptx(program.0) }
            .map_err(|e| nvrtc_error("nvrtcGetPTX", e))?;
        Ok(c_text(&ptx))
    })
}

/// [`compile_ptx`] through the artefact cache, keyed by the source, the
/// architecture, the options and the NVRTC version. Returns the PTX and
/// whether it came from the cache.
pub fn compile_ptx_cached(source: &str, arch: &str) -> Result<(String, bool)> {
    check_arch(arch)?;
    let info = nvrtc_info()?;
    let version = format!("nvrtc {}.{}", info.version.0, info.version.1);
    let options = nvrtc_options(arch).join(" ");
    let (entry, hit) = cache::cached(
        "ptx",
        &[
            source.as_bytes(),
            arch.as_bytes(),
            options.as_bytes(),
            version.as_bytes(),
        ],
        |out| {
            let ptx = compile_ptx(source, arch)?;
            std::fs::write(out, ptx)
                .map_err(|e| Error::runtime(format!("cannot write {}: {e}", out.display())))
        },
    )?;
    // (read while `entry` holds the file against eviction)
    let ptx = std::fs::read_to_string(entry.path())
        .map_err(|e| Error::runtime(format!("cannot read cached PTX {}: {e}", entry.display())))?;
    Ok((ptx, hit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_names() {
        assert!(check_arch("compute_90").is_ok());
        assert!(check_arch("sm_120").is_ok());
        assert!(check_arch("compute_90a").is_ok());
        assert!(check_arch("compute_").is_err());
        assert!(check_arch("compute_90 --evil").is_err());
        assert!(check_arch("90").is_err());
    }

    #[test]
    fn wheel_libraries_are_found_under_python_prefixes() {
        let venv = tempfile::tempdir().unwrap();
        let lib = venv
            .path()
            .join("lib/python3.13/site-packages/nvidia/cu13/lib");
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::create_dir_all(venv.path().join("lib/python3.12/site-packages")).unwrap();
        std::fs::write(lib.join(NVRTC_FILE), b"").unwrap();
        let prefixes = vec![
            venv.path().to_path_buf(),
            venv.path().join("missing"),
            venv.path().to_path_buf(),
        ];
        assert_eq!(wheel_candidates(&prefixes), vec![lib.join(NVRTC_FILE)]);
    }

    #[test]
    fn missing_nvrtc_says_how_to_install() {
        let e = missing_nvrtc(&Preload {
            loaded: None,
            failures: vec!["x: nope".into()],
            explicit_failed: false,
        });
        assert_eq!(e.kind, crate::diag::ErrorKind::Runtime);
        assert!(
            e.message
                .contains("pip install \"nvidia-cuda-nvrtc==13.0.*\""),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("could not load x: nope"),
            "{}",
            e.message
        );
    }
}

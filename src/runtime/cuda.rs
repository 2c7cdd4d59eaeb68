//! CUDA device: NVRTC compiles the generated program to PTX; the driver API
//! (through cudarc) runs the plan's kernels on GPU 0.
//!
//! In: a CUDA [`crate::codegen::Program`]'s source and the plan's kernel
//! symbols. Out: PTX text (cached by content hash, see [`compile_ptx_cached`])
//! and a [`CudaDevice`] implementing [`Device`]: one device allocation per
//! plan buffer, a device-side pointer table and size table that every kernel
//! reads through `BriskArgs`, and asynchronous launches on one stream.
//!
//! Neither library is linked: libnvrtc and libcuda are opened at run time.
//! cudarc panics when a library is missing, so every entry point first probes
//! with `is_culib_present` and the calls into cudarc run under
//! [`std::panic::catch_unwind`]; a missing library or a failing call is always
//! an [`Error`], never a panic. libnvrtc is searched for in the Python
//! environment that runs Brian (the `nvidia-cuda-nvrtc` wheel) before the
//! system paths; see [`nvrtc_info`].
//!
//! Every copy between host and device memory is followed by a stream
//! synchronisation, so host buffers are never read after a call returns and
//! kernel failures surface at the first copy after them. Launches themselves
//! are asynchronous. `BRISK_CUDA_SYNC=1` synchronises after every launch to
//! name the kernel that failed.

use std::any::Any;
use std::ffi::{c_char, c_int, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use cudarc::driver::{
    result as cu_result, sys as cu_sys, CudaContext, CudaFunction, CudaModule, CudaSlice, CudaStream, DevicePtr,
    DeviceRepr, DriverError, LaunchConfig, PushKernelArg,
};
use cudarc::nvrtc::{result as nvrtc_result, sys as nvrtc_sys, Ptx};

use crate::codegen::CUDA_BLOCK;
use crate::diag::{Error, Result};
use crate::plan::Launch;
use crate::runtime::{cache, BriskArgs, Device, StepArgs};

/// Environment variable naming libnvrtc by absolute path.
pub const NVRTC_LIB_ENV: &str = "BRISK_NVRTC_LIB";
/// The pip requirement that provides libnvrtc (pinned to the driver's CUDA version).
pub const NVRTC_REQUIREMENT: &str = "nvidia-cuda-nvrtc==13.0.*";
/// Options passed to NVRTC besides the architecture. No `--use_fast_math`:
/// IEEE division, square root and denormals, as on the CPU target. Warnings
/// 177 and 550 (variable unused / set but never used) are silenced: Brian's
/// templates declare every constant and `_vectorisation_idx` whether used or
/// not, and they would bury real errors in the log.
pub const NVRTC_OPTIONS: &[&str] = &["--std=c++17", "--diag-suppress=177,550"];
/// Set to `1` to synchronise after every launch (names the failing kernel).
pub const SYNC_ENV: &str = "BRISK_CUDA_SYNC";

/// The library file name inside the wheel (`nvidia/cu13/lib`).
const NVRTC_FILE: &str = "libnvrtc.so.13";
/// Most blocks of a `Grid` launch; the kernels' grid-stride loops cover the rest.
const MAX_GRID_BLOCKS: u32 = 1 << 20;
/// Smallest allocation, so that every buffer has a valid, 8-byte aligned address.
const MIN_ALLOCATION: usize = 8;

// ---- Library discovery -----------------------------------------------------

/// What the one-time search for libnvrtc did.
struct Preload {
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
    let lib = unsafe { Library::open(Some(path), RTLD_NOW | RTLD_GLOBAL) }.map_err(|e| e.to_string())?;
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
                    p.file_name()
                        .map(|n| n.to_string_lossy())
                        .is_some_and(|n| n.starts_with("libnvrtc-builtins.so.") && !n.contains(".alt."))
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
fn wheel_candidates(prefixes: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for prefix in prefixes {
        let Ok(entries) = std::fs::read_dir(prefix.join("lib")) else { continue };
        let mut pythons: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
            .map(|e| e.path())
            .collect();
        pythons.sort();
        for python in pythons {
            let candidate = python.join("site-packages").join("nvidia").join("cu13").join("lib").join(NVRTC_FILE);
            if candidate.is_file() && !out.contains(&candidate) {
                out.push(candidate);
            }
        }
    }
    out
}

/// Python environments to search: `$VIRTUAL_ENV`, then the prefix of the
/// running executable (installed as `<venv>/bin/brisk`), resolved and as invoked.
fn python_prefixes() -> Vec<PathBuf> {
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

fn preload() -> &'static Preload {
    PRELOAD.get_or_init(|| {
        let mut p = Preload { loaded: None, failures: Vec::new(), explicit_failed: false };
        if let Some(path) = std::env::var_os(NVRTC_LIB_ENV).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(path);
            match open_nvrtc(&path) {
                Ok(()) => p.loaded = Some(path),
                Err(e) => {
                    p.failures.push(format!("{NVRTC_LIB_ENV}={}: {e}", path.display()));
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

fn panic_message(payload: &(dyn Any + Send)) -> String {
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
fn guard<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            Err(Error::runtime(format!("{what}: the CUDA library failed: {}", panic_message(payload.as_ref()))))
        }
    }
}

fn missing_nvrtc(p: &Preload) -> Error {
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

static NVRTC: OnceLock<NvrtcInfo> = OnceLock::new();

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
    let present = guard("looking for libnvrtc", || Ok(unsafe { nvrtc_sys::is_culib_present() }))?;
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
        Ok(NvrtcInfo { version: (major, minor), archs, library: p.loaded.clone() })
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
fn c_text(buf: &[c_char]) -> String {
    let bytes: Vec<u8> = buf.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Checks an architecture name: `compute_90`, `sm_90`, `compute_90a`, ...
fn check_arch(arch: &str) -> Result<()> {
    let digits = arch.strip_prefix("compute_").or_else(|| arch.strip_prefix("sm_"));
    let ok = digits.is_some_and(|d| {
        let d = d.strip_suffix(['a', 'f']).unwrap_or(d);
        !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(Error::runtime(format!("'{arch}' is not a CUDA architecture (expected e.g. compute_90)")))
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
    let c_source = CString::new(source)
        .map_err(|_| Error::compile("the generated CUDA source contains a NUL byte", String::new()))?;
    let options = nvrtc_options(arch);
    guard("compiling with NVRTC", || {
        let program = NvrtcProgram(
            nvrtc_result::create_program(&c_source, None).map_err(|e| nvrtc_error("nvrtcCreateProgram", e))?,
        );
        // SAFETY: `program` is a live program; the options contain no NUL bytes
        // (fixed strings and an architecture checked by `check_arch`).
        let compiled = unsafe { nvrtc_result::compile_program(program.0, &options) };
        // SAFETY: `program` is a live program.
        let log = unsafe { nvrtc_result::get_program_log(program.0) }.map(|l| c_text(&l)).unwrap_or_default();
        match compiled {
            Ok(()) => {}
            Err(e) if e.0 == nvrtc_sys::nvrtcResult::NVRTC_ERROR_COMPILATION => {
                return Err(compile_failure(source, &log));
            }
            Err(e) => {
                let mut err = nvrtc_error("nvrtcCompileProgram", e);
                err.message.push_str(&format!(" (options: {})", options.join(" ")));
                err.log = Some(log);
                return Err(err);
            }
        }
        // SAFETY: `program` is a live, successfully compiled program.
        let ptx = unsafe { nvrtc_result::get_ptx(program.0) }.map_err(|e| nvrtc_error("nvrtcGetPTX", e))?;
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
    let (path, hit) =
        cache::cached("ptx", &[source.as_bytes(), arch.as_bytes(), options.as_bytes(), version.as_bytes()], |out| {
            let ptx = compile_ptx(source, arch)?;
            std::fs::write(out, ptx).map_err(|e| Error::runtime(format!("cannot write {}: {e}", out.display())))
        })?;
    let ptx = std::fs::read_to_string(&path)
        .map_err(|e| Error::runtime(format!("cannot read cached PTX {}: {e}", path.display())))?;
    Ok((ptx, hit))
}

/// One located NVRTC diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Diagnostic {
    /// 1-based line in the generated source.
    line: usize,
    /// `error: ...` as NVRTC wrote it.
    text: String,
}

/// The error diagnostics of an NVRTC log (`default_program(LINE): error: ...`).
fn log_errors(log: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for l in log.lines() {
        let mut rest = l;
        while let Some(open) = rest.find('(') {
            let after = &rest[open + 1..];
            let Some(close) = after.find("): ") else { break };
            let number = &after[..close];
            let text = &after[close + 3..];
            if let Ok(line) = number.parse::<usize>() {
                let is_error = text.starts_with("error") || text.starts_with("catastrophic error");
                if is_error && line > 0 {
                    out.push(Diagnostic { line, text: text.to_string() });
                }
                break;
            }
            rest = after;
        }
    }
    out
}

/// The `extern "C"` function defined before 1-based `line` of `source`.
fn kernel_at(source: &[&str], line: usize) -> Option<String> {
    source[..line.min(source.len())].iter().rev().find_map(|l| {
        let rest = &l[l.find("extern \"C\"")? + "extern \"C\"".len()..];
        let head = rest.split('(').next()?;
        head.split_whitespace().last().map(str::to_string)
    })
}

/// The code object behind a kernel symbol (`brisk_<code object>[_before_run|_after_run]`).
fn code_object_of(symbol: &str) -> Option<String> {
    let name = symbol.strip_prefix("brisk_")?;
    let name = name.strip_suffix("_before_run").or_else(|| name.strip_suffix("_after_run")).unwrap_or(name);
    Some(name.to_string())
}

/// Most diagnostics quoted in a compile error's message (all are in the log).
const QUOTED_ERRORS: usize = 5;

/// The compile error for an NVRTC rejection: each error located in the
/// generated source, with its kernel and line quoted.
fn compile_failure(source: &str, log: &str) -> Error {
    let lines: Vec<&str> = source.lines().collect();
    let errors = log_errors(log);
    let mut first_kernel = None;
    let mut message = format!(
        "NVRTC rejected the generated CUDA code ({} error{})",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    if errors.is_empty() {
        message = "NVRTC rejected the generated CUDA code (see the log)".to_string();
    }
    for d in errors.iter().take(QUOTED_ERRORS) {
        let kernel = kernel_at(&lines, d.line);
        let place = match &kernel {
            Some(k) => format!("in kernel {k}"),
            None => "in the support code".to_string(),
        };
        if first_kernel.is_none() {
            first_kernel = kernel.clone();
        }
        let quoted = lines.get(d.line - 1).map(|l| l.trim()).unwrap_or("");
        message.push_str(&format!("\n  generated line {} {place}: {}\n    | {quoted}", d.line, d.text));
    }
    if errors.len() > QUOTED_ERRORS {
        message.push_str(&format!("\n  ... and {} more (see the log)", errors.len() - QUOTED_ERRORS));
    }
    let mut err = Error::compile(message, log);
    err.code_object = first_kernel.as_deref().and_then(code_object_of);
    err
}

// ---- Driver ----------------------------------------------------------------

/// The NVIDIA driver found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverInfo {
    /// The CUDA version the driver supports, (major, minor), e.g. (13, 0).
    pub version: (i32, i32),
    /// CUDA devices visible to this process.
    pub devices: i32,
}

static DRIVER: OnceLock<DriverInfo> = OnceLock::new();

/// `CUDA_ERROR_NAME: description` of a driver error.
fn describe(e: DriverError) -> String {
    match e.error_string() {
        Ok(s) => format!("{:?}: {}", e.0, s.to_string_lossy()),
        Err(_) => format!("{:?}", e.0),
    }
}

/// Maps a driver error to a runtime error about `what`.
fn driver_error(what: impl Into<String>) -> impl FnOnce(DriverError) -> Error {
    let what = what.into();
    move |e| Error::runtime(format!("{what}: {}", describe(e)))
}

/// Finds libcuda, initialises the driver and counts the devices. No driver
/// or no device is a runtime error.
pub fn driver_info() -> Result<DriverInfo> {
    if let Some(info) = DRIVER.get() {
        return Ok(info.clone());
    }
    // SAFETY: only dlopen-probes the candidate names and closes them again.
    let present = guard("looking for libcuda", || Ok(unsafe { cu_sys::is_culib_present() }))?;
    if !present {
        return Err(Error::runtime(
            "no NVIDIA driver: libcuda.so.1 was not found, so the CUDA target cannot run on this machine \
             (the CPU backend can: --backend cpu)",
        ));
    }
    let info = guard("initialising the CUDA driver", || {
        cu_result::init().map_err(driver_error("cuInit failed"))?;
        let mut version: c_int = 0;
        // SAFETY: `version` is valid for a write of one c_int.
        unsafe { cu_sys::cuDriverGetVersion(&mut version) }
            .result()
            .map_err(driver_error("cuDriverGetVersion failed"))?;
        let devices = cu_result::device::get_count().map_err(driver_error("cannot count CUDA devices"))?;
        Ok(DriverInfo { version: (version / 1000, (version % 1000) / 10), devices })
    })?;
    if info.devices < 1 {
        return Err(Error::runtime("the NVIDIA driver reports no CUDA device"));
    }
    Ok(DRIVER.get_or_init(|| info).clone())
}

/// Whether a CUDA driver with at least one device is present. Never panics.
pub fn driver_available() -> bool {
    driver_info().is_ok()
}

/// Compute capability (major, minor) of device 0.
pub fn compute_capability() -> Result<(i32, i32)> {
    driver_info()?;
    guard("querying the GPU", || {
        let device = cu_result::device::get(0).map_err(driver_error("cannot open CUDA device 0"))?;
        let attribute = |a| {
            // SAFETY: `device` is a valid device handle from `cuDeviceGet`.
            unsafe { cu_result::device::get_attribute(device, a) }.map_err(driver_error("cannot query CUDA device 0"))
        };
        let major = attribute(cu_sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?;
        let minor = attribute(cu_sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?;
        Ok((major, minor))
    })
}

/// The PTX target for a device of compute capability `cc`: the newest
/// virtual architecture in `supported` (NVRTC's list) not newer than the
/// device, as `compute_XY`. PTX for `compute_XY` is JIT-compiled by the
/// driver for any GPU of capability >= X.Y.
pub fn ptx_arch(cc: (i32, i32), supported: &[i32]) -> Result<String> {
    let device = cc.0 * 10 + cc.1;
    supported.iter().copied().filter(|&a| a <= device).max().map(|a| format!("compute_{a}")).ok_or_else(|| {
        Error::runtime(format!(
            "the GPU's compute capability {}.{} is older than every architecture this NVRTC supports ({supported:?})",
            cc.0, cc.1
        ))
    })
}

/// The PTX target for device 0 with the NVRTC in use.
pub fn device_arch() -> Result<String> {
    let info = nvrtc_info()?;
    ptx_arch(compute_capability()?, &info.archs)
}

/// Blocks of a `Grid` launch of `n` elements.
fn grid_blocks(n: i64, max_blocks: u32) -> u32 {
    let n = u64::try_from(n).unwrap_or(0);
    let blocks = n.div_ceil(u64::from(CUDA_BLOCK)).clamp(1, u64::from(max_blocks.max(1)));
    u32::try_from(blocks).unwrap_or(max_blocks)
}

// ---- The device --------------------------------------------------------------

// SAFETY: `BriskArgs` is `repr(C)` plain data (two device addresses and six
// 8-byte scalars, no padding), laid out exactly as the kernels' `const
// BriskArgs _a` parameter; cuLaunchKernel copies it from the pointer cudarc passes.
unsafe impl DeviceRepr for BriskArgs {}

const _: () = assert!(std::mem::size_of::<BriskArgs>() == 64);

/// Plan buffers in GPU memory and the program's kernels, on device 0.
pub struct CudaDevice {
    functions: Vec<CudaFunction>,
    symbols: Vec<String>,
    buffers: Vec<CudaSlice<u8>>,
    /// Bytes of each buffer as the plan sees it (allocations are at least [`MIN_ALLOCATION`]).
    lens: Vec<usize>,
    /// Device address of every buffer, indexed like the plan (`BriskArgs::arrays`).
    pointers: CudaSlice<u64>,
    /// Element count of every buffer (`BriskArgs::sizes`).
    sizes: CudaSlice<i64>,
    pointers_addr: u64,
    sizes_addr: u64,
    max_grid: u32,
    sync_each_launch: bool,
    /// The last kernel launched since the last synchronisation.
    in_flight: Option<usize>,
    name: String,
    compute_capability: (i32, i32),
    _module: Arc<CudaModule>,
    stream: Arc<CudaStream>,
    ctx: Arc<CudaContext>,
}

/// Device address of a slice.
fn address<T>(slice: &CudaSlice<T>, stream: &CudaStream) -> u64 {
    let (ptr, _sync) = slice.device_ptr(stream);
    ptr
}

/// The `.version` line of a PTX text.
fn ptx_version(ptx: &str) -> &str {
    ptx.lines().find(|l| l.trim_start().starts_with(".version")).map(str::trim).unwrap_or("(no .version line)")
}

/// The driver JIT's error log for `ptx` (loaded again with a log buffer), when it has one.
fn jit_log(ctx: &CudaContext, ptx: &CString) -> Option<String> {
    ctx.bind_to_thread().ok()?;
    let mut log = vec![0 as c_char; 16 * 1024];
    let mut options =
        [cu_sys::CUjit_option::CU_JIT_ERROR_LOG_BUFFER, cu_sys::CUjit_option::CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES];
    let mut values: [*mut c_void; 2] = [log.as_mut_ptr().cast(), log.len() as *mut c_void];
    let mut module: cu_sys::CUmodule = std::ptr::null_mut();
    // SAFETY: `ptx` is a NUL-terminated PTX image; `options` and `values` have
    // two entries each, the buffer option points at `log` with its true size
    // (passed by value in the pointer slot, as the driver API specifies), and
    // `module` is valid for one write. The context is current on this thread.
    let status = unsafe {
        cu_sys::cuModuleLoadDataEx(&mut module, ptx.as_ptr().cast(), 2, options.as_mut_ptr(), values.as_mut_ptr())
    };
    if status == cu_sys::CUresult::CUDA_SUCCESS && !module.is_null() {
        // SAFETY: `module` was just loaded and is not used afterwards.
        let _ = unsafe { cu_sys::cuModuleUnload(module) };
    }
    let text = c_text(&log);
    (!text.trim().is_empty()).then_some(text)
}

/// The error for a PTX module the driver refused.
fn module_error(ctx: &CudaContext, ptx: &CString, text: &str, e: DriverError) -> Error {
    let mut message = format!("the CUDA driver cannot load the compiled program: {}", describe(e));
    let driver = DRIVER.get().map(|d| format!("{}.{}", d.version.0, d.version.1)).unwrap_or_else(|| "?".into());
    let nvrtc = NVRTC.get().map(|n| format!("{}.{}", n.version.0, n.version.1)).unwrap_or_else(|| "?".into());
    if matches!(
        e.0,
        cu_sys::CUresult::CUDA_ERROR_UNSUPPORTED_PTX_VERSION
            | cu_sys::CUresult::CUDA_ERROR_INVALID_PTX
            | cu_sys::CUresult::CUDA_ERROR_NO_BINARY_FOR_GPU
    ) {
        message.push_str(&format!(
            "\n  the PTX ({}) comes from NVRTC {nvrtc}; the driver supports CUDA {driver}. A driver rejects PTX \
             from a newer NVRTC: install the NVRTC matching the driver, e.g. pip install \
             \"nvidia-cuda-nvrtc=={driver}.*\"",
            ptx_version(text)
        ));
    }
    let mut err = Error::runtime(message);
    err.log = jit_log(ctx, ptx);
    err
}

impl CudaDevice {
    /// Creates a context on device 0, loads `ptx` and looks up one function
    /// per plan kernel, in plan order.
    pub fn new(ptx: &str, kernel_symbols: &[String]) -> Result<CudaDevice> {
        driver_info()?;
        let c_ptx = CString::new(ptx).map_err(|_| Error::runtime("the PTX contains a NUL byte"))?;
        if let Some(bad) = kernel_symbols.iter().find(|s| s.contains('\0')) {
            return Err(Error::runtime(format!("kernel symbol {bad:?} contains a NUL byte")));
        }
        guard("starting the CUDA device", || {
            let ctx = CudaContext::new(0).map_err(driver_error("cannot create a CUDA context on device 0"))?;
            // SAFETY: called before any allocation; this device uses one stream
            // only, so stream-ordered allocation, copies and launches need no
            // cross-stream events.
            unsafe { ctx.disable_event_tracking() };
            let stream = ctx.default_stream();
            let name = ctx.name().unwrap_or_else(|_| "CUDA device 0".to_string());
            let compute_capability = ctx.compute_capability().map_err(driver_error("cannot query CUDA device 0"))?;
            let module = ctx.load_module(Ptx::from_src(ptx)).map_err(|e| module_error(&ctx, &c_ptx, ptx, e))?;
            let mut functions = Vec::with_capacity(kernel_symbols.len());
            for symbol in kernel_symbols {
                let f = module
                    .load_function(symbol)
                    .map_err(driver_error(format!("the compiled program has no kernel '{symbol}'")))?;
                functions.push(f);
            }
            let max_grid = ctx
                .attribute(cu_sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X)
                .map_err(driver_error("cannot query CUDA device 0"))?;
            let max_grid = u32::try_from(max_grid).unwrap_or(1).clamp(1, MAX_GRID_BLOCKS);
            let pointers = stream.alloc_zeros::<u64>(1).map_err(driver_error("cannot allocate GPU memory"))?;
            let sizes = stream.alloc_zeros::<i64>(1).map_err(driver_error("cannot allocate GPU memory"))?;
            let pointers_addr = address(&pointers, &stream);
            let sizes_addr = address(&sizes, &stream);
            let sync_each_launch = std::env::var(SYNC_ENV).is_ok_and(|v| v == "1");
            Ok(CudaDevice {
                functions,
                symbols: kernel_symbols.to_vec(),
                buffers: Vec::new(),
                lens: Vec::new(),
                pointers,
                sizes,
                pointers_addr,
                sizes_addr,
                max_grid,
                sync_each_launch,
                in_flight: None,
                name,
                compute_capability,
                _module: module,
                stream,
                ctx,
            })
        })
    }

    /// The GPU's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The GPU's compute capability.
    pub fn compute_capability(&self) -> (i32, i32) {
        self.compute_capability
    }

    /// Allocates `bytes` zeroed bytes (at least [`MIN_ALLOCATION`]).
    fn alloc(&self, bytes: usize, what: &str) -> Result<CudaSlice<u8>> {
        self.stream.alloc_zeros::<u8>(bytes.max(MIN_ALLOCATION)).map_err(|e| {
            let free = self
                .ctx
                .mem_get_info()
                .map(|(free, total)| format!(" ({} of {} MiB free)", free >> 20, total >> 20))
                .unwrap_or_default();
            Error::runtime(format!("cannot allocate {bytes} bytes of GPU memory for {what}{free}: {}", describe(e)))
        })
    }

    /// Waits for the stream, naming the last kernel launched if something failed.
    fn wait(&mut self, during: &str) -> Result<()> {
        let synced = self.stream.synchronize().and_then(|()| self.ctx.check_err());
        let in_flight = self.in_flight.take();
        synced.map_err(|e| {
            let kernel = in_flight.and_then(|k| self.symbols.get(k)).map(String::as_str);
            let mut message = format!("CUDA failed {during}: {}", describe(e));
            if let Some(kernel) = kernel {
                message.push_str(&format!(
                    "\n  last kernel launched before this point: {kernel}{}",
                    if self.sync_each_launch { "" } else { " (set BRISK_CUDA_SYNC=1 to stop at the failing kernel)" }
                ));
            }
            let mut err = Error::runtime(message);
            if self.sync_each_launch {
                err.code_object = kernel.and_then(code_object_of);
            }
            err
        })
    }

    /// Uploads the address of every buffer (after `allocate` and `resize`).
    fn upload_pointers(&mut self) -> Result<()> {
        let table: Vec<u64> = self.buffers.iter().map(|b| address(b, &self.stream)).collect();
        if self.pointers.len() != table.len().max(1) {
            self.pointers = self
                .stream
                .alloc_zeros::<u64>(table.len().max(1))
                .map_err(driver_error("cannot allocate the GPU pointer table"))?;
            self.pointers_addr = address(&self.pointers, &self.stream);
        }
        if !table.is_empty() {
            self.stream
                .memcpy_htod(&table, &mut self.pointers)
                .map_err(driver_error("cannot upload the pointer table"))?;
        }
        self.wait("uploading the pointer table")
    }

    fn check_range(&self, buf: usize, offset: usize, len: usize, op: &str) -> Result<()> {
        let size = *self.lens.get(buf).ok_or_else(|| {
            Error::runtime(format!("{op}: no buffer {buf} (the device has {} buffers)", self.lens.len()))
        })?;
        match offset.checked_add(len) {
            Some(end) if end <= size => Ok(()),
            _ => Err(Error::runtime(format!("{op} of {len} bytes at {offset} past buffer {buf} ({size} bytes)"))),
        }
    }
}

impl Device for CudaDevice {
    fn backend(&self) -> &'static str {
        "cuda"
    }

    fn allocate(&mut self, bytes: &[usize]) -> Result<()> {
        let mut buffers = Vec::with_capacity(bytes.len());
        for (i, &b) in bytes.iter().enumerate() {
            buffers.push(self.alloc(b, &format!("buffer {i}"))?);
        }
        self.buffers = buffers;
        self.lens = bytes.to_vec();
        if self.sizes.len() != bytes.len().max(1) {
            self.sizes = self
                .stream
                .alloc_zeros::<i64>(bytes.len().max(1))
                .map_err(driver_error("cannot allocate the GPU size table"))?;
            self.sizes_addr = address(&self.sizes, &self.stream);
        }
        self.upload_pointers()
    }

    fn write(&mut self, buf: usize, offset: usize, data: &[u8]) -> Result<()> {
        self.check_range(buf, offset, data.len(), "write")?;
        if data.is_empty() {
            return Ok(());
        }
        let mut dst = self.buffers[buf].slice_mut(offset..offset + data.len());
        self.stream.memcpy_htod(data, &mut dst).map_err(driver_error(format!("cannot copy to GPU buffer {buf}")))?;
        self.wait(&format!("writing GPU buffer {buf}"))
    }

    fn read(&mut self, buf: usize, offset: usize, len: usize) -> Result<Vec<u8>> {
        self.check_range(buf, offset, len, "read")?;
        self.wait(&format!("before reading GPU buffer {buf}"))?;
        let mut out = vec![0u8; len];
        if len > 0 {
            let src = self.buffers[buf].slice(offset..offset + len);
            self.stream.memcpy_dtoh(&src, &mut out).map_err(driver_error(format!("cannot copy GPU buffer {buf}")))?;
            self.wait(&format!("reading GPU buffer {buf}"))?;
        }
        Ok(out)
    }

    fn resize(&mut self, buf: usize, bytes: usize) -> Result<()> {
        let old = *self.lens.get(buf).ok_or_else(|| Error::runtime(format!("resize: no buffer {buf}")))?;
        let mut new = self.alloc(bytes, &format!("buffer {buf}"))?;
        let keep = old.min(bytes);
        if keep > 0 {
            let src = self.buffers[buf].slice(..keep);
            let mut dst = new.slice_mut(..keep);
            self.stream.memcpy_dtod(&src, &mut dst).map_err(driver_error(format!("cannot copy GPU buffer {buf}")))?;
        }
        // The old allocation is freed in stream order, after the copy and any kernel using it.
        self.buffers[buf] = new;
        self.lens[buf] = bytes;
        self.upload_pointers()
    }

    fn set_lens(&mut self, lens: &[i64]) -> Result<()> {
        if lens.len() != self.buffers.len() {
            return Err(Error::runtime(format!(
                "set_lens: {} sizes for {} GPU buffers",
                lens.len(),
                self.buffers.len()
            )));
        }
        if lens.is_empty() {
            return Ok(());
        }
        self.stream.memcpy_htod(lens, &mut self.sizes).map_err(driver_error("cannot upload the size table"))?;
        self.wait("uploading the size table")
    }

    fn launch(&mut self, kernel: usize, launch: Launch, args: &StepArgs) -> Result<()> {
        let symbol = self
            .symbols
            .get(kernel)
            .ok_or_else(|| Error::runtime(format!("no kernel {kernel} (the program has {})", self.symbols.len())))?;
        if args.n < 0 {
            return Err(Error::runtime(format!("kernel {symbol}: negative element count {}", args.n)));
        }
        let grid = match launch {
            Launch::Grid => grid_blocks(args.n, self.max_grid),
            Launch::Block => 1,
        };
        let cfg = LaunchConfig { grid_dim: (grid, 1, 1), block_dim: (CUDA_BLOCK, 1, 1), shared_mem_bytes: 0 };
        let params = BriskArgs::new(self.pointers_addr, self.sizes_addr, args);
        let mut builder = self.stream.launch_builder(&self.functions[kernel]);
        builder.arg(&params);
        // SAFETY: every generated kernel takes exactly one parameter, `const
        // BriskArgs _a` by value, whose layout `BriskArgs` reproduces. `arrays`
        // and `sizes` point at live device tables with one entry per plan
        // buffer (rebuilt on every allocate/resize, kept alive by `self` and
        // freed only in stream order); the kernels index buffers within the
        // plan's sizes and loop over `n` elements with grid-stride loops, so
        // any grid size is valid. `Block` kernels assume `blockDim.x ==
        // BRISK_BLOCK == CUDA_BLOCK`, which `cfg` provides.
        unsafe { builder.launch(cfg) }.map_err(driver_error(format!("cannot launch kernel {symbol}")))?;
        self.in_flight = Some(kernel);
        if self.sync_each_launch {
            let during = format!("in kernel {symbol}");
            self.wait(&during)?;
        }
        Ok(())
    }

    fn synchronize(&mut self) -> Result<()> {
        self.wait("while running kernels")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "// header\nint x;\nextern \"C\" __global__ void brisk_neurongroup_stateupdater_codeobject(const BriskArgs _a)\n{\n    v = undefined_thing;\n}\nextern \"C\" __global__ void brisk_spikemonitor_codeobject_after_run(const BriskArgs _a)\n{\n    w = 1\n}\n";

    #[test]
    fn compile_errors_name_line_and_kernel() {
        let log = "default_program(5): error: identifier \"undefined_thing\" is undefined\n\
                   default_program(9): warning #550-D: variable \"error_count\" was set but never used\n\
                   default_program(10): error: expected a \";\"\n\n2 errors detected in the compilation of \"default_program\".\n";
        let e = compile_failure(SOURCE, log);
        assert_eq!(e.kind, crate::diag::ErrorKind::Compile);
        assert!(e.message.contains("2 errors"), "{}", e.message);
        assert!(
            e.message.contains("generated line 5 in kernel brisk_neurongroup_stateupdater_codeobject"),
            "{}",
            e.message
        );
        assert!(e.message.contains("| v = undefined_thing;"), "{}", e.message);
        assert!(
            e.message.contains("generated line 10 in kernel brisk_spikemonitor_codeobject_after_run"),
            "{}",
            e.message
        );
        assert_eq!(e.code_object.as_deref(), Some("neurongroup_stateupdater_codeobject"));
        assert_eq!(e.log.as_deref(), Some(log));
    }

    #[test]
    fn errors_before_any_kernel_are_in_the_support_code() {
        let e = compile_failure(SOURCE, "default_program(2): error: bad\n");
        assert!(e.message.contains("generated line 2 in the support code"), "{}", e.message);
        assert_eq!(e.code_object, None);
        let e = compile_failure(SOURCE, "nvrtc: error: something odd\n");
        assert!(e.message.contains("see the log"), "{}", e.message);
    }

    #[test]
    fn log_parsing_ignores_other_parentheses() {
        let d = log_errors("default_program(x)(12): catastrophic error: cannot open source file \"a.h\"\n");
        assert_eq!(
            d,
            vec![Diagnostic { line: 12, text: "catastrophic error: cannot open source file \"a.h\"".into() }]
        );
    }

    #[test]
    fn code_objects_of_symbols() {
        assert_eq!(code_object_of("brisk_a_codeobject").as_deref(), Some("a_codeobject"));
        assert_eq!(code_object_of("brisk_a_before_run").as_deref(), Some("a"));
        assert_eq!(code_object_of("other"), None);
    }

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
    fn ptx_arch_is_the_newest_not_above_the_device() {
        let nvrtc13 = [75, 80, 86, 87, 88, 89, 90, 100, 103, 110, 120, 121];
        assert_eq!(ptx_arch((9, 0), &nvrtc13).unwrap(), "compute_90");
        assert_eq!(ptx_arch((8, 6), &nvrtc13).unwrap(), "compute_86");
        assert_eq!(ptx_arch((12, 2), &nvrtc13).unwrap(), "compute_121");
        assert!(ptx_arch((6, 1), &nvrtc13).is_err());
    }

    #[test]
    fn grid_shapes() {
        let block = i64::from(CUDA_BLOCK);
        assert_eq!(grid_blocks(0, 65535), 1);
        assert_eq!(grid_blocks(1, 65535), 1);
        assert_eq!(grid_blocks(block, 65535), 1);
        assert_eq!(grid_blocks(block + 1, 65535), 2);
        assert_eq!(grid_blocks(i64::MAX, 65535), 65535);
        assert_eq!(grid_blocks(-5, 65535), 1);
    }

    #[test]
    fn brisk_args_layout() {
        assert_eq!(std::mem::size_of::<BriskArgs>(), 64);
        assert_eq!(std::mem::align_of::<BriskArgs>(), 8);
    }

    #[test]
    fn wheel_libraries_are_found_under_python_prefixes() {
        let venv = tempfile::tempdir().unwrap();
        let lib = venv.path().join("lib/python3.13/site-packages/nvidia/cu13/lib");
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::create_dir_all(venv.path().join("lib/python3.12/site-packages")).unwrap();
        std::fs::write(lib.join(NVRTC_FILE), b"").unwrap();
        let prefixes = vec![venv.path().to_path_buf(), venv.path().join("missing"), venv.path().to_path_buf()];
        assert_eq!(wheel_candidates(&prefixes), vec![lib.join(NVRTC_FILE)]);
    }

    #[test]
    fn missing_nvrtc_says_how_to_install() {
        let e = missing_nvrtc(&Preload { loaded: None, failures: vec!["x: nope".into()], explicit_failed: false });
        assert_eq!(e.kind, crate::diag::ErrorKind::Runtime);
        assert!(e.message.contains("pip install \"nvidia-cuda-nvrtc==13.0.*\""), "{}", e.message);
        assert!(e.message.contains("could not load x: nope"), "{}", e.message);
    }
}

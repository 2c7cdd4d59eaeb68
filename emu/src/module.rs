//! Modules: the CUDA source carried with the PTX, compiled for the CPU.
//!
//! In: the image handed to `cuModuleLoadData`: PTX text followed by the
//! program's CUDA source (see [`SOURCE_MARKER`]; Brisk's runtime appends it
//! when `BRISK_CUDA_EMULATION=1`). Out: a loaded [`Module`] whose kernels
//! can be launched by the scheduler, or a [`LoadError`] with the compiler's
//! log.
//!
//! The source is compiled by the system C++ compiler under `shim.h`, with
//! FMA contraction as NVRTC's default (`--fmad=true`), into a shared library
//! cached by content hash. For each `.entry` of the PTX a trampoline
//! `__brisk_emu_launch_<name>(void** params)` is generated: it unpacks
//! cuLaunchKernel's parameter pointers into the parameter types of the
//! kernel (deduced from its function type), and the parameter sizes are
//! checked against the PTX's `.param` declarations when the module loads.

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::process::Command;

use cudarc::driver::sys::CUresult;
use sha2::{Digest, Sha256};

use crate::config::Config;

/// The line after the PTX that starts the CUDA source; each source line
/// follows as `//|<line>`, so the image stays valid PTX.
pub const SOURCE_MARKER: &str = "//@brisk-cuda-emulation-source";
/// The shim prepended to every module's source.
pub const SHIM: &str = include_str!("shim.h");
/// The ABI version `shim.h` declares (`BRISK_EMU_ABI`).
const ABI: u32 = 1;
/// Flags of every kernel compilation, before `BRISK_EMU_CXXFLAGS`.
pub const CXX_FLAGS: &[&str] = &[
    "-std=c++17",
    "-O2",
    "-march=native",
    // NVRTC contracts a*b+c into FMAs by default (--fmad=true); ISO C++ mode would not.
    "-ffp-contract=fast",
    "-fno-math-errno",
    "-fPIC",
    "-shared",
    "-w",
];

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Uint3 {
    pub x: u32,
    pub y: u32,
    pub z: u32,
}

pub type CollectiveFn = unsafe extern "C" fn(op: u32, mask: u32, value: u64, arg: u32) -> u64;
pub type LaunchFn = unsafe extern "C" fn(params: *mut *mut c_void);
type ParamSizeFn = unsafe extern "C" fn(i: u64) -> u64;

/// `BriskEmuModule` of `shim.h`: the module's thread indices and callbacks.
#[repr(C)]
pub struct ModuleState {
    pub abi: u32,
    pub reserved: u32,
    pub thread_idx: Uint3,
    pub block_idx: Uint3,
    pub block_dim: Uint3,
    pub grid_dim: Uint3,
    pub collective: Option<CollectiveFn>,
    pub atomics: u64,
    pub shared_start: *mut u8,
    pub shared_stop: *mut u8,
}

pub struct Kernel {
    pub name: String,
    pub launch: LaunchFn,
    /// Parameter sizes in bytes, as the PTX declares them.
    pub params: Vec<usize>,
}

pub struct Module {
    pub kernels: Vec<Kernel>,
    /// The library's `brisk_emu_module`.
    pub state: *mut ModuleState,
    /// The compiled library (kept loaded while the module is).
    _library: libloading::Library,
    pub library_path: PathBuf,
}

// SAFETY: `state` points into the module's own loaded library, which moves
// with it; it is only dereferenced by launches, which run under the driver's
// one lock, so no two threads use it at once.
unsafe impl Send for Module {}

#[derive(Debug)]
pub struct LoadError {
    pub code: CUresult,
    pub message: String,
    pub log: String,
}

impl LoadError {
    fn new(code: CUresult, message: impl Into<String>) -> LoadError {
        LoadError {
            code,
            message: message.into(),
            log: String::new(),
        }
    }
}

/// A kernel of the PTX: its name and parameter sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub params: Vec<usize>,
}

/// Bytes of a PTX parameter declaration such as `.param .align 8 .b8 k_param_0[64]` or `.param .u64 k_param_1`.
fn param_bytes(decl: &str) -> Option<usize> {
    let decl = decl.trim().trim_end_matches(',');
    let mut words = decl
        .split_whitespace()
        .filter(|w| *w != ".param" && !w.starts_with(".ptr"));
    let mut ty = words.next()?;
    if ty == ".align" {
        words.next()?;
        ty = words.next()?;
    }
    let name = words.next()?;
    let elem: usize = ty.trim_start_matches(".").get(1..)?.parse::<usize>().ok()? / 8;
    match name.find('[') {
        Some(open) => Some(
            elem * name[open + 1..]
                .trim_end_matches(']')
                .parse::<usize>()
                .ok()?,
        ),
        None => Some(elem),
    }
}

/// The `.entry` kernels of a PTX text.
pub fn ptx_entries(ptx: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut current: Option<Entry> = None;
    for line in ptx.lines() {
        let t = line.trim();
        if let Some(pos) = t.find(".entry ") {
            let rest = &t[pos + ".entry ".len()..];
            let name = rest.split(['(', ' ']).next().unwrap_or("").to_string();
            let entry = Entry {
                name,
                params: Vec::new(),
            };
            if rest.contains(')') || !rest.contains('(') {
                out.push(entry);
            } else {
                current = Some(entry);
            }
            continue;
        }
        if let Some(e) = current.as_mut() {
            if t.starts_with(".param") {
                if let Some(b) = param_bytes(t) {
                    e.params.push(b);
                }
            }
            if t.starts_with(')') {
                out.extend(current.take());
            }
        }
    }
    out
}

/// Splits an image into its PTX and the CUDA source after [`SOURCE_MARKER`].
pub fn split_image(image: &str) -> (&str, Option<String>) {
    let Some(at) = image.find(SOURCE_MARKER) else {
        return (image, None);
    };
    let ptx = &image[..at];
    let source: String = image[at + SOURCE_MARKER.len()..]
        .lines()
        .skip(1)
        .filter_map(|l| l.strip_prefix("//|"))
        .flat_map(|l| [l, "\n"])
        .collect();
    (ptx, Some(source))
}

/// The image carrying `source` after `ptx` (what Brisk's runtime loads in emulation mode).
pub fn image_with_source(ptx: &str, source: &str) -> String {
    let mut out = String::with_capacity(ptx.len() + source.len() * 2 / 1 + 64);
    out.push_str(ptx);
    if !ptx.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(SOURCE_MARKER);
    out.push('\n');
    for l in source.lines() {
        out.push_str("//|");
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The C++ translation unit of a module: shim, source, trampolines.
pub fn translation_unit(source: &str, entries: &[Entry]) -> String {
    let mut tu = String::with_capacity(SHIM.len() + source.len() + entries.len() * 256);
    tu.push_str(SHIM);
    tu.push_str("#line 1 \"brisk.cu\"\n");
    tu.push_str(source);
    tu.push_str("\n#line 1 \"brisk-emu-trampolines\"\n");
    for e in entries {
        let n = &e.name;
        tu.push_str(&format!(
            "extern \"C\" void __brisk_emu_launch_{n}(void** p) {{ brisk_emu_invoke({n}, p); }}\n\
             extern \"C\" uint64_t __brisk_emu_param_size_{n}(uint64_t i) {{ return brisk_emu_param_size({n}, i); }}\n"
        ));
    }
    tu
}

/// The cache root, as Brisk's (`$BRISK_CACHE_DIR`, `$XDG_CACHE_HOME/brisk`, `~/.cache/brisk`).
fn cache_dir() -> PathBuf {
    let root = if let Some(dir) = std::env::var_os("BRISK_CACHE_DIR") {
        PathBuf::from(dir)
    } else if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        PathBuf::from(dir).join("brisk")
    } else if let Some(home) = std::env::var_os("HOME") {
        PathBuf::from(home).join(".cache").join("brisk")
    } else {
        std::env::temp_dir().join("brisk-cache")
    };
    root.join("cuda-emu")
}

fn compiler_version(cxx: &str) -> String {
    Command::new(cxx)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Compiles `tu` into a shared library (or finds it in the cache).
fn compile(tu: &str, cfg: &Config) -> Result<PathBuf, LoadError> {
    let version = compiler_version(&cfg.cxx);
    let mut flags: Vec<String> = CXX_FLAGS.iter().map(|s| s.to_string()).collect();
    flags.extend(cfg.cxx_flags.iter().cloned());
    let mut h = Sha256::new();
    for part in [tu, &cfg.cxx, &flags.join(" "), &version] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let key: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let dir = cache_dir();
    let lib = dir.join(format!("{key}.so"));
    if lib.is_file() {
        return Ok(lib);
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        LoadError::new(
            CUresult::CUDA_ERROR_FILE_NOT_FOUND,
            format!("cannot create {}: {e}", dir.display()),
        )
    })?;
    let src = dir.join(format!("{key}.cpp"));
    let tmp = dir.join(format!(".tmp-{}-{key}.so", std::process::id()));
    std::fs::write(&src, tu).map_err(|e| {
        LoadError::new(
            CUresult::CUDA_ERROR_FILE_NOT_FOUND,
            format!("cannot write {}: {e}", src.display()),
        )
    })?;
    let output = Command::new(&cfg.cxx)
        .args(&flags)
        .arg("-o")
        .arg(&tmp)
        .arg(&src)
        .output()
        .map_err(|e| {
            LoadError::new(
                CUresult::CUDA_ERROR_INVALID_SOURCE,
                format!("cannot run the C++ compiler '{}': {e}", cfg.cxx),
            )
        })?;
    if !output.status.success() {
        let _ = std::fs::remove_file(&tmp);
        let log = String::from_utf8_lossy(&output.stderr).into_owned();
        let first = log
            .lines()
            .find(|l| l.contains("error"))
            .unwrap_or("")
            .to_string();
        return Err(LoadError {
            code: CUresult::CUDA_ERROR_INVALID_SOURCE,
            message: format!(
                "the C++ compiler rejected the module's CUDA source under the emulator's shim ({}): {first}",
                src.display()
            ),
            log,
        });
    }
    std::fs::rename(&tmp, &lib).map_err(|e| {
        LoadError::new(
            CUresult::CUDA_ERROR_FILE_NOT_FOUND,
            format!("cannot store {}: {e}", lib.display()),
        )
    })?;
    Ok(lib)
}

fn symbol<T: Copy>(lib: &libloading::Library, name: &str, path: &Path) -> Result<T, LoadError> {
    // SAFETY: every symbol looked up is one the translation unit defines with
    // the type the caller names (the shim's `brisk_emu_module`, trampolines
    // `void(void**)` and size functions `uint64_t(uint64_t)`).
    unsafe { lib.get::<T>(name.as_bytes()) }
        .map(|s| *s)
        .map_err(|e| {
            LoadError::new(
                CUresult::CUDA_ERROR_NOT_FOUND,
                format!("{} lacks '{name}': {e}", path.display()),
            )
        })
}

/// Compiles and loads the module of `image`.
pub fn load(image: &str, cfg: &Config, collective: CollectiveFn) -> Result<Module, LoadError> {
    let (ptx, source) = split_image(image);
    let Some(source) = source else {
        return Err(LoadError::new(
            CUresult::CUDA_ERROR_NO_BINARY_FOR_GPU,
            "the emulated CUDA driver runs CUDA source, and this module is PTX only: run Brisk with \
             BRISK_CUDA_EMULATION=1 so that its runtime hands the source over with the PTX",
        ));
    };
    let entries = ptx_entries(ptx);
    let tu = translation_unit(&source, &entries);
    let path = compile(&tu, cfg)?;
    // SAFETY: the library is the translation unit compiled above: the shim
    // and generated kernels, with no static constructors.
    let library = unsafe { libloading::Library::new(&path) }.map_err(|e| {
        LoadError::new(
            CUresult::CUDA_ERROR_INVALID_IMAGE,
            format!("cannot load {}: {e}", path.display()),
        )
    })?;
    let state = {
        // SAFETY: `brisk_emu_module` is the shim's `BriskEmuModule`, laid out as `ModuleState`.
        let s = unsafe { library.get::<*mut ModuleState>(b"brisk_emu_module") }.map_err(|e| {
            LoadError::new(
                CUresult::CUDA_ERROR_INVALID_IMAGE,
                format!("{} lacks brisk_emu_module: {e}", path.display()),
            )
        })?;
        let p: *mut ModuleState = *s;
        p
    };
    // SAFETY: `state` points at the library's `brisk_emu_module`, alive while `library` is.
    unsafe {
        if (*state).abi != ABI {
            return Err(LoadError::new(
                CUresult::CUDA_ERROR_INVALID_IMAGE,
                "the module was built for another shim ABI",
            ));
        }
        (*state).collective = Some(collective);
    }
    let mut kernels = Vec::with_capacity(entries.len());
    for e in &entries {
        let launch: LaunchFn = symbol(&library, &format!("__brisk_emu_launch_{}", e.name), &path)?;
        let size: ParamSizeFn = symbol(
            &library,
            &format!("__brisk_emu_param_size_{}", e.name),
            &path,
        )?;
        // SAFETY: the size function only reads a constant table.
        let actual: Vec<usize> = unsafe {
            let n = size(u64::MAX);
            (0..n).map(|i| size(i) as usize).collect()
        };
        if actual != e.params {
            return Err(LoadError::new(
                CUresult::CUDA_ERROR_INVALID_IMAGE,
                format!(
                    "kernel {}: the PTX declares parameters of {:?} bytes, the CUDA source {:?} bytes",
                    e.name, e.params, actual
                ),
            ));
        }
        kernels.push(Kernel {
            name: e.name.clone(),
            launch,
            params: e.params.clone(),
        });
    }
    Ok(Module {
        kernels,
        state,
        _library: library,
        library_path: path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PTX: &str = "//\n.version 9.0\n.target sm_90\n.address_size 64\n\n\t// .globl\tbrisk_a\n\
        .visible .entry brisk_a(\n\t.param .align 8 .b8 brisk_a_param_0[64]\n)\n{\n\tret;\n}\n\
        .visible .entry brisk_b(\n\t.param .u64 brisk_b_param_0,\n\t.param .u32 brisk_b_param_1\n)\n{\n}\n\
        .entry brisk_c()\n{\n}\n";

    #[test]
    fn entries_and_parameter_sizes() {
        assert_eq!(
            ptx_entries(PTX),
            vec![
                Entry {
                    name: "brisk_a".into(),
                    params: vec![64]
                },
                Entry {
                    name: "brisk_b".into(),
                    params: vec![8, 4]
                },
                Entry {
                    name: "brisk_c".into(),
                    params: vec![]
                },
            ]
        );
    }

    #[test]
    fn the_source_rides_after_the_ptx() {
        let source = "int x;\n\n  // a comment\nextern \"C\" __global__ void brisk_a(int) {}\n";
        let image = image_with_source(PTX, source);
        let (ptx, back) = split_image(&image);
        assert_eq!(ptx.trim_end(), PTX.trim_end());
        assert_eq!(back.as_deref(), Some(source));
        assert_eq!(split_image(PTX), (PTX, None));
        // Every added line is a PTX comment.
        assert!(image[PTX.len()..].lines().all(|l| l.starts_with("//")));
    }
}

//! CUDA device: the driver API (through cudarc) runs the plan's kernels on GPU 0.
//!
//! In: PTX from [`crate::runtime::nvrtc`] and the plan's kernel symbols.
//! Out: a [`CudaDevice`] implementing [`Device`]: one device allocation per
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

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::{Arc, OnceLock};

use cudarc::driver::{
    result as cu_result, sys as cu_sys, CudaContext, CudaEvent, CudaFunction, CudaGraph,
    CudaModule, CudaSlice, CudaStream, DevicePtr, DeviceRepr, DriverError, LaunchConfig,
    PinnedHostSlice, PushKernelArg,
};
use cudarc::nvrtc::Ptx;

use crate::diag::{Error, Result};
use crate::plan::CUDA_BLOCK;
use crate::plan::{BufferId, KernelId, Launch};
use crate::runtime::nvrtc::{c_text, guard, NVRTC};
pub use crate::runtime::nvrtc::{
    compile_ptx, compile_ptx_cached, load_nvrtc, nvrtc_available, nvrtc_info, nvrtc_options,
    NvrtcInfo, NVRTC_LIB_ENV, NVRTC_OPTIONS, NVRTC_REQUIREMENT,
};
use crate::runtime::{BatchCopy, BriskArgs, Device, SharedBuffer, StepArgs};

mod batch;

/// Copies per batched launch at most (the grid's y dimension); a larger
/// batch launches in parts.
const MAX_COPY_ROWS: u32 = 65535;

/// Set to `1` to synchronise after every launch (names the failing kernel).
pub const SYNC_ENV: &str = "BRISK_CUDA_SYNC";
/// Test-only: set to `1` to hand the CUDA source to the driver with the PTX,
/// for the emulated CUDA driver (`emu/`, `docs/cuda-emulation.md`), which
/// runs kernels from their source. A real driver ignores the extra lines.
pub const EMULATION_ENV: &str = "BRISK_CUDA_EMULATION";
/// The line after the PTX that starts the source; each source line follows
/// as `//|<line>`, a PTX comment (the emulator's `module::split_image`).
pub const EMULATION_SOURCE_MARKER: &str = "//@brisk-cuda-emulation-source";
/// Most blocks of a `Grid` launch; the kernels' grid-stride loops cover the rest.
const MAX_GRID_BLOCKS: u32 = 1 << 20;
/// Smallest allocation, so that every buffer has a valid, 8-byte aligned address.
const MIN_ALLOCATION: usize = 8;

// ---- Driver ----------------------------------------------------------------

/// The NVIDIA driver found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverInfo {
    /// The CUDA version the driver supports, (major, minor), e.g. (13, 0).
    pub version: (i32, i32),
    /// CUDA devices visible to this process.
    pub devices: i32,
    /// Device 0's name (the emulated driver's says so).
    pub name: String,
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
    let present = guard("looking for libcuda", || {
        Ok(unsafe { cu_sys::is_culib_present() })
    })?;
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
        let devices =
            cu_result::device::get_count().map_err(driver_error("cannot count CUDA devices"))?;
        let name = if devices > 0 {
            cu_result::device::get(0)
                .and_then(|d| cu_result::device::get_name(d))
                .unwrap_or_else(|_| "CUDA device 0".to_string())
        } else {
            String::new()
        };
        Ok(DriverInfo {
            version: (version / 1000, (version % 1000) / 10),
            devices,
            name,
        })
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
        let device =
            cu_result::device::get(0).map_err(driver_error("cannot open CUDA device 0"))?;
        let attribute = |a| {
            // SAFETY: `device` is a valid device handle from `cuDeviceGet`.
            unsafe { cu_result::device::get_attribute(device, a) }
                .map_err(driver_error("cannot query CUDA device 0"))
        };
        let major =
            attribute(cu_sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?;
        let minor =
            attribute(cu_sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?;
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
    let blocks = n
        .div_ceil(u64::from(CUDA_BLOCK))
        .clamp(1, u64::from(max_blocks.max(1)));
    u32::try_from(blocks).unwrap_or(max_blocks)
}

/// Blocks of a `Chunks` launch of `n` elements: one per chunk, never clamped
/// (each block takes its chunk by ticket; the grid must cover them all).
fn chunk_blocks(n: i64, max_blocks: u32) -> Result<u32> {
    let n = u64::try_from(n).unwrap_or(0);
    let blocks = n.div_ceil(crate::plan::CHUNK).max(1);
    u32::try_from(blocks).ok().filter(|&b| b <= max_blocks.max(1)).ok_or_else(|| {
        Error::runtime(format!("{n} elements need {blocks} blocks of {} elements, more than the GPU's {max_blocks}", crate::plan::CHUNK))
    })
}

// ---- The device --------------------------------------------------------------

// SAFETY: `BriskArgs` is `repr(C)` plain data (two device addresses, six
// 8-byte scalars, a device address, two 8-byte scalars and a device address, no
// padding), laid out exactly as the kernels' `const BriskArgs _a` parameter;
// cuLaunchKernel copies it from the pointer cudarc passes.
unsafe impl DeviceRepr for BriskArgs {}

const _: () =
    assert!(std::mem::size_of::<BriskArgs>() == 96 && std::mem::align_of::<BriskArgs>() == 8);

/// Plan buffers in GPU memory and the program's kernels, on device 0.
pub struct CudaDevice {
    functions: Vec<CudaFunction>,
    symbols: Vec<String>,
    /// The plan's name of every buffer (for messages).
    names: Vec<String>,
    /// (shared with another copy's device where a sweep adopted it: copied on write)
    buffers: Vec<Arc<CudaSlice<u8>>>,
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
    /// Seconds per timer slot of resolved timed launches (`launch_timed`).
    timers: Vec<f64>,
    /// Timed launches not yet resolved: (slot, event before, event after).
    timed: Vec<(usize, CudaEvent, CudaEvent)>,
    /// Captured graphs (`Device::end_capture`), replayed by number.
    graphs: Vec<CudaGraph>,
    /// Drains (`Device::read_async`): a stream of its own for the copies to the host, so
    /// that they overlap the kernels launched next; page-locked buffers, reused by every
    /// drain; and the copies started since `take_reads` (buffer in `pinned`, bytes).
    copy_stream: Arc<CudaStream>,
    /// (by the copy's number in its drain; none for empty copies)
    pinned: Vec<Option<PinnedHostSlice<u8>>>,
    reads: Vec<(usize, usize)>,
    /// Batched launches' copy tables, by (kernel, part) (`batch`).
    copy_tables: std::collections::BTreeMap<(usize, usize), batch::CopyTable>,
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

/// A device's pointer and size tables before its buffers exist (one entry
/// each; `allocate` makes them as long as the plan's buffers).
fn empty_tables(stream: &Arc<CudaStream>) -> Result<(CudaSlice<u64>, CudaSlice<i64>)> {
    let pointers = stream
        .alloc_zeros::<u64>(1)
        .map_err(driver_error("cannot allocate GPU memory"))?;
    let sizes = stream
        .alloc_zeros::<i64>(1)
        .map_err(driver_error("cannot allocate GPU memory"))?;
    Ok((pointers, sizes))
}

/// Whether [`EMULATION_ENV`] asks for the source to go with the PTX.
pub fn emulation_requested() -> bool {
    std::env::var(EMULATION_ENV).is_ok_and(|v| v == "1")
}

/// The module image: the PTX, and in emulation mode the source after it as PTX comments.
pub fn module_image(ptx: &str, source: &str, emulation: bool) -> String {
    if !emulation {
        return ptx.to_string();
    }
    let mut image =
        String::with_capacity(ptx.len() + source.len() + 4 * source.lines().count() + 64);
    image.push_str(ptx);
    if !ptx.ends_with('\n') {
        image.push('\n');
    }
    image.push_str(EMULATION_SOURCE_MARKER);
    image.push('\n');
    for line in source.lines() {
        image.push_str("//|");
        image.push_str(line);
        image.push('\n');
    }
    image
}

/// The `.version` line of a PTX text.
fn ptx_version(ptx: &str) -> &str {
    ptx.lines()
        .find(|l| l.trim_start().starts_with(".version"))
        .map(str::trim)
        .unwrap_or("(no .version line)")
}

/// The driver JIT's error log for `ptx` (loaded again with a log buffer), when it has one.
fn jit_log(ctx: &CudaContext, ptx: &CString) -> Option<String> {
    ctx.bind_to_thread().ok()?;
    let mut log = vec![0 as c_char; 16 * 1024];
    let mut options = [
        cu_sys::CUjit_option::CU_JIT_ERROR_LOG_BUFFER,
        cu_sys::CUjit_option::CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
    ];
    let mut values: [*mut c_void; 2] = [log.as_mut_ptr().cast(), log.len() as *mut c_void];
    let mut module: cu_sys::CUmodule = std::ptr::null_mut();
    // SAFETY: `ptx` is a NUL-terminated PTX image; `options` and `values` have
    // two entries each, the buffer option points at `log` with its true size
    // (passed by value in the pointer slot, as the driver API specifies), and
    // `module` is valid for one write. The context is current on this thread.
    let status = unsafe {
        cu_sys::cuModuleLoadDataEx(
            &mut module,
            ptx.as_ptr().cast(),
            2,
            options.as_mut_ptr(),
            values.as_mut_ptr(),
        )
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
    let mut message = format!(
        "the CUDA driver cannot load the compiled program: {}",
        describe(e)
    );
    let driver = DRIVER
        .get()
        .map(|d| format!("{}.{}", d.version.0, d.version.1))
        .unwrap_or_else(|| "?".into());
    let nvrtc = NVRTC
        .get()
        .map(|n| format!("{}.{}", n.version.0, n.version.1))
        .unwrap_or_else(|| "?".into());
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
    /// Creates a context on device 0, loads `ptx` (compiled from `source`)
    /// and looks up one function per plan kernel, in plan order.
    pub fn new(ptx: &str, source: &str, kernel_symbols: &[String]) -> Result<CudaDevice> {
        driver_info()?;
        let image = module_image(ptx, source, emulation_requested());
        let c_ptx = CString::new(image.as_str())
            .map_err(|_| Error::runtime("the PTX contains a NUL byte"))?;
        if let Some(bad) = kernel_symbols.iter().find(|s| s.contains('\0')) {
            return Err(Error::runtime(format!(
                "kernel symbol {bad:?} contains a NUL byte"
            )));
        }
        guard("starting the CUDA device", || {
            let ctx = CudaContext::new(0)
                .map_err(driver_error("cannot create a CUDA context on device 0"))?;
            // SAFETY: called before any allocation. Allocation, copies and launches
            // use one stream, except the drains' copies to the host, which `read_async`
            // orders after the kernels with an event of its own and `take_reads` waits
            // for (the emulated driver makes such copies as late as these allow, and
            // the end-to-end tests compare the records with cpp_standalone); no buffer
            // is resized or freed while a drain is pending (`collect_drain` ends runs).
            unsafe { ctx.disable_event_tracking() };
            // A stream of its own: the legacy default stream cannot be captured into graphs.
            let stream = ctx
                .new_stream()
                .map_err(driver_error("cannot create a CUDA stream"))?;
            let copy_stream = ctx
                .new_stream()
                .map_err(driver_error("cannot create a CUDA stream"))?;
            let name = ctx.name().unwrap_or_else(|_| "CUDA device 0".to_string());
            let compute_capability = ctx
                .compute_capability()
                .map_err(driver_error("cannot query CUDA device 0"))?;
            let module = ctx
                .load_module(Ptx::from_src(image.as_str()))
                .map_err(|e| module_error(&ctx, &c_ptx, ptx, e))?;
            let mut functions = Vec::with_capacity(kernel_symbols.len());
            for symbol in kernel_symbols {
                let f = module.load_function(symbol).map_err(driver_error(format!(
                    "the compiled program has no kernel '{symbol}'"
                )))?;
                functions.push(f);
            }
            let max_grid = ctx
                .attribute(cu_sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X)
                .map_err(driver_error("cannot query CUDA device 0"))?;
            let max_grid = u32::try_from(max_grid)
                .unwrap_or(1)
                .clamp(1, MAX_GRID_BLOCKS);
            let (pointers, sizes) = empty_tables(&stream)?;
            let pointers_addr = address(&pointers, &stream);
            let sizes_addr = address(&sizes, &stream);
            let sync_each_launch = std::env::var(SYNC_ENV).is_ok_and(|v| v == "1");
            Ok(CudaDevice {
                functions,
                symbols: kernel_symbols.to_vec(),
                names: Vec::new(),
                buffers: Vec::new(),
                lens: Vec::new(),
                pointers,
                sizes,
                pointers_addr,
                sizes_addr,
                max_grid,
                sync_each_launch,
                in_flight: None,
                timers: Vec::new(),
                timed: Vec::new(),
                graphs: Vec::new(),
                copy_stream,
                pinned: Vec::new(),
                reads: Vec::new(),
                copy_tables: Default::default(),
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
        self.stream
            .alloc_zeros::<u8>(bytes.max(MIN_ALLOCATION))
            .map_err(|e| {
                let free = self
                    .ctx
                    .mem_get_info()
                    .map(|(free, total)| format!(" ({} of {} MiB free)", free >> 20, total >> 20))
                    .unwrap_or_default();
                let mut error = Error::runtime(format!(
                    "cannot allocate {bytes} bytes of GPU memory for {what}{free}: {}",
                    describe(e)
                ));
                error.out_of_memory = true;
                error
            })
    }

    /// A buffer for messages: the array's name.
    fn buffer_name(&self, buf: usize) -> String {
        self.names
            .get(buf)
            .map(|n| format!("the array '{n}'"))
            .unwrap_or_else(|| format!("buffer {buf}"))
    }

    /// Waits for the stream, naming the last kernel launched if something failed.
    fn wait(&mut self, during: &str) -> Result<()> {
        let synced = self
            .stream
            .synchronize()
            .and_then(|()| self.ctx.check_err());
        let in_flight = self.in_flight.take();
        synced.map_err(|e| {
            let kernel = in_flight
                .and_then(|k| self.symbols.get(k))
                .map(String::as_str);
            let mut message = format!("CUDA failed {during}: {}", describe(e));
            if let Some(kernel) = kernel {
                message.push_str(&format!(
                    "\n  last kernel launched before this point: {kernel}{}",
                    if self.sync_each_launch {
                        ""
                    } else {
                        " (set BRISK_CUDA_SYNC=1 to stop at the failing kernel)"
                    }
                ));
            }
            let mut err = Error::runtime(message);
            if self.sync_each_launch {
                // (the executor names its code object from the plan's kernel table)
                err.kernel = kernel.map(str::to_string);
            }
            err
        })
    }

    /// A new allocation of `bytes` bytes holding buffer `buf`'s first bytes
    /// (as many as both have; the rest zero), copied in stream order.
    fn copy_of(&self, buf: usize, bytes: usize) -> Result<CudaSlice<u8>> {
        let mut new = self.alloc(bytes, &self.buffer_name(buf))?;
        let keep = self.lens[buf].min(bytes);
        if keep > 0 {
            let src = self.buffers[buf].slice(..keep);
            let mut dst = new.slice_mut(..keep);
            self.stream
                .memcpy_dtod(&src, &mut dst)
                .map_err(driver_error(format!("cannot copy GPU buffer {buf}")))?;
        }
        Ok(new)
    }

    /// Buffer `buf` for writing: a copy of its own first where another
    /// copy's device shares it ([`Device::adopt_buffer`]).
    fn owned(&mut self, buf: usize) -> Result<&mut CudaSlice<u8>> {
        if Arc::get_mut(&mut self.buffers[buf]).is_none() {
            let own = self.copy_of(buf, self.lens[buf])?;
            self.buffers[buf] = Arc::new(own);
            self.upload_pointers()?;
        }
        Arc::get_mut(&mut self.buffers[buf])
            .ok_or_else(|| Error::internal(format!("GPU buffer {buf} is still shared")))
    }

    /// Uploads the address of every buffer (after `allocate` and `resize`).
    fn upload_pointers(&mut self) -> Result<()> {
        let table: Vec<u64> = self
            .buffers
            .iter()
            .map(|b| address(b, &self.stream))
            .collect();
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
            Error::runtime(format!(
                "{op}: no buffer {buf} (the device has {} buffers)",
                self.lens.len()
            ))
        })?;
        match offset.checked_add(len) {
            Some(end) if end <= size => Ok(()),
            _ => Err(Error::runtime(format!(
                "{op} of {len} bytes at {offset} past buffer {buf} ({size} bytes)"
            ))),
        }
    }
}

impl Device for CudaDevice {
    fn backend(&self) -> &'static str {
        "cuda"
    }

    fn target(&self) -> crate::plan::Target {
        crate::plan::Target::Cuda
    }

    fn allocate(&mut self, bytes: &[usize], names: &[String]) -> Result<()> {
        self.names = names.to_vec();
        let mut buffers = Vec::with_capacity(bytes.len());
        for (i, &b) in bytes.iter().enumerate() {
            buffers.push(Arc::new(self.alloc(b, &self.buffer_name(i))?));
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

    fn write(&mut self, BufferId(buf): BufferId, offset: usize, data: &[u8]) -> Result<()> {
        self.check_range(buf, offset, data.len(), "write")?;
        if data.is_empty() {
            return Ok(());
        }
        let stream = Arc::clone(&self.stream);
        let mut dst = self.owned(buf)?.slice_mut(offset..offset + data.len());
        stream
            .memcpy_htod(data, &mut dst)
            .map_err(driver_error(format!("cannot copy to GPU buffer {buf}")))?;
        self.wait(&format!("writing GPU buffer {buf}"))
    }

    fn read(&mut self, BufferId(buf): BufferId, offset: usize, len: usize) -> Result<Vec<u8>> {
        self.check_range(buf, offset, len, "read")?;
        self.wait(&format!("before reading GPU buffer {buf}"))?;
        let mut out = vec![0u8; len];
        if len > 0 {
            let src = self.buffers[buf].slice(offset..offset + len);
            self.stream
                .memcpy_dtoh(&src, &mut out)
                .map_err(driver_error(format!("cannot copy GPU buffer {buf}")))?;
            self.wait(&format!("reading GPU buffer {buf}"))?;
        }
        Ok(out)
    }

    fn read_async(&mut self, BufferId(buf): BufferId, offset: usize, len: usize) -> Result<()> {
        self.check_range(buf, offset, len, "read")?;
        let k = self.reads.len();
        if self.pinned.len() <= k {
            self.pinned.resize_with(k + 1, || None);
        }
        if len > 0 && self.pinned[k].as_ref().is_none_or(|p| p.len() < len) {
            let bytes = len.next_power_of_two();
            // SAFETY: the allocation is `bytes` bytes of page-locked host memory, not yet
            // initialised; it is zeroed through its pointer, valid for exactly those
            // bytes, before anything reads it.
            let mut p = unsafe { self.ctx.alloc_pinned_with_flags::<u8>(bytes, 0) }.map_err(
                driver_error(format!(
                    "cannot allocate {bytes} bytes of page-locked host memory"
                )),
            )?;
            let ptr = p
                .as_mut_ptr()
                .map_err(driver_error("cannot use page-locked host memory"))?;
            // SAFETY: `ptr` points at the `bytes` bytes allocated just above.
            unsafe { std::ptr::write_bytes(ptr, 0, bytes) };
            self.pinned[k] = Some(p);
        }
        if len > 0 {
            // after the work launched so far on the kernels' stream
            let launched = self
                .stream
                .record_event(None)
                .map_err(driver_error("cannot record a CUDA event"))?;
            self.copy_stream
                .wait(&launched)
                .map_err(driver_error("cannot order the copy stream"))?;
            let src = address(&self.buffers[buf], &self.copy_stream) + offset as u64;
            let pinned = self.pinned[k]
                .as_mut()
                .ok_or_else(|| Error::internal("no page-locked buffer for a drain"))?;
            let dst = pinned
                .as_mut_ptr()
                .map_err(driver_error("cannot use page-locked host memory"))?;
            // (not `CudaStream::memcpy_dtoh`: it copies as many bytes as the whole host
            // buffer holds, past the source range; the emulated driver showed it)
            // SAFETY: `dst` points at a page-locked buffer of at least `len` bytes
            // (allocated above), which nothing reads or writes until `take_reads` has
            // waited for the copy stream; `src` is `len` bytes inside a live device buffer
            // (`check_range`), which is not resized or freed while a drain is pending
            // (`Executor::collect_drain` ends every run).
            unsafe {
                cu_result::memcpy_dtoh_async(
                    std::slice::from_raw_parts_mut(dst, len),
                    src,
                    self.copy_stream.cu_stream(),
                )
            }
            .map_err(driver_error(format!("cannot copy GPU buffer {buf}")))?;
        }
        self.reads.push((k, len));
        Ok(())
    }

    fn take_reads(&mut self, f: &mut dyn FnMut(usize, &[u8]) -> Result<()>) -> Result<()> {
        // Wait for the copies. (Not through the page-locked slices' own events: with
        // cudarc's event tracking off, the copies do not record them, so they would
        // not wait; the emulated driver, which makes such copies late, showed it.)
        self.copy_stream
            .synchronize()
            .map_err(driver_error("CUDA failed copying records to the host"))?;
        for (k, (slot, len)) in std::mem::take(&mut self.reads).into_iter().enumerate() {
            if len == 0 {
                f(k, &[])?;
                continue;
            }
            let pinned = self.pinned.get(slot).and_then(Option::as_ref);
            let pinned =
                pinned.ok_or_else(|| Error::internal("no page-locked buffer for a drain"))?;
            let host = pinned
                .as_slice()
                .map_err(driver_error("CUDA failed copying records to the host"))?;
            f(k, &host[..len])?;
        }
        Ok(())
    }

    fn zero(&mut self, BufferId(buf): BufferId, offset: usize, len: usize) -> Result<()> {
        self.check_range(buf, offset, len, "zero")?;
        if len == 0 {
            return Ok(());
        }
        let stream = Arc::clone(&self.stream);
        let mut dst = self.owned(buf)?.slice_mut(offset..offset + len);
        // stream-ordered: after the kernels launched so far, before the ones launched next
        stream
            .memset_zeros(&mut dst)
            .map_err(driver_error(format!("cannot zero GPU buffer {buf}")))
    }

    fn resize(&mut self, BufferId(buf): BufferId, bytes: usize) -> Result<()> {
        if buf >= self.lens.len() {
            return Err(Error::runtime(format!("resize: no buffer {buf}")));
        }
        let new = self.copy_of(buf, bytes)?;
        // The old allocation is freed in stream order, after the copy and any kernel using it
        // (or kept by the copies that share it).
        self.buffers[buf] = Arc::new(new);
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
        self.stream
            .memcpy_htod(lens, &mut self.sizes)
            .map_err(driver_error("cannot upload the size table"))?;
        self.wait("uploading the size table")
    }

    fn launch(
        &mut self,
        KernelId(kernel): KernelId,
        launch: Launch,
        args: &StepArgs,
    ) -> Result<()> {
        let symbol = self.symbols.get(kernel).ok_or_else(|| {
            Error::runtime(format!(
                "no kernel {kernel} (the program has {})",
                self.symbols.len()
            ))
        })?;
        if args.n < 0 {
            return Err(Error::runtime(format!(
                "kernel {symbol}: negative element count {}",
                args.n
            )));
        }
        let grid = match launch {
            Launch::Grid => grid_blocks(args.n, self.max_grid),
            Launch::Block => 1,
            Launch::Chunks => chunk_blocks(args.n, self.max_grid)?,
        };
        let cfg = LaunchConfig {
            grid_dim: (grid, 1, 1),
            block_dim: (CUDA_BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
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
        unsafe { builder.launch(cfg) }
            .map_err(driver_error(format!("cannot launch kernel {symbol}")))?;
        self.in_flight = Some(kernel);
        if self.sync_each_launch {
            let during = format!("in kernel {symbol}");
            self.wait(&during)?;
        }
        Ok(())
    }

    fn tables(&self) -> Option<(u64, u64)> {
        Some((self.pointers_addr, self.sizes_addr))
    }

    fn free_memory(&self) -> Option<u64> {
        self.memory().ok().map(|(free, _)| free as u64)
    }

    fn share_buffer(&self, BufferId(buf): BufferId) -> Option<SharedBuffer> {
        let b: Arc<dyn std::any::Any + Send + Sync> = Arc::clone(self.buffers.get(buf)?) as _;
        Some(SharedBuffer(b))
    }

    fn adopt_buffer(&mut self, BufferId(buf): BufferId, shared: &SharedBuffer, bytes: usize) -> Result<bool> {
        let Ok(slice) = Arc::clone(&shared.0).downcast::<CudaSlice<u8>>() else {
            return Ok(false);
        };
        // (only memory of this device's context, holding the bytes the plan expects)
        if slice.context().cu_ctx() != self.ctx.cu_ctx() || slice.len() < bytes.max(MIN_ALLOCATION) {
            return Ok(false);
        }
        self.check_range(buf, 0, 0, "adopt")?;
        self.buffers[buf] = slice;
        self.lens[buf] = bytes;
        self.upload_pointers()?;
        Ok(true)
    }

    fn launch_batch(
        &mut self,
        kernel: KernelId,
        launch: Launch,
        args: &StepArgs,
        copies: &[BatchCopy],
    ) -> Result<()> {
        self.launch_batch_of(kernel, launch, args, copies)
    }

    fn prepare_batch(
        &mut self,
        kernel: KernelId,
        launch: Launch,
        copies: &[BatchCopy],
    ) -> Result<()> {
        self.prepare_batch_of(kernel, launch, copies)
    }

    fn launch_timed(
        &mut self,
        KernelId(kernel): KernelId,
        launch: Launch,
        args: &StepArgs,
        slot: usize,
    ) -> Result<()> {
        let timing = Some(cu_sys::CUevent_flags::CU_EVENT_DEFAULT);
        let before = self
            .stream
            .record_event(timing)
            .map_err(driver_error("cannot record a CUDA event"))?;
        self.launch(KernelId(kernel), launch, args)?;
        let after = self
            .stream
            .record_event(timing)
            .map_err(driver_error("cannot record a CUDA event"))?;
        self.timed.push((slot, before, after));
        if self.timed.len() >= MAX_TIMED_LAUNCHES {
            self.resolve_timers()?;
        }
        Ok(())
    }

    fn take_timers(&mut self) -> Result<Vec<f64>> {
        self.resolve_timers()?;
        Ok(std::mem::take(&mut self.timers))
    }

    fn synchronize(&mut self) -> Result<()> {
        self.wait("while running kernels")
    }

    fn graphs_allowed(&self) -> bool {
        self.target().replays_graphs() && !self.sync_each_launch
    }

    fn buffer_address(&self, BufferId(buf): BufferId) -> Result<u64> {
        let b = self
            .buffers
            .get(buf)
            .ok_or_else(|| Error::runtime(format!("no buffer {buf}")))?;
        Ok(address(b, &self.stream))
    }

    fn begin_capture(&mut self) -> Result<()> {
        self.stream
            .begin_capture(cu_sys::CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
            .map_err(driver_error("cannot begin capturing a CUDA graph"))
    }

    fn end_capture(&mut self) -> Result<usize> {
        let graph = self
            .stream
            .end_capture(cu_sys::CUgraphInstantiate_flags(0))
            .map_err(driver_error("cannot capture a CUDA graph"))?
            .ok_or_else(|| Error::runtime("the captured CUDA graph is empty"))?;
        self.graphs.push(graph);
        Ok(self.graphs.len() - 1)
    }

    fn launch_graph(&mut self, graph: usize) -> Result<()> {
        let g = self
            .graphs
            .get(graph)
            .ok_or_else(|| Error::runtime(format!("no CUDA graph {graph}")))?;
        g.launch()
            .map_err(driver_error("cannot launch a CUDA graph"))?;
        self.in_flight = None;
        Ok(())
    }

    fn clear_graphs(&mut self) {
        self.graphs.clear();
    }
}

/// Timed launches kept before their events are read (and freed).
const MAX_TIMED_LAUNCHES: usize = 4096;

impl CudaDevice {
    /// Adds the time between each pending pair of events to its slot.
    fn resolve_timers(&mut self) -> Result<()> {
        if self.timed.is_empty() {
            return Ok(());
        }
        self.wait("while running profiled kernels")?;
        for (slot, before, after) in std::mem::take(&mut self.timed) {
            let ms = before
                .elapsed_ms(&after)
                .map_err(driver_error("cannot read a CUDA event"))?;
            super::add_to_timer(&mut self.timers, slot, f64::from(ms) / 1000.0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn emulation_images_carry_the_source_as_comments() {
        let ptx = ".version 9.0\n.entry k()\n{\n}\n";
        assert_eq!(module_image(ptx, "int x;\n", false), ptx);
        let image = module_image(ptx, "int x;\n\nvoid f() {}", true);
        assert_eq!(&image[..ptx.len()], ptx);
        assert_eq!(
            &image[ptx.len()..],
            "//@brisk-cuda-emulation-source\n//|int x;\n//|\n//|void f() {}\n"
        );
    }
}

//! The exported CUDA driver API: the `cu*` functions cudarc calls.
//!
//! In: C calls with C arguments. Out: `CUresult` codes and written-out
//! values. Each function only unpacks its arguments and calls
//! [`crate::driver::Driver`] under the one global lock; a panic inside is
//! caught and becomes `CUDA_ERROR_UNKNOWN`. Enum arguments arrive as plain
//! integers (an unknown value from C must not become an invalid Rust enum).

#![allow(non_snake_case)]

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, OnceLock};

use cudarc::driver::sys::{
    CUcontext, CUdevice, CUdevice_attribute as Attr, CUdeviceptr, CUevent, CUfunction, CUgraph,
    CUgraphExec, CUjit_option, CUmodule, CUresult, CUstream, CUuuid,
};

use crate::config::Config;
use crate::driver::{self, Driver, Res, CONTEXT};
use crate::sched::Shape;
use crate::stats::Stats;

static DRIVER: Mutex<Option<Driver>> = Mutex::new(None);

thread_local! {
    /// The calling thread's current context (0 or [`CONTEXT`]).
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

fn lock() -> MutexGuard<'static, Option<Driver>> {
    DRIVER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn code(r: std::thread::Result<Res>) -> CUresult {
    match r {
        Ok(Ok(())) => CUresult::CUDA_SUCCESS,
        Ok(Err(c)) => c,
        Err(_) => CUresult::CUDA_ERROR_UNKNOWN,
    }
}

/// Runs `f` on the initialised driver.
fn with(f: impl FnOnce(&mut Driver) -> Res) -> CUresult {
    code(catch_unwind(AssertUnwindSafe(|| match lock().as_mut() {
        None => Err(CUresult::CUDA_ERROR_NOT_INITIALIZED),
        Some(d) => f(d),
    })))
}

/// Runs `f` on the initialised driver with a current context.
fn with_ctx(f: impl FnOnce(&mut Driver) -> Res) -> CUresult {
    with(|d| {
        if CURRENT.with(Cell::get) != CONTEXT || d.primary_retains == 0 {
            return Err(CUresult::CUDA_ERROR_INVALID_CONTEXT);
        }
        f(d)
    })
}

/// Writes `value` through an out-pointer of the API.
fn put<T>(p: *mut T, value: T) -> Res {
    if p.is_null() {
        return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
    }
    // SAFETY: the caller passes a non-null pointer to writable storage for a
    // `T` (the driver API's contract for every out-parameter); null is rejected.
    unsafe { p.write(value) };
    Ok(())
}

fn device_ok(dev: CUdevice) -> Res {
    if dev == 0 {
        Ok(())
    } else {
        Err(CUresult::CUDA_ERROR_INVALID_DEVICE)
    }
}

/// Changes the settings of the initialised driver (for tests; not part of the C API).
pub fn configure(f: impl FnOnce(&mut Config)) {
    if let Some(d) = lock().as_mut() {
        f(&mut d.cfg);
        d.reconfigure();
    }
}

/// The launch statistics so far (for tests; not part of the C API).
pub fn stats() -> Stats {
    lock().as_ref().map(|d| d.stats.clone()).unwrap_or_default()
}

extern "C" fn write_stats_at_exit() {
    let Ok(guard) = DRIVER.try_lock() else { return };
    if let Some(d) = guard.as_ref() {
        if let Some(dir) = &d.cfg.stats_dir {
            if let Err(e) = d.stats.write(dir) {
                eprintln!(
                    "emulated CUDA driver: cannot write launch statistics to {}: {e}",
                    dir.display()
                );
            }
        }
    }
}

// ---- initialisation and the device ------------------------------------------------

#[no_mangle]
pub extern "C" fn cuInit(flags: c_uint) -> CUresult {
    code(catch_unwind(|| {
        if flags != 0 {
            return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
        }
        let mut g = lock();
        if g.is_none() {
            let cfg = Config::from_env();
            if cfg.stats_dir.is_some() {
                // SAFETY: registers a plain extern "C" function without arguments.
                unsafe { libc::atexit(write_stats_at_exit) };
            }
            *g = Some(Driver::new(cfg));
        }
        Ok(())
    }))
}

#[no_mangle]
pub extern "C" fn cuDriverGetVersion(version: *mut c_int) -> CUresult {
    code(Ok(put(version, driver::DRIVER_VERSION)))
}

#[no_mangle]
pub extern "C" fn cuDeviceGetCount(count: *mut c_int) -> CUresult {
    with(|_| put(count, 1))
}

#[no_mangle]
pub extern "C" fn cuDeviceGet(device: *mut CUdevice, ordinal: c_int) -> CUresult {
    with(|_| {
        device_ok(ordinal)?;
        put(device, 0)
    })
}

fn attribute(a: c_int) -> c_int {
    let is = |x: Attr| a == x as c_int;
    let (major, minor) = driver::COMPUTE_CAPABILITY;
    let table: [(Attr, c_int); 36] = [
        (
            Attr::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
            driver::MAX_THREADS_PER_BLOCK as c_int,
        ),
        (
            Attr::CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X,
            driver::MAX_BLOCK_DIM[0] as c_int,
        ),
        (
            Attr::CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y,
            driver::MAX_BLOCK_DIM[1] as c_int,
        ),
        (
            Attr::CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z,
            driver::MAX_BLOCK_DIM[2] as c_int,
        ),
        (
            Attr::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X,
            driver::MAX_GRID_DIM[0] as c_int,
        ),
        (
            Attr::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y,
            driver::MAX_GRID_DIM[1] as c_int,
        ),
        (
            Attr::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z,
            driver::MAX_GRID_DIM[2] as c_int,
        ),
        (
            Attr::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK,
            driver::SHARED_PER_BLOCK,
        ),
        (Attr::CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY, 64 << 10),
        (Attr::CU_DEVICE_ATTRIBUTE_WARP_SIZE, 32),
        (Attr::CU_DEVICE_ATTRIBUTE_MAX_PITCH, c_int::MAX),
        (Attr::CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK, 65536),
        (Attr::CU_DEVICE_ATTRIBUTE_CLOCK_RATE, 1_755_000),
        (Attr::CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT, 512),
        (
            Attr::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
            driver::MULTIPROCESSORS,
        ),
        (Attr::CU_DEVICE_ATTRIBUTE_KERNEL_EXEC_TIMEOUT, 0),
        (Attr::CU_DEVICE_ATTRIBUTE_INTEGRATED, 0),
        (Attr::CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY, 1),
        (Attr::CU_DEVICE_ATTRIBUTE_COMPUTE_MODE, 0),
        (Attr::CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS, 1),
        (Attr::CU_DEVICE_ATTRIBUTE_ECC_ENABLED, 1),
        (Attr::CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, 2_619_000),
        (Attr::CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, 5120),
        (Attr::CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, 50 << 20),
        (
            Attr::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR,
            2048,
        ),
        (Attr::CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT, 2),
        (Attr::CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING, 1),
        (Attr::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, major),
        (Attr::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, minor),
        (
            Attr::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR,
            228 << 10,
        ),
        (
            Attr::CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR,
            65536,
        ),
        (Attr::CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY, 1),
        (Attr::CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH, 1),
        (
            Attr::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
            227 << 10,
        ),
        (Attr::CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR, 32),
        (Attr::CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, 1),
    ];
    table
        .iter()
        .find(|(x, _)| is(*x))
        .map(|&(_, v)| v)
        .unwrap_or(0)
}

#[no_mangle]
pub extern "C" fn cuDeviceGetAttribute(
    value: *mut c_int,
    attrib: c_int,
    dev: CUdevice,
) -> CUresult {
    with(|_| {
        device_ok(dev)?;
        put(value, attribute(attrib))
    })
}

#[no_mangle]
pub extern "C" fn cuDeviceGetName(name: *mut c_char, len: c_int, dev: CUdevice) -> CUresult {
    with(|_| {
        device_ok(dev)?;
        let n = usize::try_from(len).map_err(|_| CUresult::CUDA_ERROR_INVALID_VALUE)?;
        if name.is_null() || n == 0 {
            return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
        }
        let bytes = driver::DEVICE_NAME.as_bytes();
        let k = bytes.len().min(n - 1);
        // SAFETY: `name` is writable for `len` bytes (API contract); k + 1 <= len.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), name.cast::<u8>(), k);
            *name.add(k) = 0;
        }
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn cuDeviceTotalMem_v2(bytes: *mut usize, dev: CUdevice) -> CUresult {
    with(|d| {
        device_ok(dev)?;
        put(bytes, d.memory.total() as usize)
    })
}

#[no_mangle]
pub extern "C" fn cuDeviceGetUuid_v2(uuid: *mut CUuuid, dev: CUdevice) -> CUresult {
    with(|_| {
        device_ok(dev)?;
        let mut bytes = [0 as c_char; 16];
        for (b, c) in bytes.iter_mut().zip(b"brisk-cuda-emu!!") {
            *b = *c as c_char;
        }
        put(uuid, CUuuid { bytes })
    })
}

#[no_mangle]
pub extern "C" fn cuDeviceGetUuid(uuid: *mut CUuuid, dev: CUdevice) -> CUresult {
    cuDeviceGetUuid_v2(uuid, dev)
}

// ---- contexts -----------------------------------------------------------------------

#[no_mangle]
pub extern "C" fn cuDevicePrimaryCtxRetain(ctx: *mut CUcontext, dev: CUdevice) -> CUresult {
    with(|d| {
        device_ok(dev)?;
        put(ctx, CONTEXT as CUcontext)?;
        d.primary_retains += 1;
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn cuDevicePrimaryCtxRelease_v2(dev: CUdevice) -> CUresult {
    with(|d| {
        device_ok(dev)?;
        if d.primary_retains == 0 {
            return Err(CUresult::CUDA_ERROR_INVALID_CONTEXT);
        }
        d.primary_retains -= 1;
        if d.primary_retains == 0 {
            d.reset();
        }
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn cuDevicePrimaryCtxReset_v2(dev: CUdevice) -> CUresult {
    with(|d| {
        device_ok(dev)?;
        d.reset();
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn cuCtxGetCurrent(ctx: *mut CUcontext) -> CUresult {
    with(|_| put(ctx, CURRENT.with(Cell::get) as CUcontext))
}

#[no_mangle]
pub extern "C" fn cuCtxSetCurrent(ctx: CUcontext) -> CUresult {
    with(|_| {
        let c = ctx as usize;
        if c != 0 && c != CONTEXT {
            return Err(CUresult::CUDA_ERROR_INVALID_CONTEXT);
        }
        CURRENT.with(|cur| cur.set(c));
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn cuCtxPushCurrent_v2(ctx: CUcontext) -> CUresult {
    cuCtxSetCurrent(ctx)
}

#[no_mangle]
pub extern "C" fn cuCtxPopCurrent_v2(ctx: *mut CUcontext) -> CUresult {
    with(|_| {
        let c = CURRENT.with(|cur| cur.replace(0));
        if !ctx.is_null() {
            put(ctx, c as CUcontext)?;
        }
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn cuCtxGetDevice(device: *mut CUdevice) -> CUresult {
    with_ctx(|_| put(device, 0))
}

#[no_mangle]
pub extern "C" fn cuCtxSynchronize() -> CUresult {
    with_ctx(|d| {
        d.flush_all()?;
        d.check_sticky()
    })
}

// ---- streams ------------------------------------------------------------------------

#[no_mangle]
pub extern "C" fn cuStreamCreate(stream: *mut CUstream, _flags: c_uint) -> CUresult {
    with_ctx(|d| {
        let h = d.create_stream();
        put(stream, h as CUstream)
    })
}

#[no_mangle]
pub extern "C" fn cuStreamCreateWithPriority(
    stream: *mut CUstream,
    flags: c_uint,
    _priority: c_int,
) -> CUresult {
    cuStreamCreate(stream, flags)
}

#[no_mangle]
pub extern "C" fn cuStreamDestroy_v2(stream: CUstream) -> CUresult {
    with_ctx(|d| {
        d.flush(stream as usize)?;
        d.destroy_stream(stream as usize)
    })
}

#[no_mangle]
pub extern "C" fn cuStreamSynchronize(stream: CUstream) -> CUresult {
    with_ctx(|d| {
        d.check_stream(stream as usize)?;
        d.check_not_capturing(stream as usize, "a synchronisation")?;
        d.flush(stream as usize)?;
        d.check_sticky()
    })
}

#[no_mangle]
pub extern "C" fn cuStreamQuery(stream: CUstream) -> CUresult {
    cuStreamSynchronize(stream)
}

#[no_mangle]
pub extern "C" fn cuStreamWaitEvent(stream: CUstream, event: CUevent, _flags: c_uint) -> CUresult {
    with_ctx(|d| {
        d.check_stream(stream as usize)?;
        d.event_exists(event as usize)?;
        // the waiting stream's later work comes after the copies before the event
        d.flush_event(event as usize)?;
        d.check_sticky()
    })
}

// ---- memory ---------------------------------------------------------------------------

#[no_mangle]
pub extern "C" fn cuMemAlloc_v2(ptr: *mut CUdeviceptr, bytes: usize) -> CUresult {
    with_ctx(|d| {
        if ptr.is_null() {
            return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
        }
        let p = d.alloc(bytes)?;
        put(ptr, p)
    })
}

#[no_mangle]
pub extern "C" fn cuMemAllocAsync(
    ptr: *mut CUdeviceptr,
    bytes: usize,
    stream: CUstream,
) -> CUresult {
    with_ctx(|d| {
        d.check_stream(stream as usize)?;
        d.check_not_capturing(stream as usize, "an allocation")?;
        if ptr.is_null() {
            return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
        }
        let p = d.alloc(bytes)?;
        put(ptr, p)
    })
}

#[no_mangle]
pub extern "C" fn cuMemFree_v2(ptr: CUdeviceptr) -> CUresult {
    with_ctx(|d| {
        d.flush_all()?;
        d.free(ptr)
    })
}

#[no_mangle]
pub extern "C" fn cuMemFreeAsync(ptr: CUdeviceptr, stream: CUstream) -> CUresult {
    with_ctx(|d| {
        d.check_stream(stream as usize)?;
        d.check_not_capturing(stream as usize, "a free")?;
        d.flush(stream as usize)?;
        d.check_no_pending_read(ptr)?;
        d.free(ptr)
    })
}

#[no_mangle]
pub extern "C" fn cuMemGetInfo_v2(free: *mut usize, total: *mut usize) -> CUresult {
    with_ctx(|d| {
        put(free, d.memory.free_bytes() as usize)?;
        put(total, d.memory.total() as usize)
    })
}

#[no_mangle]
pub extern "C" fn cuMemsetD8_v2(dst: CUdeviceptr, value: u8, n: usize) -> CUresult {
    with_ctx(|d| {
        d.flush_all()?;
        d.memset(dst, value, n)
    })
}

#[no_mangle]
pub extern "C" fn cuMemsetD8Async(
    dst: CUdeviceptr,
    value: u8,
    n: usize,
    stream: CUstream,
) -> CUresult {
    with_ctx(|d| {
        d.check_stream(stream as usize)?;
        d.check_not_capturing(stream as usize, "a memset")?;
        d.flush(stream as usize)?;
        d.memset(dst, value, n)
    })
}

#[no_mangle]
pub extern "C" fn cuMemcpyHtoD_v2(dst: CUdeviceptr, src: *const c_void, n: usize) -> CUresult {
    with_ctx(|d| {
        d.flush_all()?;
        d.copy_in(dst, src, n)
    })
}

#[no_mangle]
pub extern "C" fn cuMemcpyHtoDAsync_v2(
    dst: CUdeviceptr,
    src: *const c_void,
    n: usize,
    stream: CUstream,
) -> CUresult {
    with_ctx(|d| {
        d.check_stream(stream as usize)?;
        d.check_not_capturing(stream as usize, "a copy")?;
        d.flush(stream as usize)?;
        d.copy_in(dst, src, n)
    })
}

#[no_mangle]
pub extern "C" fn cuMemcpyDtoH_v2(dst: *mut c_void, src: CUdeviceptr, n: usize) -> CUresult {
    with_ctx(|d| {
        d.flush_all()?;
        d.copy_out(dst, src, n)
    })
}

#[no_mangle]
pub extern "C" fn cuMemcpyDtoHAsync_v2(
    dst: *mut c_void,
    src: CUdeviceptr,
    n: usize,
    stream: CUstream,
) -> CUresult {
    with_ctx(|d| {
        d.check_stream(stream as usize)?;
        d.check_not_capturing(stream as usize, "a copy")?;
        d.flush(stream as usize)?;
        d.copy_out_async(stream as usize, dst, src, n)
    })
}

#[no_mangle]
pub extern "C" fn cuMemcpyDtoD_v2(dst: CUdeviceptr, src: CUdeviceptr, n: usize) -> CUresult {
    with_ctx(|d| {
        d.flush_all()?;
        d.copy_device(dst, src, n)
    })
}

#[no_mangle]
pub extern "C" fn cuMemcpyDtoDAsync_v2(
    dst: CUdeviceptr,
    src: CUdeviceptr,
    n: usize,
    stream: CUstream,
) -> CUresult {
    with_ctx(|d| {
        d.check_stream(stream as usize)?;
        d.check_not_capturing(stream as usize, "a copy")?;
        d.flush(stream as usize)?;
        d.copy_device(dst, src, n)
    })
}

#[no_mangle]
pub extern "C" fn cuMemHostAlloc(pp: *mut *mut c_void, bytes: usize, _flags: c_uint) -> CUresult {
    with_ctx(|d| {
        let p = d.host_alloc(bytes)?;
        put(pp, p)
    })
}

#[no_mangle]
pub extern "C" fn cuMemAllocHost_v2(pp: *mut *mut c_void, bytes: usize) -> CUresult {
    cuMemHostAlloc(pp, bytes, 0)
}

#[no_mangle]
pub extern "C" fn cuMemFreeHost(p: *mut c_void) -> CUresult {
    with_ctx(|d| d.host_free(p))
}

// ---- modules --------------------------------------------------------------------------

/// The NUL-terminated text of a module image.
fn image_text(image: *const c_void) -> Res<String> {
    if image.is_null() {
        return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
    }
    // SAFETY: a PTX image is a NUL-terminated string (the API's contract for text images).
    let text = unsafe { CStr::from_ptr(image.cast::<c_char>()) };
    text.to_str()
        .map(str::to_owned)
        .map_err(|_| CUresult::CUDA_ERROR_INVALID_IMAGE)
}

fn load(
    module: *mut CUmodule,
    image: *const c_void,
    log: Option<(*mut c_char, usize)>,
) -> CUresult {
    with_ctx(|d| {
        if module.is_null() {
            return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
        }
        let text = image_text(image)?;
        match d.load_module(&text) {
            Ok(h) => put(module, h as CUmodule),
            Err((code, text)) => {
                if let Some((buf, size)) = log.filter(|(b, s)| !b.is_null() && *s > 0) {
                    let k = text.len().min(size - 1);
                    // SAFETY: the caller's log buffer holds `size` bytes (its JIT option); k + 1 <= size.
                    unsafe {
                        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), k);
                        *buf.add(k) = 0;
                    }
                }
                Err(code)
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn cuModuleLoadData(module: *mut CUmodule, image: *const c_void) -> CUresult {
    load(module, image, None)
}

#[no_mangle]
pub extern "C" fn cuModuleLoadDataEx(
    module: *mut CUmodule,
    image: *const c_void,
    num_options: c_uint,
    options: *mut CUjit_option,
    values: *mut *mut c_void,
) -> CUresult {
    let mut log: (*mut c_char, usize) = (std::ptr::null_mut(), 0);
    if num_options > 0 && !options.is_null() && !values.is_null() {
        for i in 0..num_options as usize {
            // SAFETY: both arrays hold `num_options` entries (API contract);
            // options are read as integers, never as the Rust enum.
            let (opt, value) = unsafe { (*options.cast::<c_uint>().add(i), *values.add(i)) };
            if opt == CUjit_option::CU_JIT_ERROR_LOG_BUFFER as c_uint {
                log.0 = value.cast();
            } else if opt == CUjit_option::CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES as c_uint {
                log.1 = value as usize;
            }
        }
    }
    load(module, image, Some(log))
}

#[no_mangle]
pub extern "C" fn cuModuleUnload(module: CUmodule) -> CUresult {
    with(|d| d.unload_module(module as usize))
}

#[no_mangle]
pub extern "C" fn cuModuleGetFunction(
    function: *mut CUfunction,
    module: CUmodule,
    name: *const c_char,
) -> CUresult {
    with_ctx(|d| {
        if name.is_null() {
            return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
        }
        // SAFETY: `name` is a NUL-terminated string (API contract).
        let name = unsafe { CStr::from_ptr(name) }
            .to_string_lossy()
            .into_owned();
        let h = d.function(module as usize, &name)?;
        put(function, h as CUfunction)
    })
}

#[no_mangle]
pub extern "C" fn cuFuncGetAttribute(value: *mut c_int, attrib: c_int, _f: CUfunction) -> CUresult {
    with(|_| {
        // CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK is 0; every other attribute reads 0.
        put(
            value,
            if attrib == 0 {
                driver::MAX_THREADS_PER_BLOCK as c_int
            } else {
                0
            },
        )
    })
}

#[no_mangle]
pub extern "C" fn cuFuncSetAttribute(_f: CUfunction, _attrib: c_int, _value: c_int) -> CUresult {
    with(|_| Ok(()))
}

#[no_mangle]
pub extern "C" fn cuFuncSetCacheConfig(_f: CUfunction, _config: c_int) -> CUresult {
    with(|_| Ok(()))
}

#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn cuLaunchKernel(
    f: CUfunction,
    grid_x: c_uint,
    grid_y: c_uint,
    grid_z: c_uint,
    block_x: c_uint,
    block_y: c_uint,
    block_z: c_uint,
    shared_bytes: c_uint,
    stream: CUstream,
    params: *mut *mut c_void,
    extra: *mut *mut c_void,
) -> CUresult {
    with_ctx(|d| {
        d.check_stream(stream as usize)?;
        let shape = Shape {
            grid: [grid_x, grid_y, grid_z],
            block: [block_x, block_y, block_z],
        };
        if d.is_capturing(stream as usize) {
            return d.record_launch(
                stream as usize,
                f as usize,
                shape,
                shared_bytes,
                params,
                !extra.is_null(),
            );
        }
        d.flush(stream as usize)?;
        d.launch(f as usize, shape, shared_bytes, params, !extra.is_null())
    })
}

// ---- events ---------------------------------------------------------------------------

#[no_mangle]
pub extern "C" fn cuEventCreate(event: *mut CUevent, _flags: c_uint) -> CUresult {
    with_ctx(|d| {
        if event.is_null() {
            return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
        }
        let h = d.create_event();
        put(event, h as CUevent)
    })
}

#[no_mangle]
pub extern "C" fn cuEventRecord(event: CUevent, stream: CUstream) -> CUresult {
    with_ctx(|d| {
        d.check_stream(stream as usize)?;
        d.note_event_stream(event as usize, stream as usize);
        d.record_event(event as usize)
    })
}

#[no_mangle]
pub extern "C" fn cuEventRecordWithFlags(
    event: CUevent,
    stream: CUstream,
    _flags: c_uint,
) -> CUresult {
    cuEventRecord(event, stream)
}

#[no_mangle]
pub extern "C" fn cuEventSynchronize(event: CUevent) -> CUresult {
    with_ctx(|d| {
        d.event_exists(event as usize)?;
        d.flush_event(event as usize)?;
        d.check_sticky()
    })
}

#[no_mangle]
pub extern "C" fn cuEventQuery(event: CUevent) -> CUresult {
    cuEventSynchronize(event)
}

#[no_mangle]
pub extern "C" fn cuEventElapsedTime_v2(ms: *mut f32, start: CUevent, end: CUevent) -> CUresult {
    with_ctx(|d| {
        d.check_sticky()?;
        let (a, b) = (d.event_time(start as usize)?, d.event_time(end as usize)?);
        let seconds = if b >= a {
            (b - a).as_secs_f64()
        } else {
            -(a - b).as_secs_f64()
        };
        put(ms, (seconds * 1000.0) as f32)
    })
}

#[no_mangle]
pub extern "C" fn cuEventElapsedTime(ms: *mut f32, start: CUevent, end: CUevent) -> CUresult {
    cuEventElapsedTime_v2(ms, start, end)
}

#[no_mangle]
pub extern "C" fn cuEventDestroy_v2(event: CUevent) -> CUresult {
    with(|d| d.destroy_event(event as usize))
}

// ---- errors ---------------------------------------------------------------------------

/// The codes this driver returns, with CUDA's own descriptions.
const ERRORS: &[(CUresult, &str)] = &[
    (CUresult::CUDA_SUCCESS, "no error"),
    (CUresult::CUDA_ERROR_INVALID_VALUE, "invalid argument"),
    (CUresult::CUDA_ERROR_OUT_OF_MEMORY, "out of memory"),
    (CUresult::CUDA_ERROR_NOT_INITIALIZED, "initialization error"),
    (
        CUresult::CUDA_ERROR_NO_DEVICE,
        "no CUDA-capable device is detected",
    ),
    (
        CUresult::CUDA_ERROR_INVALID_DEVICE,
        "invalid device ordinal",
    ),
    (
        CUresult::CUDA_ERROR_INVALID_IMAGE,
        "device kernel image is invalid",
    ),
    (
        CUresult::CUDA_ERROR_INVALID_CONTEXT,
        "invalid device context",
    ),
    (
        CUresult::CUDA_ERROR_NO_BINARY_FOR_GPU,
        "no kernel image is available for execution on the device",
    ),
    (
        CUresult::CUDA_ERROR_INVALID_SOURCE,
        "device kernel image is invalid",
    ),
    (CUresult::CUDA_ERROR_FILE_NOT_FOUND, "file not found"),
    (
        CUresult::CUDA_ERROR_INVALID_HANDLE,
        "invalid resource handle",
    ),
    (CUresult::CUDA_ERROR_NOT_FOUND, "named symbol not found"),
    (CUresult::CUDA_ERROR_NOT_READY, "device not ready"),
    (
        CUresult::CUDA_ERROR_ILLEGAL_ADDRESS,
        "an illegal memory access was encountered",
    ),
    (
        CUresult::CUDA_ERROR_LAUNCH_TIMEOUT,
        "the launch timed out and was terminated",
    ),
    (CUresult::CUDA_ERROR_ASSERT, "device-side assert triggered"),
    (
        CUresult::CUDA_ERROR_ILLEGAL_INSTRUCTION,
        "an illegal instruction was encountered",
    ),
    (
        CUresult::CUDA_ERROR_LAUNCH_FAILED,
        "unspecified launch failure",
    ),
    (
        CUresult::CUDA_ERROR_NOT_SUPPORTED,
        "operation not supported",
    ),
    (
        CUresult::CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
        "operation not permitted when stream is capturing",
    ),
    (
        CUresult::CUDA_ERROR_STREAM_CAPTURE_INVALIDATED,
        "operation failed due to a previous error during capture",
    ),
    (
        CUresult::CUDA_ERROR_ILLEGAL_STATE,
        "the operation is not permitted in the current state",
    ),
    (CUresult::CUDA_ERROR_UNKNOWN, "unknown error"),
];

fn static_text(
    cache: &'static OnceLock<Mutex<HashMap<String, &'static CStr>>>,
    text: String,
) -> *const c_char {
    let map = cache.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = map.get(&text) {
        return s.as_ptr();
    }
    let c: &'static CStr = Box::leak(
        std::ffi::CString::new(text.clone())
            .unwrap_or_default()
            .into_boxed_c_str(),
    );
    map.insert(text, c);
    c.as_ptr()
}

static TEXTS: OnceLock<Mutex<HashMap<String, &'static CStr>>> = OnceLock::new();

#[no_mangle]
pub extern "C" fn cuGetErrorString(error: c_uint, text: *mut *const c_char) -> CUresult {
    code(catch_unwind(|| {
        let (_, description) = ERRORS
            .iter()
            .find(|(c, _)| *c as c_uint == error)
            .ok_or(CUresult::CUDA_ERROR_INVALID_VALUE)?;
        let detail = lock().as_ref().and_then(|d| d.error_detail(error));
        let full = match detail {
            Some(d) => format!("{description} (emulated CUDA: {})", d.to_string_lossy()),
            None => format!("{description} (emulated CUDA)"),
        };
        put(text, static_text(&TEXTS, full))
    }))
}

#[no_mangle]
pub extern "C" fn cuGetErrorName(error: c_uint, text: *mut *const c_char) -> CUresult {
    code(catch_unwind(|| {
        let (c, _) = ERRORS
            .iter()
            .find(|(c, _)| *c as c_uint == error)
            .ok_or(CUresult::CUDA_ERROR_INVALID_VALUE)?;
        put(text, static_text(&TEXTS, format!("{c:?}")))
    }))
}

// ---- stream capture and graphs ------------------------------------------------------

#[no_mangle]
pub extern "C" fn cuStreamBeginCapture_v2(stream: CUstream, _mode: c_uint) -> CUresult {
    with_ctx(|d| d.begin_capture(stream as usize))
}

#[no_mangle]
pub extern "C" fn cuStreamEndCapture(stream: CUstream, graph: *mut CUgraph) -> CUresult {
    with_ctx(|d| {
        let h = d.end_capture(stream as usize)?;
        put(graph, h as CUgraph)
    })
}

#[no_mangle]
pub extern "C" fn cuStreamIsCapturing(stream: CUstream, status: *mut c_uint) -> CUresult {
    // CU_STREAM_CAPTURE_STATUS_NONE = 0, _ACTIVE = 1
    with_ctx(|d| put(status, u32::from(d.is_capturing(stream as usize))))
}

#[no_mangle]
pub extern "C" fn cuGraphInstantiateWithFlags(
    exec: *mut CUgraphExec,
    graph: CUgraph,
    _flags: u64,
) -> CUresult {
    with_ctx(|d| {
        let h = d.instantiate(graph as usize)?;
        put(exec, h as CUgraphExec)
    })
}

#[no_mangle]
pub extern "C" fn cuGraphLaunch(exec: CUgraphExec, stream: CUstream) -> CUresult {
    with_ctx(|d| {
        d.check_stream(stream as usize)?;
        d.check_not_capturing(stream as usize, "a graph launch")?;
        d.flush(stream as usize)?;
        d.launch_graph(exec as usize)
    })
}

#[no_mangle]
pub extern "C" fn cuGraphUpload(exec: CUgraphExec, _stream: CUstream) -> CUresult {
    with_ctx(|d| d.launch_graph_exists(exec as usize))
}

#[no_mangle]
pub extern "C" fn cuGraphExecDestroy(exec: CUgraphExec) -> CUresult {
    with(|d| d.destroy_graph_exec(exec as usize))
}

#[no_mangle]
pub extern "C" fn cuGraphDestroy(graph: CUgraph) -> CUresult {
    with(|d| d.destroy_graph(graph as usize))
}

//! The emulated device's state: memory, modules, functions, events, the
//! sticky error, and launches.
//!
//! In: calls from [`crate::api`], already unpacked from C. Out: results as
//! `Result<_, CUresult>`. Work runs synchronously inside the call that
//! enqueues it (copies, memsets, launches), so streams need no queue, except
//! copies to the host on created streams, which run as late as the program
//! allows ([`crate::copies`]); as on
//! a GPU, a failing kernel does not fail its launch call: its error becomes
//! the context's *sticky* error, returned by every later call that does
//! work, and [`Driver::error_detail`] says what happened.

use std::collections::HashMap;
use std::ffi::c_void;
use std::time::Instant;

use cudarc::driver::sys::CUresult;

use crate::config::Config;
use crate::copies::Copies;
use crate::memory::Memory;
use crate::module::{self, Module};
use crate::sched::{self, Scheduler, Shape};
use crate::stats::{LaunchRecord, Stats};

/// The device's name (`cuDeviceGetName`).
pub const DEVICE_NAME: &str = "Brisk emulated CUDA device (CPU)";
/// The CUDA version the driver reports (13.0).
pub const DRIVER_VERSION: i32 = 13000;
/// Compute capability reported (an H100's).
pub const COMPUTE_CAPABILITY: (i32, i32) = (9, 0);
pub const MAX_THREADS_PER_BLOCK: u32 = 1024;
pub const MAX_BLOCK_DIM: [u32; 3] = [1024, 1024, 64];
pub const MAX_GRID_DIM: [u32; 3] = [i32::MAX as u32, 65535, 65535];
pub const SHARED_PER_BLOCK: i32 = 48 << 10;
pub const MULTIPROCESSORS: i32 = 132;

/// The one context (the primary context of device 0).
pub const CONTEXT: usize = 0xc0_0000;

pub type Res<T = ()> = Result<T, CUresult>;

pub struct Function {
    module: usize,
    kernel: usize,
}

/// A kernel launch recorded by stream capture: its parameters copied, as the driver does.
#[derive(Clone)]
pub struct RecordedLaunch {
    function: usize,
    shape: Shape,
    /// Each parameter's bytes (8-byte aligned storage).
    params: Vec<Vec<u64>>,
}

pub struct Driver {
    pub cfg: Config,
    pub memory: Memory,
    modules: HashMap<usize, Module>,
    functions: HashMap<usize, Function>,
    /// Recorded time of each event (None until recorded).
    events: HashMap<usize, Option<Instant>>,
    streams: HashMap<usize, ()>,
    /// Streams being captured, and the launches recorded so far.
    capturing: HashMap<usize, Vec<RecordedLaunch>>,
    /// Captured graphs and instantiated (executable) graphs.
    graphs: HashMap<usize, Vec<RecordedLaunch>>,
    graph_execs: HashMap<usize, Vec<RecordedLaunch>>,
    next_handle: usize,
    sticky: Option<CUresult>,
    /// The latest detail for each error code returned (leaked: callers keep the pointers).
    details: HashMap<u32, &'static std::ffi::CStr>,
    scheduler: Scheduler,
    pub stats: Stats,
    pub primary_retains: u32,
    /// Copies to the host made as late as allowed, and host allocations (`crate::copies`).
    pub copies: Copies,
}

impl Driver {
    pub fn new(cfg: Config) -> Driver {
        let memory = Memory::new(cfg.memory);
        let scheduler = Scheduler::new(cfg.stack_bytes, cfg.schedule);
        let stats = Stats {
            emulator: DEVICE_NAME.to_string(),
            schedule: cfg.schedule.name(),
            graph_launches: 0,
            kernels: Default::default(),
        };
        Driver {
            cfg,
            memory,
            modules: HashMap::new(),
            functions: HashMap::new(),
            events: HashMap::new(),
            streams: HashMap::new(),
            capturing: HashMap::new(),
            graphs: HashMap::new(),
            graph_execs: HashMap::new(),
            next_handle: 0x1000,
            sticky: None,
            details: HashMap::new(),
            scheduler,
            stats,
            primary_retains: 0,
            copies: Copies::default(),
        }
    }

    /// Ends the primary context (its last user released it, or a reset):
    /// memory, modules, streams, events and the sticky error go, as on a GPU.
    pub fn reset(&mut self) {
        self.memory = Memory::new(self.cfg.memory);
        self.functions.clear();
        self.modules.clear();
        self.events.clear();
        self.streams.clear();
        self.capturing.clear();
        self.graphs.clear();
        self.graph_execs.clear();
        self.sticky = None;
        self.details.clear();
        self.drop_copies();
    }

    /// Applies a changed [`Config`] (the schedule and stack size).
    pub fn reconfigure(&mut self) {
        self.scheduler = Scheduler::new(self.cfg.stack_bytes, self.cfg.schedule);
        self.stats.schedule = self.cfg.schedule.name();
    }

    fn handle(&mut self) -> usize {
        self.next_handle += 0x10;
        self.next_handle
    }

    /// Records `detail` for `code` (shown by cuGetErrorString) and returns the code.
    pub fn fail(&mut self, code: CUresult, detail: impl Into<String>) -> CUresult {
        let text = detail.into().replace('\0', " ");
        let c = std::ffi::CString::new(text).unwrap_or_default();
        self.details
            .insert(code as u32, Box::leak(c.into_boxed_c_str()));
        code
    }

    pub fn error_detail(&self, code: u32) -> Option<&'static std::ffi::CStr> {
        self.details.get(&code).copied()
    }

    /// The sticky error, if a kernel failed.
    pub fn check_sticky(&self) -> Res {
        match self.sticky {
            Some(code) => Err(code),
            None => Ok(()),
        }
    }

    /// A stream handle is valid: the default (0), legacy (1), per-thread (2) or a created one.
    pub fn check_stream(&self, stream: usize) -> Res {
        if stream <= 2 || self.streams.contains_key(&stream) {
            Ok(())
        } else {
            Err(CUresult::CUDA_ERROR_INVALID_HANDLE)
        }
    }

    pub fn create_stream(&mut self) -> usize {
        let h = self.handle();
        self.streams.insert(h, ());
        h
    }

    pub fn destroy_stream(&mut self, stream: usize) -> Res {
        self.streams
            .remove(&stream)
            .map(|_| ())
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)
    }

    // ---- memory ----------------------------------------------------------

    pub fn alloc(&mut self, bytes: usize) -> Res<u64> {
        self.check_sticky()?;
        self.memory.alloc(bytes).map_err(|code| {
            let free = self.memory.free_bytes();
            self.fail(
                code,
                format!(
                    "cannot allocate {bytes} bytes of emulated device memory ({free} bytes free)"
                ),
            )
        })
    }

    pub fn free(&mut self, ptr: u64) -> Res {
        self.check_sticky()?;
        self.memory.free(ptr).map_err(|code| {
            self.fail(
                code,
                format!("{ptr:#x} is not the start of a live allocation"),
            )
        })
    }

    fn check_range(&mut self, ptr: u64, len: usize, what: &str) -> Res {
        self.memory.check(ptr, len).map_err(|code| {
            let detail = format!(
                "{what}: {len} bytes at {ptr:#x} are not inside one live allocation ({})",
                self.memory.describe(ptr as usize)
            );
            self.fail(code, detail)
        })
    }

    pub fn memset(&mut self, dst: u64, value: u8, len: usize) -> Res {
        self.check_sticky()?;
        if len == 0 {
            return Ok(());
        }
        self.check_range(dst, len, "cuMemsetD8")?;
        // SAFETY: [dst, dst + len) lies inside a live allocation (checked above).
        unsafe { std::ptr::write_bytes(dst as usize as *mut u8, value, len) };
        Ok(())
    }

    /// Host to device.
    pub fn copy_in(&mut self, dst: u64, src: *const c_void, len: usize) -> Res {
        self.check_sticky()?;
        if len == 0 {
            return Ok(());
        }
        if src.is_null() {
            return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
        }
        self.check_range(dst, len, "cuMemcpyHtoD")?;
        // SAFETY: the destination range lies in a live allocation (checked);
        // the host source is valid for `len` bytes by the API's contract.
        unsafe { std::ptr::copy(src.cast::<u8>(), dst as usize as *mut u8, len) };
        Ok(())
    }

    /// Checks a device source range of a copy to the host.
    pub fn check_out_range(&mut self, src: u64, len: usize) -> Res {
        self.check_range(src, len, "cuMemcpyDtoH")
    }

    /// Device to host.
    pub fn copy_out(&mut self, dst: *mut c_void, src: u64, len: usize) -> Res {
        self.check_sticky()?;
        if len == 0 {
            return Ok(());
        }
        if dst.is_null() {
            return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
        }
        self.check_range(src, len, "cuMemcpyDtoH")?;
        // SAFETY: the source range lies in a live allocation (checked); the
        // host destination is valid for `len` bytes by the API's contract.
        unsafe { std::ptr::copy(src as usize as *const u8, dst.cast::<u8>(), len) };
        Ok(())
    }

    pub fn copy_device(&mut self, dst: u64, src: u64, len: usize) -> Res {
        self.check_sticky()?;
        if len == 0 {
            return Ok(());
        }
        self.check_range(src, len, "cuMemcpyDtoD source")?;
        self.check_range(dst, len, "cuMemcpyDtoD destination")?;
        // SAFETY: both ranges lie in live allocations (checked); `copy` allows overlap.
        unsafe { std::ptr::copy(src as usize as *const u8, dst as usize as *mut u8, len) };
        Ok(())
    }

    // ---- modules and functions -------------------------------------------

    /// Loads a module; a failure returns the error code and the compiler's log.
    pub fn load_module(&mut self, image: &str) -> Result<usize, (CUresult, String)> {
        self.check_sticky().map_err(|c| (c, String::new()))?;
        match module::load(image, &self.cfg, sched::collective) {
            Ok(m) => {
                let h = self.handle();
                self.modules.insert(h, m);
                Ok(h)
            }
            Err(e) => {
                let code = self.fail(e.code, e.message.clone());
                eprintln!("emulated CUDA driver: {}", e.message);
                let log = if e.log.is_empty() {
                    e.message
                } else {
                    format!("{}\n{}", e.message, e.log)
                };
                Err((code, log))
            }
        }
    }

    pub fn unload_module(&mut self, h: usize) -> Res {
        self.modules
            .remove(&h)
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)?;
        self.functions.retain(|_, f| f.module != h);
        Ok(())
    }

    pub fn function(&mut self, module: usize, name: &str) -> Res<usize> {
        let m = self
            .modules
            .get(&module)
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)?;
        let Some(kernel) = m.kernels.iter().position(|k| k.name == name) else {
            return Err(self.fail(
                CUresult::CUDA_ERROR_NOT_FOUND,
                format!("the module has no kernel '{name}'"),
            ));
        };
        if let Some((&h, _)) = self
            .functions
            .iter()
            .find(|(_, f)| f.module == module && f.kernel == kernel)
        {
            return Ok(h);
        }
        let h = self.handle();
        self.functions.insert(h, Function { module, kernel });
        Ok(h)
    }

    /// Fails work submitted to a stream being captured (only launches can be recorded).
    pub fn check_not_capturing(&mut self, stream: usize, what: &str) -> Res {
        if self.capturing.contains_key(&stream) {
            self.capturing.remove(&stream);
            return Err(self.fail(
                CUresult::CUDA_ERROR_STREAM_CAPTURE_INVALIDATED,
                format!("{what} on a stream being captured: the emulated driver records kernel launches only"),
            ));
        }
        Ok(())
    }

    pub fn begin_capture(&mut self, stream: usize) -> Res {
        self.check_sticky()?;
        if stream <= 2 {
            return Err(self.fail(
                CUresult::CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
                "the legacy default stream cannot be captured",
            ));
        }
        self.check_stream(stream)?;
        if self.capturing.insert(stream, Vec::new()).is_some() {
            return Err(CUresult::CUDA_ERROR_ILLEGAL_STATE);
        }
        Ok(())
    }

    pub fn is_capturing(&self, stream: usize) -> bool {
        self.capturing.contains_key(&stream)
    }

    pub fn end_capture(&mut self, stream: usize) -> Res<usize> {
        let launches = self
            .capturing
            .remove(&stream)
            .ok_or(CUresult::CUDA_ERROR_ILLEGAL_STATE)?;
        let h = self.handle();
        self.graphs.insert(h, launches);
        Ok(h)
    }

    pub fn instantiate(&mut self, graph: usize) -> Res<usize> {
        let launches = self
            .graphs
            .get(&graph)
            .cloned()
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)?;
        let h = self.handle();
        self.graph_execs.insert(h, launches);
        Ok(h)
    }

    pub fn launch_graph_exists(&self, exec: usize) -> Res {
        self.graph_execs
            .contains_key(&exec)
            .then_some(())
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)
    }

    pub fn destroy_graph(&mut self, graph: usize) -> Res {
        self.graphs
            .remove(&graph)
            .map(|_| ())
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)
    }

    pub fn destroy_graph_exec(&mut self, exec: usize) -> Res {
        self.graph_execs
            .remove(&exec)
            .map(|_| ())
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)
    }

    /// Replays an instantiated graph: its launches, in capture order.
    pub fn launch_graph(&mut self, exec: usize) -> Res {
        self.check_sticky()?;
        let launches = self
            .graph_execs
            .get(&exec)
            .cloned()
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)?;
        self.stats.graph_launches += 1;
        for l in launches {
            let mut pointers: Vec<*mut c_void> =
                l.params.iter().map(|p| p.as_ptr() as *mut c_void).collect();
            self.launch(l.function, l.shape, 0, pointers.as_mut_ptr(), false)?;
            if self.sticky.is_some() {
                break;
            }
        }
        Ok(())
    }

    /// Records a launch on a stream being captured (parameters copied now).
    pub fn record_launch(
        &mut self,
        stream: usize,
        f: usize,
        shape: Shape,
        shared_bytes: u32,
        params: *mut *mut c_void,
        extra: bool,
    ) -> Res {
        let function = self
            .functions
            .get(&f)
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)?;
        let kernel = &self.modules[&function.module].kernels[function.kernel];
        if shared_bytes > 0 || extra || (params.is_null() && !kernel.params.is_empty()) {
            return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
        }
        let mut copied = Vec::with_capacity(kernel.params.len());
        for (i, &bytes) in kernel.params.iter().enumerate() {
            let mut words = vec![0u64; bytes.div_ceil(8)];
            // SAFETY: cuLaunchKernel's contract: params[i] points at a value of
            // the parameter's size (checked against the PTX when the module loaded).
            unsafe {
                let src = *params.add(i) as *const u8;
                std::ptr::copy_nonoverlapping(src, words.as_mut_ptr().cast::<u8>(), bytes);
            }
            copied.push(words);
        }
        let launches = self
            .capturing
            .get_mut(&stream)
            .ok_or(CUresult::CUDA_ERROR_ILLEGAL_STATE)?;
        launches.push(RecordedLaunch {
            function: f,
            shape,
            params: copied,
        });
        Ok(())
    }

    /// Runs a kernel to its end. A kernel that fails sets the sticky error
    /// and still returns `Ok` (the launch itself was valid), as on a GPU.
    pub fn launch(
        &mut self,
        f: usize,
        shape: Shape,
        shared_bytes: u32,
        params: *mut *mut c_void,
        extra: bool,
    ) -> Res {
        self.check_sticky()?;
        let function = self
            .functions
            .get(&f)
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)?;
        let module = &self.modules[&function.module];
        let kernel = &module.kernels[function.kernel];
        let name = kernel.name.clone();
        let threads =
            u64::from(shape.block[0]) * u64::from(shape.block[1]) * u64::from(shape.block[2]);
        let shape_ok = shape
            .grid
            .iter()
            .zip(MAX_GRID_DIM)
            .all(|(&g, m)| g >= 1 && g <= m)
            && shape
                .block
                .iter()
                .zip(MAX_BLOCK_DIM)
                .all(|(&b, m)| b >= 1 && b <= m)
            && threads <= u64::from(MAX_THREADS_PER_BLOCK);
        if !shape_ok {
            return Err(self.fail(
                CUresult::CUDA_ERROR_INVALID_VALUE,
                format!(
                    "kernel {name}: invalid launch shape: grid {:?}, block {:?}",
                    shape.grid, shape.block
                ),
            ));
        }
        if shared_bytes > 0 || extra {
            return Err(self.fail(
                CUresult::CUDA_ERROR_NOT_SUPPORTED,
                format!("kernel {name}: the emulator supports neither dynamic shared memory nor `extra` launch arguments"),
            ));
        }
        if params.is_null() && !kernel.params.is_empty() {
            return Err(self.fail(
                CUresult::CUDA_ERROR_INVALID_VALUE,
                format!("kernel {name}: no kernel parameters given"),
            ));
        }
        let state = module.state;
        // SAFETY: `state` belongs to the loaded module; only launches touch it.
        let atomics_before = unsafe { (*state).atomics };
        let start = Instant::now();
        // SAFETY: `state` is the module's live state; `params` holds one pointer
        // per parameter (cuLaunchKernel's contract; sizes checked at load).
        let outcome = unsafe {
            self.scheduler.run(
                state,
                kernel,
                params,
                shape,
                self.cfg.schedule,
                self.cfg.timeout_s,
            )
        };
        let seconds = start.elapsed().as_secs_f64();
        // SAFETY: as above.
        let atomics = unsafe { (*state).atomics } - atomics_before;
        let (counts, failed) = match &outcome {
            Ok(c) => (*c, false),
            Err(_) => (Default::default(), true),
        };
        self.stats.record(&LaunchRecord {
            kernel: &name,
            blocks: shape.blocks(),
            threads: threads as u32,
            barriers: counts.barriers,
            collectives: counts.collectives,
            atomics,
            resumes: counts.resumes,
            seconds,
            failed,
        });
        if let Err(failure) = outcome {
            let mut message = failure.message;
            if let Some(addr) = failure.addr {
                message.push_str(&format!(" ({})", self.memory.describe(addr)));
            }
            self.sticky = Some(failure.code);
            self.fail(failure.code, message);
        }
        Ok(())
    }

    // ---- events ------------------------------------------------------------

    pub fn create_event(&mut self) -> usize {
        let h = self.handle();
        self.events.insert(h, None);
        h
    }

    pub fn record_event(&mut self, e: usize) -> Res {
        self.check_sticky()?;
        let slot = self
            .events
            .get_mut(&e)
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)?;
        *slot = Some(Instant::now());
        Ok(())
    }

    pub fn event_time(&self, e: usize) -> Res<Instant> {
        match self.events.get(&e) {
            None => Err(CUresult::CUDA_ERROR_INVALID_HANDLE),
            Some(None) => Err(CUresult::CUDA_ERROR_INVALID_HANDLE),
            Some(Some(t)) => Ok(*t),
        }
    }

    pub fn event_exists(&self, e: usize) -> Res {
        self.events
            .contains_key(&e)
            .then_some(())
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)
    }

    pub fn destroy_event(&mut self, e: usize) -> Res {
        self.events
            .remove(&e)
            .map(|_| ())
            .ok_or(CUresult::CUDA_ERROR_INVALID_HANDLE)
    }
}

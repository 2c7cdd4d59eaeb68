//! The pipeline end to end, as the commands use it.
//!
//! In: an export folder. Out: [`Prepared`] (the validated IR, schedules and
//! plan), generated programs, and a finished run written as results, with
//! timings of every stage.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::codegen::{self, Program, Target};
use crate::diag::{Error, Result};
use crate::export::Export;
use crate::ir::CodeObject;
use crate::lower;
use crate::plan::{self, Plan};
use crate::planner;
use crate::results;
use crate::runtime::exec::batch::run_queue_batched;
use crate::runtime::exec::shared_connect::SharedConnects;
use crate::runtime::exec::Executor;
use crate::runtime::{cpu, cuda, guard, Device};
use crate::schedule::{self, RunSchedule};

/// An export after validation: everything code generation needs.
pub struct Prepared {
    pub export: Arc<Export>,
    pub code_objects: Vec<CodeObject>,
    pub schedules: Vec<RunSchedule>,
    pub plan: Arc<Plan>,
}

/// Reads, lowers, schedules and plans an export.
pub fn prepare(export_dir: &Path) -> Result<Prepared> {
    prepare_export(crate::validate::read(export_dir)?)
}

/// Lowers, schedules and plans an export that has been read (and so validated).
pub fn prepare_export(export: Export) -> Result<Prepared> {
    let code_objects = lower::lower_all(&export)?;
    let schedules = schedule::build(&export)?;
    let plan = planner::build(&export, &code_objects)?;
    Ok(Prepared {
        export: Arc::new(export),
        code_objects,
        schedules,
        plan: Arc::new(plan),
    })
}

/// Which backend to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// CUDA when a GPU and driver are usable, else CPU.
    Auto,
    Cuda,
    Cpu,
}

/// Seconds spent per stage.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Timings {
    pub prepare: f64,
    pub generate: f64,
    pub compile: f64,
    pub compile_cached: bool,
    pub run: f64,
    /// Part of `run`: the connect() calls (synapse creation), device work included.
    pub connect: f64,
    pub write: f64,
    /// A CUDA sweep: the copies of each batch, in order (`runtime::exec::batch`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub batches: Vec<usize>,
    /// A sweep: connect() calls a copy took from another copy's build
    /// (`runtime::exec::shared_connect`).
    #[serde(skip_serializing_if = "is_zero")]
    pub connects_shared: u64,
    /// A CUDA sweep: the GPU bytes a copy took, measured per batch (`run_batch`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub batch_copy_bytes: Vec<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Picks the backend: `auto` checks for a usable CUDA driver and NVRTC.
pub fn choose_backend(requested: Backend) -> Result<(Target, String)> {
    match requested {
        Backend::Cpu => Ok((Target::Cpp, "requested".to_string())),
        Backend::Cuda => {
            if !cuda::nvrtc_available() {
                return Err(Error::runtime(
                    "--backend cuda: NVRTC (libnvrtc.so.13) was not found; install it with \
                     pip install \"nvidia-cuda-nvrtc==13.0.*\" or set BRISK_NVRTC_LIB",
                ));
            }
            let driver = cuda::driver_info().map_err(|e| {
                Error::runtime(format!(
                    "--backend cuda: no usable NVIDIA GPU/driver (libcuda) was found: {e}"
                ))
            })?;
            Ok((Target::Cuda, format!("requested; device: {}", driver.name)))
        }
        Backend::Auto => {
            if !cuda::driver_available() {
                Ok((Target::Cpp, "no NVIDIA GPU/driver found".to_string()))
            } else if !cuda::nvrtc_available() {
                Ok((
                    Target::Cpp,
                    "GPU found but NVRTC is missing (pip install \"nvidia-cuda-nvrtc==13.0.*\")"
                        .to_string(),
                ))
            } else {
                let name = cuda::driver_info().map(|d| d.name).unwrap_or_default();
                Ok((Target::Cuda, format!("GPU found; device: {name}")))
            }
        }
    }
}

/// A program compiled for its target (or found in the cache), ready to load
/// as many devices as runs need.
pub enum Compiled {
    Cpp {
        /// The cache entry (held: no eviction removes it while runs load it).
        library: crate::runtime::cache::Entry,
        symbols: Vec<(Option<String>, plan::Split, u64)>,
    },
    Cuda {
        ptx: String,
        source: String,
        symbols: Vec<String>,
    },
}

impl Compiled {
    /// The threads a device of this program may use: the C++ target's
    /// (`BRISK_THREADS`, else every core), one on CUDA.
    pub fn threads(&self) -> Result<usize> {
        match self {
            Compiled::Cpp { .. } => cpu::threads(),
            Compiled::Cuda { .. } => Ok(1),
        }
    }

    /// A device running this program; the C++ target's split kernels on
    /// `threads` threads.
    pub fn load(&self, threads: usize) -> Result<Box<dyn Device>> {
        Ok(match self {
            Compiled::Cpp { library, symbols } => {
                Box::new(cpu::CpuDevice::load(library.path(), symbols, threads)?)
            }
            Compiled::Cuda {
                ptx,
                source,
                symbols,
            } => Box::new(cuda::CudaDevice::new(ptx, source, symbols)?),
        })
    }

    /// CUDA: devices for the next batch of a sweep with `remaining` copies
    /// left: one device and its siblings (`CudaDevice::sibling`), as many as
    /// [`SWEEP_BATCH_ENV`] says, else as 80% of the GPU's free memory holds
    /// at `per_copy` bytes each; at least one. None on the C++ target.
    pub fn load_batch(&self, remaining: usize, per_copy: u64) -> Result<Option<Batch>> {
        let Compiled::Cuda {
            ptx,
            source,
            symbols,
        } = self
        else {
            return Ok(None);
        };
        let first = cuda::CudaDevice::new(ptx, source, symbols)?;
        let (free, _) = first.memory()?;
        let size = match std::env::var(SWEEP_BATCH_ENV) {
            Ok(v) => v.trim().parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(|| {
                Error::runtime(format!("{SWEEP_BATCH_ENV} must be a whole number from 1, not {v:?}"))
            })?,
            Err(_) => usize::try_from(free as u64 / 5 * 4 / per_copy.max(1)).unwrap_or(usize::MAX),
        }
        .clamp(1, remaining.max(1));
        let mut devices: Vec<Box<dyn Device>> = Vec::with_capacity(size);
        for _ in 1..size {
            devices.push(Box::new(first.sibling()?));
        }
        devices.insert(0, Box::new(first));
        Ok(Some(Batch {
            devices,
            free: free as u64,
        }))
    }
}

/// The devices of one batch of a CUDA sweep ([`Compiled::load_batch`]).
pub struct Batch {
    pub devices: Vec<Box<dyn Device>>,
    /// The GPU's free bytes before the copies' devices were made.
    pub free: u64,
}

/// Environment variable: the copies per batch of a CUDA sweep (default: as
/// many as the GPU's free memory holds, by [`batch_bytes_per_copy`]).
pub const SWEEP_BATCH_ENV: &str = "BRISK_SWEEP_BATCH";

/// An estimate of one copy's GPU memory in a batched sweep: four times the
/// plan's buffers (what a copy allocates before its main queue runs), for
/// the synapses and records a run adds. A prediction, not a measurement: it
/// sizes a sweep's first batch; the later ones are sized by what the first
/// took ([`run_batch`]'s measurement).
pub fn batch_bytes_per_copy(plan: &plan::Plan) -> u64 {
    let planned: u64 = plan
        .buffers
        .iter()
        .map(|b| b.len.saturating_mul(b.dtype.size() as u64))
        .sum();
    planned.max(1 << 20).saturating_mul(4)
}

/// Compiles (or finds in the cache) the program for its target.
pub fn compile_program(
    prepared: &Prepared,
    program: &Program,
    timings: &mut Timings,
) -> Result<Compiled> {
    let start = Instant::now();
    Ok(match program.target {
        Target::Cpp => {
            let kernels: Vec<guard::KernelInfo> = prepared
                .plan
                .kernels
                .iter()
                .map(|k| guard::KernelInfo {
                    code_object: k.code_object.clone(),
                    owner: k.owner.clone(),
                    symbol: k.symbol.clone(),
                })
                .collect();
            guard::install(&kernels);
            let shown = crate::progress::phase("compiling the generated C++");
            let (library, hit) = cpu::compile(program)?;
            shown.finish(if hit { "found in the cache" } else { "done" });
            timings.compile_cached = hit;
            timings.compile = start.elapsed().as_secs_f64();
            // (a target without fusion would have no fused kernels: `Target::fuses`)
            let symbols = prepared
                .plan
                .kernels
                .iter()
                .map(|k| {
                    let symbol = (k.phase != plan::Phase::Fused || program.target.fuses())
                        .then(|| k.symbol.clone());
                    (symbol, k.split, k.weight)
                })
                .collect();
            Compiled::Cpp { library, symbols }
        }
        Target::Cuda => {
            let arch = cuda::device_arch()?;
            let shown = crate::progress::phase(format!("compiling the generated CUDA for {arch}"));
            let (ptx, hit) = cuda::compile_ptx_cached(&program.source, &arch)
                .map_err(|e| e.in_kernel_of(prepared.plan.kernel_table()))?;
            shown.finish(if hit { "found in the cache" } else { "done" });
            timings.compile_cached = hit;
            timings.compile = start.elapsed().as_secs_f64();
            Compiled::Cuda {
                ptx,
                source: program.source.clone(),
                symbols: prepared
                    .plan
                    .kernels
                    .iter()
                    .map(|k| k.symbol.clone())
                    .collect(),
            }
        }
    })
}

/// Builds the device for `target`: compiles (or finds in the cache) and loads
/// the program (the C++ target on every thread `BRISK_THREADS` allows).
pub fn build_device(
    prepared: &Prepared,
    program: &Program,
    timings: &mut Timings,
) -> Result<Box<dyn Device>> {
    let compiled = compile_program(prepared, program, timings)?;
    compiled.load(compiled.threads()?)
}

/// Generates and compiles (or finds in the cache) the program for `target`, without running it.
pub fn compile(prepared: &Prepared, target: Target) -> Result<Timings> {
    let mut timings = Timings::default();
    let start = Instant::now();
    let program = codegen::generate(&prepared.plan, &prepared.code_objects, target)?;
    timings.generate = start.elapsed().as_secs_f64();
    build_device(prepared, &program, &mut timings)?;
    Ok(timings)
}

/// One run of a prepared export: Brian's run_args, the random stream it draws
/// from ([`Executor::set_random_stream`]) and its results folder.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunCopy {
    #[serde(default)]
    pub run_args: Vec<String>,
    #[serde(default)]
    pub random_stream: u64,
    pub results: std::path::PathBuf,
}

/// Runs `copies` as one batched simulation (`runtime::exec::batch`), each
/// on its device of `devices` (CUDA siblings, one per copy), and writes their
/// results folders (locked by `locks`); errors name the copy by its index in
/// `copies`. The copies build their deterministic connect() calls once, with
/// those of the sweep's other batches (`shared`). Ok: the GPU memory one copy
/// took, measured at the end of the batch's run (the free memory it used, over
/// its copies), where the device says.
pub fn run_batch(
    prepared: &Prepared,
    batch: Batch,
    copies: &[RunCopy],
    locks: &[results::ResultsLock],
    shared: &Arc<SharedConnects>,
    timings: &mut Timings,
    out: &mut dyn Write,
) -> Result<Option<u64>> {
    let start = Instant::now();
    let mut execs = Vec::with_capacity(copies.len());
    for (k, (device, copy)) in batch.devices.into_iter().zip(copies).enumerate() {
        let tag = |e: Error| e.in_copy(k as u64);
        let mut exec = Executor::new(
            Arc::clone(&prepared.export),
            Arc::clone(&prepared.plan),
            device,
        )
        .map_err(tag)?;
        exec.set_random_stream(copy.random_stream);
        exec.set_run_args(&copy.run_args).map_err(tag)?;
        exec.share_connects(Arc::clone(shared));
        execs.push(exec);
    }
    run_queue_batched(&mut execs, out)?;
    let per_copy = execs
        .first()
        .and_then(Executor::free_memory)
        .map(|now| batch.free.saturating_sub(now).div_ceil(execs.len().max(1) as u64));
    let mut finished = Vec::with_capacity(execs.len());
    for (k, exec) in execs.into_iter().enumerate() {
        finished.push(exec.finish().map_err(|e| e.in_copy(k as u64))?);
    }
    timings.run += start.elapsed().as_secs_f64();
    timings.batches.push(copies.len());
    let start = Instant::now();
    for (k, (done, lock)) in finished.iter().zip(locks).enumerate() {
        timings.connect += done.connect_seconds;
        timings.connects_shared += done.connects_shared;
        results::write(&prepared.export, done, lock).map_err(|e| e.in_copy(k as u64))?;
    }
    timings.write += start.elapsed().as_secs_f64();
    Ok(per_copy)
}

/// Runs one copy on `device` and writes its results folder (locked by
/// `lock`); in a sweep (`shared`), its deterministic connect() calls are built
/// once for all copies.
pub fn run_copy(
    prepared: &Prepared,
    device: Box<dyn Device + '_>,
    copy: &RunCopy,
    lock: &results::ResultsLock,
    shared: Option<&Arc<SharedConnects>>,
    timings: &mut Timings,
    out: &mut dyn Write,
) -> Result<()> {
    let start = Instant::now();
    let mut exec = Executor::new(
        Arc::clone(&prepared.export),
        Arc::clone(&prepared.plan),
        device,
    )?;
    exec.set_random_stream(copy.random_stream);
    exec.set_run_args(&copy.run_args)?;
    if let Some(shared) = shared {
        exec.share_connects(Arc::clone(shared));
    }
    exec.run_queue(out)?;
    let finished = exec.finish()?;
    timings.run += start.elapsed().as_secs_f64();
    timings.connect += finished.connect_seconds;
    timings.connects_shared += finished.connects_shared;
    let start = Instant::now();
    results::write(&prepared.export, &finished, lock)?;
    timings.write += start.elapsed().as_secs_f64();
    Ok(())
}

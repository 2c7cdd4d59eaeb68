//! Runtime: executes a plan's main queue on a device (CUDA or CPU).
//!
//! In: the export, the plan, the lowered code objects and a compiled
//! program. Out: the final contents of every Brian array, handed to
//! [`crate::results`]. [`exec::Executor`] walks Brian's main queue and the
//! network loop on the host; a [`Device`] owns the buffers and runs the
//! kernels. State stays on the device for the whole run: the host only
//! launches kernels and, once per block of steps, drains monitor staging
//! buffers.
//!
//! Layers: [`exec`] (the executor, its `impl` split over the files of its
//! folder, and the [`host::Host`] a run calls back) sits on top; the devices
//! ([`cpu`], [`cuda`] with [`nvrtc`]), the compile [`cache`], the kernel
//! [`guard`], the table builders (`by_target`, `spike_bits`, `morphology`)
//! and [`stop`] sit below it and never import it; this file (the [`Device`]
//! trait and the launch arguments) is the bottom. No import circle runs
//! among these modules (`tests/layers.rs`).
//!
//! `unsafe` code lives only in this module tree (device memory, dynamic
//! libraries), each block with a `// SAFETY:` comment.

mod by_target;
pub mod cache;
pub mod compile_log;
#[allow(unsafe_code)]
pub mod cpu;
#[allow(unsafe_code)]
pub mod cuda;
pub mod exec;
#[allow(unsafe_code)]
pub mod guard;
pub mod host;
mod morphology;
#[allow(unsafe_code)]
pub mod nvrtc;
#[allow(unsafe_code)]
pub mod pool;
mod spike_bits;
pub mod stop;

/// A small linear congruential generator for the table tests: `next(m)` in `0..m`.
#[cfg(test)]
fn test_lcg(seed: u64) -> impl FnMut(u64) -> i32 {
    let mut x = seed;
    move |m| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) % m) as i32
    }
}

use crate::diag::Result;
use crate::plan::{BufferId, KernelId, Launch};

/// Per-launch values: the code object's clock, the seed and the element count.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepArgs {
    pub t: f64,
    pub dt: f64,
    pub timestep: i64,
    pub seed: u64,
    /// Random-number launches since the last `seed()` (part of the Philox counter).
    pub stream: u64,
    pub n: i64,
    /// 0, or the device address of the step state (a launch captured into a CUDA graph:
    /// `timestep` is then the clock's index in it, `stream` the offset within the step).
    pub step: u64,
}

/// `BriskArgs` as the generated code declares it (`templates/common/support.h`):
/// eleven 8-byte fields. The two tables are host pointers on the CPU and
/// device addresses on CUDA, both carried as `u64`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct BriskArgs {
    pub arrays: u64,
    pub sizes: u64,
    pub t: f64,
    pub dt: f64,
    pub timestep: i64,
    pub seed: u64,
    pub stream: u64,
    pub n: i64,
    pub step: u64,
    /// The C++ target: the elements `[lo, hi)` of this call (a chunk of a split kernel).
    pub lo: i64,
    pub hi: i64,
    /// CUDA: 0, or the device address of a batched launch's copy table
    /// (`BriskCopy` in `support.h`, one per `blockIdx.y`).
    pub batch: u64,
}

impl BriskArgs {
    /// The arguments of one launch, given the addresses of the pointer and size tables.
    pub fn new(arrays: u64, sizes: u64, step: &StepArgs) -> BriskArgs {
        BriskArgs {
            arrays,
            sizes,
            t: step.t,
            dt: step.dt,
            timestep: step.timestep,
            seed: step.seed,
            stream: step.stream,
            n: step.n,
            step: step.step,
            lo: 0,
            hi: step.n,
            batch: 0,
        }
    }

    /// The fields as words (the worker pool hands them over in atomic words).
    pub fn to_words(&self) -> [u64; 12] {
        [
            self.arrays,
            self.sizes,
            self.t.to_bits(),
            self.dt.to_bits(),
            self.timestep as u64,
            self.seed,
            self.stream,
            self.n as u64,
            self.step,
            self.lo as u64,
            self.hi as u64,
            self.batch,
        ]
    }

    /// The inverse of [`BriskArgs::to_words`].
    pub fn from_words(w: [u64; 12]) -> BriskArgs {
        BriskArgs {
            arrays: w[0],
            sizes: w[1],
            t: f64::from_bits(w[2]),
            dt: f64::from_bits(w[3]),
            timestep: w[4] as i64,
            seed: w[5],
            stream: w[6],
            n: w[7] as i64,
            step: w[8],
            lo: w[9] as i64,
            hi: w[10] as i64,
            batch: w[11],
        }
    }
}

/// Adds `seconds` to timer `slot` (see [`Device::launch_timed`]).
fn add_to_timer(timers: &mut Vec<f64>, slot: usize, seconds: f64) {
    if timers.len() <= slot {
        timers.resize(slot + 1, 0.0);
    }
    timers[slot] += seconds;
}

/// Memory and kernels on one target. Buffers and kernels are the plan's
/// ([`BufferId`], [`KernelId`]: a buffer's slot in `BriskArgs::arrays`, a
/// kernel's place in the device's table of loaded kernels).
pub trait Device {
    /// `cpu` or `cuda`.
    fn backend(&self) -> &'static str;
    /// The target whose program the device runs (what the plan decided for it applies).
    fn target(&self) -> crate::plan::Target;
    /// Allocates every buffer, zero-filled (`bytes[i]` bytes for buffer `i`;
    /// zero-length buffers are allowed). `names[i]` names buffer `i` in
    /// errors (out of memory names the array and the bytes).
    fn allocate(&mut self, bytes: &[usize], names: &[String]) -> Result<()>;
    /// Copies `data` into buffer `buf` at byte `offset`.
    fn write(&mut self, buf: BufferId, offset: usize, data: &[u8]) -> Result<()>;
    /// Copies `len` bytes of buffer `buf` from byte `offset`.
    fn read(&mut self, buf: BufferId, offset: usize, len: usize) -> Result<Vec<u8>>;
    /// Starts copying `len` bytes of buffer `buf` from byte `offset` to the
    /// host, after the work launched so far, without waiting for it. The
    /// kernels launched until [`take_reads`](Device::take_reads) must not
    /// write those bytes. (CUDA: on a copy stream into page-locked memory,
    /// overlapping those kernels; the CPU copies at once.)
    fn read_async(&mut self, buf: BufferId, offset: usize, len: usize) -> Result<()>;
    /// Waits for the `read_async` copies since the last call and passes each
    /// to `f`, with its number, in the order they were started.
    fn take_reads(&mut self, f: &mut dyn FnMut(usize, &[u8]) -> Result<()>) -> Result<()>;
    /// Sets `len` bytes of buffer `buf` from byte `offset` to zero.
    fn zero(&mut self, buf: BufferId, offset: usize, len: usize) -> Result<()> {
        self.write(buf, offset, &vec![0u8; len])
    }
    /// Reallocates buffer `buf` to `bytes`, keeping the common prefix, zeroing the rest.
    fn resize(&mut self, buf: BufferId, bytes: usize) -> Result<()>;
    /// Publishes element counts (`BriskArgs::sizes`); called after any resize, never per step.
    fn set_lens(&mut self, lens: &[i64]) -> Result<()>;
    /// Runs kernel `kernel` (a plan index).
    fn launch(&mut self, kernel: KernelId, launch: Launch, args: &StepArgs) -> Result<()>;
    /// Runs kernel `kernel` and adds its duration to timer `slot`
    /// (`run(..., profile=True)`): wall time on the CPU, the time between
    /// two CUDA events around the launch on a GPU, with no synchronisation.
    fn launch_timed(
        &mut self,
        kernel: KernelId,
        launch: Launch,
        args: &StepArgs,
        slot: usize,
    ) -> Result<()>;
    /// Seconds per timer slot since the last call (index = slot), once the
    /// timed launches have finished; the timers restart from zero.
    fn take_timers(&mut self) -> Result<Vec<f64>>;
    /// Waits for all launched work.
    fn synchronize(&mut self) -> Result<()>;

    /// Whether launches may be captured into graphs now: the plan's target
    /// replays them (`plan::Target::replays_graphs`), unless the device runs
    /// each launch to its end (`BRISK_CUDA_SYNC=1`).
    fn graphs_allowed(&self) -> bool {
        self.target().replays_graphs()
    }
    // The graph methods below are called only when `graphs_allowed`: on a
    // target without graphs, a call is a bug in Brisk (an internal error).
    /// The device address of buffer `buf` (graphs: the step state).
    fn buffer_address(&self, buf: BufferId) -> Result<u64> {
        Err(no_graphs(
            self.backend(),
            &format!("the device address of buffer {buf}"),
        ))
    }
    /// From here to `end_capture`, launches are recorded into a graph instead of run.
    fn begin_capture(&mut self) -> Result<()> {
        Err(no_graphs(self.backend(), "a graph capture"))
    }
    /// Ends a capture; returns the graph's number.
    fn end_capture(&mut self) -> Result<usize> {
        Err(no_graphs(self.backend(), "a graph capture"))
    }
    /// Replays graph `graph` (its launches, in capture order).
    fn launch_graph(&mut self, graph: usize) -> Result<()> {
        Err(no_graphs(self.backend(), &format!("graph {graph}")))
    }
    /// Frees every graph.
    fn clear_graphs(&mut self) {}

    /// CUDA: the device addresses of this device's pointer and size tables,
    /// which a batched launch passes for the copy this device holds.
    fn tables(&self) -> Option<(u64, u64)> {
        None
    }
    /// CUDA: the GPU's free memory in bytes now (a batched sweep measures
    /// what a batch took, to size the next ones).
    fn free_memory(&self) -> Option<u64> {
        None
    }
    /// CUDA: a handle on buffer `buf`'s memory, which another copy's device
    /// may adopt ([`Device::adopt_buffer`]); None where memory is not shared.
    fn share_buffer(&self, _buf: BufferId) -> Option<SharedBuffer> {
        None
    }
    /// CUDA: makes buffer `buf` (its first `bytes` bytes) the memory of
    /// `shared`, which another device of this context shares out, instead of
    /// its own; a write to it then makes a copy of its own first. Ok(false):
    /// not adopted (another backend or context), the buffer unchanged.
    fn adopt_buffer(&mut self, _buf: BufferId, _shared: &SharedBuffer, _bytes: usize) -> Result<bool> {
        Ok(false)
    }
    /// CUDA: launches `kernel` once for all `copies` of a batched sweep, copy
    /// `k` as `blockIdx.y == k` with its own tables, seed and count, and the
    /// clock and random stream of `args`, which every copy shares. The
    /// copies' devices share this one's program and stream (`CudaDevice::sibling`).
    fn launch_batch(
        &mut self,
        kernel: KernelId,
        _launch: Launch,
        _args: &StepArgs,
        _copies: &[BatchCopy],
    ) -> Result<()> {
        Err(no_batches(self.backend(), kernel))
    }
    /// CUDA: puts on the device what [`Device::launch_batch`] of `kernel` for
    /// `copies` will read (its copy tables), so that a launch captured into a
    /// graph copies nothing.
    fn prepare_batch(
        &mut self,
        kernel: KernelId,
        _launch: Launch,
        _copies: &[BatchCopy],
    ) -> Result<()> {
        Err(no_batches(self.backend(), kernel))
    }
}

/// A device buffer's memory as one device shares it out to others
/// ([`Device::share_buffer`]); it lives as long as a holder does.
#[derive(Clone)]
pub struct SharedBuffer(pub std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl std::fmt::Debug for SharedBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedBuffer")
    }
}

/// A batched launch asked of a backend without batched sweeps (a bug in Brisk).
fn no_batches(backend: &str, kernel: KernelId) -> crate::diag::Error {
    crate::diag::Error::internal(format!(
        "a batched launch of kernel {} asked of the {backend} backend",
        kernel.0
    ))
}

/// One copy of a batched launch ([`Device::launch_batch`]): what differs
/// between copies, its device's pointer and size tables ([`Device::tables`]),
/// its seed, its element count and (a launch captured into a graph) the
/// device address of its own step state, else 0 (`BriskCopy` in `support.h`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchCopy {
    pub arrays: u64,
    pub sizes: u64,
    pub seed: u64,
    pub n: i64,
    pub step: u64,
}

/// A graph operation on a backend whose target replays none.
fn no_graphs(backend: &str, what: &str) -> crate::diag::Error {
    crate::diag::Error::internal(format!(
        "{what} asked of the {backend} backend, whose target replays no graphs"
    ))
}

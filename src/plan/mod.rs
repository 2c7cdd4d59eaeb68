//! Run plan: buffers, kernels and monitor recorders, decided once for both targets.
//!
//! In: the [`Export`] and the lowered [`ir::CodeObject`]s. Out: a [`Plan`]
//! naming every runtime buffer (one per Brian array, plus the staging
//! buffers and fill counters through which monitors record), one kernel per
//! code object and phase with its launch shape, and the recorders the
//! runtime drains in blocks. Code generation and the runtime both read the
//! plan, so buffer numbers and kernel names agree by construction.
//!
//! Monitors never grow arrays on the device: each recorded array has a
//! staging buffer of two halves, each sized for `block_iterations` network
//! steps. The kernels record into the half the fill counter names; after
//! each block the runtime switches the monitors to the other half and
//! copies the filled part of this one out while the next block runs
//! (`runtime::exec`, drains).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::{Error, Result};
use crate::dtype::Dtype;
use crate::export::Export;
use crate::ir::{CodeObject, Symbol};

pub mod fusion;
mod kernels;
pub mod spatial;
pub mod synapses;

pub use kernels::{add_internal, constant_u64, group_size, size_of, KernelBuilder};

/// Elements a `Chunks` block takes (threshold: `THRESHOLD_ROUNDS` rounds of one element per thread).
/// The two code-generation targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Target {
    Cpp,
    Cuda,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Cpp => "cpp",
            Target::Cuda => "cuda",
        }
    }
    /// Whether the target runs the plan's fused kernels (`fusion`: a state
    /// update, threshold and reset in one launch; on CUDA one launch instead of
    /// three, in C++ one pass over the group's state in blocks that stay in
    /// the L1 cache instead of three passes, and one hand-over to the threads).
    pub fn fuses(self) -> bool {
        matches!(self, Target::Cuda | Target::Cpp)
    }
    /// Whether the target replays a run's steps as captured graphs
    /// (`runtime::exec::graphs`: CUDA graphs; the C++ target launches each kernel).
    pub fn replays_graphs(self) -> bool {
        self == Target::Cuda
    }
    /// File extension of the generated source.
    pub fn extension(self) -> &'static str {
        match self {
            Target::Cpp => "cpp",
            Target::Cuda => "cu",
        }
    }
}

/// Threads per block of CUDA kernels (a multiple of 32; `Block` kernels use one block).
pub const CUDA_BLOCK: u32 = 256;

pub const THRESHOLD_ROUNDS: u64 = 4;
pub const CHUNK: u64 = crate::plan::CUDA_BLOCK as u64 * THRESHOLD_ROUNDS;
/// Most threads of a kernel whose work is this step's events (monitors, pushes): its grid
/// strides over them.
pub const EVENT_THREADS: u64 = 64 * crate::plan::CUDA_BLOCK as u64;
/// Elements of a code object's block-coordination buffer (`CodeObjectPlan::sync`, uint32):
/// the next chunk ticket, the blocks finished, the launch epoch.
pub const SYNC_LEN: u64 = 4;

/// A buffer of the plan: its slot in `BriskArgs::arrays` (the generated code's
/// `_a.arrays[k]`) and its index in [`Plan::buffers`]. Only the plan makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct BufferId(pub usize);

/// A kernel of the plan: its index in [`Plan::kernels`] (and in a device's
/// table of loaded kernels). Only the plan makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct KernelId(pub usize);

impl std::fmt::Display for BufferId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

// A table with one entry per buffer (the plan's buffers, a device's
// lengths) or per kernel is indexed by the id.
impl<T> std::ops::Index<BufferId> for Vec<T> {
    type Output = T;
    fn index(&self, id: BufferId) -> &T {
        &self[id.0]
    }
}

impl<T> std::ops::IndexMut<BufferId> for Vec<T> {
    fn index_mut(&mut self, id: BufferId) -> &mut T {
        &mut self[id.0]
    }
}

impl<T> std::ops::Index<KernelId> for Vec<T> {
    type Output = T;
    fn index(&self, id: KernelId) -> &T {
        &self[id.0]
    }
}

impl<T> std::ops::IndexMut<KernelId> for Vec<T> {
    fn index_mut(&mut self, id: KernelId) -> &mut T {
        &mut self[id.0]
    }
}

impl Plan {
    /// The id the next buffer pushed onto [`Plan::buffers`] gets.
    pub fn next_buffer(&self) -> BufferId {
        BufferId(self.buffers.len())
    }

    /// Whether buffer `id` holds a Brian array (recorded or not): what a
    /// read from Python may name.
    pub fn is_brian_array(&self, id: BufferId) -> bool {
        matches!(
            self.buffers[id].role,
            BufferRole::Array | BufferRole::Recorded
        )
    }

    /// Every buffer with its id.
    pub fn buffer_ids(&self) -> impl Iterator<Item = (BufferId, &Buffer)> {
        self.buffers
            .iter()
            .enumerate()
            .map(|(k, b)| (BufferId(k), b))
    }

    /// Every kernel with its id.
    pub fn kernel_ids(&self) -> impl Iterator<Item = (KernelId, &Kernel)> {
        self.kernels
            .iter()
            .enumerate()
            .map(|(k, b)| (KernelId(k), b))
    }
}

/// Everything the code generator and the runtime agree on.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Runtime buffers; the index is the slot in `BriskArgs::arrays`.
    pub buffers: Vec<Buffer>,
    /// Brian array name -> buffer index.
    pub array_buffers: BTreeMap<String, BufferId>,
    /// Generated functions, one per code object and phase that has code.
    pub kernels: Vec<Kernel>,
    /// Code object name -> its kernels and numeric id.
    pub code_objects: BTreeMap<String, CodeObjectPlan>,
    /// Monitor streams drained by the runtime.
    pub recorders: Vec<Recorder>,
    /// Network steps per block (between drains).
    pub block_iterations: u64,
    /// Clocks whose `t`/`timestep` arrays code on another clock reads: the
    /// runtime writes them to the device whenever these clocks tick.
    pub mirrored_clocks: Vec<String>,
    /// `connect()` code objects (by code object name).
    pub connects: BTreeMap<String, ConnectPlan>,
    /// Synaptic pathways (by pathway name, e.g. `synapses_pre`).
    pub pathways: BTreeMap<String, PathwayPlan>,
    /// SpatialNeurons' cable solves (by code object name).
    pub spatial: BTreeMap<String, spatial::SpatialPlan>,
    /// Summed variables (by code object name).
    pub summed: BTreeMap<String, synapses::SummedPlan>,
    /// A network step replayed as a CUDA graph: the device's step state and its tick.
    pub step: StepPlan,
    /// CUDA: groups whose state update, threshold and reset run as one kernel.
    pub fusions: Vec<fusion::Fusion>,
}

/// What a step replayed as a CUDA graph needs: the clocks and random-number
/// stream live on the device (`state`), and a tick kernel at the end of each
/// step advances them (`runtime::exec`, graph mode).
#[derive(Debug, Clone, Serialize)]
pub struct StepPlan {
    /// uint64 x (1 + 2 x clocks): the random-number stream at the step's start, then
    /// each clock's timestep and dt (bits), clocks in export order.
    pub state: BufferId,
    pub clocks: Vec<StepClock>,
    /// The tick kernel: `n` is the mask of the clocks that ticked, `stream` the
    /// random-number launches of the step.
    pub tick: KernelId,
}

/// A clock in the step state.
#[derive(Debug, Clone, Serialize)]
pub struct StepClock {
    pub name: String,
    /// Brian's `t` and `timestep` arrays, which the tick writes.
    pub t: BufferId,
    pub timestep: BufferId,
    /// An event clock (its times come from an array): steps on it are not replayed.
    pub event: bool,
}

/// How one `connect()` call runs: count per outer element, scan on the host,
/// resize, fill (generator); or resize and fill (arrays).
#[derive(Debug, Clone, Serialize)]
pub struct ConnectPlan {
    /// The Synapses object (for messages).
    pub synapses: String,
    /// Generator: the outer and the result index (`i`, `j`), for messages.
    pub outer_index: String,
    pub result_index: String,
    /// Generator: outer elements (count kernel, then fill kernel). Arrays: `None`.
    pub outer: Option<LoopSize>,
    /// Arrays: the `sources` array (one new synapse per element).
    pub sources: Option<BufferId>,
    /// int64 per outer element: counts, then absolute start positions
    /// (arrays: one element, the first new synapse).
    pub counts: BufferId,
    /// int64 x 3: error code, outer element, offending value.
    pub error: BufferId,
    /// The Synapses' `N` (scalar).
    pub n: BufferId,
    pub synaptic_pre: BufferId,
    pub synaptic_post: BufferId,
    pub n_incoming: BufferId,
    pub n_outgoing: BufferId,
    /// Elements of `N_incoming` (target size, plus offset) and `N_outgoing`;
    /// a size is a Synapses' `N` when Synapses connect to Synapses.
    pub incoming_len: (LoopSize, u64),
    pub outgoing_len: (LoopSize, u64),
    /// Every array resized to the synapse count.
    pub registered: Vec<BufferId>,
    pub multisynaptic_index: Option<BufferId>,
    pub count_kernel: Option<KernelId>,
    /// A call that draws no random numbers and calls no user function: every
    /// array its code reads (sorted), on which, with its sizes and clock
    /// values, the synapses it makes depend and nothing else. A sweep builds
    /// such a call once for all copies whose inputs are equal
    /// (`runtime::exec::shared_connect`). `None`: each copy builds its own.
    pub inputs: Option<Vec<BufferId>>,
}

/// A synaptic pathway's spike history and delay tables. Each step the push
/// kernel writes the source range's spikes into the next history slot; the
/// synapses kernel delivers, for each delay `d`, the synapses with delay `d`
/// of the neurons that spiked `d` steps ago. The host builds the tables when
/// a run starts (`prepare`).
#[derive(Debug, Clone, Serialize)]
pub struct PathwayPlan {
    pub name: String,
    pub synapses: String,
    /// Each synapse's source neuron (absolute index).
    pub sources: BufferId,
    pub delay: BufferId,
    pub delay_scalar: bool,
    pub spikes_start: i64,
    /// Neurons in the source range.
    pub num_sources: u64,
    pub source_dt: BufferId,
    /// int32, `slots * (num_sources + 1)`: spikes per step, count last.
    pub history: BufferId,
    /// int64 x 8: ring slots, cursor, min and max delay, carried steps,
    /// current carried step, `dt` (bits) and Brian's queue length (see
    /// `runtime::exec::synapses`).
    pub state: BufferId,
    /// int64, `num_sources + 1`: each source's synapses in `by_source`.
    pub by_source_start: BufferId,
    /// int32: synapse indices grouped by source, ordered by delay then index.
    pub by_source: BufferId,
    /// int32: the delay (steps) of each entry of `by_source`.
    pub by_source_delay: BufferId,
    /// uint64 per source: bit `d % 64` set when the source has a synapse of
    /// delay `d` (steps). The C++ walk of the spike history skips a source's
    /// spike at a delay it has no synapse of with one test, rather than a
    /// search of its synapses: with heterogeneous delays and few synapses per
    /// source, most (spike, delay) pairs it visits deliver nothing.
    pub by_source_delays: BufferId,
    /// int64 per carried step + 1, and the carried synapses (spikes pending
    /// when the run started, in Brian's queue order).
    pub carry_start: BufferId,
    pub carry: BufferId,
    /// CUDA delivery grouped by target, when the plan chose it for this
    /// pathway's `synapses` code object (see [`ByTargetPlan`]).
    pub by_target: Option<ByTargetPlan>,
    /// The C++ target's delivery split by target ([`Split::Targets`]): the
    /// per-synapse target index by which `by_source` is ordered within each
    /// source and delay (then by synapse, as Brian's order within a target).
    pub order_by: Option<BufferId>,
}

impl PathwayPlan {
    /// The buffers that hold the queue between runs (what `store()` keeps and a
    /// live session carries into a rebuilt program).
    pub fn queue_buffers(&self) -> [BufferId; 8] {
        [
            self.history,
            self.state,
            self.by_source_start,
            self.by_source,
            self.by_source_delay,
            self.by_source_delays,
            self.carry_start,
            self.carry,
        ]
    }
}

/// A delivery grouped by target: a thread per target element applies the
/// synapses of that element in Brian's queue order (for synaptic code that
/// is not race-free as atomics). The host builds the tables when a run
/// starts: each target's synapses ordered as Brian delivers them (delay
/// descending, then source, then synapse), and the carried queue ordered by
/// target within each step (the order within a target kept).
#[derive(Debug, Clone, Serialize)]
pub struct ByTargetPlan {
    /// The index variable the code writes through (`_postsynaptic_idx`, ...).
    pub index_name: String,
    /// int32 per synapse: its target element (the index variable's array).
    pub index: BufferId,
    /// Target elements (the length of the arrays written through the index).
    pub groups: u64,
    /// Variables written through another index, as atomic additions.
    pub atomic: std::collections::BTreeSet<String>,
    /// int64, `groups + 1`: each target's entries in the three tables below.
    pub start: BufferId,
    /// int32 per entry: the synapse, its source (relative to the pathway's
    /// source range) and its delay in steps.
    pub synapse: BufferId,
    pub source: BufferId,
    pub delay: BufferId,
}

/// One runtime buffer.
#[derive(Debug, Clone, Serialize)]
pub struct Buffer {
    pub name: String,
    pub dtype: Dtype,
    /// Elements at allocation.
    pub len: u64,
    pub role: BufferRole,
}

/// What a buffer holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum BufferRole {
    /// A Brian array (its results file comes from here unless recorded).
    Array,
    /// A Brian array that monitors append to: it lives on the host; the
    /// device-side buffer stays empty.
    Recorded,
    /// Staging for a recorded array (buffer index of the array).
    Staging { array: BufferId },
    /// int64 x 2: records in the current half of one monitor's staging buffers, and the half.
    Fill,
    /// Read-only values loaded from the Brian static array of the buffer's
    /// name (TimedArray values).
    Static,
    /// Brisk's own working memory (connect() counts, spike queues).
    Internal,
}

/// Which part of a code object a kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Phase {
    Main,
    /// `synapses_create_generator`: the counting pass (the main phase fills).
    Count,
    BeforeRun,
    AfterRun,
    /// `spatialstateupdate`, after the main phase: per section, tridiagonal solves.
    Sections,
    /// `spatialstateupdate`: the sections' coupling system.
    Coupling,
    /// `spatialstateupdate`: the new `v` and `Ic` per compartment.
    Voltage,
    /// The end of a step replayed as a CUDA graph (`StepPlan::tick`); no code object.
    Tick,
    /// CUDA: a group's state update, threshold and reset in one kernel
    /// ([`fusion`]); its code object is the threshold.
    Fused,
    /// `synapses` in an export with a `run(..., profile=True)`: the
    /// delivery's walk over the spike queue (the synapses due this step)
    /// without its statements. A profiled run times it for the pathway's
    /// `synapses_push_spikes`, whose queue push cpp_standalone times there.
    QueueWalk,
}

/// How a kernel is launched on the GPU (the CPU runs every kernel serially).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Launch {
    /// One thread per element, `n` elements.
    Grid,
    /// One block that loops over its elements (ordered output, or a
    /// counter shared by all elements).
    Block,
    /// One block per [`CHUNK`] elements (no clamp): the threshold's ordered compaction.
    Chunks,
}

/// One generated function.
#[derive(Debug, Clone, Serialize)]
pub struct Kernel {
    /// The C symbol.
    pub symbol: String,
    pub code_object: String,
    /// The Brian object of the code object (errors in the kernel name it).
    pub owner: String,
    pub phase: Phase,
    pub launch: Launch,
    /// Elements per launch.
    pub size: LoopSize,
    /// Random-number streams a launch draws from (0 or 1; a fused kernel one
    /// per part that draws): the stream counter advances by as many.
    pub rng_streams: u64,
    /// The kernel launched right after this one, with the same clock (the
    /// later steps of a `spatialstateupdate`).
    pub then: Option<KernelId>,
    /// A grid whose scalar code writes shared variables: the last block to
    /// finish stores them (through the code object's sync words).
    pub last_block_stores: bool,
    /// How the C++ target runs it over its elements.
    pub split: Split,
    /// The C++ target's estimate of one element's work, in units of a few
    /// arithmetic operations (`plan::kernels::element_weight`): a split
    /// kernel's chunks hold at least `BRISK_SPLIT_MIN / weight` elements, so
    /// that costly elements (Hodgkin-Huxley's exponentials) share out at sizes
    /// where cheap ones (a LIF neuron) do not repay the hand-over.
    pub weight: u64,
}

/// How the C++ target runs a kernel over its elements (CUDA: its launch shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Split {
    /// One call over every element.
    Whole,
    /// Calls over chunks of the elements (`BriskArgs::lo..hi`), on threads at
    /// once: each element's work reads and writes only that element's values
    /// and its random numbers are counted by element, so the results are the
    /// same for any chunking. Chunks start at multiples of [`SPLIT_ALIGN`].
    Elements,
    /// As `Elements`, for a threshold filling the event space `events` (its
    /// length the kernel's size + 1): each chunk writes its elements' events,
    /// in order, from the start of its own range, followed by -1 when they do
    /// not fill it; the CPU device then moves them together, in chunk order
    /// (`runtime::cpu::compact_events`), and writes the count: the event
    /// space one call would have written.
    Events { events: BufferId },
    /// A `synapses` delivery whose code writes only its synapses' own
    /// variables: calls over chunks of the synapses `[lo, hi)`, `count`'s
    /// current length of them (a per-synapse array); each call walks the
    /// step's events in Brian's order and applies only its own synapses, so
    /// every synapse sees its events in the same order as in one call.
    Synapses { count: BufferId },
    /// A `synapses` delivery whose code writes through one index (its
    /// target, `index`: a per-synapse array of elements `0..groups`) and the
    /// synapses' own variables only: calls over chunks of the targets `[lo,
    /// hi)`; each call walks the step's events in Brian's order and applies
    /// the synapses of its own targets, so every target meets its synapses in
    /// one call's order. The pathway's tables are ordered by target within a
    /// source and delay (`PathwayPlan::order_by`), for one binary search each.
    Targets { index: BufferId, groups: u64 },
}

/// Chunks of a split kernel start at multiples of this many elements: the C++
/// element loops compute their random numbers in blocks of `BRISK_AHEAD` (64)
/// elements (`templates/common/support.h`).
pub const SPLIT_ALIGN: u64 = 64;

impl Plan {
    /// Per kernel: its symbol, Brian object and code object (the table that
    /// attributes an error in generated code, on both targets).
    pub fn kernel_table(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.kernels
            .iter()
            .map(|k| (k.symbol.as_str(), k.owner.as_str(), k.code_object.as_str()))
    }
}

/// How a `synapses` code object delivers its events on a GPU.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Delivery {
    /// A thread per synapse; these target variables are written with atomic
    /// additions (the code is race-free as atomics).
    Atomic(std::collections::BTreeSet<String>),
    /// A thread per target element, over the pathway's `by_target` tables
    /// (the writes go to one target element each, in Brian's order).
    ByTarget,
    /// One thread, in Brian's order (the writes are not race-free).
    Serial,
}

/// Where a kernel's element count comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum LoopSize {
    Fixed(u64),
    /// The current length of a buffer.
    BufferLen(BufferId),
    /// The value of a scalar int buffer (e.g. a Synapses' `N`).
    BufferValue(BufferId),
}

/// The kernels of one code object.
#[derive(Debug, Clone, Serialize)]
pub struct CodeObjectPlan {
    /// The elements of its event space (`_spikespace` without the count slot),
    /// when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
    pub main: Option<KernelId>,
    pub before_run: Option<KernelId>,
    pub after_run: Option<KernelId>,
    pub count: Option<KernelId>,
    pub clock: Option<String>,
    /// `synapses_push_spikes`: the pathway whose queue its before-run phase prepares.
    pub prepares: Option<String>,
    /// Multi-block kernels: uint32 x [`SYNC_LEN`] through which the blocks of a launch
    /// agree (chunk tickets, the last block to finish), zero between launches.
    pub sync: Option<BufferId>,
    /// Threshold: one uint64 per chunk, its count and prefix for the look-back.
    pub chunk_status: Option<BufferId>,
    /// `synapses`: how its delivery runs on a GPU (the C++ target delivers
    /// in one thread, in Brian's order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// `synapses`, when a run is profiled: its [`Phase::QueueWalk`] kernel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub walk: Option<KernelId>,
}

/// A monitor's output stream: staging buffers and one fill counter
/// (int64 x 2: the records in the current half, and that half, 0 or 1).
#[derive(Debug, Clone, Serialize)]
pub struct Recorder {
    /// The monitor (Brian object) name.
    pub owner: String,
    pub fill: BufferId,
    /// (recorded array buffer, staging buffer, elements per record).
    pub streams: Vec<RecordStream>,
    /// Most records per network step (a [`SpikeBits`] recorder: one slot).
    pub records_per_step: u64,
    /// A spike monitor recording its events as bits (its streams' staging stays empty).
    pub bits: Option<SpikeBits>,
}

/// A spike or event monitor of `i` and `t` only (`analysis::spike_bits`), on an
/// event space a threshold fills (ascending): each step it runs, it writes a
/// slot of one bit per source element and the step's `t`, so a block of steps
/// needs `words_per_slot * 4 + 8` bytes per step whatever the firing, where
/// records of every possible event would need 12 bytes per source element.
/// The runtime turns the set bits into `i` and `t` records, in element order,
/// which is the event space's order.
#[derive(Debug, Clone, Serialize)]
pub struct SpikeBits {
    /// uint32, two halves of `block_iterations * words_per_slot`: bit `k % 32` of word
    /// `k / 32` of slot `s` of a half is set when element `source_start + k` had an event
    /// in the monitor's `s`-th step of the block (the fill counter counts the slots). The
    /// runtime zeroes the slots it drained.
    pub words: BufferId,
    pub words_per_slot: u64,
    /// float64 per slot (two halves): that step's `t`.
    pub times: BufferId,
    pub source_start: u64,
    pub source_stop: u64,
    /// The array whose value at the event's element is recorded as `i`, and the
    /// recorded arrays of `i` and `t`.
    pub index_values: BufferId,
    pub index_array: BufferId,
    pub time_array: BufferId,
}

/// One recorded array.
#[derive(Debug, Clone, Serialize)]
pub struct RecordStream {
    pub array: BufferId,
    pub staging: BufferId,
    /// Elements per record (1, or the columns of a 2-D StateMonitor array).
    pub width: u64,
}

impl Plan {
    /// Elements of one half of a staging buffer of `rec` (the other half follows):
    /// `width` elements per record (a stream's width; 1 for spike-bit times,
    /// the words per slot for spike-bit words).
    pub fn staging_half(&self, rec: &Recorder, width: u64) -> u64 {
        let records = if rec.bits.is_some() {
            1
        } else {
            rec.records_per_step
        };
        self.block_iterations * records * width
    }

    /// The buffer of Brian array `name`.
    pub fn buffer_of(&self, name: &str) -> Option<BufferId> {
        self.array_buffers.get(name).copied()
    }

    /// The kernel a network run launches for the scheduled code object
    /// `code_object`, given its main kernel: with `fused` (the CUDA runtime),
    /// a fused threshold launches its fusion's kernel and the fused state
    /// update and reset launch nothing.
    pub fn network_kernel(
        &self,
        code_object: &str,
        main: Option<KernelId>,
        fused: bool,
    ) -> Option<KernelId> {
        if !fused {
            return main;
        }
        for f in &self.fusions {
            if f.threshold == code_object {
                return Some(f.kernel);
            }
            if f.stateupdate == code_object || f.reset.as_deref() == Some(code_object) {
                return None;
            }
        }
        main
    }

    /// The main kernel of code object `name` (its launch in a network step); a
    /// code object without one is a bug in Brisk where a caller needs it.
    pub fn main_kernel(&self, name: &str) -> Result<&Kernel> {
        self.code_objects
            .get(name)
            .and_then(|c| c.main)
            .and_then(|k| self.kernels.get(k.0))
            .ok_or_else(|| Error::internal(format!("code object '{name}' has no main kernel")))
    }

    /// The recorder whose streams include buffer `array`.
    pub fn recorder_of_array(&self, array: BufferId) -> Option<&Recorder> {
        self.recorders
            .iter()
            .find(|r| r.streams.iter().any(|s| s.array == array))
    }
}

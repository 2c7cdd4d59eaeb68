//! Executor: Brian's main queue and network loop, on any [`Device`].
//!
//! In: export, plan and a device with the program loaded. Out: [`Finished`]:
//! the bytes of every Brian array and the last run's timing, for the
//! results writer. The network loop follows cpp_standalone's
//! `Network::run` (clock intervals, clocks due within 1e-14, schedule
//! order); monitors are drained every `plan.block_iterations` steps.
//!
//! The executor is one component: this file holds the [`Executor`], its
//! clocks and the main-queue loop; `impl Executor` goes on in its child
//! modules, one concern each (a network run, monitors' drains, CUDA graphs,
//! profiling, `store`/`restore`, stored-state files, state carried into a
//! rebuilt program, a live session's reads and writes, synapses' connect
//! and pathways, a CUDA sweep's copies run batched), with the [`host::Host`]
//! a run calls back and the `report=` progress. The children import the executor (`super::Executor`) and this
//! file uses a few of their items (`self::...`); nothing else in `runtime`
//! imports the executor, so no import circle leaves this folder
//! (`tests/layers.rs`). The rest of `runtime` (devices, compilers, caches,
//! the tables a child builds) sits below it.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use self::drain::Drain;
use self::host::{Host, NoHost};
use self::seeds::{stream_seed, unseeded_seed};
use self::network::NetworkRun;
use self::snapshot::Snapshot;
use crate::diag::{Error, Result};
use crate::dtype::{Dtype, Value};
use crate::export::{Export, QueueEntry};
use crate::plan::{BufferId, BufferRole, KernelId, LoopSize, Phase, Plan};
use crate::runtime::{Device, StepArgs};

pub mod batch;
mod carry;
mod network;
mod drain;
mod graphs;
pub mod host;
mod live;
mod profile;
mod report;
mod seeds;
pub mod shared_connect;
mod snapshot;
mod snapshot_file;
mod synapses;

const CLOCK_EPSILON: f64 = 1e-14;

/// The final state after the main queue ran.
pub struct Finished {
    /// Bytes of every Brian array, by export array index.
    pub arrays: Vec<Vec<u8>>,
    /// Wall-clock seconds and completed fraction of the last network run.
    pub last_run: (f64, f64),
    /// `run(..., profile=True)`: seconds per code object, in first-run order.
    pub profile: Option<Vec<(String, f64)>>,
    /// Seconds spent in connect() calls, until their device work finished.
    pub connect_seconds: f64,
    /// connect() calls whose synapses another copy of the sweep built.
    pub connects_shared: u64,
}

#[derive(Debug, Clone)]
pub(super) struct ClockState {
    buf_t: BufferId,
    /// Regular clocks: the `dt` array.
    pub(super) buf_dt: Option<BufferId>,
    buf_timestep: BufferId,
    /// Event clocks: the `times` array.
    buf_times: Option<BufferId>,
    pub(super) dt: f64,
    /// Event clocks: the times (read at the start of each run).
    times: Vec<f64>,
    pub(super) timestep: i64,
    i_end: i64,
}

/// Which clocks are due in the coming step (`due`) and its time, or `None`
/// when the run is over (the earliest clock has reached its end).
pub(super) fn due_clocks(clocks: &[ClockState], due: &mut [bool]) -> Option<f64> {
    let min = (0..clocks.len()).min_by(|&a, &b| clocks[a].t().total_cmp(&clocks[b].t()))?;
    if !clocks[min].running() {
        return None;
    }
    let t_min = clocks[min].t();
    for (i, c) in clocks.iter().enumerate() {
        let s = c.t();
        due[i] = s == t_min || (s - t_min).abs() <= CLOCK_EPSILON;
    }
    Some(t_min)
}

impl ClockState {
    fn t(&self) -> f64 {
        if self.buf_times.is_some() {
            usize::try_from(self.timestep)
                .ok()
                .and_then(|i| self.times.get(i))
                .copied()
                .unwrap_or(f64::INFINITY)
        } else {
            self.timestep as f64 * self.dt
        }
    }
    fn running(&self) -> bool {
        self.timestep < self.i_end
    }
    /// Brian's `Clock::set_interval` / `EventClock::set_interval`.
    fn set_interval(&mut self, start: f64, end: f64) {
        if self.buf_times.is_some() {
            self.timestep = self.times.partition_point(|&t| t < start) as i64;
            self.i_end = self.times.partition_point(|&t| t < end) as i64;
            return;
        }
        let fround = |x: f64| (x + 0.5) as i64;
        let i_start = fround(start / self.dt);
        let t_start = i_start as f64 * self.dt;
        self.timestep =
            if t_start == start || (t_start - start).abs() <= CLOCK_EPSILON * t_start.abs() {
                i_start
            } else {
                (start / self.dt).ceil() as i64
            };
        self.i_end = fround(end / self.dt);
        let t_end = self.i_end as f64 * self.dt;
        if !(t_end == end || (t_end - end).abs() <= CLOCK_EPSILON * t_end.abs()) {
            self.i_end = (end / self.dt).ceil() as i64;
        }
    }
}

/// Runs the main queue.
pub struct Executor<'a> {
    export: Arc<Export>,
    plan: Arc<Plan>,
    device: Box<dyn Device + 'a>,
    /// Elements per buffer (host-authoritative).
    lens: Vec<u64>,
    /// Host data of recorded (monitor) arrays.
    recorded: BTreeMap<BufferId, Vec<u8>>,
    /// Spike bits: the values recorded as `i`, by buffer (read at the first drain).
    bits_index: BTreeMap<BufferId, Vec<u8>>,
    /// The copies of the last drain, not yet appended.
    drain_in_flight: Option<Drain>,
    seed: u64,
    /// Seeds chosen without a value so far (see [`unseeded_seed`]).
    unseeded: u64,
    /// The random stream this run draws from (a sweep's copy: [`stream_seed`]).
    random_stream: u64,
    /// Random-number launches since the last seed.
    stream: u64,
    network_t: BTreeMap<String, f64>,
    clocks: BTreeMap<String, ClockState>,
    last_run: (f64, f64),
    /// Network steps since the last drain.
    pending: u64,
    /// Seconds per profiled code object (runs with `profile=True`).
    profile: Option<Vec<(String, f64)>>,
    /// Values of scalar buffers that size kernels (a Synapses' `N`), read
    /// once and kept until the main queue writes to a buffer again.
    scalar_cache: BTreeMap<BufferId, u64>,
    /// Brian's run_args: (buffer, value), applied where the main queue says.
    run_args: Vec<(BufferId, RunArgValue)>,
    /// `store()`d states by (network, name).
    snapshots: BTreeMap<(String, String), Snapshot>,
    /// Seconds spent in connect() calls (see [`Finished::connect_seconds`]).
    connect_seconds: f64,
    /// A sweep's deterministic connect() calls, built once ([`Executor::share_connects`]).
    shared_connects: Option<Arc<shared_connect::SharedConnects>>,
    /// connect() calls so far, by code object.
    connect_calls: BTreeMap<String, usize>,
    /// connect() calls taken from another copy's build (see [`Finished::connects_shared`]).
    connects_shared: u64,
}

/// The value of one run_arg.
#[derive(Debug, Clone)]
pub enum RunArgValue {
    /// Every element set to one value.
    Scalar(Value),
    /// Raw values in the buffer's dtype.
    Bytes(Vec<u8>),
}

/// Environment variable: the base of the seeds of `seed()` without a value
/// and of scripts that never call `seed()`, which otherwise get a fresh
/// random seed each run, as in Brian. For reproducible tests (the emulated
/// CUDA runs under several schedules must draw the same numbers).
pub const DEFAULT_SEED_ENV: &str = "BRISK_DEFAULT_SEED";

/// Environment variable: `0` launches a fused group's state update,
/// threshold and reset one by one instead (`plan::fusion`).
pub const FUSION_ENV: &str = "BRISK_FUSION";

impl<'a> Executor<'a> {
    /// Allocates every buffer and applies Brian's array initialisation (zeros, arange).
    pub fn new(
        export: Arc<Export>,
        plan: Arc<Plan>,
        mut device: Box<dyn Device + 'a>,
    ) -> Result<Executor<'a>> {
        let (export_ref, plan_ref) = (Arc::clone(&export), Arc::clone(&plan));
        let (export, plan) = (&*export_ref, &*plan_ref);
        let mut lens: Vec<u64> = plan.buffers.iter().map(|b| b.len).collect();
        for (buf, decl) in brian_arrays(export, plan)? {
            if decl.dynamic || plan.buffers[buf].role == BufferRole::Recorded {
                lens[buf] = 0;
            }
        }
        let bytes: Vec<usize> = lens
            .iter()
            .zip(&plan.buffers)
            .map(|(&n, b)| n as usize * b.dtype.size())
            .collect();
        let names: Vec<String> = plan.buffers.iter().map(|b| b.name.clone()).collect();
        device.allocate(&bytes, &names)?;
        let mut exec = Executor {
            export: Arc::clone(&export_ref),
            plan: Arc::clone(&plan_ref),
            device,
            lens,
            recorded: BTreeMap::new(),
            bits_index: BTreeMap::new(),
            drain_in_flight: None,
            seed: unseeded_seed(0),
            unseeded: 1,
            random_stream: 0,
            stream: 0,
            network_t: BTreeMap::new(),
            clocks: BTreeMap::new(),
            last_run: (0.0, 1.0),
            pending: 0,
            profile: None,
            scalar_cache: BTreeMap::new(),
            run_args: Vec::new(),
            snapshots: BTreeMap::new(),
            connect_seconds: 0.0,
            shared_connects: None,
            connect_calls: BTreeMap::new(),
            connects_shared: 0,
        };
        exec.publish_lens()?;
        for (buf, decl) in brian_arrays(export, plan)? {
            if decl.init == crate::export::ArrayInit::Arange && !decl.dynamic {
                let data: Vec<u8> = (0..exec.lens[buf])
                    .flat_map(|k| Value::Int(decl.arange_start + k as i64).to_bytes(decl.dtype))
                    .collect();
                exec.device.write(buf, 0, &data)?;
            }
        }
        for (buf, buffer) in plan.buffer_ids() {
            if buffer.role == BufferRole::Static {
                let values = exec.static_values(&buffer.name, buffer.dtype)?;
                exec.device.write(buf, 0, &values)?;
            }
        }
        for clock in &export.clocks {
            let buf = |name: &str| {
                plan.buffer_of(name).ok_or_else(|| {
                    Error::export(format!("clock array '{name}' is not in the export"))
                })
            };
            exec.clocks.insert(
                clock.name.clone(),
                ClockState {
                    buf_t: buf(&clock.t_array)?,
                    buf_dt: clock.dt_array.as_deref().map(buf).transpose()?,
                    buf_timestep: buf(&clock.timestep_array)?,
                    buf_times: clock.times_array.as_deref().map(buf).transpose()?,
                    dt: clock.dt.unwrap_or(0.0),
                    times: Vec::new(),
                    timestep: 0,
                    i_end: 0,
                },
            );
        }
        Ok(exec)
    }

    pub fn backend(&self) -> &'static str {
        self.device.backend()
    }

    pub(super) fn publish_lens(&mut self) -> Result<()> {
        let lens: Vec<i64> = self.lens.iter().map(|&n| n as i64).collect();
        self.device.set_lens(&lens)
    }

    pub(super) fn array(&self, name: &str) -> Result<BufferId> {
        self.plan
            .buffer_of(name)
            .ok_or_else(|| Error::export(format!("unknown array '{name}' in the main queue")))
    }

    pub(super) fn dtype(&self, buf: BufferId) -> Dtype {
        self.plan.buffers[buf].dtype
    }

    /// Sets the element count of a dynamic array.
    pub(super) fn resize(&mut self, buf: BufferId, len: u64) -> Result<()> {
        let width = self.row_width(buf);
        let name = &self.plan.buffers[buf].name;
        let bytes = len
            .checked_mul(width)
            .and_then(|n| n.checked_mul(self.dtype(buf).size() as u64))
            .and_then(|b| usize::try_from(b).ok())
            .ok_or_else(|| {
                Error::runtime(format!(
                    "the array '{name}' would grow to {len} rows of {width}: too large"
                ))
            })?;
        if self.plan.buffers[buf].role == BufferRole::Recorded {
            let rec = self.recorded.entry(buf).or_default();
            rec.try_reserve_exact(bytes.saturating_sub(rec.len()))
                .map_err(|_| {
                    Error::runtime(format!(
                        "out of host memory: cannot allocate {bytes} bytes for the array '{name}'"
                    ))
                })?;
            rec.resize(bytes, 0);
            return Ok(());
        }
        self.device.resize(buf, bytes)?;
        self.lens[buf] = len * width;
        self.publish_lens()
    }

    /// The export's declaration of the Brian array buffer `buf` holds (none
    /// for Brisk's own buffers).
    pub(super) fn array_decl(&self, buf: BufferId) -> Option<&crate::export::ArrayDecl> {
        if self.plan.is_brian_array(buf) {
            self.export.array(&self.plan.buffers[buf].name)
        } else {
            None
        }
    }

    /// Columns of a 2-D array (1 for 1-D arrays).
    pub(super) fn row_width(&self, buf: BufferId) -> u64 {
        match self.array_decl(buf).map(|a| a.size) {
            Some(crate::export::ArraySize::TwoD([_, c])) => c.max(1),
            _ => 1,
        }
    }

    pub(super) fn read_scalar_f64(&mut self, buf: BufferId) -> Result<f64> {
        let bytes = self.device.read(buf, 0, 8)?;
        Ok(f64::from_le_bytes(
            bytes.try_into().map_err(|_| Error::runtime("short read"))?,
        ))
    }

    /// A clock with its current dt (regular) or times (event) read from the device.
    fn current_clock(&mut self, name: &str) -> Result<ClockState> {
        let mut c = self
            .clocks
            .get(name)
            .cloned()
            .ok_or_else(|| Error::export(format!("unknown clock '{name}'")))?;
        if let Some(buf) = c.buf_dt {
            c.dt = self.read_scalar_f64(buf)?;
        }
        if let Some(buf) = c.buf_times {
            c.times = self.read_f64s(buf)?;
        }
        Ok(c)
    }

    /// Brian's run_args (`group.variable=value`): the arrays they set and the values.
    /// Draws from random stream `k` (before the queue runs): every seed the
    /// script sets, and the one it starts with, becomes [`stream_seed`]`(seed,
    /// k)`; stream 0 is an ordinary run's.
    pub fn set_random_stream(&mut self, k: u64) {
        self.seed = stream_seed(self.seed, k);
        self.random_stream = k;
    }

    /// The device's free memory (CUDA), after the work launched so far.
    pub fn free_memory(&self) -> Option<u64> {
        self.device.free_memory()
    }

    /// Builds the deterministic connect() calls once for the sweep's copies
    /// that share `shared` (`shared_connect`).
    pub fn share_connects(&mut self, shared: Arc<shared_connect::SharedConnects>) {
        self.shared_connects = Some(shared);
    }

    pub fn set_run_args(&mut self, args: &[String]) -> Result<()> {
        for arg in args {
            let (name, value) = arg.split_once('=').ok_or_else(|| {
                Error::runtime(format!(
                    "run_args entry '{arg}' is not of the form name=value"
                ))
            })?;
            let (owner, var) = name.rsplit_once('.').ok_or_else(|| {
                Error::runtime(format!(
                    "run_args name '{name}' is not of the form group.variable"
                ))
            })?;
            let buf =
                if var == "values" && self.plan.buffer_of(&format!("{owner}_values")).is_some() {
                    self.plan.buffer_of(&format!("{owner}_values"))
                } else {
                    self.export
                        .arrays
                        .iter()
                        .find(|a| a.owner.as_deref() == Some(owner) && a.var == var && !a.read_only)
                        .and_then(|a| self.plan.buffer_of(&a.name))
                }
                .ok_or_else(|| {
                    Error::runtime(format!(
                        "run_args: no writable variable '{name}' in this simulation"
                    ))
                })?;
            let dtype = self.dtype(buf);
            let value = match value {
                "true" | "True" => RunArgValue::Scalar(Value::Bool(true)),
                "false" | "False" => RunArgValue::Scalar(Value::Bool(false)),
                v if v.starts_with('-') || v.starts_with(|c: char| c.is_ascii_digit()) => {
                    let x: f64 = v
                        .parse()
                        .map_err(|_| Error::runtime(format!("run_args: '{v}' is not a number")))?;
                    RunArgValue::Scalar(if dtype.is_float() {
                        Value::Float(x)
                    } else {
                        Value::Int(x as i64)
                    })
                }
                file => {
                    let project = self.export.dir.parent().unwrap_or(&self.export.dir);
                    let path = project.join(file);
                    let bytes = std::fs::read(&path).map_err(|e| {
                        Error::runtime(format!("run_args: cannot read {}: {e}", path.display()))
                    })?;
                    RunArgValue::Bytes(bytes)
                }
            };
            self.run_args.push((buf, value));
        }
        Ok(())
    }

    fn apply_run_args(&mut self) -> Result<()> {
        for (buf, value) in std::mem::take(&mut self.run_args) {
            let dtype = self.dtype(buf);
            let n = self.lens[buf] as usize;
            let bytes = match value {
                RunArgValue::Scalar(v) => v.to_bytes(dtype).repeat(n),
                RunArgValue::Bytes(bytes) => {
                    if bytes.len() != n * dtype.size() {
                        return Err(Error::runtime(format!(
                            "run_args for '{}': {} bytes for {n} values of {}",
                            self.plan.buffers[buf].name,
                            bytes.len(),
                            dtype.name()
                        )));
                    }
                    bytes
                }
            };
            self.device.write(buf, 0, &bytes)?;
        }
        Ok(())
    }

    /// Runs the whole main queue.
    pub fn run_queue(&mut self, out: &mut dyn Write) -> Result<()> {
        // Brian < 2.10 has no apply_run_args entry: run_args apply before anything runs.
        if !self
            .export
            .main_queue
            .iter()
            .any(|e| matches!(e, QueueEntry::ApplyRunArgs))
        {
            self.apply_run_args()?;
        }
        let export = Arc::clone(&self.export);
        self.run_given(&export.main_queue, out, &mut NoHost)
    }

    /// A live session: runs the main queue's entries from `from` on (those
    /// added since the last call), continuing from the current state.
    pub fn run_entries(
        &mut self,
        from: usize,
        out: &mut dyn Write,
        host: &mut dyn Host,
    ) -> Result<()> {
        let export = Arc::clone(&self.export);
        self.run_given(export.main_queue.get(from..).unwrap_or_default(), out, host)
    }

    /// A live session: runs `entries`, validated against this executor's export
    /// (`validate::queue_entries`), as if its main queue held them.
    pub fn run_given(
        &mut self,
        entries: &[QueueEntry],
        out: &mut dyn Write,
        host: &mut dyn Host,
    ) -> Result<()> {
        let ran = entries
            .iter()
            .try_for_each(|entry| self.run_entry(entry, out, host));
        // an error in a kernel names its code object from the plan's kernel table
        ran.and_then(|()| self.device.synchronize())
            .map_err(|e| e.in_kernel_of(self.plan.kernel_table()))
    }

    fn run_entry(
        &mut self,
        entry: &QueueEntry,
        out: &mut dyn Write,
        host: &mut dyn Host,
    ) -> Result<()> {
        if !matches!(entry, QueueEntry::RunNetwork(_)) {
            self.scalar_cache.clear();
        }
        match entry {
            QueueEntry::SetByConstant { array, value } => {
                let buf = self.array(array)?;
                let one = value.to_bytes(self.dtype(buf));
                let n = self.lens[buf] as usize;
                self.device.write(buf, 0, &one.repeat(n))?;
            }
            QueueEntry::SetBySingleValue { array, item, value } => {
                let buf = self.array(array)?;
                let dtype = self.dtype(buf);
                let len = self.lens[buf] as i64;
                let index = if *item < 0 { len + item } else { *item };
                if index < 0 || index >= len {
                    return Err(Error::runtime(format!(
                        "index {item} out of range for '{array}' ({len} elements)"
                    )));
                }
                self.device
                    .write(buf, index as usize * dtype.size(), &value.to_bytes(dtype))?;
            }
            QueueEntry::SetByArray {
                array,
                static_array,
            } => {
                let buf = self.array(array)?;
                let values = self.static_values(static_array, self.dtype(buf))?;
                let count = values.len() / self.dtype(buf).size();
                if self.array_decl(buf).is_some_and(|a| a.dynamic) {
                    self.resize(buf, count as u64 / self.row_width(buf))?;
                } else if count as u64 != self.lens[buf] {
                    return Err(Error::runtime(format!(
                        "static array '{static_array}' has {count} values, '{array}' has {}",
                        self.lens[buf]
                    )));
                }
                self.device.write(buf, 0, &values)?;
            }
            QueueEntry::SetArrayByArray {
                array,
                static_index,
                static_value,
            } => {
                let buf = self.array(array)?;
                let dtype = self.dtype(buf);
                let indices = self.static_values(static_index, Dtype::Int64)?;
                let values = self.static_values(static_value, dtype)?;
                for (k, idx) in indices.chunks_exact(8).enumerate() {
                    let idx = i64::from_le_bytes(
                        idx.try_into().map_err(|_| Error::runtime("bad index"))?,
                    );
                    if idx < 0 || idx as u64 >= self.lens[buf] {
                        return Err(Error::runtime(format!(
                            "index {idx} out of range for '{array}'"
                        )));
                    }
                    let v = &values[k * dtype.size()..(k + 1) * dtype.size()];
                    self.device.write(buf, idx as usize * dtype.size(), v)?;
                }
            }
            QueueEntry::ResizeArray { array, size } => {
                let buf = self.array(array)?;
                self.resize(buf, *size)?;
            }
            QueueEntry::Seed { seed } => {
                let seed = match seed {
                    Some(s) => *s,
                    None => {
                        self.unseeded += 1;
                        unseeded_seed(self.unseeded - 1)
                    }
                };
                self.seed = stream_seed(seed, self.random_stream);
                self.stream = 0;
            }
            QueueEntry::SetRandomState { seed, stream } => {
                self.seed = *seed;
                self.stream = *stream;
            }
            QueueEntry::RunCodeObject { code_object } => self.run_once(code_object, Phase::Main)?,
            QueueEntry::BeforeRunCodeObject { code_object } => {
                self.check_morphology(code_object)?;
                self.run_once(code_object, Phase::BeforeRun)?
            }
            QueueEntry::AfterRunCodeObject { code_object } => {
                self.run_once(code_object, Phase::AfterRun)?
            }
            QueueEntry::RunNetwork(run) => self.run_network(run, out, host)?,
            QueueEntry::ApplyRunArgs => self.apply_run_args()?,
            QueueEntry::StoreState {
                network,
                name,
                arrays,
                pathways,
            } => self.store_state(network, name, arrays, pathways)?,
            QueueEntry::RestoreState {
                network,
                name,
                random_state,
            } => self.restore_state(network, name, *random_state)?,
        }
        Ok(())
    }

    /// A static array converted to `dtype`, as little-endian bytes.
    pub(super) fn static_values(&self, name: &str, dtype: Dtype) -> Result<Vec<u8>> {
        let (from, bytes) = self.export.read_static_array(name)?;
        if from == dtype {
            return Ok(bytes);
        }
        let mut out = Vec::with_capacity(bytes.len() / from.size() * dtype.size());
        for chunk in bytes.chunks_exact(from.size()) {
            out.extend(Value::from_bytes(from, chunk).to_bytes(dtype));
        }
        Ok(out)
    }

    pub(super) fn kernel_of(&self, code_object: &str, phase: Phase) -> Result<Option<KernelId>> {
        let co = self.plan.code_objects.get(code_object).ok_or_else(|| {
            Error::export(format!(
                "the main queue names unknown code object '{code_object}'"
            ))
        })?;
        Ok(match phase {
            Phase::Main => co.main,
            Phase::Count => co.count,
            Phase::BeforeRun => co.before_run,
            Phase::AfterRun => co.after_run,
            // launched after the main kernel (`Kernel::then`)
            Phase::Sections
            | Phase::Coupling
            | Phase::Voltage
            | Phase::Tick
            | Phase::Fused
            | Phase::QueueWalk => None,
        })
    }

    pub(super) fn step_args(
        &mut self,
        kernel: KernelId,
        clock: Option<&ClockState>,
    ) -> Result<StepArgs> {
        let (size, rng_streams) = {
            let k = &self.plan.kernels[kernel];
            (k.size.clone(), k.rng_streams)
        };
        let n = self.size_value(&size)?;
        let (t, dt, timestep) = clock
            .map(|c| (c.t(), c.dt, c.timestep))
            .unwrap_or((0.0, 0.0, 0));
        let stream = self.stream;
        self.stream += rng_streams;
        Ok(StepArgs {
            t,
            dt,
            timestep,
            seed: self.seed,
            stream,
            n: n as i64,
            step: 0,
        })
    }

    /// The current value of a loop size.
    pub(super) fn size_value(&mut self, size: &LoopSize) -> Result<u64> {
        Ok(match *size {
            LoopSize::Fixed(n) => n,
            LoopSize::BufferLen(b) => self.lens[b],
            LoopSize::BufferValue(b) => match self.scalar_cache.get(&b) {
                Some(&n) => n,
                None => {
                    let bytes = self.device.read(b, 0, self.dtype(b).size())?;
                    let n = Value::from_bytes(self.dtype(b), &bytes).as_f64().max(0.0) as u64;
                    self.scalar_cache.insert(b, n);
                    n
                }
            },
        })
    }

    /// A code object run from the main queue: its clock's values are read from the clock arrays.
    fn run_once(&mut self, code_object: &str, phase: Phase) -> Result<()> {
        if phase == Phase::Main && self.plan.connects.contains_key(code_object) {
            let start = Instant::now();
            let owner = self
                .plan
                .connects
                .get(code_object)
                .map(|c| c.synapses.clone())
                .unwrap_or_default();
            let shown = crate::progress::phase(format!("connect() of {owner}"));
            self.connect(code_object)?;
            self.device.synchronize()?;
            shown.finish("done");
            self.connect_seconds += start.elapsed().as_secs_f64();
            return Ok(());
        }
        if phase == Phase::BeforeRun {
            if let Some(pathway) = self
                .plan
                .code_objects
                .get(code_object)
                .and_then(|c| c.prepares.clone())
            {
                return self.prepare_pathway(&pathway);
            }
        }
        let Some(kernel) = self.kernel_of(code_object, phase)? else {
            return Ok(());
        };
        let clock = self.once_clock(code_object)?;
        let mut next = Some(kernel);
        while let Some(kernel) = next {
            let args = self.step_args(kernel, clock.as_ref())?;
            let launch = self.plan.kernels[kernel].launch;
            self.device.launch(kernel, launch, &args)?;
            next = self.plan.kernels[kernel].then;
        }
        Ok(())
    }

    /// The clock of a code object run from the main queue, at its current time.
    pub(super) fn once_clock(&mut self, code_object: &str) -> Result<Option<ClockState>> {
        Ok(match self.plan.code_objects[code_object].clock.clone() {
            Some(name) => {
                let mut c = self.current_clock(&name)?;
                let ts = self.device.read(c.buf_timestep, 0, 8)?;
                c.timestep =
                    i64::from_le_bytes(ts.try_into().map_err(|_| Error::runtime("short read"))?);
                Some(c)
            }
            None => None,
        })
    }

    /// Reads back every Brian array.
    pub fn finish(mut self) -> Result<Finished> {
        self.drain()?;
        self.collect_drain()?;
        let mut arrays = Vec::with_capacity(self.export.arrays.len());
        let plan = Arc::clone(&self.plan);
        for (buf, _) in brian_arrays(&self.export.clone(), &plan)? {
            let bytes = match self.recorded.remove(&buf) {
                Some(bytes) => bytes,
                None if plan.buffers[buf].role == BufferRole::Recorded => Vec::new(),
                None => {
                    let n = self.lens[buf] as usize * self.dtype(buf).size();
                    self.device.read(buf, 0, n)?
                }
            };
            arrays.push(bytes);
        }
        Ok(Finished {
            arrays,
            last_run: self.last_run,
            profile: self.profile,
            connect_seconds: self.connect_seconds,
            connects_shared: self.connects_shared,
        })
    }
}

/// Every Brian array of the export, in the export's order, with its buffer
/// (the plan has one per array, found by name).
fn brian_arrays<'e>(
    export: &'e Export,
    plan: &Plan,
) -> Result<Vec<(BufferId, &'e crate::export::ArrayDecl)>> {
    export
        .arrays
        .iter()
        .map(|decl| {
            plan.buffer_of(&decl.name)
                .map(|buf| (buf, decl))
                .ok_or_else(|| {
                    Error::internal(format!("the plan has no buffer for '{}'", decl.name))
                })
        })
        .collect()
}

//! Host side of Synapses: connect() calls and pathway queues.
//!
//! In: the [`Executor`] with its plan's [`ConnectPlan`]s and
//! [`PathwayPlan`]s. Out: synapses created on the device (count kernel,
//! prefix sum here, resize, fill kernel; then `N`, and `synapse_number` for
//! multisynaptic indices), and at the start of each run a pathway's delay
//! tables and queue state (`prepare`, Brian's `SynapticPathway::prepare`)
//! and the check that a StateMonitor of a Synapses records existing
//! synapses (their number is made by `connect()`; validation checks the
//! indices of fixed groups).
//!
//! The queue: each step the push kernel writes the source range's spikes
//! into the next slot of a ring of `D = max_delay + 1` slots; the delivery
//! kernel runs, for each delay `d` from the longest, the synapses with delay
//! `d` of the neurons in the slot `d` steps back. That is Brian's queue
//! order. Spikes still pending when a run starts (delays or `dt` may have
//! changed) are moved, in Brian's order and with Brian's `dt` conversion,
//! into a *carry* list per coming step, delivered before the ring's.
//!
//! Queue state (`_qstate`, int64): `[D, cursor, min delay, max delay,
//! carried steps, current carried step (-1 before the first push), dt as
//! f64 bits, Brian's queue length]`.

use std::collections::BTreeMap;

use byteorder::{ByteOrder, LittleEndian};

use super::shared_connect::Role;
use super::Executor;
use crate::diag::{Error, Result};
use crate::dtype::{Dtype, Value};
use crate::export::VariableDecl;
use crate::plan::synapses::SummedPlan;
use crate::plan::{BufferId, ConnectPlan, PathwayPlan};
use crate::runtime::by_target::{carry_by_target, ByTargetTables};

const STATE_D: usize = 0;
const STATE_CURSOR: usize = 1;
const STATE_MIN: usize = 2;
const STATE_MAX: usize = 3;
const STATE_CARRY_LEN: usize = 4;
const STATE_CARRY_STEP: usize = 5;
const STATE_DT: usize = 6;
const STATE_BRIAN_LEN: usize = 7;
/// The largest spike ring (`(max delay + 1)` slots of `sources + 1` int32) a pathway may have.
const MAX_RING_BYTES: u128 = 16 << 30;

fn i64s(bytes: &[u8]) -> Vec<i64> {
    bytes
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .collect()
}

fn i32s(bytes: &[u8]) -> Vec<i32> {
    bytes
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
        .collect()
}

fn bytes_i64(values: &[i64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn bytes_i32(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

impl Executor<'_> {
    fn read_i64s(&mut self, buf: BufferId) -> Result<Vec<i64>> {
        let n = self.lens[buf] as usize;
        Ok(i64s(&self.device.read(buf, 0, n * 8)?))
    }

    fn read_i32s(&mut self, buf: BufferId) -> Result<Vec<i32>> {
        let n = self.lens[buf] as usize;
        Ok(i32s(&self.device.read(buf, 0, n * 4)?))
    }

    /// A buffer's values as f64.
    pub(super) fn read_f64s(&mut self, buf: BufferId) -> Result<Vec<f64>> {
        self.read_as(buf, |x| x)
    }

    /// A buffer's values as f64, each mapped by `f`, in one pass over the bytes.
    pub(super) fn read_as<T>(&mut self, buf: BufferId, f: impl Fn(f64) -> T) -> Result<Vec<T>> {
        let dtype = self.dtype(buf);
        let n = self.lens[buf] as usize;
        let bytes = self.device.read(buf, 0, n * dtype.size())?;
        let chunks = bytes.chunks_exact(dtype.size());
        Ok(match dtype {
            Dtype::Float64 => chunks.map(|b| f(LittleEndian::read_f64(b))).collect(),
            Dtype::Float32 => chunks
                .map(|b| f(f64::from(LittleEndian::read_f32(b))))
                .collect(),
            _ => chunks
                .map(|b| f(Value::from_bytes(dtype, b).as_f64()))
                .collect(),
        })
    }

    /// Replaces a buffer's contents (and length) with `bytes`, or with
    /// zeros when `bytes` is empty.
    pub(super) fn replace(&mut self, buf: BufferId, len: u64, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            self.resize(buf, 0)?;
            self.resize(buf, len)
        } else {
            // Every element is overwritten: no need to zero it first.
            self.resize(buf, len)?;
            self.device.write(buf, 0, bytes)
        }
    }

    /// One connect() call.
    pub(super) fn connect(&mut self, code_object: &str) -> Result<()> {
        let c: ConnectPlan = self.plan.connects[code_object].clone();
        let in_object = |e: Error| e.in_object(&c.synapses, code_object);
        let fill = self
            .kernel_of(code_object, crate::plan::Phase::Main)?
            .ok_or_else(|| Error::runtime("connect() without a kernel"))?;
        let old = self.lens[c.synaptic_pre];
        let incoming = self.size_value(&c.incoming_len.0)? + c.incoming_len.1;
        let outgoing = self.size_value(&c.outgoing_len.0)? + c.outgoing_len.1;
        self.resize(c.n_incoming, incoming)?;
        self.resize(c.n_outgoing, outgoing)?;
        self.device.write(c.error, 0, &[0u8; 24])?;
        let clock = self.once_clock(code_object)?;
        // Both passes draw the same random numbers: one stream for the call.
        let first = c.count_kernel.unwrap_or(fill);
        let args = self.step_args(first, clock.as_ref())?;
        let outer = match &c.outer {
            Some(outer) => self.size_value(outer)?,
            None => c.sources.map(|b| self.lens[b]).unwrap_or(0),
        };
        // (in a sweep, a call that draws nothing may have been built by another copy)
        let claim = match self.connect_role(code_object, &c, &args, &[old, incoming, outgoing, outer])? {
            Role::Take(built) => return self.take_connect(&c, &built),
            Role::Build(claim) => Some(claim),
            Role::Alone => None,
        };
        let added = match (&c.outer, c.count_kernel) {
            (Some(_), Some(count)) => {
                if self.lens[c.counts] < outer {
                    self.resize(c.counts, outer)?;
                }
                self.device
                    .launch(count, self.plan.kernels[count].launch, &args)?;
                self.check_connect_error(&c).map_err(in_object)?;
                let counts = i64s(&self.device.read(c.counts, 0, outer as usize * 8)?);
                let mut offsets = Vec::with_capacity(counts.len());
                let mut total: i64 = 0;
                for n in counts {
                    offsets.push(old as i64 + total);
                    total += n;
                }
                if !offsets.is_empty() {
                    self.device.write(c.counts, 0, &bytes_i64(&offsets))?;
                }
                total as u64
            }
            _ => {
                self.device
                    .write(c.counts, 0, &(old as i64).to_le_bytes())?;
                c.sources.map(|b| self.lens[b]).unwrap_or(0)
            }
        };
        let total = old + added;
        if total > i32::MAX as u64 {
            return Err(in_object(Error::runtime(format!(
                "connect() would make {total} synapses, more than Brian's int32 synapse indices can hold"
            ))));
        }
        for &buf in &c.registered {
            self.resize(buf, total)?;
        }
        self.device
            .launch(fill, self.plan.kernels[fill].launch, &args)?;
        self.check_connect_error(&c).map_err(in_object)?;
        let n_dtype = self.dtype(c.n);
        self.device
            .write(c.n, 0, &Value::Int(total as i64).to_bytes(n_dtype))?;
        self.scalar_cache.clear();
        if let Some(number) = c.multisynaptic_index {
            let pre = self.read_i32s(c.synaptic_pre)?;
            let post = self.read_i32s(c.synaptic_post)?;
            let mut seen: BTreeMap<(i32, i32), i32> = BTreeMap::new();
            let numbers: Vec<i32> = pre
                .iter()
                .zip(&post)
                .map(|(&i, &j)| {
                    let n = seen.entry((i, j)).or_insert(0);
                    *n += 1;
                    *n - 1
                })
                .collect();
            let dtype = self.dtype(number);
            let bytes: Vec<u8> = numbers
                .iter()
                .flat_map(|&n| Value::Int(i64::from(n)).to_bytes(dtype))
                .collect();
            self.device.write(number, 0, &bytes)?;
        }
        if let Some(claim) = claim {
            self.offer_connect(claim, &c, total)?;
        }
        Ok(())
    }

    fn check_connect_error(&mut self, c: &ConnectPlan) -> Result<()> {
        let e = i64s(&self.device.read(c.error, 0, 24)?);
        let (outer, result) = (&c.outer_index, &c.result_index);
        let message = match e[0] {
            0 => return Ok(()),
            1 => {
                return Err(Error::index(format!(
                    "connect() tried to create a synapse to neuron {result}={} (for {outer}={}), outside allowed \
                     range; pass skip_if_invalid=True to skip such synapses",
                    e[2], e[1]
                )))
            }
            2 => format!(
                "connect(): the requested sample size {} (for {outer}={}) is bigger than the population; \
                 pass skip_if_invalid=True to take the whole population",
                e[2], e[1]
            ),
            3 => format!("connect(): the requested sample size {} (for {outer}={}) is negative", e[2], e[1]),
            4 => {
                return Err(Error::index(format!(
                    "connect() with index arrays makes a synapse from i={} to j={}, outside allowed range of the \
                     groups it connects",
                    e[1], e[2]
                )))
            }
            code => format!("connect() failed with error code {code}"),
        };
        Err(Error::runtime(message))
    }

    /// Brian's `SynapticPathway::prepare` at the start of a run: delay
    /// tables from the current synapses, delays and `dt`; pending spikes
    /// carried over.
    pub(super) fn prepare_pathway(&mut self, name: &str) -> Result<()> {
        let p: PathwayPlan = self.plan.pathways[name].clone();
        let in_object = |e: Error| e.in_object(&p.synapses, name);
        let dt = self.read_f64s(p.source_dt)?.first().copied().unwrap_or(0.0);
        if dt <= 0.0 {
            return Err(in_object(Error::runtime(format!(
                "pathway '{name}': the source clock has dt = {dt}"
            ))));
        }
        let n = self.lens[p.sources] as usize;
        // Brian's conversion to steps, as int: (int)(delay / dt + 0.5).
        let steps = self.read_as(p.delay, |d| (d / dt + 0.5) as i32)?;
        if !p.delay_scalar && steps.len() != n {
            return Err(in_object(Error::runtime(format!(
                "pathway '{name}' has {} delays for {n} synapses",
                steps.len()
            ))));
        }
        if let Some(&bad) = steps.iter().find(|&&d| d < 0) {
            return Err(in_object(Error::runtime(format!(
                "pathway '{name}' has a negative delay ({bad} steps)"
            ))));
        }
        let min_d = i64::from(steps.iter().copied().min().unwrap_or(0));
        let max_d = i64::from(steps.iter().copied().max().unwrap_or(0));
        let ring_bytes = (max_d as u128 + 1) * (u128::from(p.num_sources) + 1) * 4;
        if ring_bytes > MAX_RING_BYTES {
            return Err(in_object(Error::runtime(format!(
                "pathway '{name}' has delays of up to {max_d} steps of {dt} s: its spike queue would need \
                 {:.1} GiB",
                ring_bytes as f64 / (1u64 << 30) as f64
            ))));
        }

        let old = self.read_i64s(p.state)?;
        let (carried, queue_len) = if old[STATE_D] > 0 {
            self.pending(&p, &old, dt)?
        } else {
            (Vec::new(), 1)
        };

        // The sources, relative to the pathway's source range.
        let mut scratch = self.device.read(p.sources, 0, n * 4)?;
        let mut sources = vec![0i32; n];
        LittleEndian::read_i32_into(&scratch, &mut sources);
        let mut tables = DelayTables::build(
            &sources,
            &steps,
            p.delay_scalar,
            p.spikes_start,
            p.num_sources,
        )
        .map_err(|(s, src)| {
            in_object(Error::runtime(format!(
                "synapse {s} has source neuron {src}, outside the pathway's source range"
            )))
        })?;
        drop(sources);
        drop(steps);
        // The C++ target's delivery split by target: each source's synapses of one
        // delay ordered by target (then by synapse), where each call finds its own.
        if let Some(order_by) = p.order_by.filter(|_| self.device.backend() == "cpu") {
            let targets = self.read_i32s(order_by)?;
            tables.order_by(&targets).map_err(|s| {
                in_object(Error::runtime(format!(
                    "synapse {s} has no target index ('{}' is shorter than the synapses)",
                    self.plan.buffers[order_by].name
                )))
            })?;
        }
        // A delivery grouped by target: each target's synapses in Brian's order
        // (CUDA only: the C++ target delivers serially and never reads these tables).
        let mut carried = carried;
        if let Some(g) = p
            .by_target
            .as_ref()
            .filter(|_| self.device.backend() == "cuda")
        {
            let targets = self.read_i32s(g.index)?;
            let t = ByTargetTables::build(&tables.start, &tables.by_source, &tables.by_delay, &targets, g.groups)
                .map_err(|(s, t)| {
                    in_object(Error::runtime(format!(
                        "synapse {s} has target element {t} ('{}'), outside the {} elements its code writes",
                        g.index_name, g.groups
                    )))
                })?;
            self.device.write(g.start, 0, &bytes_i64(&t.start))?;
            self.replace(g.synapse, n as u64, &bytes_i32(&t.synapse))?;
            self.replace(g.source, n as u64, &bytes_i32(&t.source))?;
            self.replace(g.delay, n as u64, &bytes_i32(&t.delay))?;
            for step in &mut carried {
                carry_by_target(step, &targets);
            }
        }
        self.device
            .write(p.by_source_start, 0, &bytes_i64(&tables.start))?;
        // `scratch` holds n int32 values' bytes: reused for both tables.
        LittleEndian::write_i32_into(&tables.by_source, &mut scratch);
        self.replace(p.by_source, n as u64, &scratch)?;
        LittleEndian::write_i32_into(&tables.by_delay, &mut scratch);
        self.replace(p.by_source_delay, n as u64, &scratch)?;
        let masks = tables.delay_masks();
        let mask_bytes: Vec<u8> = masks.iter().flat_map(|m| m.to_le_bytes()).collect();
        self.device.write(p.by_source_delays, 0, &mask_bytes)?;
        drop(scratch);

        let slots = max_d + 1;
        self.replace(p.history, slots as u64 * (p.num_sources + 1), &[])?;
        let mut carry_start = vec![0i64];
        let mut carry = Vec::new();
        for step in &carried {
            carry.extend_from_slice(step);
            carry_start.push(carry.len() as i64);
        }
        self.replace(
            p.carry_start,
            carry_start.len() as u64,
            &bytes_i64(&carry_start),
        )?;
        self.replace(p.carry, carry.len() as u64, &bytes_i32(&carry))?;
        let brian_len = queue_len.max(max_d + 1);
        let mut state = [0i64; 8];
        state[STATE_D] = slots;
        state[STATE_CURSOR] = 0;
        state[STATE_MIN] = min_d;
        state[STATE_MAX] = max_d;
        state[STATE_CARRY_LEN] = carried.len() as i64;
        state[STATE_CARRY_STEP] = -1;
        state[STATE_DT] = dt.to_bits() as i64;
        state[STATE_BRIAN_LEN] = brian_len;
        self.device.write(p.state, 0, &bytes_i64(&state))
    }

    /// A Synapses' pre- and postsynaptic indices, which `connect()` made
    /// (`v_post` is reached through `_postsynaptic_idx`): every value lies inside
    /// each array the code reaches through it, else the generated code would
    /// access past the array (an export's offsets and sizes can disagree with
    /// its groups). Checked when a run starts.
    pub(super) fn check_indirect_indices(&mut self, code_object: &str) -> Result<()> {
        // (index array -> the arrays read or written through it; owned copies: the
        // reads below go through `self`)
        let (owner, reached) = {
            let Some(co) = self.export.code_object(code_object) else {
                return Ok(());
            };
            let mut reached: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for decl in co.variables.values() {
                let VariableDecl::Array {
                    array,
                    index,
                    scalar: false,
                    ..
                } = decl
                else {
                    continue;
                };
                // (a Synapses' pre- and postsynaptic indices: Brian's variables of the groups
                // it connects are reached through them)
                if !matches!(index.as_str(), "_postsynaptic_idx" | "_presynaptic_idx") {
                    continue;
                }
                if let Some(VariableDecl::Array { array: by, .. }) =
                    co.variables.get(index.as_str())
                {
                    if by != array {
                        reached.entry(by.clone()).or_default().push(array.clone());
                    }
                }
            }
            (co.owner.name.clone(), reached)
        };
        for (by, arrays) in reached {
            let by_buf = self.array(&by)?;
            let mut bound = u64::MAX;
            let mut limiting = String::new();
            for a in &arrays {
                let len = self.lens[self.array(a)?] / self.row_width(self.array(a)?).max(1);
                if len < bound {
                    bound = len;
                    limiting = a.clone();
                }
            }
            let values = self.read_as(by_buf, |x| x as i64)?;
            if let Some((k, bad)) = values
                .into_iter()
                .enumerate()
                .find(|&(_, i)| i < 0 || i as u64 >= bound)
            {
                return Err(Error::runtime(format!(
                    "element {k} of '{by}' is {bad}, outside '{limiting}' ({bound} elements) that the code reaches through it"
                ))
                .in_object(&owner, code_object));
            }
        }
        Ok(())
    }

    /// A StateMonitor whose group is a Synapses (its arrays are dynamic):
    /// every recorded index lies below the number of synapses, else the
    /// generated code would read past the synapses' arrays.
    pub(super) fn check_recorded_indices(&mut self, code_object: &str) -> Result<()> {
        // (owned copies: the checks below read the device through `self`)
        let (dynamic, indices, monitor) = {
            let export = &self.export;
            let Some(co) = export
                .code_object(code_object)
                .filter(|c| c.template == "statemonitor")
            else {
                return Ok(());
            };
            let dynamic: Vec<(String, String)> = crate::validate::monitored_group(co)
                .into_iter()
                .filter_map(|(_, array)| export.array(array).filter(|a| a.dynamic))
                .map(|a| {
                    (
                        a.name.clone(),
                        a.owner.clone().unwrap_or_else(|| a.name.clone()),
                    )
                })
                .collect();
            let Some(VariableDecl::Array { array, .. }) = co.variables.get("_indices") else {
                return Ok(());
            };
            (dynamic, array.clone(), co.owner.name.clone())
        };
        let mut size: Option<(u64, String)> = None;
        for (array, owner) in dynamic {
            let len = self.lens[self.array(&array)?];
            if size.as_ref().is_none_or(|(n, _)| len < *n) {
                size = Some((len, owner));
            }
        }
        let Some((size, group)) = size else {
            return Ok(());
        };
        let buf = self.array(&indices)?;
        let values = self.read_as(buf, |x| x as i64)?;
        if let Some(bad) = values.into_iter().find(|&i| i < 0 || i as u64 >= size) {
            return Err(Error::runtime(format!(
                "the StateMonitor records index {bad}, outside its group '{group}' of {size} elements \
                 (the synapses made by connect())"
            ))
            .in_object(&monitor, code_object));
        }
        Ok(())
    }

    /// A summed variable's CSR at the start of a run: the synapses of each
    /// target element, ascending (a counting sort of their target indices).
    pub(super) fn prepare_summed(&mut self, code_object: &str) -> Result<()> {
        let p: SummedPlan = self.plan.summed[code_object].clone();
        let size = self.size_value(&p.size)? as usize;
        let targets = self.read_i32s(p.index)?;
        let mut start = vec![0i64; size + 1];
        for (k, &t) in targets.iter().enumerate() {
            let rel = i64::from(t) - p.start;
            if rel < 0 || rel as usize >= size {
                return Err(Error::runtime(format!(
                    "synapse {k} adds to element {t}, outside the summed variable's target range [{}, {})",
                    p.start,
                    p.start + size as i64
                ))
                .in_object(&p.synapses, code_object));
            }
            start[rel as usize + 1] += 1;
        }
        for i in 0..size {
            start[i + 1] += start[i];
        }
        let mut next = start.clone();
        let mut by_target = vec![0i32; targets.len()];
        for (k, &t) in targets.iter().enumerate() {
            let slot = &mut next[(i64::from(t) - p.start) as usize];
            by_target[*slot as usize] = k as i32;
            *slot += 1;
        }
        self.replace(p.by_target_start, start.len() as u64, &bytes_i64(&start))?;
        self.replace(p.by_target, by_target.len() as u64, &bytes_i32(&by_target))
    }

    /// The synapses still queued, per coming step (index 0: the next step),
    /// in Brian's queue order, after Brian's `dt` conversion; and the length
    /// of Brian's queue afterwards.
    fn pending(&mut self, p: &PathwayPlan, old: &[i64], dt: f64) -> Result<(Vec<Vec<i32>>, i64)> {
        let slots = old[STATE_D];
        let cursor = old[STATE_CURSOR];
        let max_d = old[STATE_MAX];
        let slot_len = p.num_sources as usize + 1;
        let brian_len = old[STATE_BRIAN_LEN].max(1) as usize;
        // queue[k]: position k after Brian's current offset (0: delivered this step).
        let carry_start = self.read_i64s(p.carry_start)?;
        let carry = self.read_i32s(p.carry)?;
        let step = old[STATE_CARRY_STEP];
        let carried_len = (old[STATE_CARRY_LEN] - step).max(0) as usize + 1;
        let mut queue: Vec<Vec<i32>> =
            vec![Vec::new(); brian_len.max(max_d as usize + 1).max(carried_len)];
        for c in (step + 1).max(0)..old[STATE_CARRY_LEN] {
            let k = (c - step) as usize;
            let (a, b) = (
                carry_start[c as usize] as usize,
                carry_start[c as usize + 1] as usize,
            );
            queue[k].extend_from_slice(&carry[a..b]);
        }
        let history = self.read_i32s(p.history)?;
        let start = self.read_i64s(p.by_source_start)?;
        let by_source = self.read_i32s(p.by_source)?;
        let by_delay = self.read_i32s(p.by_source_delay)?;
        for age in (0..max_d).rev() {
            let slot = ((cursor - age).rem_euclid(slots)) as usize * slot_len;
            let count = history[slot + slot_len - 1] as usize;
            for &src in &history[slot..slot + count] {
                let (a, b) = (
                    start[src as usize] as usize,
                    start[src as usize + 1] as usize,
                );
                for k in a..b {
                    let d = i64::from(by_delay[k]);
                    if d > age {
                        queue[(d - age) as usize].push(by_source[k]);
                    }
                }
            }
        }
        let old_dt = f64::from_bits(old[STATE_DT] as u64);
        if old_dt != 0.0 && old_dt != dt {
            // Brian: queue[(int)(i * old_dt/dt + 0.5)] = old_queue[i], later positions
            // overwriting, where Brian's i = 0 is the coming step: here k = i + 1 (k = 0 was
            // delivered in the last step).
            let factor = old_dt / dt;
            let new_len = (queue.len() as f64 * factor) as usize + 2;
            let mut converted = vec![Vec::new(); new_len];
            for (k, spikes) in queue.into_iter().enumerate().skip(1) {
                converted[((k - 1) as f64 * factor + 0.5) as usize + 1] = spikes;
            }
            queue = converted;
        }
        let queue_len = queue.len() as i64;
        let mut pending: Vec<Vec<i32>> = queue.into_iter().skip(1).collect();
        while pending.last().is_some_and(|s| s.is_empty()) {
            pending.pop();
        }
        Ok((pending, queue_len))
    }
}

/// A pathway's synapses grouped by source neuron (`start[src]..start[src+1]`),
/// within a source by delay, then by synapse index: Brian's delivery order.
#[derive(Debug, PartialEq)]
struct DelayTables {
    start: Vec<i64>,
    by_source: Vec<i32>,
    by_delay: Vec<i32>,
}

impl DelayTables {
    /// A stable counting sort by source, then one by delay within each
    /// source: linear in the number of synapses. `steps` holds one delay per synapse, or one for
    /// all when `scalar`. Err: (synapse, source) for a source outside
    /// `spikes_start..spikes_start + num_sources`.
    fn build(
        sources: &[i32],
        steps: &[i32],
        scalar: bool,
        spikes_start: i64,
        num_sources: u64,
    ) -> std::result::Result<DelayTables, (usize, i32)> {
        let n = sources.len();
        let n_src = num_sources as usize;
        let mut start = vec![0i64; n_src + 1];
        for (s, &src) in sources.iter().enumerate() {
            let rel = i64::from(src) - spikes_start;
            if rel < 0 || rel >= n_src as i64 {
                return Err((s, src));
            }
            start[rel as usize + 1] += 1;
        }
        for k in 0..n_src {
            start[k + 1] += start[k];
        }
        // Stable by source: when connect() made the synapses in source
        // order (the usual case) this pass reads and writes sequentially.
        let mut next: Vec<i64> = start[..n_src].to_vec();
        let mut grouped = vec![0u32; n];
        for (s, &src) in sources.iter().enumerate() {
            let rel = (i64::from(src) - spikes_start) as usize;
            grouped[next[rel] as usize] = s as u32;
            next[rel] += 1;
        }
        drop(next);
        let mut by_source = vec![0i32; n];
        let mut by_delay = vec![0i32; n];
        if scalar {
            let d = steps.first().copied().unwrap_or(0);
            for (k, &s) in grouped.iter().enumerate() {
                by_source[k] = s as i32;
                by_delay[k] = d;
            }
            return Ok(DelayTables {
                start,
                by_source,
                by_delay,
            });
        }
        // Within each source, stable by delay: a counting sort over the
        // source's own synapses, or a merge sort where delays are many.
        let buckets = steps.iter().copied().max().unwrap_or(0).max(0) as usize + 2;
        // (no table for delays far beyond the number of synapses: merge sorts then)
        let mut counts = if buckets <= 4 * n + 16 {
            vec![0usize; buckets]
        } else {
            Vec::new()
        };
        let mut segment: Vec<u32> = Vec::new();
        for src in 0..n_src {
            let (a, b) = (start[src] as usize, start[src + 1] as usize);
            let group = &grouped[a..b];
            if !counts.is_empty() && buckets <= 4 * group.len() + 16 {
                counts.fill(0);
                for &s in group {
                    counts[steps[s as usize] as usize + 1] += 1;
                }
                for k in 0..buckets - 1 {
                    counts[k + 1] += counts[k];
                }
                for &s in group {
                    let d = steps[s as usize];
                    let k = a + counts[d as usize];
                    counts[d as usize] += 1;
                    by_source[k] = s as i32;
                    by_delay[k] = d;
                }
            } else {
                segment.clear();
                segment.extend_from_slice(group);
                segment.sort_by_key(|&s| steps[s as usize]);
                for (k, &s) in segment.iter().enumerate() {
                    by_source[a + k] = s as i32;
                    by_delay[a + k] = steps[s as usize];
                }
            }
        }
        Ok(DelayTables {
            start,
            by_source,
            by_delay,
        })
    }
}

impl DelayTables {
    /// Per source, bit `d % 64` for each delay `d` of its synapses
    /// ([`crate::plan::PathwayPlan::by_source_delays`]).
    fn delay_masks(&self) -> Vec<u64> {
        self.start
            .windows(2)
            .map(|w| {
                self.by_delay[w[0] as usize..w[1] as usize]
                    .iter()
                    .fold(0u64, |m, &d| m | 1u64 << (d.rem_euclid(64) as u32))
            })
            .collect()
    }

    /// Orders each run of one source's synapses of one delay by `owner` of
    /// the synapse (stable: by synapse within an owner). Err: a synapse with
    /// no owner value.
    fn order_by(&mut self, owner: &[i32]) -> std::result::Result<(), usize> {
        if let Some(&s) = self.by_source.iter().find(|&&s| s as usize >= owner.len()) {
            return Err(s as usize);
        }
        let key = |s: i32| owner[s as usize];
        for w in self.start.windows(2) {
            let (mut a, b) = (w[0] as usize, w[1] as usize);
            while a < b {
                let d = self.by_delay[a];
                let mut e = a;
                while e < b && self.by_delay[e] == d {
                    e += 1;
                }
                let run = &mut self.by_source[a..e];
                if !run.windows(2).all(|p| key(p[0]) <= key(p[1])) {
                    run.sort_by_key(|&s| key(s));
                }
                a = e;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::DelayTables;

    #[test]
    fn ordering_by_owner_keeps_sources_delays_and_synapse_order_within_an_owner() {
        // source 0: synapses 0..5 with delays 1,1,1,2,2 and targets 3,1,3,0,0
        let mut t = DelayTables {
            start: vec![0, 5],
            by_source: vec![0, 1, 2, 3, 4],
            by_delay: vec![1, 1, 1, 2, 2],
        };
        t.order_by(&[3, 1, 3, 0, 0]).unwrap();
        assert_eq!(t.by_source, vec![1, 0, 2, 3, 4]);
        assert_eq!(t.by_delay, vec![1, 1, 1, 2, 2]);
        assert_eq!(t.order_by(&[0, 0]), Err(2));
    }

    #[test]
    fn delay_masks_have_a_bit_per_delay_of_each_source_modulo_64() {
        // source 0: delays 1, 1, 2; source 1: none; source 2: delays 0 and 65 (bit 1)
        let t = DelayTables {
            start: vec![0, 3, 3, 5],
            by_source: vec![0, 1, 2, 3, 4],
            by_delay: vec![1, 1, 2, 0, 65],
        };
        assert_eq!(t.delay_masks(), vec![0b110, 0, 0b11]);
    }

    /// The tables by a plain sort on (source, delay, index).
    fn by_sorting(
        sources: &[i32],
        steps: &[i32],
        scalar: bool,
        spikes_start: i64,
        n_src: usize,
    ) -> DelayTables {
        let delay = |s: usize| if scalar { steps[0] } else { steps[s] };
        let mut order: Vec<(i64, i32, i32)> = (0..sources.len())
            .map(|s| (i64::from(sources[s]) - spikes_start, delay(s), s as i32))
            .collect();
        order.sort_unstable();
        let mut start = vec![0i64; n_src + 1];
        for o in &order {
            start[o.0 as usize + 1] += 1;
        }
        for k in 0..n_src {
            start[k + 1] += start[k];
        }
        DelayTables {
            start,
            by_source: order.iter().map(|o| o.2).collect(),
            by_delay: order.iter().map(|o| o.1).collect(),
        }
    }

    #[test]
    fn counting_sorts_match_a_plain_sort() {
        // A small linear congruential generator: synapses in no particular order.
        // The last case has many delays per few synapses (the merge-sort path).
        let mut next = crate::runtime::test_lcg(12345);
        for (n, n_src, max_d, start) in [
            (0usize, 4usize, 3u64, 0i64),
            (1, 1, 1, 0),
            (500, 7, 5, 10),
            (5000, 100, 40, 3),
            (300, 50, 1000, 0),
        ] {
            let sources: Vec<i32> = (0..n).map(|_| next(n_src as u64) + start as i32).collect();
            let steps: Vec<i32> = (0..n).map(|_| next(max_d)).collect();
            let got = DelayTables::build(&sources, &steps, false, start, n_src as u64).unwrap();
            assert_eq!(
                got,
                by_sorting(&sources, &steps, false, start, n_src),
                "n={n}"
            );
            let scalar = [2];
            let got = DelayTables::build(&sources, &scalar, true, start, n_src as u64).unwrap();
            assert_eq!(
                got,
                by_sorting(&sources, &scalar, true, start, n_src),
                "n={n}, one delay"
            );
        }
    }

    #[test]
    fn huge_delays_need_no_table_of_that_size() {
        // one delay of 10^9 steps: the per-source merge sort, not a 10^9-entry count table
        let got =
            DelayTables::build(&[0, 0, 1, 0], &[1_000_000_000, 5, 7, 5], false, 0, 2).unwrap();
        assert_eq!(
            got,
            by_sorting(&[0, 0, 1, 0], &[1_000_000_000, 5, 7, 5], false, 0, 2)
        );
        assert_eq!(got.by_source, vec![1, 3, 0, 2]);
    }

    #[test]
    fn a_source_outside_the_range_is_named() {
        let err = DelayTables::build(&[3, 4, 9, 5], &[0, 0, 0, 0], false, 3, 3).unwrap_err();
        assert_eq!(err, (2, 9));
        let err = DelayTables::build(&[3, 2], &[0], true, 3, 3).unwrap_err();
        assert_eq!(err, (1, 2));
    }
}

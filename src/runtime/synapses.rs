//! Host side of Synapses: connect() calls and pathway queues.
//!
//! In: the [`Executor`] with its plan's [`ConnectPlan`]s and
//! [`PathwayPlan`]s. Out: synapses created on the device (count kernel,
//! prefix sum here, resize, fill kernel; then `N`, and `synapse_number` for
//! multisynaptic indices), and at the start of each run a pathway's delay
//! tables and queue state (`prepare`, Brian's `SynapticPathway::prepare`).
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

use crate::diag::{Error, Result};
use crate::dtype::Value;
use crate::plan::{ConnectPlan, PathwayPlan};
use crate::runtime::exec::Executor;

const STATE_D: usize = 0;
const STATE_CURSOR: usize = 1;
const STATE_MIN: usize = 2;
const STATE_MAX: usize = 3;
const STATE_CARRY_LEN: usize = 4;
const STATE_CARRY_STEP: usize = 5;
const STATE_DT: usize = 6;
const STATE_BRIAN_LEN: usize = 7;

fn i64s(bytes: &[u8]) -> Vec<i64> {
    bytes.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8]))).collect()
}

fn i32s(bytes: &[u8]) -> Vec<i32> {
    bytes.chunks_exact(4).map(|b| i32::from_le_bytes(b.try_into().unwrap_or([0; 4]))).collect()
}

fn bytes_i64(values: &[i64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn bytes_i32(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

impl Executor<'_> {
    fn read_i64s(&mut self, buf: usize) -> Result<Vec<i64>> {
        let n = self.lens[buf] as usize;
        Ok(i64s(&self.device.read(buf, 0, n * 8)?))
    }

    fn read_i32s(&mut self, buf: usize) -> Result<Vec<i32>> {
        let n = self.lens[buf] as usize;
        Ok(i32s(&self.device.read(buf, 0, n * 4)?))
    }

    fn read_f64s(&mut self, buf: usize) -> Result<Vec<f64>> {
        let dtype = self.dtype(buf);
        let n = self.lens[buf] as usize;
        let bytes = self.device.read(buf, 0, n * dtype.size())?;
        Ok(bytes.chunks_exact(dtype.size()).map(|b| Value::from_bytes(dtype, b).as_f64()).collect())
    }

    /// Replaces a buffer's contents (and length) with `bytes`.
    fn replace(&mut self, buf: usize, len: u64, bytes: &[u8]) -> Result<()> {
        self.resize(buf, 0)?;
        self.resize(buf, len)?;
        if !bytes.is_empty() {
            self.device.write(buf, 0, bytes)?;
        }
        Ok(())
    }

    /// One connect() call.
    pub(super) fn connect(&mut self, code_object: &str) -> Result<()> {
        let c: ConnectPlan = self.plan.connects[code_object].clone();
        let in_object = |e: Error| e.in_object(&c.synapses, code_object);
        let fill = self.kernel_of(code_object, crate::plan::Phase::Main)?.ok_or_else(|| Error::runtime("connect() without a kernel"))?;
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
        let added = match (&c.outer, c.count_kernel) {
            (Some(outer), Some(count)) => {
                let outer = self.size_value(outer)?;
                if self.lens[c.counts] < outer {
                    self.resize(c.counts, outer)?;
                }
                self.device.launch(count, self.plan.kernels[count].launch, &args)?;
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
                self.device.write(c.counts, 0, &(old as i64).to_le_bytes())?;
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
        self.device.launch(fill, self.plan.kernels[fill].launch, &args)?;
        self.check_connect_error(&c).map_err(in_object)?;
        let n_dtype = self.dtype(c.n);
        self.device.write(c.n, 0, &Value::Int(total as i64).to_bytes(n_dtype))?;
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
            let bytes: Vec<u8> = numbers.iter().flat_map(|&n| Value::Int(i64::from(n)).to_bytes(dtype)).collect();
            self.device.write(number, 0, &bytes)?;
        }
        Ok(())
    }

    fn check_connect_error(&mut self, c: &ConnectPlan) -> Result<()> {
        let e = i64s(&self.device.read(c.error, 0, 24)?);
        let (outer, result) = (&c.outer_index, &c.result_index);
        let message = match e[0] {
            0 => return Ok(()),
            1 => format!(
                "connect() tried to create a synapse to neuron {result}={} (for {outer}={}), outside the \
                 target's range; pass skip_if_invalid=True to skip such synapses",
                e[2], e[1]
            ),
            2 => format!(
                "connect(): the requested sample size {} (for {outer}={}) is bigger than the population; \
                 pass skip_if_invalid=True to take the whole population",
                e[2], e[1]
            ),
            3 => format!("connect(): the requested sample size {} (for {outer}={}) is negative", e[2], e[1]),
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
            return Err(in_object(Error::runtime(format!("pathway '{name}': the source clock has dt = {dt}"))));
        }
        let sources = self.read_i32s(p.sources)?;
        let delays = self.read_f64s(p.delay)?;
        if !p.delay_scalar && delays.len() != sources.len() {
            return Err(in_object(Error::runtime(format!(
                "pathway '{name}' has {} delays for {} synapses",
                delays.len(),
                sources.len()
            ))));
        }
        let steps: Vec<i64> = delays.iter().map(|&d| (d / dt + 0.5) as i32 as i64).collect();
        if let Some(&bad) = steps.iter().find(|&&d| d < 0) {
            return Err(in_object(Error::runtime(format!("pathway '{name}' has a negative delay ({bad} steps)"))));
        }
        let min_d = steps.iter().copied().min().unwrap_or(0);
        let max_d = steps.iter().copied().max().unwrap_or(0);
        let delay_of = |s: usize| if p.delay_scalar { steps.first().copied().unwrap_or(0) } else { steps[s] };

        let old = self.read_i64s(p.state)?;
        let (carried, queue_len) = if old[STATE_D] > 0 { self.pending(&p, &old, dt)? } else { (Vec::new(), 1) };

        // Synapses grouped by source neuron, by delay, then by index.
        let n_src = p.num_sources as usize;
        let mut order: Vec<(i32, i64, i32)> = Vec::with_capacity(sources.len());
        for (s, &src) in sources.iter().enumerate() {
            let rel = i64::from(src) - p.spikes_start;
            if rel < 0 || rel >= n_src as i64 {
                return Err(in_object(Error::runtime(format!(
                    "synapse {s} has source neuron {src}, outside the pathway's source range"
                ))));
            }
            order.push((rel as i32, delay_of(s), s as i32));
        }
        order.sort_unstable();
        let mut start = vec![0i64; n_src + 1];
        for &(src, _, _) in &order {
            start[src as usize + 1] += 1;
        }
        for k in 0..n_src {
            start[k + 1] += start[k];
        }
        let by_source: Vec<i32> = order.iter().map(|o| o.2).collect();
        let by_delay: Vec<i32> = order.iter().map(|o| o.1 as i32).collect();
        let n = by_source.len() as u64;
        self.device.write(p.by_source_start, 0, &bytes_i64(&start))?;
        self.replace(p.by_source, n, &bytes_i32(&by_source))?;
        self.replace(p.by_source_delay, n, &bytes_i32(&by_delay))?;

        let slots = max_d + 1;
        self.replace(p.history, slots as u64 * (p.num_sources + 1), &[])?;
        let mut carry_start = vec![0i64];
        let mut carry = Vec::new();
        for step in &carried {
            carry.extend_from_slice(step);
            carry_start.push(carry.len() as i64);
        }
        self.replace(p.carry_start, carry_start.len() as u64, &bytes_i64(&carry_start))?;
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
        let mut queue: Vec<Vec<i32>> = vec![Vec::new(); brian_len.max(max_d as usize + 1).max(carried_len)];
        for c in (step + 1).max(0)..old[STATE_CARRY_LEN] {
            let k = (c - step) as usize;
            let (a, b) = (carry_start[c as usize] as usize, carry_start[c as usize + 1] as usize);
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
                let (a, b) = (start[src as usize] as usize, start[src as usize + 1] as usize);
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
            // Brian: queue[(int)(i * old_dt/dt + 0.5)] = old_queue[i], later positions overwriting.
            let factor = old_dt / dt;
            let new_len = (queue.len() as f64 * factor) as usize + 1;
            let mut converted = vec![Vec::new(); new_len];
            for (i, spikes) in queue.into_iter().enumerate() {
                converted[(i as f64 * factor + 0.5) as usize] = spikes;
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

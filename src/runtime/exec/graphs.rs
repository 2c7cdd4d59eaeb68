//! Network steps replayed as CUDA graphs.
//!
//! In: a network run's scheduled kernels and clocks. Out: the same launches,
//! captured once per set of clocks due in a step (a graph per due mask) and
//! replayed every step after, with the clocks and the random-number stream
//! kept on the device (`plan::StepPlan`): every captured launch reads its
//! clock's timestep and dt, and its stream, from the step state
//! (`brisk_step_args` in `support.h`), and the step's last node, the tick,
//! advances them. The host keeps the same clocks and stream in step, so
//! drains, reports and the end of the run see what direct launches would.
//! Where every clock is due in each of the coming steps (one clock, or
//! clocks in lock step), one graph holds up to [`MAX_GRAPH_STEPS`] of them,
//! as many as fit before the next drain: a replay per block of steps, not
//! per step.
//!
//! A batched sweep (`exec::batch`) replays its steps the same way, each
//! kernel launched once for all copies and each copy with its own step
//! state ([`step_by_graph_batched`]).
//!
//! Used when the device can replay graphs (CUDA, not `BRISK_CUDA_SYNC=1`),
//! the run is not profiled, every clock is regular and there are at most 64
//! clocks; `BRISK_CUDA_GRAPHS=0` turns it off.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{due_clocks, ClockState, Executor};
use crate::diag::{Error, Result};
use crate::plan::{KernelId, Launch, Plan};
use crate::runtime::{BatchCopy, StepArgs};

/// Environment variable: `0` launches every kernel directly instead.
pub const GRAPHS_ENV: &str = "BRISK_CUDA_GRAPHS";

/// The most network steps one graph replays.
pub const MAX_GRAPH_STEPS: u64 = 32;

/// How many of the coming steps, from this one and at most `max`, every
/// clock of the run is due in (clocks in lock step): that many steps are
/// the same launches, and one graph of them replays them at once. 1 when
/// this step is not such a step.
pub(super) fn uniform_steps(clocks: &[ClockState], max: u64) -> u64 {
    let mut ahead = clocks.to_vec();
    let mut due = vec![false; clocks.len()];
    let mut steps = 0;
    while steps < max && due_clocks(&ahead, &mut due).is_some() && due.iter().all(|&d| d) {
        for c in &mut ahead {
            c.timestep += 1;
        }
        steps += 1;
    }
    steps.max(1)
}

/// A network run's graphs: for each due mask, the graph and its random-number launches.
pub(super) struct StepGraphs {
    /// Index in `plan.step.clocks` of each of the run's clocks.
    clock_index: Vec<usize>,
    state: u64,
    /// (due mask, steps) -> the graph and its random-number launches per step.
    graphs: BTreeMap<(u64, u64), (usize, u64)>,
}

impl StepGraphs {
    /// The clocks due in a step, as the tick's mask of step-state clocks.
    fn mask(&self, due: &[bool]) -> u64 {
        due.iter()
            .zip(&self.clock_index)
            .filter(|(d, _)| **d)
            .fold(0u64, |m, (_, &i)| m | (1 << i))
    }

    /// A captured launch's arguments: its clock (`timestep`: the clock's index
    /// in the step state; the tick's 0), seed, random-stream offset in the step
    /// and count (the tick's: the mask); the clock's values and the stream come
    /// from the step state when it runs.
    fn args(&self, timestep: i64, seed: u64, stream: u64, n: i64) -> StepArgs {
        StepArgs {
            t: 0.0,
            dt: 0.0,
            timestep,
            seed,
            stream,
            n,
            step: self.state,
        }
    }
}

/// The kernels of one step with the due clocks `due`, in launch order (each
/// scheduled kernel and its `then` chain): the kernel, its clock's index in the
/// step state and its random-stream offset in the step; and the step's
/// random-stream launches in all.
fn step_kernels(
    plan: &Plan,
    graphs: &StepGraphs,
    objects: &[(usize, Option<KernelId>)],
    due: &[bool],
) -> (Vec<(KernelId, i64, u64)>, u64) {
    let mut kernels = Vec::new();
    let mut rng = 0u64;
    for &(clock, kernel) in objects.iter().filter(|(c, _)| due[*c]) {
        let mut next = kernel;
        while let Some(k) = next {
            let kernel = &plan.kernels[k];
            kernels.push((k, graphs.clock_index[clock] as i64, rng));
            rng += kernel.rng_streams;
            next = kernel.then;
        }
    }
    (kernels, rng)
}

impl Executor<'_> {
    /// The graphs of a run, when it can be replayed that way (see the module docs).
    pub(super) fn step_graphs(
        &mut self,
        names: &[String],
        clocks: &[ClockState],
        profile: bool,
    ) -> Result<Option<StepGraphs>> {
        let off = std::env::var(GRAPHS_ENV).is_ok_and(|v| v == "0");
        let step = &self.plan.step;
        if off || profile || !self.device.graphs_allowed() || step.clocks.len() > 64 {
            return Ok(None);
        }
        let mut clock_index = Vec::with_capacity(names.len());
        for name in names {
            match step.clocks.iter().position(|c| c.name == *name && !c.event) {
                Some(i) => clock_index.push(i),
                None => return Ok(None),
            }
        }
        // The step state: the stream, then each clock's timestep and dt.
        let mut words = vec![0u64; 1 + 2 * step.clocks.len()];
        words[0] = self.stream;
        for (&i, c) in clock_index.iter().zip(clocks) {
            words[1 + 2 * i] = c.timestep as u64;
            words[2 + 2 * i] = c.dt.to_bits();
        }
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let state_buf = step.state;
        self.device.write(state_buf, 0, &bytes)?;
        let state = self.device.buffer_address(state_buf)?;
        Ok(Some(StepGraphs {
            clock_index,
            state,
            graphs: BTreeMap::new(),
        }))
    }

    /// `steps` network steps with the same due clocks by one graph replay: the
    /// graph is captured the first time those clocks are due together for that many steps.
    pub(super) fn step_by_graph(
        &mut self,
        graphs: &mut StepGraphs,
        objects: &[(usize, Option<KernelId>)],
        due: &[bool],
        steps: u64,
    ) -> Result<()> {
        let mask = graphs.mask(due);
        if !graphs.graphs.contains_key(&(mask, steps)) {
            // Every size first (a size may be read from the device, which capture forbids).
            let plan = Arc::clone(&self.plan);
            let (kernels, rng) = step_kernels(&plan, graphs, objects, due);
            let mut launches = Vec::with_capacity(kernels.len() + 1);
            for (k, clock, stream) in kernels {
                let kernel = &plan.kernels[k];
                let n = self.size_value(&kernel.size)? as i64;
                launches.push((k, kernel.launch, graphs.args(clock, self.seed, stream, n)));
            }
            let tick = graphs.args(0, self.seed, rng, mask as i64);
            launches.push((plan.step.tick, Launch::Block, tick));
            // each step reads its clocks and stream from the step state, which the tick advances
            self.device.begin_capture()?;
            let captured = (0..steps).try_for_each(|_| {
                launches
                    .iter()
                    .try_for_each(|(k, launch, args)| self.device.launch(*k, *launch, args))
            });
            let graph = self.device.end_capture();
            captured?;
            graphs.graphs.insert((mask, steps), (graph?, rng));
        }
        let (graph, rng) = graphs.graphs[&(mask, steps)];
        self.device.launch_graph(graph)?;
        self.stream += rng * steps;
        Ok(())
    }
}

/// A batched network run's graphs (`exec::batch`): a step state per copy (each
/// copy's kernels and tick read and advance their own), the graphs on copy 0's
/// device, which launches for all; None where a copy cannot replay graphs.
pub(super) fn batch_step_graphs(
    copies: &mut [Executor<'_>],
    names: &[String],
    clocks: &[ClockState],
) -> Result<Option<Vec<StepGraphs>>> {
    let mut out = Vec::with_capacity(copies.len());
    for c in copies.iter_mut() {
        match c.step_graphs(names, clocks, false)? {
            Some(g) => out.push(g),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// `steps` network steps of every copy of a batch by one graph replay, as
/// [`Executor::step_by_graph`] for one: each due kernel launched once for all
/// copies ([`crate::runtime::Device::launch_batch`]), copy `k` reading its
/// clocks and random stream from its own step state (`BriskCopy::step`), and
/// the tick advancing each copy's state and clock arrays. The copy tables are
/// put on the device before the capture (a capture copies nothing).
pub(super) fn step_by_graph_batched(
    copies: &mut [Executor<'_>],
    graphs: &mut [StepGraphs],
    objects: &[(usize, Option<KernelId>)],
    due: &[bool],
    steps: u64,
) -> Result<()> {
    let Some(first) = graphs.first() else {
        return Ok(());
    };
    let mask = first.mask(due);
    if !first.graphs.contains_key(&(mask, steps)) {
        // every copy's row of a kernel (its sizes first: a size may be read from the device)
        let rows = |copies: &mut [Executor<'_>],
                    n_of: &dyn Fn(&mut Executor<'_>) -> Result<i64>| {
            copies
                .iter_mut()
                .zip(graphs.iter())
                .map(|(c, g)| {
                    let (arrays, sizes) = c.device.tables().ok_or_else(|| {
                        Error::internal("a batched sweep on a device without tables")
                    })?;
                    Ok(BatchCopy {
                        arrays,
                        sizes,
                        seed: c.seed,
                        n: n_of(c)?,
                        step: g.state,
                    })
                })
                .collect::<Result<Vec<_>>>()
        };
        let plan = Arc::clone(&copies[0].plan);
        let seed = copies[0].seed;
        let (kernels, rng) = step_kernels(&plan, first, objects, due);
        let mut launches = Vec::with_capacity(kernels.len() + 1);
        for (k, clock, stream) in kernels {
            let kernel = &plan.kernels[k];
            let copy_rows = rows(copies, &|c| Ok(c.size_value(&kernel.size)? as i64))?;
            let n = copy_rows.first().map_or(0, |r| r.n);
            launches.push((k, kernel.launch, first.args(clock, seed, stream, n), copy_rows));
        }
        let tick = first.args(0, seed, rng, mask as i64);
        let tick_rows = rows(copies, &|_| Ok(mask as i64))?;
        launches.push((plan.step.tick, Launch::Block, tick, tick_rows));
        let device = &mut copies[0].device;
        for (k, launch, _, copy_rows) in &launches {
            device.prepare_batch(*k, *launch, copy_rows)?;
        }
        device.begin_capture()?;
        let captured = (0..steps).try_for_each(|_| {
            launches
                .iter()
                .try_for_each(|(k, launch, args, copy_rows)| {
                    device.launch_batch(*k, *launch, args, copy_rows)
                })
        });
        let graph = device.end_capture();
        captured?;
        graphs[0].graphs.insert((mask, steps), (graph?, rng));
    }
    let (graph, rng) = graphs[0].graphs[&(mask, steps)];
    copies[0].device.launch_graph(graph)?;
    copies[0].stream += rng * steps;
    Ok(())
}

/// After a drain of a batched run: every graph goes (the copies' tables are
/// put on the device again at the next capture), once the device has run them.
pub(super) fn clear_batch_graphs(
    copies: &mut [Executor<'_>],
    graphs: &mut [StepGraphs],
) -> Result<()> {
    if let Some(first) = graphs.first_mut() {
        if !first.graphs.is_empty() {
            copies[0].device.synchronize()?;
            copies[0].device.clear_graphs();
            first.graphs.clear();
        }
    }
    Ok(())
}

//! A batch of a sweep's copies run side by side (CUDA): one launch of each
//! kernel per step for all of them.
//!
//! In: one executor per copy, their devices siblings (`CudaDevice::sibling`:
//! own buffers, one program and stream), each with its run_args and random
//! stream set. Out: each executor as after its own `run_queue`. The main
//! queue's entries other than network runs (connect(), values set, code
//! objects run once, store/restore) run copy by copy, as they would alone;
//! a network run steps every copy's clocks together (they are the same: one
//! script) and launches each due kernel once with every copy's tables and
//! arguments ([`Device::launch_batch`]); monitors drain copy by copy, at the
//! same blocks as alone. A profiled run (its timers are per device) runs
//! copy by copy. Where the device replays graphs, steps are replayed as
//! CUDA graphs of the batched launches as in a run of one copy
//! (`graphs::step_by_graph_batched`: each copy with its own step state),
//! captured again after each drain. Each copy computes
//! exactly what it computes alone (its own memory, seed and counts; the
//! same kernels on the same elements), which the sweep tests check bit for bit.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use super::graphs::{
    batch_step_graphs, clear_batch_graphs, step_by_graph_batched, uniform_steps, MAX_GRAPH_STEPS,
};
use super::host::NoHost;
use super::report::Reporter;
use super::{due_clocks, Executor, NetworkRun};
use crate::diag::{Error, Result};
use crate::export::{QueueEntry, RunNetwork};
use crate::plan::KernelId;
use crate::runtime::{BatchCopy, StepArgs};

/// Runs the main queue of every copy in `copies` (at least one), batched;
/// errors name their copy by its index in `copies` ([`Error::in_copy`]).
pub fn run_queue_batched(copies: &mut [Executor<'_>], out: &mut dyn Write) -> Result<()> {
    let Some(first) = copies.first() else {
        return Ok(());
    };
    let export = Arc::clone(&first.export);
    // Brian < 2.10 has no apply_run_args entry: run_args apply before anything runs.
    if !export
        .main_queue
        .iter()
        .any(|e| matches!(e, QueueEntry::ApplyRunArgs))
    {
        each(copies, |c| c.apply_run_args())?;
    }
    for entry in &export.main_queue {
        match entry {
            QueueEntry::RunNetwork(run) if batchable(run) => run_network_batched(copies, run, out)?,
            _ => each(copies, |c| c.run_entry(entry, out, &mut NoHost))?,
        }
    }
    each(copies, |c| {
        c.device
            .synchronize()
            .map_err(|e| e.in_kernel_of(c.plan.kernel_table()))
    })
}

/// A network run that can run batched: not profiled (the timers are per
/// device) and without network operations (a live session's, which has no sweeps).
fn batchable(run: &RunNetwork) -> bool {
    !run.profile && run.objects.iter().all(|o| o.operation.is_none())
}

/// `f` on every copy in order; an error names its copy.
fn each(
    copies: &mut [Executor<'_>],
    mut f: impl FnMut(&mut Executor<'_>) -> Result<()>,
) -> Result<()> {
    for (k, c) in copies.iter_mut().enumerate() {
        f(c).map_err(|e| e.in_copy(k as u64))?;
    }
    Ok(())
}

/// Every copy's tables, seed and count for `kernel` on clock `clock`; copy
/// 0's from `shared` (its launch values, which counted its random stream).
fn copy_rows(
    copies: &mut [Executor<'_>],
    nets: &[NetworkRun],
    kernel: KernelId,
    clock: usize,
    shared: &StepArgs,
) -> Result<Vec<BatchCopy>> {
    let mut rows = Vec::with_capacity(copies.len());
    for (k, (c, net)) in copies.iter_mut().zip(nets).enumerate() {
        let (arrays, sizes) = c
            .device
            .tables()
            .ok_or_else(|| Error::internal("a batched sweep on a device without tables"))?;
        let args = if k == 0 {
            *shared
        } else {
            // (its stream counter moves here, not at every launch: the run's end sets it)
            c.step_args(kernel, Some(&net.clocks[clock]))
                .map_err(|e| e.in_copy(k as u64))?
        };
        rows.push(BatchCopy {
            arrays,
            sizes,
            seed: args.seed,
            n: args.n,
            step: 0,
        });
    }
    Ok(rows)
}

/// One network run of every copy, stepped together.
fn run_network_batched(
    copies: &mut [Executor<'_>],
    run: &RunNetwork,
    out: &mut dyn Write,
) -> Result<()> {
    let fused = copies[0].fuses(run);
    let mut nets: Vec<NetworkRun> = Vec::with_capacity(copies.len());
    for (k, c) in copies.iter_mut().enumerate() {
        nets.push(
            c.begin_network(run, fused)
                .map_err(|e| e.in_copy(k as u64))?,
        );
    }
    let mut report = Reporter::new(run, nets[0].t_start);
    report.start(out, &mut NoHost)?;
    let started = report.started();
    let mut due = vec![false; nets[0].clocks.len()];
    let mut stopped = false;
    let objects = nets[0].objects.clone();
    let mut graphs = batch_step_graphs(copies, &nets[0].names, &nets[0].clocks)?;
    // Each kernel's copies: their tables, seeds and counts do not change within
    // a run (no entry runs in between), so they are computed at a kernel's first
    // launch and again after each drain (which may resize); each launch passes
    // the clock and random stream, the same for every copy, from copy 0's.
    let mut rows: BTreeMap<KernelId, Vec<BatchCopy>> = BTreeMap::new();
    loop {
        // (every copy's clocks are the same: copy 0's say which are due)
        let Some(t_min) = due_clocks(&nets[0].clocks, &mut due) else {
            break;
        };
        if crate::runtime::stop::take() {
            stopped = true;
            break;
        }
        report.tick(out, &mut NoHost, t_min)?;
        // Graphs: the coming steps in which every clock is due, up to the next drain, as one replay.
        let mut steps = 1;
        if let Some(g) = graphs.as_mut() {
            let room = copies[0]
                .plan
                .block_iterations
                .saturating_sub(copies[0].pending)
                .max(1);
            steps = uniform_steps(&nets[0].clocks, room.min(MAX_GRAPH_STEPS));
            step_by_graph_batched(copies, g, &objects, &due, steps)?;
        }
        for &(clock, kernel) in &objects {
            if !due[clock] || graphs.is_some() {
                continue;
            }
            let mut next = kernel;
            while let Some(kernel) = next {
                let shared = copies[0].step_args(kernel, Some(&nets[0].clocks[clock]))?;
                if !rows.contains_key(&kernel) {
                    rows.insert(kernel, copy_rows(copies, &nets, kernel, clock, &shared)?);
                }
                let batch = rows.get(&kernel).map(Vec::as_slice).unwrap_or_default();
                let launch = copies[0].plan.kernels[kernel].launch;
                copies[0]
                    .device
                    .launch_batch(kernel, launch, &shared, batch)?;
                next = copies[0].plan.kernels[kernel].then;
            }
        }
        let mut drained = false;
        for (k, (c, net)) in copies.iter_mut().zip(nets.iter_mut()).enumerate() {
            drained |= c
                .end_step(net, &due, steps, graphs.is_some())
                .map_err(|e| e.in_copy(k as u64))?;
        }
        if drained {
            rows.clear();
            if let Some(g) = graphs.as_mut() {
                clear_batch_graphs(copies, g)?;
            }
        }
    }
    // (only copy 0 counted the launches' random streams: the others have drawn the same)
    let stream = copies[0].stream;
    for c in copies.iter_mut() {
        c.stream = stream;
    }
    let mut ended = (0.0, 0.0);
    let graphed = graphs.is_some();
    for (k, (c, net)) in copies.iter_mut().zip(nets).enumerate() {
        let (_, completed) = c
            .end_network(run, net, stopped, started, graphed)
            .map_err(|e| e.in_kernel_of(c.plan.kernel_table()).in_copy(k as u64))?;
        ended = (started.elapsed().as_secs_f64(), completed);
    }
    // every copy's run took the batch's time
    for c in copies.iter_mut() {
        c.last_run = ended;
    }
    report.progress(out, &mut NoHost, ended.0, ended.1)?;
    Ok(())
}

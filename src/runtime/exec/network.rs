//! A network run (Brian's `Network::run`, as cpp_standalone's): its clocks
//! and scheduled objects set up, its steps (CUDA graph replays, or the due
//! objects' kernels launched one by one), the monitors drained every block,
//! and the run's end (the clocks kept, the network's time, the run's time).
//!
//! In: the executor and a `run_network` entry of the main queue. Out: the
//! executor after the run. [`Executor::begin_network`], [`Executor::end_step`]
//! and [`Executor::end_network`] are shared with a CUDA sweep's batched steps
//! (`super::batch`).

use std::io::Write;
use std::time::Instant;

use super::graphs::{uniform_steps, MAX_GRAPH_STEPS};
use super::host::Host;
use super::profile::attribute_queue_walks;
use super::report::Reporter;
use super::{due_clocks, ClockState, Executor, FUSION_ENV};
use crate::diag::Result;
use crate::export::RunNetwork;
use crate::plan::{KernelId, Phase};

/// A network run's clocks and scheduled objects, from
/// [`Executor::begin_network`] to [`Executor::end_network`].
pub(super) struct NetworkRun {
    pub(super) t_start: f64,
    pub(super) t_end: f64,
    pub(super) names: Vec<String>,
    pub(super) clocks: Vec<ClockState>,
    /// Each scheduled object's clock (index into `clocks`) and first kernel.
    pub(super) objects: Vec<(usize, Option<KernelId>)>,
    /// Clocks written to the device whenever they tick (`Plan::mirrored_clocks`).
    pub(super) mirrored: Vec<bool>,
}

impl Executor<'_> {
    /// Sets up a network run: its clocks (each at the run's start, with `dt`
    /// from its arrays, the mirrored ones written to the device) and its
    /// scheduled objects' kernels (`fused`: CUDA's fused state updates,
    /// thresholds and resets); summed variables grouped by target, and the
    /// checks of recorded and indirect indices and morphologies.
    pub(super) fn begin_network(&mut self, run: &RunNetwork, fused: bool) -> Result<NetworkRun> {
        let t_start = run
            .t_start
            .unwrap_or_else(|| *self.network_t.get(&run.network).unwrap_or(&0.0));
        let t_end = t_start + run.duration;
        // The clocks of this run, in name order, with dt from their arrays.
        let mut names: Vec<String> = run.objects.iter().map(|o| o.clock.clone()).collect();
        names.sort();
        names.dedup();
        let mut clocks = Vec::new();
        for name in &names {
            let mut c = self.current_clock(name)?;
            c.set_interval(t_start, t_end);
            clocks.push(c);
        }
        let objects: Vec<(usize, Option<KernelId>)> = run
            .objects
            .iter()
            .map(|o| {
                let clock = names.iter().position(|n| *n == o.clock).unwrap_or(0);
                let kernel = match &o.code_object {
                    Some(co) => self
                        .kernel_of(co, Phase::Main)
                        .map(|k| self.plan.network_kernel(co, k, fused)),
                    None => Ok(None),
                };
                kernel.map(|k| (clock, k))
            })
            .collect::<Result<_>>()?;
        // Summed variables sum per target element: group their synapses by target for this run.
        for o in &run.objects {
            if let Some(co) = o
                .code_object
                .as_deref()
                .filter(|co| self.plan.summed.contains_key(*co))
            {
                self.prepare_summed(co)?;
            }
            self.check_recorded_indices(o.code_object.as_deref().unwrap_or_default())?;
            self.check_indirect_indices(o.code_object.as_deref().unwrap_or_default())?;
            self.check_morphology(o.code_object.as_deref().unwrap_or_default())?;
        }
        let mirrored: Vec<bool> = names
            .iter()
            .map(|n| self.plan.mirrored_clocks.contains(n))
            .collect();
        for (c, _) in clocks.iter().zip(&mirrored).filter(|(_, m)| **m) {
            self.mirror_clock(c)?;
        }
        Ok(NetworkRun {
            t_start,
            t_end,
            names,
            clocks,
            objects,
            mirrored,
        })
    }

    /// Whether a network run fuses (CUDA; not when profiled: Brian's profile
    /// names every code object's own time).
    pub(super) fn fuses(&self, run: &RunNetwork) -> bool {
        self.device.target().fuses()
            && !run.profile
            && !std::env::var(FUSION_ENV).is_ok_and(|v| v == "0")
    }

    /// After the steps of `steps` (1, or a graph replay's) in which the clocks
    /// `due` ticked: advances them, mirrors those that need it (not after a
    /// graph, whose tick wrote them) and drains the monitors when a block is
    /// full; returns whether it drained.
    pub(super) fn end_step(
        &mut self,
        net: &mut NetworkRun,
        due: &[bool],
        steps: u64,
        graphed: bool,
    ) -> Result<bool> {
        for (i, c) in net.clocks.iter_mut().enumerate() {
            if due[i] {
                c.timestep += steps as i64;
            }
        }
        for i in 0..net.clocks.len() {
            if due[i] && net.mirrored[i] && !graphed {
                let c = net.clocks[i].clone();
                self.mirror_clock(&c)?;
            }
        }
        self.pending += steps;
        let full = self.pending >= self.plan.block_iterations;
        if full {
            self.drain()?;
        }
        Ok(full)
    }

    /// Ends a network run: the last drain, the clocks kept (and written to the
    /// device), the network's time (a stopped run ends at its earliest clock's,
    /// as Brian's) and the run's seconds and completed fraction, which it returns.
    pub(super) fn end_network(
        &mut self,
        run: &RunNetwork,
        net: NetworkRun,
        stopped: bool,
        started: Instant,
        graphed: bool,
    ) -> Result<(f64, f64)> {
        self.drain()?;
        self.collect_drain()?;
        self.device.synchronize()?;
        if graphed {
            self.device.clear_graphs();
        }
        let elapsed = started.elapsed().as_secs_f64();
        for (name, c) in net.names.iter().zip(&net.clocks) {
            self.mirror_clock(c)?;
            self.clocks.insert(name.clone(), c.clone());
        }
        let t_now = if stopped {
            net.clocks
                .iter()
                .map(ClockState::t)
                .fold(f64::INFINITY, f64::min)
                .min(net.t_end)
        } else {
            net.t_end
        };
        let completed = if run.duration > 0.0 {
            (t_now - net.t_start) / run.duration
        } else {
            1.0
        };
        self.network_t.insert(run.network.clone(), t_now);
        self.last_run = (elapsed, completed);
        Ok((elapsed, completed))
    }

    pub(super) fn run_network(
        &mut self,
        run: &RunNetwork,
        out: &mut dyn Write,
        host: &mut dyn Host,
    ) -> Result<()> {
        let fused = self.fuses(run);
        let mut net = self.begin_network(run, fused)?;
        // Profiling: seconds per scheduled object (timer slot = its position).
        if run.profile {
            self.device.take_timers()?;
        }
        let walks = self.queue_walks(run);
        // a live session's network_operations: Python is called between two code objects
        let operations: Vec<Option<u32>> = run.objects.iter().map(|o| o.operation).collect();
        let mut graphs = if operations.iter().any(Option::is_some) {
            None
        } else {
            self.step_graphs(&net.names, &net.clocks, run.profile)?
        };
        let mut report = Reporter::new(run, net.t_start);
        report.start(out, host)?;
        let mut due = vec![false; net.clocks.len()];
        let mut stopped = false;
        loop {
            let Some(t_min) = due_clocks(&net.clocks, &mut due) else {
                break;
            };
            // a live session's "stop requested" (Ctrl-C, Network.stop()): Brian ends the run here
            if crate::runtime::stop::take() {
                stopped = true;
                break;
            }
            report.tick(out, host, t_min)?;
            // Graphs: the coming steps in which every clock is due, up to the next drain, run as one replay.
            let mut steps = 1;
            if let Some(g) = graphs.as_mut() {
                let room = self
                    .plan
                    .block_iterations
                    .saturating_sub(self.pending)
                    .max(1);
                steps = uniform_steps(&net.clocks, room.min(MAX_GRAPH_STEPS));
                self.step_by_graph(g, &net.objects, &due, steps)?;
            }
            let mut stop_after_step = false;
            for (slot, &(clock, kernel)) in net.objects.iter().enumerate() {
                if !due[clock] || graphs.is_some() {
                    continue;
                }
                if let Some(id) = operations[slot] {
                    // Python reads what the step so far made: the clocks' values, every record
                    for c in &net.clocks {
                        self.mirror_clock(c)?;
                    }
                    self.drain()?;
                    self.collect_drain()?;
                    self.device.synchronize()?;
                    stop_after_step |= host.network_operation(self, id, net.clocks[clock].t())?;
                    self.scalar_cache.clear();
                    continue;
                }
                self.launch_queue_walk(&walks, slot, net.objects.len(), &net.clocks[clock])?;
                let mut next = kernel;
                while let Some(kernel) = next {
                    let args = self.step_args(kernel, Some(&net.clocks[clock]))?;
                    let launch = self.plan.kernels[kernel].launch;
                    if run.profile {
                        self.device.launch_timed(kernel, launch, &args, slot)?;
                    } else {
                        self.device.launch(kernel, launch, &args)?;
                    }
                    next = self.plan.kernels[kernel].then;
                }
            }
            self.end_step(&mut net, &due, steps, graphs.is_some())?;
            if stop_after_step {
                // Network.stop() in a network_operation: Brian ends the run after this step
                stopped = true;
                break;
            }
        }
        let objects = net.objects.len();
        let (elapsed, completed) =
            self.end_network(run, net, stopped, report.started(), graphs.is_some())?;
        if run.profile {
            let mut profiled = self.device.take_timers()?;
            attribute_queue_walks(&mut profiled, &walks, objects);
            profiled.resize(objects, 0.0);
            let all = self.profile.get_or_insert_with(Vec::new);
            let named = run
                .objects
                .iter()
                .zip(profiled)
                .filter_map(|(o, secs)| Some((o.code_object.clone()?, secs)));
            for (name, secs) in named {
                match all.iter_mut().find(|(n, _)| *n == name) {
                    Some(entry) => entry.1 += secs,
                    None => all.push((name, secs)),
                }
            }
        }
        report.progress(out, host, elapsed, completed)?;
        Ok(())
    }

    /// Writes a clock's `timestep` and `t` to its arrays on the device.
    pub(super) fn mirror_clock(&mut self, c: &ClockState) -> Result<()> {
        self.device
            .write(c.buf_timestep, 0, &c.timestep.to_le_bytes())?;
        self.device.write(c.buf_t, 0, &c.t().to_le_bytes())
    }

}

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
//!
//! Used when the device can replay graphs (CUDA, not `BRISK_CUDA_SYNC=1`),
//! the run is not profiled, every clock is regular and there are at most 64
//! clocks; `BRISK_CUDA_GRAPHS=0` turns it off.

use std::collections::BTreeMap;

use crate::diag::Result;
use crate::plan::Launch;
use crate::runtime::exec::{ClockState, Executor};
use crate::runtime::StepArgs;

/// Environment variable: `0` launches every kernel directly instead.
pub const GRAPHS_ENV: &str = "BRISK_CUDA_GRAPHS";

/// A network run's graphs: for each due mask, the graph and its random-number launches.
pub(super) struct StepGraphs {
    /// Index in `plan.step.clocks` of each of the run's clocks.
    clock_index: Vec<usize>,
    state: u64,
    graphs: BTreeMap<u64, (usize, u64)>,
}

impl Executor<'_> {
    /// The graphs of a run, when it can be replayed that way (see the module docs).
    pub(super) fn step_graphs(&mut self, names: &[String], clocks: &[ClockState], profile: bool) -> Result<Option<StepGraphs>> {
        let off = std::env::var(GRAPHS_ENV).is_ok_and(|v| v == "0");
        let step = &self.plan.step;
        if off || profile || !self.device.supports_graphs() || step.clocks.len() > 64 {
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
        Ok(Some(StepGraphs { clock_index, state, graphs: BTreeMap::new() }))
    }

    /// One network step by graph: captured the first time its clocks are due together.
    pub(super) fn step_by_graph(
        &mut self,
        graphs: &mut StepGraphs,
        objects: &[(usize, Option<usize>)],
        due: &[bool],
    ) -> Result<()> {
        let mask = due.iter().zip(&graphs.clock_index).filter(|(d, _)| **d).fold(0u64, |m, (_, &i)| m | (1 << i));
        if !graphs.graphs.contains_key(&mask) {
            // Every size first (a size may be read from the device, which capture forbids).
            let mut launches = Vec::new();
            let mut rng = 0u64;
            for &(clock, kernel) in objects.iter().filter(|(c, _)| due[*c]) {
                let mut next = kernel;
                while let Some(k) = next {
                    let kernel = &self.plan.kernels[k];
                    let n = self.size_value(&kernel.size.clone())? as i64;
                    let args = StepArgs {
                        t: 0.0,
                        dt: 0.0,
                        timestep: graphs.clock_index[clock] as i64,
                        seed: self.seed,
                        stream: rng,
                        n,
                        step: graphs.state,
                    };
                    rng += u64::from(kernel.uses_rng);
                    launches.push((k, kernel.launch, args));
                    next = kernel.then;
                }
            }
            let tick = StepArgs { t: 0.0, dt: 0.0, timestep: 0, seed: self.seed, stream: rng, n: mask as i64, step: graphs.state };
            launches.push((self.plan.step.tick, Launch::Block, tick));
            self.device.begin_capture()?;
            let captured = launches.iter().try_for_each(|(k, launch, args)| self.device.launch(*k, *launch, args));
            let graph = self.device.end_capture();
            captured?;
            graphs.graphs.insert(mask, (graph?, rng));
        }
        let (graph, rng) = graphs.graphs[&mask];
        self.device.launch_graph(graph)?;
        self.stream += rng;
        Ok(())
    }
}

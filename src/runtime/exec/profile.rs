//! Profiling attribution of the spike queue (`run(..., profile=True)`).
//!
//! In: a profiled run's scheduled objects and the plan's
//! [`Phase::QueueWalk`](crate::plan::Phase::QueueWalk) kernels. Out: which
//! walk to launch before each `synapses` object, and the timers with the
//! queue's time moved from the delivery to its `synapses_push_spikes`.
//!
//! cpp_standalone's push code object expands each spike into its synapses
//! per delay (`SpikeQueue::push`, with `advance`), and its `synapses` code
//! object only runs the statements of the synapses due (`peek`). Brisk's
//! push copies the step's spikes into a ring and its delivery kernel does the
//! expansion, so its profile would show the queue's work under `synapses`
//! and about nothing under `..._push_spikes`. In a profiled run the walk
//! kernel (the delivery's loops over the queue, without the statements) runs
//! right before each delivery and is timed in a slot of its own; afterwards
//! its time is added to the push code object and taken from the delivery,
//! down to [`MIN_DELIVERY_SHARE`] of the delivery's measured time (timer
//! noise, and the emulated driver's timings, can make the walk alone look as
//! long as the whole delivery; a delivery that ran never shows 0). A
//! profiled run thus does the queue walk twice; unprofiled runs never launch
//! it. The split is an estimate.

use super::{ClockState, Executor};
use crate::diag::Result;
use crate::export::RunNetwork;
use crate::plan::KernelId;

/// Per scheduled object: the walk kernel and the slot of the pathway's push
/// code object, for a `synapses` object whose push is in the same run.
pub(super) type Walks = Vec<Option<(KernelId, usize)>>;

impl Executor<'_> {
    /// The queue walks of a profiled run (empty when it is not profiled).
    pub(super) fn queue_walks(&self, run: &RunNetwork) -> Walks {
        if !run.profile {
            return Vec::new();
        }
        let plan_of =
            |name: &Option<String>| name.as_deref().and_then(|n| self.plan.code_objects.get(n));
        run.objects
            .iter()
            .map(|o| {
                let walk = plan_of(&o.code_object)?.walk?;
                let pathway = self
                    .export
                    .code_object(o.code_object.as_deref()?)?
                    .pathway
                    .as_ref()?
                    .name
                    .as_str();
                let push = run.objects.iter().position(|p| {
                    plan_of(&p.code_object).is_some_and(|c| c.prepares.as_deref() == Some(pathway))
                })?;
                Some((walk, push))
            })
            .collect()
    }

    /// Before scheduled object `slot` runs: its queue walk, if any, timed in
    /// timer slot `objects + slot`.
    pub(super) fn launch_queue_walk(
        &mut self,
        walks: &Walks,
        slot: usize,
        objects: usize,
        clock: &ClockState,
    ) -> Result<()> {
        let Some(&Some((kernel, _))) = walks.get(slot) else {
            return Ok(());
        };
        let args = self.step_args(kernel, Some(clock))?;
        let launch = self.plan.kernels[kernel].launch;
        self.device
            .launch_timed(kernel, launch, &args, objects + slot)
    }
}

/// The least share of its measured time a delivery keeps after its walk is moved.
pub(super) const MIN_DELIVERY_SHARE: f64 = 0.1;

/// Moves each walk's time (timer `objects + slot`) from its delivery (`slot`)
/// to its push code object, and drops the walk slots.
pub(super) fn attribute_queue_walks(timers: &mut Vec<f64>, walks: &Walks, objects: usize) {
    timers.resize(timers.len().max(objects + walks.len()), 0.0);
    for (slot, walk) in walks.iter().enumerate() {
        if let Some((_, push)) = walk {
            let delivery = timers[slot];
            let moved = timers[objects + slot].min(delivery * (1.0 - MIN_DELIVERY_SHARE));
            timers[*push] += moved;
            timers[slot] = delivery - moved;
        }
    }
    timers.truncate(objects);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_moves_from_the_delivery_to_the_push() {
        // objects: [push, synapses, monitor]; the walk of `synapses` (slot 1) in timer 3 + 1
        let mut timers = vec![0.01, 0.5, 0.2, 0.0, 0.3];
        attribute_queue_walks(&mut timers, &vec![None, Some((KernelId(9), 0)), None], 3);
        assert_eq!(timers.len(), 3);
        assert!(
            (timers[0] - 0.31).abs() < 1e-12 && (timers[1] - 0.2).abs() < 1e-12 && timers[2] == 0.2
        );
        // a walk longer than its delivery (timer noise) leaves the delivery a tenth of its time
        let mut timers = vec![0.0, 0.1, 0.0, 0.0, 0.2];
        attribute_queue_walks(&mut timers, &vec![None, Some((KernelId(9), 0))], 3);
        assert!(
            (timers[0] - 0.09).abs() < 1e-12
                && (timers[1] - 0.01).abs() < 1e-12
                && timers[2] == 0.0,
            "{timers:?}"
        );
    }
}

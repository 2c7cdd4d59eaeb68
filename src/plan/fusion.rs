//! Fusion: a group's state update, threshold and reset as one kernel.
//!
//! In: the export's `run_network` entries (Brian's schedule order) and the
//! lowered code objects. Out: the [`Fusion`]s of the plan: for a
//! NeuronGroup's threshold, the state update before it and, where Brian's
//! order allows, the reset after it, run by one kernel at the threshold's
//! place: per element, the state update, the threshold condition (and
//! refractoriness) and, for an element that crossed, the reset; then the
//! threshold's ordered compaction of the event space. One launch and one
//! pass over the group's state instead of three.
//!
//! Brian's order allows it when, in every run that schedules any of them:
//! * the state update is the nearest `stateupdate` code object of the
//!   group before the threshold, on the same clock, over the same elements,
//!   writing no shared variable;
//! * the reset is the nearest `reset` of the threshold's event space after
//!   it, on the same clock (else the reset is not fused);
//! * moving the state update down to the threshold, and the reset up to
//!   it, crosses only code objects it commutes with (neither writes an
//!   array the other reads or writes, `analysis::Footprint`), and, if it
//!   draws random numbers, none that draws them (so every launch keeps its
//!   random-number stream);
//! * an array one part writes and another reads or writes is accessed by
//!   both only at the element itself: then element `i`'s parts depend on
//!   element `i` alone, and running them element by element is Brian's
//!   result.
//!
//! A recurrent network whose synapses write the membrane potential the
//! reset sets (`v_post += w`, `v = v_r`) keeps its reset separate: the
//! delivery comes between them in Brian's order. Both targets launch the
//! fused kernels (`Target::fuses`): CUDA one launch instead of three; C++
//! one pass over the group in blocks small enough to stay in the L1 cache,
//! and one hand-over to the threads instead of two or three, over the same
//! chunks for all three parts.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::{footprint, Footprint};
use crate::export::{Export, QueueEntry};
use crate::ir::{CodeObject, Template};
use crate::plan::KernelId;

/// One fused kernel and the code objects it replaces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fusion {
    /// The kernel (`plan.kernels`), launched at the threshold's place.
    pub kernel: KernelId,
    pub stateupdate: String,
    pub threshold: String,
    pub reset: Option<String>,
    /// The random-number streams the parts draw from, as offsets from the
    /// kernel's launch stream (stateupdate, threshold, reset).
    pub streams: [u64; 3],
}

/// The parts of one fusion, found in the schedule (`find`).
#[derive(Debug, Clone, PartialEq)]
pub struct Parts {
    pub stateupdate: String,
    pub threshold: String,
    pub reset: Option<String>,
}

/// The fusions the schedules allow, one per threshold at most, in code object order.
pub fn find(export: &Export, code_objects: &[CodeObject]) -> Vec<Parts> {
    let by_name: BTreeMap<&str, &CodeObject> =
        code_objects.iter().map(|c| (c.name.as_str(), c)).collect();
    let owner_of = |array: &str| export.array(array).and_then(|a| a.owner.clone());
    let footprints: BTreeMap<&str, Footprint> = code_objects
        .iter()
        .map(|c| (c.name.as_str(), footprint(c, &owner_of)))
        .collect();
    let runs: Vec<Vec<(&str, Option<&str>)>> = export
        .main_queue
        .iter()
        .filter_map(|e| match e {
            QueueEntry::RunNetwork(run) => Some(
                run.objects
                    .iter()
                    .map(|o| (o.clock.as_str(), o.code_object.as_deref()))
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    let mut out: Vec<Parts> = Vec::new();
    for th in code_objects
        .iter()
        .filter(|c| c.template == Template::Threshold)
    {
        let mut parts: Option<Parts> = None;
        let mut reset_ok = true;
        let mut ok = true;
        for run in &runs {
            let Some(t) = run.iter().position(|o| o.1 == Some(th.name.as_str())) else {
                continue;
            };
            let clock = run[t].0;
            let su = (0..t).rev().find(|&i| {
                run[i]
                    .1
                    .and_then(|n| by_name.get(n))
                    .is_some_and(|c| c.template == Template::Stateupdate && c.owner == th.owner)
            });
            let reset = (t + 1..run.len()).find(|&i| {
                run[i].1.and_then(|n| by_name.get(n)).is_some_and(|c| {
                    c.template == Template::Reset && c.eventspace() == th.eventspace()
                })
            });
            let Some(su) = su.filter(|&i| run[i].0 == clock) else {
                ok = false;
                break;
            };
            let reset = reset.filter(|&i| run[i].0 == clock);
            let name = |i: usize| run[i].1.unwrap_or_default().to_string();
            let found = Parts {
                stateupdate: name(su),
                threshold: th.name.clone(),
                reset: reset.map(name),
            };
            match &mut parts {
                None => parts = Some(found.clone()),
                Some(p) if p.stateupdate != found.stateupdate => {
                    ok = false;
                    break;
                }
                Some(p) => reset_ok &= p.reset == found.reset,
            }
            // the state update moves down past run[su+1..t], the reset up past run[t+1..reset]
            let crosses = |part: usize, range: std::ops::Range<usize>| {
                let Some(co) = run[part].1 else { return false };
                let (fp, rng) = (&footprints[co], by_name[co].uses_rng());
                run[range].iter().filter_map(|o| o.1).all(|other| {
                    footprints.get(other).is_some_and(|f| fp.commutes_with(f))
                        && !(rng && by_name.get(other).is_some_and(|c| c.uses_rng()))
                })
            };
            ok &= crosses(su, su + 1..t);
            reset_ok &= reset.is_some_and(|r| crosses(r, t + 1..r));
        }
        let Some(mut parts) = parts.filter(|_| ok) else {
            continue;
        };
        // Runs that schedule the state update or the reset without the threshold.
        let alone = |name: &str| {
            runs.iter().any(|run| {
                run.iter().any(|o| o.1 == Some(name))
                    && !run.iter().any(|o| o.1 == Some(th.name.as_str()))
            })
        };
        if alone(&parts.stateupdate) {
            continue;
        }
        if !reset_ok || parts.reset.as_deref().is_some_and(alone) {
            parts.reset = None;
        }
        // (a state update or reset fuses once: a second threshold after it runs alone)
        if out.iter().any(|p| p.stateupdate == parts.stateupdate) {
            continue;
        }
        if out
            .iter()
            .any(|p| p.reset.is_some() && p.reset == parts.reset)
        {
            parts.reset = None;
        }
        let su = by_name[parts.stateupdate.as_str()];
        if !fusable_stateupdate(su, th)
            || !element_local(
                &footprints[su.name.as_str()],
                &footprints[th.name.as_str()],
                th,
            )
        {
            continue;
        }
        if let Some(reset) = parts.reset.as_deref() {
            let fp = &footprints[reset];
            if !element_local(&footprints[su.name.as_str()], fp, th)
                || !element_local(&footprints[th.name.as_str()], fp, th)
            {
                parts.reset = None;
            }
        }
        out.push(parts);
    }
    out
}

/// The state update runs over the threshold's elements and writes no shared variable.
fn fusable_stateupdate(su: &CodeObject, th: &CodeObject) -> bool {
    let n = |c: &CodeObject| match c.symbols.get("N") {
        Some(crate::ir::Symbol::Constant { value, .. }) => Some(value.as_f64()),
        _ => None,
    };
    n(su).is_some() && n(su) == n(th) && !su.scalar_writes()
}

/// Every array one of `a`, `b` writes and the other touches is accessed by
/// both at the element only. The threshold's event space is not one: the
/// fused reset takes its element from the threshold, not from the event space.
fn element_local(a: &Footprint, b: &Footprint, th: &CodeObject) -> bool {
    let events = th.eventspace().unwrap_or_default();
    let local = |x: &Footprint, y: &Footprint| {
        x.write
            .iter()
            .filter(|(array, _)| *array != events)
            .all(|(array, &element)| {
                !y.touches(array)
                    || (element
                        && y.read.get(array).is_none_or(|&e| e)
                        && y.write.get(array).is_none_or(|&e| e)
                        && x.read.get(array).is_none_or(|&e| e))
            })
    };
    local(a, b) && local(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> (Export, Vec<CodeObject>) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/exports")
            .join(name)
            .join("export");
        let export = crate::validate::read(&dir).expect("fixture export");
        let code_objects = crate::lower::lower_all(&export).expect("lowered");
        (export, code_objects)
    }

    /// (stateupdate, reset) of each fusion, by group.
    fn fused(export: &Export, code_objects: &[CodeObject]) -> Vec<(String, Option<String>)> {
        find(export, code_objects)
            .into_iter()
            .map(|p| (p.stateupdate, p.reset))
            .collect()
    }

    fn names(group: &str, reset: bool) -> (String, Option<String>) {
        (
            format!("{group}_stateupdater_codeobject"),
            reset.then(|| format!("{group}_spike_resetter_codeobject")),
        )
    }

    #[test]
    fn brian_order_decides_what_fuses() {
        // two groups; the SpikeMonitor of neurongroup_1 records v and c, which its reset
        // writes, between the threshold and the reset: that reset stays apart
        let (export, cos) = fixture("threshold_reset");
        assert_eq!(
            fused(&export, &cos),
            vec![names("neurongroup_1", false), names("neurongroup", true)]
        );
        // the delivery writes v_post, the reset v: the reset stays after the delivery
        let (export, cos) = fixture("synapses");
        assert_eq!(fused(&export, &cos), vec![names("neurongroup", false)]);
        // an EventMonitor records v between the spike threshold and the reset
        let (export, cos) = fixture("monitors");
        assert_eq!(fused(&export, &cos), vec![names("neurongroup", false)]);
        // no threshold: nothing to fuse
        let (export, cos) = fixture("euler");
        assert!(fused(&export, &cos).is_empty());
    }

    /// The fixture's run with its objects in another order.
    fn reordered(export: &Export, order: &[&str]) -> Export {
        let mut export = export.clone();
        for entry in &mut export.main_queue {
            if let QueueEntry::RunNetwork(run) = entry {
                let key = |o: &crate::export::ScheduledObject| {
                    order
                        .iter()
                        .position(|n| o.code_object.as_deref() == Some(*n))
                        .unwrap_or(usize::MAX)
                };
                run.objects.sort_by_key(key);
            }
        }
        export
    }

    #[test]
    fn a_move_across_a_dependent_code_object_is_refused() {
        let (export, cos) = fixture("threshold_reset");
        let base = [
            "neurongroup_1_stateupdater_codeobject",
            "neurongroup_stateupdater_codeobject",
            "neurongroup_1_spike_thresholder_codeobject",
            "neurongroup_spike_thresholder_codeobject",
            "spikemonitor_codeobject",
            "spikemonitor_1_codeobject",
            "neurongroup_1_spike_resetter_codeobject",
            "neurongroup_spike_resetter_codeobject",
        ];
        assert_eq!(
            fused(&reordered(&export, &base), &cos),
            fused(&export, &cos)
        );
        // the monitor of neurongroup_1 (it records v) between its state update and threshold
        let mut order = base.to_vec();
        order.swap(1, 5);
        order.swap(2, 5);
        assert_eq!(order[1], "spikemonitor_1_codeobject");
        assert_eq!(
            fused(&reordered(&export, &order), &cos),
            vec![names("neurongroup", true)]
        );
        // the monitor of neurongroup (it reads only the event space and i) between the state
        // updates and the thresholds: both state updates still move down past it
        let mut order = base.to_vec();
        order.retain(|n| *n != "spikemonitor_codeobject");
        order.insert(2, "spikemonitor_codeobject");
        assert_eq!(
            fused(&reordered(&export, &order), &cos),
            fused(&export, &cos)
        );
        // a reset before its threshold (another schedule) is not one to fuse
        let mut order = base.to_vec();
        order.retain(|n| *n != "neurongroup_spike_resetter_codeobject");
        order.insert(0, "neurongroup_spike_resetter_codeobject");
        assert_eq!(
            fused(&reordered(&export, &order), &cos),
            vec![names("neurongroup_1", false), names("neurongroup", false)]
        );
        // a state update after its threshold: no fusion for that group
        let mut order = base.to_vec();
        order.retain(|n| *n != "neurongroup_stateupdater_codeobject");
        order.push("neurongroup_stateupdater_codeobject");
        assert_eq!(
            fused(&reordered(&export, &order), &cos),
            vec![names("neurongroup_1", false)]
        );
    }
}

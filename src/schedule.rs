//! Schedule: the order of code objects in each network run, as Brian sorts them.
//!
//! In: the export's `run_network` entries and code objects. Out: one
//! [`RunSchedule`] per run: its clocks and its objects ordered by Brian's
//! key `(when, order, name)` through a petgraph graph (edges from each
//! object to the next one of the same slot order), checked against the order
//! Brian emitted. A mismatch is an export error: the device and Brian
//! disagree on what runs when.

use petgraph::algo::toposort;
use petgraph::graph::DiGraph;
use serde::Serialize;

use crate::diag::{Error, Result};
use crate::export::{Export, QueueEntry};

/// Brian's default schedule slots, with their `before_`/`after_` variants.
const SLOTS: &[&str] = &["start", "groups", "thresholds", "synapses", "resets", "end"];

/// The position of a `when` value in Brian's default schedule.
pub fn when_index(when: &str) -> Option<usize> {
    when_index_in(SLOTS, when)
}

/// The position of a `when` value in the schedule `slots` (a network's `schedule`).
pub fn when_index_in<S: AsRef<str>>(slots: &[S], when: &str) -> Option<usize> {
    slots
        .iter()
        .map(AsRef::as_ref)
        .enumerate()
        .find_map(|(i, slot)| {
            if when == slot {
                Some(3 * i + 1)
            } else if when.strip_prefix("before_") == Some(slot) {
                Some(3 * i)
            } else if when.strip_prefix("after_") == Some(slot) {
                Some(3 * i + 2)
            } else {
                None
            }
        })
}

/// One run's schedule.
#[derive(Debug, Clone, Serialize)]
pub struct RunSchedule {
    pub network: String,
    pub duration: f64,
    pub clocks: Vec<String>,
    /// (clock, code object, when, order) in execution order.
    pub objects: Vec<ScheduledItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScheduledItem {
    pub clock: String,
    pub code_object: Option<String>,
    pub when: Option<String>,
    pub order: Option<i64>,
}

/// The schedules of every `run()` in the main queue.
pub fn build(export: &Export) -> Result<Vec<RunSchedule>> {
    let mut out = Vec::new();
    for entry in &export.main_queue {
        let QueueEntry::RunNetwork(run) = entry else {
            continue;
        };
        let items: Vec<ScheduledItem> = run
            .objects
            .iter()
            .map(|o| {
                let co = o.code_object.as_deref().and_then(|n| export.code_object(n));
                ScheduledItem {
                    clock: o.clock.clone(),
                    code_object: o.code_object.clone(),
                    when: co.and_then(|c| c.when.clone()),
                    order: co.and_then(|c| c.order),
                }
            })
            .collect();
        let mut graph = DiGraph::<usize, ()>::new();
        let nodes: Vec<_> = (0..items.len()).map(|i| graph.add_node(i)).collect();
        let slots: Vec<&str> = match &run.schedule {
            Some(s) => s.iter().map(String::as_str).collect(),
            None => SLOTS.to_vec(),
        };
        let key = |i: &ScheduledItem| {
            (
                i.when.as_deref().and_then(|w| when_index_in(&slots, w)),
                i.order,
            )
        };
        for a in 0..items.len() {
            for b in 0..items.len() {
                let (ka, kb) = (key(&items[a]), key(&items[b]));
                if ka.0.is_some() && kb.0.is_some() && ka < kb {
                    graph.add_edge(nodes[a], nodes[b], ());
                }
            }
        }
        toposort(&graph, None)
            .map_err(|_| Error::export(format!("network '{}': cyclic schedule", run.network)))?;
        // Brian's emitted order must respect every (when, order) constraint.
        for edge in graph.edge_indices() {
            if let Some((a, b)) = graph.edge_endpoints(edge) {
                if graph[a] > graph[b] {
                    return Err(Error::export(format!(
                        "network '{}': code object '{}' is scheduled after '{}' against Brian's (when, order)",
                        run.network,
                        items[graph[a]].code_object.as_deref().unwrap_or("?"),
                        items[graph[b]].code_object.as_deref().unwrap_or("?"),
                    )));
                }
            }
        }
        let mut clocks: Vec<String> = items.iter().map(|i| i.clock.clone()).collect();
        clocks.sort();
        clocks.dedup();
        out.push(RunSchedule {
            network: run.network.clone(),
            duration: run.duration,
            clocks,
            objects: items,
        });
    }
    Ok(out)
}

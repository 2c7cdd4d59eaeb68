//! A live session's state carried into a rebuilt program.
//!
//! In: the [`Executor`] of the program so far, when objects or code added
//! since (a new `connect()`, a monitor, a string-expression write) make a new
//! plan and program. Out: the same state in the [`Executor`] of the new
//! program: every Brian array (recorded monitor data included) and every
//! pathway's spike queue, matched by name (buffer numbers change between
//! plans), the networks' times, the random-number state, the stored states
//! of `store()` and the last run's timing.
//!
//! Monitors are drained at the end of every run and the per-run tables
//! (summed-variable CSR, grouped delivery, graph state) are made at the start
//! of each run, so nothing else lives between runs.

use std::collections::{BTreeMap, HashMap};

use super::snapshot::Snapshot;
use super::Executor;
use crate::diag::{Error, Result};
use crate::plan::{BufferId, BufferRole, Plan};

/// What a live session keeps across a rebuild.
pub struct Carried {
    /// (buffer name, elements, bytes; recorded arrays have no element count)
    buffers: Vec<(String, u64, Vec<u8>)>,
    seed: u64,
    unseeded: u64,
    stream: u64,
    network_t: BTreeMap<String, f64>,
    last_run: (f64, f64),
    profile: Option<Vec<(String, f64)>>,
    /// stored states, their buffers by name
    snapshots: Vec<((String, String), Snapshot, Vec<String>)>,
}

/// The buffers that hold state between runs: Brian's arrays and the pathways' queues.
fn carried_buffers(plan: &Plan) -> Vec<BufferId> {
    let mut bufs: Vec<BufferId> = plan
        .buffer_ids()
        .filter(|(_, b)| matches!(b.role, BufferRole::Array | BufferRole::Recorded))
        .map(|(id, _)| id)
        .collect();
    for p in plan.pathways.values() {
        bufs.extend(p.queue_buffers());
    }
    bufs.sort_unstable();
    bufs.dedup();
    bufs
}

impl Executor<'_> {
    /// Takes the state out of this executor (which the new program's replaces).
    pub fn carry(&mut self) -> Result<Carried> {
        let plan = std::sync::Arc::clone(&self.plan);
        let mut buffers = Vec::new();
        for buf in carried_buffers(&plan) {
            let name = plan.buffers[buf].name.clone();
            if plan.buffers[buf].role == BufferRole::Recorded {
                // (moved, not copied: the old executor is dropped after this)
                buffers.push((name, 0, self.recorded.remove(&buf).unwrap_or_default()));
            } else {
                let (len, bytes) = self.save_buffer(buf)?;
                buffers.push((name, len, bytes));
            }
        }
        let names: Vec<String> = plan.buffers.iter().map(|b| b.name.clone()).collect();
        let snapshots = std::mem::take(&mut self.snapshots)
            .into_iter()
            .map(|(key, snap)| (key, snap, names.clone()))
            .collect();
        Ok(Carried {
            buffers,
            seed: self.seed,
            unseeded: self.unseeded,
            stream: self.stream,
            network_t: std::mem::take(&mut self.network_t),
            last_run: self.last_run,
            profile: self.profile.take(),
            snapshots,
        })
    }

    /// Puts carried state into this (new, just initialised) executor.
    pub fn restore_carried(&mut self, carried: Carried) -> Result<()> {
        let plan = std::sync::Arc::clone(&self.plan);
        let by_name: HashMap<&str, BufferId> = plan
            .buffer_ids()
            .map(|(id, b)| (b.name.as_str(), id))
            .collect();
        for (name, len, bytes) in carried.buffers {
            let Some(&buf) = by_name.get(name.as_str()) else {
                return Err(Error::internal(format!(
                    "the rebuilt program has no buffer '{name}'"
                )));
            };
            let recorded = plan.buffers[buf].role == BufferRole::Recorded;
            if !recorded && bytes.len() != len as usize * self.dtype(buf).size() {
                return Err(Error::internal(format!(
                    "the buffer '{name}' changed its type in the rebuilt program"
                )));
            }
            self.load_buffer(buf, len, bytes)?;
        }
        for (key, snap, names) in carried.snapshots {
            let renumbered = snap
                .renumber(|old| {
                    names
                        .get(old.0)
                        .and_then(|n| by_name.get(n.as_str()).copied())
                })
                .ok_or_else(|| {
                    Error::internal(format!(
                        "the stored state '{}' names a buffer the rebuilt program lacks",
                        key.1
                    ))
                })?;
            self.snapshots.insert(key, renumbered);
        }
        self.seed = carried.seed;
        self.unseeded = carried.unseeded;
        self.stream = carried.stream;
        self.network_t = carried.network_t;
        self.last_run = carried.last_run;
        self.profile = carried.profile;
        self.scalar_cache.clear();
        Ok(())
    }
}

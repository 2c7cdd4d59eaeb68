//! The kernels of one code object, per Brian template: which phases it
//! runs (main, before and after a run, a count pass, the spatial solver's
//! steps), each kernel's launch shape and element count, and the buffers
//! the template needs beyond its arrays (sync words, chunk status, a
//! connect()'s tables, a pathway's queue, a summed variable's CSR).
//!
//! In: a lowered [`CodeObject`] and the plan so far. Out: its
//! [`CodeObjectPlan`], its kernels pushed onto the plan.

use super::*;

/// Adds one of Brisk's own buffers (zero-filled at allocation).
pub(super) fn add_internal(plan: &mut Plan, name: String, dtype: Dtype, len: u64) -> usize {
    plan.buffers.push(Buffer {
        name,
        dtype,
        len,
        role: BufferRole::Internal,
    });
    plan.buffers.len() - 1
}

/// Templates whose main kernel is a grid over independent elements.
pub(super) fn is_elementwise(template: &Template) -> bool {
    matches!(
        template,
        Template::Stateupdate
            | Template::GroupVariableSet
            | Template::GroupVariableSetConditional
            | Template::Reset
            | Template::Spatialstateupdate
    )
}

/// The value of an integer constant of a code object.
pub fn constant_u64(co: &CodeObject, name: &str) -> Result<u64> {
    match co.symbols.get(name) {
        Some(Symbol::Constant { value, .. }) => Ok(value.as_f64().max(0.0) as u64),
        _ => Err(Error::internal(format!(
            "the {} template needs a constant '{name}'",
            co.template.name()
        ))
        .in_object(&co.owner, &co.name)),
    }
}

/// The element count of a group-like code object: the `N` constant or scalar array.
pub fn group_size(plan: &Plan, co: &CodeObject) -> Result<LoopSize> {
    size_of(plan, co, "N")
}

/// The value of an integer constant, or of a scalar integer array, as a loop size.
pub fn size_of(plan: &Plan, co: &CodeObject, name: &str) -> Result<LoopSize> {
    match co.symbols.get(name) {
        Some(Symbol::Constant { value, .. }) => Ok(LoopSize::Fixed(value.as_f64().max(0.0) as u64)),
        Some(Symbol::Array { array, .. }) => {
            let buf = plan
                .buffer_of(array)
                .ok_or_else(|| Error::internal(format!("array '{array}' is not in the export")))?;
            Ok(LoopSize::BufferValue(buf))
        }
        _ => Err(Error::internal(format!(
            "the {} template needs '{name}'",
            co.template.name()
        ))
        .in_object(&co.owner, &co.name)),
    }
}

/// The elements of `co`'s event space (its `eventspace`, or a spike
/// generator's `_spikespace`), without the count slot.
fn events_len(plan: &Plan, co: &CodeObject) -> Option<u64> {
    let name = match (co.eventspace(), co.symbols.get("_spikespace")) {
        (Some(name), _) => name,
        (None, Some(Symbol::Array { array, .. })) => array.as_str(),
        _ => return None,
    };
    plan.buffer_of(name)
        .map(|b| plan.buffers[b].len.saturating_sub(1))
}

pub(super) fn add_kernels(
    export: &Export,
    plan: &mut Plan,
    co: &CodeObject,
) -> Result<CodeObjectPlan> {
    let mut entry = CodeObjectPlan {
        events: events_len(plan, co),
        main: None,
        before_run: None,
        after_run: None,
        count: None,
        clock: co.clock.clone(),
        prepares: None,
        sync: None,
        chunk_status: None,
        delivery: None,
        walk: None,
    };
    let scalar_writes = co.blocks.iter().any(|b| !b.scalar_info.write.is_empty());
    let scalar_stores_last = scalar_writes && is_elementwise(&co.template);
    let push = |plan: &mut Plan, phase: Phase, launch: Launch, size: LoopSize| -> usize {
        let suffix = match phase {
            Phase::Main => "",
            Phase::Count => "_count",
            Phase::BeforeRun => "_before_run",
            Phase::AfterRun => "_after_run",
            Phase::Sections => "_sections",
            Phase::Coupling => "_coupling",
            Phase::Voltage => "_voltage",
            Phase::Tick => "_tick",
            Phase::Fused => "_fused",
            Phase::QueueWalk => "_queue_walk",
        };
        plan.kernels.push(Kernel {
            symbol: format!("brisk_{}{suffix}", co.name),
            code_object: co.name.clone(),
            owner: co.owner.clone(),
            phase,
            launch,
            size,
            rng_streams: u64::from(matches!(phase, Phase::Main | Phase::Count) && co.uses_rng()),
            then: None,
            last_block_stores: phase == Phase::Main && launch == Launch::Grid && scalar_stores_last,
        });
        plan.kernels.len() - 1
    };
    let events = entry.events;
    let eventspace_len = || -> Result<u64> {
        events.ok_or_else(|| Error::internal("missing event space").in_object(&co.owner, &co.name))
    };
    // The element-wise templates run as a grid even when their scalar code writes a
    // shared variable: every block computes the new value from the old one, and the
    // last block to finish stores it (`_loop_tail.cu`), through the sync words.
    if scalar_stores_last {
        entry.sync = Some(add_internal(
            plan,
            format!("_sync_{}", co.name),
            Dtype::Uint32,
            SYNC_LEN,
        ));
    }
    match &co.template {
        Template::Stateupdate | Template::GroupVariableSetConditional => {
            let size = group_size(plan, co)?;
            entry.main = Some(push(plan, Phase::Main, Launch::Grid, size));
        }
        Template::GroupVariableSet => {
            let buf = match co.symbols.get("_group_idx") {
                Some(Symbol::Array { array, .. }) => plan.buffer_of(array),
                _ => None,
            }
            .ok_or_else(|| {
                Error::internal("group_variable_set needs '_group_idx'")
                    .in_object(&co.owner, &co.name)
            })?;
            entry.main = Some(push(
                plan,
                Phase::Main,
                Launch::Grid,
                LoopSize::BufferLen(buf),
            ));
        }
        Template::Threshold => {
            // (a NeuronGroup's N is a constant: validation checked it)
            let n = constant_u64(co, "N")?;
            entry.sync = Some(add_internal(
                plan,
                format!("_sync_{}", co.name),
                Dtype::Uint32,
                SYNC_LEN,
            ));
            entry.chunk_status = Some(add_internal(
                plan,
                format!("_chunks_{}", co.name),
                Dtype::Uint64,
                n.div_ceil(CHUNK).max(1),
            ));
            entry.main = Some(push(plan, Phase::Main, Launch::Chunks, LoopSize::Fixed(n)));
            entry.after_run = Some(push(
                plan,
                Phase::AfterRun,
                Launch::Block,
                LoopSize::Fixed(1),
            ));
        }
        Template::Reset => {
            let n = eventspace_len()?;
            entry.main = Some(push(plan, Phase::Main, Launch::Grid, LoopSize::Fixed(n)));
        }
        Template::Spikemonitor => {
            let n = eventspace_len()?;
            entry.sync = Some(add_internal(
                plan,
                format!("_sync_{}", co.name),
                Dtype::Uint32,
                SYNC_LEN,
            ));
            entry.main = Some(push(
                plan,
                Phase::Main,
                Launch::Grid,
                LoopSize::Fixed(n.clamp(1, EVENT_THREADS)),
            ));
        }
        Template::Statemonitor => {
            let indices = match co.symbols.get("_indices") {
                Some(Symbol::Array { array, .. }) => export.array(array).map(|a| a.size.len()),
                _ => None,
            }
            .unwrap_or(0);
            entry.sync = Some(add_internal(
                plan,
                format!("_sync_{}", co.name),
                Dtype::Uint32,
                SYNC_LEN,
            ));
            entry.main = Some(push(
                plan,
                Phase::Main,
                Launch::Grid,
                LoopSize::Fixed(indices),
            ));
        }
        Template::Ratemonitor => {
            entry.main = Some(push(plan, Phase::Main, Launch::Block, LoopSize::Fixed(1)));
        }
        Template::SynapsesCreateGenerator => {
            let outer = synapses::outer_size(plan, co)?;
            entry.count = Some(push(plan, Phase::Count, Launch::Grid, outer.clone()));
            entry.main = Some(push(plan, Phase::Main, Launch::Grid, outer.clone()));
            synapses::add_connect(plan, co, Some(outer), entry.count)?;
        }
        Template::SynapsesCreateArray => {
            let sources = synapses::var_buffer(plan, co, "sources")?;
            entry.main = Some(push(
                plan,
                Phase::Main,
                Launch::Grid,
                LoopSize::BufferLen(sources),
            ));
            synapses::add_connect(plan, co, None, None)?;
        }
        Template::SynapsesPushSpikes => {
            let sources = co
                .pathway()
                .map(|p| p.spikes_stop - p.spikes_start)
                .unwrap_or(1);
            let threads = u64::try_from(sources).unwrap_or(1).clamp(1, EVENT_THREADS);
            entry.sync = Some(add_internal(
                plan,
                format!("_sync_{}", co.name),
                Dtype::Uint32,
                SYNC_LEN,
            ));
            entry.main = Some(push(
                plan,
                Phase::Main,
                Launch::Grid,
                LoopSize::Fixed(threads),
            ));
            entry.prepares = co.pathway().map(|p| p.name.clone());
        }
        Template::Synapses => {
            // Parallel delivery: a thread per synapse with atomic writes where
            // the code is race-free as atomics; else a thread per target
            // element where the writes allow it; else one thread.
            let (delivery, launch, size) = match crate::analysis::atomic_updates(co) {
                Some(atomic) => (
                    Delivery::Atomic(atomic),
                    Launch::Grid,
                    LoopSize::Fixed(synapses::delivery_threads(co)),
                ),
                None => match synapses::add_by_target(plan, co)? {
                    Some(groups) => (Delivery::ByTarget, Launch::Grid, LoopSize::Fixed(groups)),
                    None => (Delivery::Serial, Launch::Block, LoopSize::Fixed(1)),
                },
            };
            entry.delivery = Some(delivery);
            entry.main = Some(push(plan, Phase::Main, launch, size.clone()));
            let profiled = export
                .main_queue
                .iter()
                .any(|e| matches!(e, QueueEntry::RunNetwork(r) if r.profile));
            if profiled {
                entry.walk = Some(push(plan, Phase::QueueWalk, launch, size));
            }
        }
        Template::Spikegenerator => {
            entry.main = Some(push(plan, Phase::Main, Launch::Block, LoopSize::Fixed(1)));
        }
        Template::SummedVariable => {
            // CUDA: a thread per target element (the C++ target loops over the synapses).
            let summed = synapses::add_summed(plan, co)?;
            entry.main = Some(push(plan, Phase::Main, Launch::Grid, summed.size.clone()));
            plan.summed.insert(co.name.clone(), summed);
        }
        Template::Spatialstateupdate => {
            let sp = spatial::add(plan, co)?;
            let (n, sections) = (sp.compartments, sp.sections);
            plan.spatial.insert(co.name.clone(), sp);
            entry.before_run = Some(push(
                plan,
                Phase::BeforeRun,
                Launch::Block,
                LoopSize::Fixed(1),
            ));
            let main = push(plan, Phase::Main, Launch::Grid, LoopSize::Fixed(n));
            let steps = push(
                plan,
                Phase::Sections,
                Launch::Grid,
                LoopSize::Fixed(sections),
            );
            let coupling = push(plan, Phase::Coupling, Launch::Block, LoopSize::Fixed(1));
            let voltage = push(plan, Phase::Voltage, Launch::Grid, LoopSize::Fixed(n));
            plan.kernels[main].then = Some(steps);
            plan.kernels[steps].then = Some(coupling);
            plan.kernels[coupling].then = Some(voltage);
            entry.main = Some(main);
        }
        other => {
            return Err(other
                .unsupported(&co.owner_class, &co.owner)
                .in_object(&co.owner, &co.name))
        }
    }
    Ok(entry)
}

//! Planning: the [`Plan`] of an export, decided once for both targets.
//!
//! In: the [`Export`] and the lowered [`CodeObject`]s. Out: the [`Plan`]
//! (`crate::plan` says what it holds): one buffer per Brian array, then per
//! code object its monitor recorder, TimedArray values and its template's
//! own buffers, the staging sizes of every recorder, each code object's
//! kernels (asked of its Brian template: [`crate::templates`]), the fused
//! kernels and the step tick.

use std::collections::BTreeMap;

use crate::diag::{Error, Result};
use crate::dtype::Dtype;
use crate::export::Export;
use crate::ir::{CodeObject, Function, Symbol, Template};
use crate::plan::{
    add_internal, constant_u64, fusion, Buffer, BufferId, BufferRole, Kernel, KernelBuilder,
    KernelId, Launch, LoopSize, Phase, Plan, RecordStream, Recorder, SpikeBits, Split, StepClock,
    StepPlan,
};
use crate::templates;

/// Bytes of staging memory a plan aims for, over all monitors (per half).
const STAGING_BUDGET_BYTES: u64 = 64 << 20;
/// Most network steps between two drains.
const MAX_BLOCK_ITERATIONS: u64 = 4096;

/// Builds the plan.
pub fn build(export: &Export, code_objects: &[CodeObject]) -> Result<Plan> {
    let mut plan = Plan {
        buffers: Vec::new(),
        array_buffers: BTreeMap::new(),
        kernels: Vec::new(),
        code_objects: BTreeMap::new(),
        recorders: Vec::new(),
        block_iterations: 1,
        mirrored_clocks: Vec::new(),
        connects: BTreeMap::new(),
        pathways: BTreeMap::new(),
        spatial: BTreeMap::new(),
        summed: BTreeMap::new(),
        step: StepPlan {
            state: BufferId(0),
            clocks: Vec::new(),
            tick: KernelId(0),
        },
        fusions: Vec::new(),
    };
    for array in &export.arrays {
        plan.array_buffers
            .insert(array.name.clone(), plan.next_buffer());
        plan.buffers.push(Buffer {
            name: array.name.clone(),
            dtype: array.dtype,
            len: array.size.len(),
            role: BufferRole::Array,
        });
    }
    // event spaces a threshold fills: ascending, as spike bits record them
    let thresholded: std::collections::BTreeSet<&str> = code_objects
        .iter()
        .filter(|c| c.template == Template::Threshold)
        .filter_map(|c| c.eventspace())
        .collect();
    for co in code_objects {
        add_recorder(export, &mut plan, co, &thresholded)?;
        add_static_buffers(export, &mut plan, co)?;
        templates::of(&co.template).buffers(&mut plan, co)?;
        for symbol in co.symbols.values() {
            let Symbol::Array { array, .. } = symbol else {
                continue;
            };
            if let Some(clock) = export
                .clocks
                .iter()
                .find(|c| c.t_array == *array || c.timestep_array == *array)
            {
                if !plan.mirrored_clocks.contains(&clock.name) {
                    plan.mirrored_clocks.push(clock.name.clone());
                }
            }
        }
    }
    plan.mirrored_clocks.sort();
    let bytes_per_step: u64 = plan
        .recorders
        .iter()
        .map(|r| match &r.bits {
            Some(b) => b.words_per_slot * 4 + 8,
            None => r
                .streams
                .iter()
                .map(|s| r.records_per_step * s.width * plan.buffers[s.array].dtype.size() as u64)
                .sum(),
        })
        .sum();
    plan.block_iterations = if bytes_per_step == 0 {
        MAX_BLOCK_ITERATIONS
    } else {
        (STAGING_BUDGET_BYTES / bytes_per_step).clamp(1, MAX_BLOCK_ITERATIONS)
    };
    // two halves per staging buffer: one recording, one being drained
    let mut lens = Vec::new();
    for r in &plan.recorders {
        match &r.bits {
            Some(b) => {
                lens.push((b.words, 2 * plan.staging_half(r, b.words_per_slot)));
                lens.push((b.times, 2 * plan.staging_half(r, 1)));
            }
            None => lens.extend(
                r.streams
                    .iter()
                    .map(|s| (s.staging, 2 * plan.staging_half(r, s.width))),
            ),
        }
    }
    for (buf, len) in lens {
        plan.buffers[buf].len = len;
    }
    for co in code_objects {
        let template = templates::of(&co.template);
        let mut kernels = KernelBuilder::new(
            export,
            &mut plan,
            co,
            template.elementwise(),
            template.splits(co),
        );
        template.kernels(&mut kernels)?;
        let entry = kernels.finish();
        plan.code_objects.insert(co.name.clone(), entry);
    }
    for parts in fusion::find(export, code_objects) {
        add_fusion(&mut plan, code_objects, parts)?;
    }
    add_step(export, &mut plan)?;
    Ok(plan)
}

/// The fused kernel of a state update, a threshold and a reset ([`fusion`]):
/// the threshold's launch (CUDA: a block per chunk, its sync and look-back
/// words; C++: the threshold's split, where every part allows it).
fn add_fusion(plan: &mut Plan, code_objects: &[CodeObject], parts: fusion::Parts) -> Result<()> {
    let co = |name: &str| {
        code_objects
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| Error::internal(format!("fusion of unknown '{name}'")))
    };
    let th = co(&parts.threshold)?;
    let rng = |name: Option<&str>| -> Result<u64> {
        Ok(match name {
            Some(n) => u64::from(co(n)?.uses_rng()),
            None => 0,
        })
    };
    let (su_rng, th_rng, reset_rng) = (
        rng(Some(&parts.stateupdate))?,
        rng(Some(&parts.threshold))?,
        rng(parts.reset.as_deref())?,
    );
    let (su, th_kernel) = (
        plan.main_kernel(&parts.stateupdate)?,
        plan.main_kernel(&parts.threshold)?,
    );
    // The C++ target splits the fused kernel as it splits the threshold when every
    // part's elements are independent: the state update's (`Split::Elements`), the
    // threshold's (`Split::Events`) and the reset's (it writes its own elements only and
    // its scalar code writes nothing, so each chunk resets its own events).
    let reset_own = match parts.reset.as_deref() {
        Some(r) => {
            let r = co(r)?;
            templates::writes_own_elements(r) && !r.scalar_writes()
        }
        None => true,
    };
    let split = match th_kernel.split {
        Split::Events { events } if su.split == Split::Elements && reset_own => {
            Split::Events { events }
        }
        _ => Split::Whole,
    };
    // one element's work: its base unit once, each part's costly calls (`element_weight`)
    let weight = (su.weight + th_kernel.weight).saturating_sub(1).max(1);
    plan.kernels.push(Kernel {
        symbol: format!("brisk_{}_fused", th.name),
        code_object: th.name.clone(),
        owner: th.owner.clone(),
        phase: Phase::Fused,
        launch: Launch::Chunks,
        size: LoopSize::Fixed(constant_u64(th, "N")?),
        rng_streams: su_rng + th_rng + reset_rng,
        then: None,
        last_block_stores: false,
        split,
        weight,
    });
    plan.fusions.push(fusion::Fusion {
        kernel: KernelId(plan.kernels.len() - 1),
        stateupdate: parts.stateupdate,
        threshold: parts.threshold,
        reset: parts.reset,
        streams: [0, su_rng, su_rng + th_rng],
    });
    Ok(())
}

fn add_recorder(
    export: &Export,
    plan: &mut Plan,
    co: &CodeObject,
    thresholded: &std::collections::BTreeSet<&str>,
) -> Result<()> {
    let Some((per_step, arrays)) = templates::of(&co.template).recorded(export, co)? else {
        return Ok(());
    };
    let bits = crate::analysis::spike_bits(co)
        .filter(|_| co.eventspace().is_some_and(|e| thresholded.contains(e)));
    if let Some(existing) = plan.recorders.iter().position(|r| r.owner == co.owner) {
        // A later run's code object of the same monitor records into the same arrays
        // (as records, unless every one of them can record bits).
        let r = &mut plan.recorders[existing];
        r.records_per_step = r.records_per_step.max(per_step);
        if bits.is_none() {
            r.bits = None;
        }
        return Ok(());
    }
    let fill = plan.next_buffer();
    plan.buffers.push(Buffer {
        name: format!("_fill_{}", co.owner),
        dtype: Dtype::Int64,
        len: 2,
        role: BufferRole::Fill,
    });
    let mut streams = Vec::new();
    for (name, width) in arrays {
        let array = plan.buffer_of(&name).ok_or_else(|| {
            Error::internal(format!("monitor array '{name}' is not in the export"))
        })?;
        plan.buffers[array].role = BufferRole::Recorded;
        let staging = plan.next_buffer();
        let dtype = plan.buffers[array].dtype;
        plan.buffers.push(Buffer {
            name: format!("_stage{name}"),
            dtype,
            len: 0,
            role: BufferRole::Staging { array },
        });
        streams.push(RecordStream {
            array,
            staging,
            width,
        });
    }
    let bits = match bits {
        Some(source) => {
            let stream_of = |var: &str| -> Result<BufferId> {
                let array = match co.symbols.get(var) {
                    Some(Symbol::Array { array, .. }) => plan.buffer_of(array),
                    _ => None,
                };
                array.ok_or_else(|| {
                    Error::internal(format!("spike bits: no recorded array '{var}'"))
                        .in_object(&co.owner, &co.name)
                })
            };
            let index_values = plan.buffer_of(&source.index_array).ok_or_else(|| {
                Error::internal(format!("spike bits: no array '{}'", source.index_array))
            })?;
            let (start, stop) = (
                constant_u64(co, "_source_start")?,
                constant_u64(co, "_source_stop")?,
            );
            let (index_array, time_array) =
                (stream_of(&source.index_var)?, stream_of(&source.time_var)?);
            let words = add_internal(plan, format!("_bits_{}", co.owner), Dtype::Uint32, 0);
            let times = add_internal(plan, format!("_bits_t_{}", co.owner), Dtype::Float64, 0);
            Some(SpikeBits {
                words,
                words_per_slot: stop.saturating_sub(start).div_ceil(32),
                times,
                source_start: start,
                source_stop: stop,
                index_values,
                index_array,
                time_array,
            })
        }
        None => None,
    };
    plan.recorders.push(Recorder {
        owner: co.owner.clone(),
        fill,
        streams,
        records_per_step: per_step,
        bits,
    });
    Ok(())
}

/// A buffer for the values of every TimedArray the code object reads.
fn add_static_buffers(export: &Export, plan: &mut Plan, co: &CodeObject) -> Result<()> {
    for symbol in co.symbols.values() {
        let Symbol::Function(Function::TimedArray { values, .. }) = symbol else {
            continue;
        };
        if plan.array_buffers.contains_key(values) {
            continue;
        }
        let decl = export.static_arrays.get(values).ok_or_else(|| {
            Error::internal(format!(
                "TimedArray values '{values}' are not in the export"
            ))
        })?;
        plan.array_buffers
            .insert(values.clone(), plan.next_buffer());
        plan.buffers.push(Buffer {
            name: values.clone(),
            dtype: Dtype::Float64,
            len: decl.size,
            role: BufferRole::Static,
        });
    }
    Ok(())
}

/// The step state and the tick kernel (`StepPlan`).
fn add_step(export: &Export, plan: &mut Plan) -> Result<()> {
    let mut clocks = Vec::new();
    for c in &export.clocks {
        let buf = |name: &str| {
            plan.buffer_of(name).ok_or_else(|| {
                Error::internal(format!("clock array '{name}' is not in the export"))
            })
        };
        clocks.push(StepClock {
            name: c.name.clone(),
            t: buf(&c.t_array)?,
            timestep: buf(&c.timestep_array)?,
            event: c.times_array.is_some(),
        });
    }
    let state = add_internal(
        plan,
        "_step_state".to_string(),
        Dtype::Uint64,
        1 + 2 * clocks.len() as u64,
    );
    plan.kernels.push(Kernel {
        symbol: "brisk_step_tick".to_string(),
        code_object: String::new(),
        owner: String::new(),
        phase: Phase::Tick,
        launch: Launch::Block,
        size: LoopSize::Fixed(1),
        rng_streams: 0,
        then: None,
        last_block_stores: false,
        split: Split::Whole,
        weight: 1,
    });
    plan.step = StepPlan {
        state,
        clocks,
        tick: KernelId(plan.kernels.len() - 1),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spike_monitors_of_i_and_t_record_bits_in_two_halves() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/exports/threshold_reset/export");
        let export = crate::validate::read(&dir).expect("fixture export");
        let code_objects = crate::lower::lower_all(&export).expect("lowered");
        let plan = build(&export, &code_objects).expect("plan");
        let rec = |owner: &str| {
            plan.recorders
                .iter()
                .find(|r| r.owner == owner)
                .expect("recorder")
        };
        // i and t only: bits, one word for the 5 neurons, and their slot times
        let bits = rec("spikemonitor").bits.as_ref().expect("spike bits");
        assert_eq!(
            (bits.words_per_slot, bits.source_start, bits.source_stop),
            (1, 0, 5)
        );
        assert_eq!(plan.buffers[bits.words].len, 2 * plan.block_iterations);
        assert_eq!(plan.buffers[bits.times].len, 2 * plan.block_iterations);
        assert!(rec("spikemonitor")
            .streams
            .iter()
            .all(|s| plan.buffers[s.staging].len == 0));
        // recording v and c too: records, room for every neuron in every step, in two halves
        let records = rec("spikemonitor_1");
        assert!(records.bits.is_none());
        for s in &records.streams {
            assert_eq!(
                plan.buffers[s.staging].len,
                2 * plan.block_iterations * records.records_per_step
            );
        }
        assert_eq!(plan.buffers[records.fill].len, 2);
    }
}

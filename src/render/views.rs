//! Template views: the pre-rendered pieces each askama template places.
//!
//! In: a plan kernel and its code object. Out: the [`KernelView`] every
//! kernel template reads: pointer and constant declarations, scalar and
//! vector code, random-number lines, event space and sync words; the parts
//! particular to one Brian template (a monitor's staging pointers, a
//! pathway's queue, a connect()'s keywords, a SpatialNeuron's arrays) are
//! filled by that template's file in [`crate::templates`]. Also the step
//! tick, which belongs to no code object.

use askama::Template;

use crate::diag::{Error, Result};
use crate::ir::{Block, ClockField, CodeObject, Symbol};
use crate::plan::Target;
use crate::plan::{BufferId, Kernel, LoopSize, Plan, Split};
use crate::render::body::{buffer_pointer, pointer_name, render_part};
use crate::render::functions::{self, RngLines};

/// Brisk's support code (types, Brian's arithmetic, Philox, the ziggurat
/// normal sampler and its tables), inlined into every program.
pub const SUPPORT_HEADER: &str = concat!(
    include_str!("../../templates/common/support.h"),
    include_str!("../../templates/common/vector_exp.h"),
    include_str!("../../templates/common/ziggurat.h"),
    include_str!("../../templates/common/normal.h"),
);

/// One recorded value: staging pointer, the local holding it, elements per record.
#[derive(Debug, Clone)]
pub struct Record {
    pub staging: String,
    pub local: String,
    pub width: u64,
}

/// Everything a kernel template needs.
#[derive(Debug, Clone, Default)]
pub struct KernelView {
    pub symbol: String,
    pub prologue: String,
    /// Scalar statements (and, for group_variable_set_conditional, the condition's).
    pub scalar_code: String,
    /// Stores of scalar arrays written by the scalar statements.
    pub scalar_stores: String,
    /// `_loop_tail.cu`: the scalar stores are made by the last block of a grid.
    pub stores_last: bool,
    pub vector_code: String,
    /// group_variable_set_conditional: the `condition` block's vector code.
    pub condition_code: String,
    pub rng_scalar: String,
    pub rng_vector: String,
    /// C++ element loops over the whole group (stateupdate, threshold): the
    /// block of draw-0 words computed ahead (`BriskRngBlocks`), its refill
    /// every `BRISK_AHEAD` elements and the generator taken from it. The
    /// numbers are `rng_vector`'s; only the loop shape differs.
    pub rng_blocks: String,
    pub rng_vector_ahead: String,
    /// The same in two parts, for loops over blocks of `BRISK_AHEAD` elements
    /// from `_base`: the fill before a block, an element's generator in it.
    pub rng_fill: String,
    pub rng_from_blocks: String,
    /// Event space pointer (threshold, reset, spikemonitor, ratemonitor).
    pub events: String,
    /// Size of the source group (event space length - 1).
    pub num_source: u64,
    pub uses_refractory: bool,
    pub not_refractory: String,
    pub lastspike: String,
    /// group_variable_set: pointer to `_group_idx`.
    pub group_idx: String,
    /// CUDA multi-block kernels: the uint32 coordination words (`plan::SYNC_LEN`) and,
    /// for the threshold, the per-chunk look-back words.
    pub sync: String,
    pub chunk_status: String,
    pub records: Vec<Record>,
    /// spikemonitor recording bits (`plan::SpikeBits`): the slot words, the slot times
    /// and the words per slot.
    pub spike_bits: bool,
    pub bits_words: String,
    pub bits_times: String,
    pub bits_per_slot: u64,
    /// Staging pointer for the time of a statemonitor/ratemonitor record.
    pub t_staging: String,
    pub rate_staging: String,
    pub fill: String,
    pub count: String,
    pub n_array: String,
    pub source_start: u64,
    pub source_stop: u64,
    pub indices: String,
    pub num_indices: u64,
    pub num_source_neurons: u64,
    /// The kernel's element count as a C expression.
    pub size_expr: String,
    /// Synapses templates (connect, push, delivery, summed variables).
    pub syn: SynView,
    /// `synapses` on the C++ target: each call applies the synapses whose
    /// owner lies in `lo..hi` only (`plan::Split::Synapses`, `Split::Targets`).
    pub split_synapses: bool,
    /// C++ `threshold_fused.cpp`: the threshold's loop calls the fused state
    /// update before each block (`fused`) and the fused reset for each event
    /// (`fused_reset`), both defined by that template (`codegen::fused`).
    pub fused: bool,
    pub fused_reset: bool,
    /// The C++ element loop's iterations touch only their own element
    /// (`plan::Split::Elements`): it is marked `#pragma GCC ivdep`, so that a
    /// loop over many arrays vectorises without run-time alias checks.
    pub independent: bool,
    /// spikegenerator.
    pub sg: SpikeGeneratorView,
    /// spatialstateupdate.
    pub sp: SpatialView,
}

/// The arrays and sizes of a SpatialNeuron's cable solve (`plan::spatial`).
#[derive(Debug, Clone, Default)]
pub struct SpatialView {
    /// Which kernel: `before_run`, `compartments`, `sections`, `coupling`, `voltage`.
    pub step: String,
    pub n: u64,
    pub sections: u64,
    /// Columns of the child table.
    pub row: u64,
    pub section_of: String,
    pub v: String,
    pub cm: String,
    pub ic: String,
    pub ri: String,
    pub area: String,
    pub r_length_1: String,
    pub r_length_2: String,
    pub invr: String,
    pub invr0: String,
    pub invrn: String,
    pub ab0: String,
    pub ab1: String,
    pub ab2: String,
    pub b_plus: String,
    pub b_minus: String,
    pub v_star: String,
    pub u_plus: String,
    pub u_minus: String,
    pub v_previous: String,
    pub gtot_all: String,
    pub i0_all: String,
    pub c: String,
    pub p_diag: String,
    pub p_parent: String,
    pub p_children: String,
    pub b: String,
    pub parent: String,
    pub starts: String,
    pub ends: String,
    pub children: String,
    pub children_num: String,
    pub idxchild: String,
}

/// The arrays of a SpikeGeneratorGroup.
#[derive(Debug, Clone, Default)]
pub struct SpikeGeneratorView {
    pub lastindex: String,
    pub timebins: String,
    pub timebins_buffer: usize,
    pub neuron_index: String,
    pub period_bins: String,
}

/// The pieces of the Synapses templates.
#[derive(Debug, Clone, Default)]
pub struct SynView {
    // connect(): buffers
    pub counts: String,
    pub error: String,
    pub synaptic_pre: String,
    pub synaptic_post: String,
    pub n_incoming: String,
    pub n_outgoing: String,
    // synapses_create_generator: Brian's template keywords and blocks
    pub count_pass: bool,
    pub pass_name: String,
    pub original: String,
    pub iterator_range: bool,
    pub sample_fixed: bool,
    pub sample_p: bool,
    pub inner: String,
    pub outer_index: String,
    pub outer_array: String,
    pub outer_offset: String,
    pub result_index: String,
    pub result_array: String,
    pub result_size: String,
    // synapses_create_array: the groups' sizes and offsets its indices must fit
    pub pre_size: String,
    pub post_size: String,
    pub source_offset: String,
    pub target_offset: String,
    pub result_offset: String,
    pub result_condition: bool,
    pub result_used: bool,
    pub if_true: bool,
    pub skip_if_invalid: bool,
    pub setup_iterator: String,
    pub generator_expr: String,
    pub create_cond: String,
    pub update: String,
    // pathways
    pub pathway: String,
    pub qstate: String,
    pub history: String,
    pub by_source_start: String,
    pub by_source: String,
    pub by_source_delay: String,
    pub by_source_delays: String,
    pub carry_start: String,
    pub carry: String,
    pub num_sources: u64,
    pub slot_len: u64,
    pub spikes_start: i64,
    pub spikes_stop: i64,
    /// The vector code with shared writes as atomic additions (parallel CUDA delivery).
    pub vector_atomic: String,
    /// The plan's `Delivery` on CUDA: `serial`, `by_target` or `atomic`.
    pub delivery: &'static str,
    /// CUDA delivery grouped by target (`plan::ByTargetPlan`): its tables, the
    /// index array of each synapse's target, and the number of targets.
    pub grouped_start: String,
    pub grouped_synapse: String,
    pub grouped_source: String,
    pub grouped_delay: String,
    pub grouped_index: String,
    pub grouped_index_name: String,
    pub groups: u64,
    /// The vector code (plain, not atomic), indented for the grouped loop.
    pub vector_grouped: String,
    // summed variables
    pub summed_target: String,
    pub summed_target_name: String,
    pub summed_type: String,
    pub summed_index: String,
    pub summed_start: i64,
    /// C expression: the end of the target range.
    pub summed_stop: String,
    /// C expression: the number of synapses (the C++ loop).
    pub summed_synapses: String,
    /// A split delivery: the pointer to each synapse's owner element
    /// (`Split::Targets`), or a null pointer (the synapse owns itself).
    pub split_owner: String,
    /// CUDA: the target range's CSR (`plan::synapses::SummedPlan`).
    pub by_target_start: String,
    pub by_target: String,
    pub by_target_start_buffer: usize,
}

/// Lines of generated code as one piece; the template indents it (`|block(n)`).
pub fn lines(lines: &[String]) -> String {
    lines.join("\n")
}

impl KernelView {
    /// The view every kernel of `co` shares, from its main and condition
    /// `blocks` (its template's [`crate::templates::BrianTemplate::blocks`]);
    /// the template's own part is added by its `view`.
    pub fn new(
        plan: &Plan,
        co: &CodeObject,
        kernel: &Kernel,
        (main_block, condition_block): (Option<&Block>, Option<&Block>),
    ) -> Result<KernelView> {
        let mut view = KernelView {
            symbol: kernel.symbol.clone(),
            ..Default::default()
        };
        view.prologue = prologue(plan, co)?;
        view.size_expr = match kernel.size {
            LoopSize::Fixed(n) => format!("{n}LL"),
            _ => "_a.n".to_string(),
        };
        let rng_line = |stream: &str| functions::rng(RngLines::Make(stream));
        if let Some(block) = main_block {
            let (scalar, stores) = render_part(co, &block.scalar, &block.scalar_info);
            let (mut vector, vstores) = render_part(co, &block.vector, &block.vector_info);
            vector.extend(vstores);
            view.scalar_code = lines(&scalar);
            view.scalar_stores = lines(&stores);
            view.vector_code = lines(&vector);
            if co.stmts_use_rng(&block.scalar) {
                view.rng_scalar = rng_line("(uint32_t)0xFFFFFFFFu")?;
            }
            if co.stmts_use_rng(&block.vector) {
                view.rng_vector = rng_line("(uint32_t)_vectorisation_idx")?;
                view.rng_blocks = functions::rng(RngLines::Blocks)?;
                // With randn(), the blocks also hold each element's first ziggurat attempt.
                let prefetch = if co.stmts_use_randn(&block.vector) {
                    "brisk_rng_prefetch_normal"
                } else {
                    "brisk_rng_prefetch"
                };
                view.rng_vector_ahead = functions::rng(RngLines::Ahead { prefetch })?;
                view.rng_fill = functions::rng(RngLines::Fill { prefetch })?;
                view.rng_from_blocks = functions::rng(RngLines::FromBlocks)?;
            }
        }
        if let Some(block) = condition_block {
            let (scalar, _) = render_part(co, &block.scalar, &block.scalar_info);
            let (vector, _) = render_part(co, &block.vector, &block.vector_info);
            view.scalar_code = format!("{}\n{}", lines(&scalar), view.scalar_code);
            view.condition_code = lines(&vector);
            if co.stmts_use_rng(&block.vector) && view.rng_vector.is_empty() {
                view.rng_vector = rng_line("(uint32_t)_vectorisation_idx")?;
            }
        }
        if let Some(events) = co.eventspace() {
            view.events = pointer_name(events);
            view.num_source = events_of(plan, co)?;
        }
        view.uses_refractory = co.uses_refractory();
        if view.uses_refractory {
            view.not_refractory = array_pointer(co, "not_refractory")?;
            view.lastspike = array_pointer(co, "lastspike")?;
        }
        view.stores_last = kernel.last_block_stores;
        view.independent = kernel.split == Split::Elements;
        if let Some(cp) = plan.code_objects.get(&co.name) {
            if let Some(b) = cp.sync {
                view.sync = buffer_pointer("unsigned int", b);
            }
            if let Some(b) = cp.chunk_status {
                view.chunk_status = buffer_pointer("unsigned long long", b);
            }
        }
        Ok(view)
    }
}

/// One declaration of a prologue: a buffer's pointer (`value`: the buffer),
/// or a constant.
struct Declaration {
    pointer: bool,
    ty: String,
    name: String,
    value: String,
}

#[derive(Template)]
#[template(path = "common/prologue.txt")]
struct Prologue {
    decls: Vec<Declaration>,
}

/// Pointer, constant and clock declarations at the top of every function
/// (`templates/common/prologue.txt`).
fn prologue(plan: &Plan, co: &CodeObject) -> Result<String> {
    let mut decls = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for symbol in co.symbols.values() {
        if let Symbol::Array { array, .. } = symbol {
            if !seen.insert(array.clone()) {
                continue;
            }
            let buf = plan.buffer_of(array).ok_or_else(|| {
                Error::internal(format!("array '{array}' is not in the export"))
                    .in_object(&co.owner, &co.name)
            })?;
            decls.push(Declaration {
                pointer: true,
                ty: plan.buffers[buf].dtype.c_type().to_string(),
                name: pointer_name(array),
                value: buf.to_string(),
            });
        }
    }
    for (name, symbol) in &co.symbols {
        let (ty, value) = match symbol {
            Symbol::Constant { dtype, value } => {
                (dtype.local_type().to_string(), value.c_literal(*dtype))
            }
            Symbol::Clock { field, .. } => {
                let (ty, value) = match field {
                    ClockField::T => ("double", "_a.t"),
                    ClockField::Dt => ("double", "_a.dt"),
                    ClockField::Timestep => ("int64_t", "_a.timestep"),
                };
                (ty.to_string(), value.to_string())
            }
            _ => continue,
        };
        decls.push(Declaration {
            pointer: false,
            ty,
            name: name.clone(),
            value,
        });
    }
    Prologue { decls }.render().map_err(|e| {
        Error::internal(format!("template error for the prologue: {e}"))
            .in_object(&co.owner, &co.name)
    })
}

pub fn staging_of(plan: &Plan, array: &str) -> Result<String> {
    let buf = plan
        .buffer_of(array)
        .ok_or_else(|| Error::internal(format!("no buffer for '{array}'")))?;
    let rec = plan
        .recorder_of_array(buf)
        .ok_or_else(|| Error::runtime(format!("array '{array}' has no recorder")))?;
    let stream = rec
        .streams
        .iter()
        .find(|s| s.array == buf)
        .ok_or_else(|| Error::runtime("recorder without stream"))?;
    Ok(staging_pointer(plan, rec, stream.staging, stream.width))
}

/// A staging buffer's current half: the buffer, offset by the half its
/// monitor's fill counter names (`plan::Recorder`) times the half's elements.
pub fn staging_pointer(
    plan: &Plan,
    rec: &crate::plan::Recorder,
    buf: BufferId,
    width: u64,
) -> String {
    let b = &plan.buffers[buf];
    format!(
        "({} + {}[1] * {}LL)",
        buffer_pointer(b.dtype.c_type(), buf),
        buffer_pointer("const int64_t", rec.fill),
        plan.staging_half(rec, width)
    )
}

pub fn fill_of(plan: &Plan, co: &CodeObject) -> Result<String> {
    let rec = plan
        .recorders
        .iter()
        .find(|r| r.owner == co.owner)
        .ok_or_else(|| Error::runtime(format!("monitor '{}' has no recorder", co.owner)))?;
    Ok(buffer_pointer("int64_t", rec.fill))
}

pub fn array_pointer(co: &CodeObject, var: &str) -> Result<String> {
    match co.symbols.get(var) {
        Some(Symbol::Array { array, .. }) => Ok(pointer_name(array)),
        _ => Err(Error::internal(format!(
            "the {} template needs array '{var}'",
            co.template.name()
        ))
        .in_object(&co.owner, &co.name)),
    }
}

pub fn array_name(co: &CodeObject, var: &str) -> Result<String> {
    match co.symbols.get(var) {
        Some(Symbol::Array { array, .. }) => Ok(array.clone()),
        _ => Err(Error::internal(format!(
            "the {} template needs array '{var}'",
            co.template.name()
        ))
        .in_object(&co.owner, &co.name)),
    }
}

/// A size as C: the constant's name, or the first element of a scalar array.
pub fn size_expr(co: &CodeObject, name: &str) -> Result<String> {
    match co.symbols.get(name) {
        Some(Symbol::Constant { .. }) => Ok(name.to_string()),
        Some(Symbol::Array { array, .. }) => Ok(format!("{}[0]", pointer_name(array))),
        _ => Err(Error::internal(format!(
            "the {} template needs the size '{name}'",
            co.template.name()
        ))
        .in_object(&co.owner, &co.name)),
    }
}

/// The elements of `co`'s event space, as the plan counted them.
pub fn events_of(plan: &Plan, co: &CodeObject) -> Result<u64> {
    plan.code_objects
        .get(&co.name)
        .and_then(|e| e.events)
        .ok_or_else(|| {
            Error::internal("the plan has no event space").in_object(&co.owner, &co.name)
        })
}

/// A clock the step tick advances.
#[derive(Debug, Clone)]
pub struct TickClock {
    pub index: usize,
    pub t: String,
    pub timestep: String,
}

#[derive(Template)]
#[template(path = "cuda/step_tick.cu")]
struct TickCuda {
    clocks: Vec<TickClock>,
}

#[derive(Template)]
#[template(path = "cpp/step_tick.cpp")]
struct TickCpp;

/// The end of a step replayed as a CUDA graph (`plan::StepPlan`); the C++
/// target replays no graphs and gets an empty function.
pub fn render_tick(plan: &Plan, target: Target) -> Result<String, askama::Error> {
    let clocks: Vec<TickClock> = plan
        .step
        .clocks
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.event)
        .map(|(index, c)| TickClock {
            index,
            t: buffer_pointer("double", c.t),
            timestep: buffer_pointer("int64_t", c.timestep),
        })
        .collect();
    match target {
        Target::Cuda => TickCuda { clocks }.render(),
        Target::Cpp => TickCpp.render(),
    }
}

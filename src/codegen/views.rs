//! Template views: the pre-rendered pieces each askama template places.
//!
//! In: a plan kernel and its code object. Out: a [`KernelView`] (pointer and
//! constant declarations, scalar/vector code, template-specific names) and
//! the rendered function text. One template file per Brian template and
//! target, all sharing this one view type.

use askama::Template;

use crate::codegen::body::{buffer_pointer, pointer_name, render_part};
use crate::codegen::filters;
use crate::codegen::functions::{self, RngLines};
use crate::codegen::Target;
use crate::diag::{Error, Result};
use crate::ir::{Block, ClockField, CodeObject, Symbol, Template as BrianTemplate};
use crate::plan::{constant_u64, Kernel, LoopSize, Phase, Plan};

/// Brisk's support code (types, Brian's arithmetic, Philox, the ziggurat
/// normal sampler and its tables), inlined into every program.
pub const SUPPORT_HEADER: &str = concat!(
    include_str!("../../templates/common/support.h"),
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

impl SpatialView {
    fn new(plan: &Plan, co: &CodeObject, kernel: &Kernel) -> Result<SpatialView> {
        let sp = plan
            .spatial
            .get(&co.name)
            .ok_or_else(|| Error::runtime(format!("no spatial plan for '{}'", co.name)))?;
        let p = |var: &str| array_pointer(co, var);
        Ok(SpatialView {
            step: match kernel.phase {
                Phase::BeforeRun => "before_run",
                Phase::Sections => "sections",
                Phase::Coupling => "coupling",
                Phase::Voltage => "voltage",
                _ => "compartments",
            }
            .to_string(),
            n: sp.compartments,
            sections: sp.sections,
            row: sp.children_row_length,
            section_of: buffer_pointer("int32_t", sp.section_of),
            v: p("v")?,
            cm: p("Cm")?,
            ic: p("Ic")?,
            ri: p("Ri")?,
            area: p("area")?,
            r_length_1: p("r_length_1")?,
            r_length_2: p("r_length_2")?,
            invr: p("_invr")?,
            invr0: p("_invr0")?,
            invrn: p("_invrn")?,
            ab0: p("_ab_star0")?,
            ab1: p("_ab_star1")?,
            ab2: p("_ab_star2")?,
            b_plus: p("_b_plus")?,
            b_minus: p("_b_minus")?,
            v_star: p("_v_star")?,
            u_plus: p("_u_plus")?,
            u_minus: p("_u_minus")?,
            v_previous: p("_v_previous")?,
            gtot_all: p("_gtot_all")?,
            i0_all: p("_I0_all")?,
            c: p("_c")?,
            p_diag: p("_P_diag")?,
            p_parent: p("_P_parent")?,
            p_children: p("_P_children")?,
            b: p("_B")?,
            parent: p("_morph_parent_i")?,
            starts: p("_starts")?,
            ends: p("_ends")?,
            children: p("_morph_children")?,
            children_num: p("_morph_children_num")?,
            idxchild: p("_morph_idxchild")?,
        })
    }
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
    /// CUDA: the target range's CSR (`plan::synapses::SummedPlan`).
    pub by_target_start: String,
    pub by_target: String,
    pub by_target_start_buffer: usize,
}

/// Lines of generated code as one piece; the template indents it (`|block(n)`).
pub(crate) fn lines(lines: &[String]) -> String {
    lines.join("\n")
}

impl KernelView {
    pub fn new(plan: &Plan, co: &CodeObject, kernel: &Kernel) -> Result<KernelView> {
        let mut view = KernelView {
            symbol: kernel.symbol.clone(),
            ..Default::default()
        };
        view.prologue = prologue(plan, co)?;
        view.size_expr = "_a.n".to_string();
        let rng_line = |stream: &str| functions::rng(RngLines::Make(stream));
        let (main_block, condition_block) = split_blocks(co);
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
        if co.template == BrianTemplate::GroupVariableSet {
            view.group_idx = array_pointer(co, "_group_idx")?;
        }
        view.stores_last = kernel.last_block_stores;
        if let Some(cp) = plan.code_objects.get(&co.name) {
            if let Some(b) = cp.sync {
                view.sync = buffer_pointer("unsigned int", b);
            }
            if let Some(b) = cp.chunk_status {
                view.chunk_status = buffer_pointer("unsigned long long", b);
            }
        }
        template_specific(plan, co, kernel, &mut view)?;
        Ok(view)
    }
}

/// Splits a code object's blocks into the main one and, for
/// group_variable_set_conditional, the `condition` block.
fn split_blocks(co: &CodeObject) -> (Option<&Block>, Option<&Block>) {
    if co.template == BrianTemplate::GroupVariableSetConditional {
        (co.block(Some("statement")), co.block(Some("condition")))
    } else if co.template == BrianTemplate::SynapsesCreateGenerator {
        (None, None)
    } else {
        (co.blocks.first(), None)
    }
}

/// Pointer, constant and clock declarations at the top of every function.
fn prologue(plan: &Plan, co: &CodeObject) -> Result<String> {
    let mut lines = Vec::new();
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
            let ty = plan.buffers[buf].dtype.c_type();
            lines.push(format!(
                "{ty}* __restrict {} = ({ty}*)_a.arrays[{buf}];",
                pointer_name(array)
            ));
        }
    }
    for (name, symbol) in &co.symbols {
        match symbol {
            Symbol::Constant { dtype, value } => {
                lines.push(format!(
                    "const {} {name} = {};",
                    dtype.local_type(),
                    value.c_literal(*dtype)
                ));
            }
            Symbol::Clock { field, .. } => {
                let (ty, value) = match field {
                    ClockField::T => ("double", "_a.t"),
                    ClockField::Dt => ("double", "_a.dt"),
                    ClockField::Timestep => ("int64_t", "_a.timestep"),
                };
                lines.push(format!("const {ty} {name} = {value};"));
            }
            _ => {}
        }
    }
    Ok(lines.join("\n"))
}

fn staging_of(plan: &Plan, array: &str) -> Result<String> {
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
fn staging_pointer(plan: &Plan, rec: &crate::plan::Recorder, buf: usize, width: u64) -> String {
    let b = &plan.buffers[buf];
    format!(
        "({} + {}[1] * {}LL)",
        buffer_pointer(b.dtype.c_type(), buf),
        buffer_pointer("const int64_t", rec.fill),
        plan.staging_half(rec, width)
    )
}

fn fill_of(plan: &Plan, co: &CodeObject) -> Result<String> {
    let rec = plan
        .recorders
        .iter()
        .find(|r| r.owner == co.owner)
        .ok_or_else(|| Error::runtime(format!("monitor '{}' has no recorder", co.owner)))?;
    Ok(buffer_pointer("int64_t", rec.fill))
}

pub(crate) fn array_pointer(co: &CodeObject, var: &str) -> Result<String> {
    match co.symbols.get(var) {
        Some(Symbol::Array { array, .. }) => Ok(pointer_name(array)),
        _ => Err(Error::internal(format!(
            "the {} template needs array '{var}'",
            co.template.name()
        ))
        .in_object(&co.owner, &co.name)),
    }
}

pub(crate) fn array_name(co: &CodeObject, var: &str) -> Result<String> {
    match co.symbols.get(var) {
        Some(Symbol::Array { array, .. }) => Ok(array.clone()),
        _ => Err(Error::internal(format!(
            "the {} template needs array '{var}'",
            co.template.name()
        ))
        .in_object(&co.owner, &co.name)),
    }
}

fn template_specific(
    plan: &Plan,
    co: &CodeObject,
    kernel: &Kernel,
    view: &mut KernelView,
) -> Result<()> {
    if let LoopSize::Fixed(n) = kernel.size {
        view.size_expr = format!("{n}LL");
    }
    match co.template {
        BrianTemplate::Spikemonitor => {
            view.fill = fill_of(plan, co)?;
            view.count = array_pointer(co, "count")?;
            view.n_array = array_pointer(co, "N")?;
            view.source_start = constant_u64(co, "_source_start")?;
            view.source_stop = constant_u64(co, "_source_stop")?;
            let rec = plan.recorders.iter().find(|r| r.owner == co.owner);
            if let Some((rec, bits)) = rec.and_then(|r| Some((r, r.bits.as_ref()?))) {
                view.spike_bits = true;
                view.bits_words = staging_pointer(plan, rec, bits.words, bits.words_per_slot);
                view.bits_times = staging_pointer(plan, rec, bits.times, 1);
                view.bits_per_slot = bits.words_per_slot;
            }
            for var in co.recorded().to_vec() {
                view.records.push(Record {
                    staging: staging_of(plan, &array_name(co, &var)?)?,
                    local: format!("_to_record_{var}"),
                    width: 1,
                });
            }
        }
        BrianTemplate::Statemonitor => {
            view.fill = fill_of(plan, co)?;
            view.n_array = array_pointer(co, "N")?;
            view.indices = array_pointer(co, "_indices")?;
            view.t_staging = staging_of(plan, &array_name(co, "t")?)?;
            view.num_indices = match kernel.size {
                LoopSize::Fixed(n) => n,
                _ => 0,
            };
            for var in co.recorded().to_vec() {
                view.records.push(Record {
                    staging: staging_of(plan, &array_name(co, &var)?)?,
                    local: format!("_to_record_{var}"),
                    width: view.num_indices,
                });
            }
        }
        BrianTemplate::Spikegenerator => {
            view.events = array_pointer(co, "_spikespace")?;
            view.num_source = events_of(plan, co)?;
            let timebins = array_name(co, "_timebins")?;
            view.sg = SpikeGeneratorView {
                lastindex: array_pointer(co, "_lastindex")?,
                timebins: array_pointer(co, "_timebins")?,
                timebins_buffer: plan
                    .buffer_of(&timebins)
                    .ok_or_else(|| Error::internal(format!("no buffer for '{timebins}'")))?,
                neuron_index: array_pointer(co, "neuron_index")?,
                period_bins: array_pointer(co, "_period_bins")?,
            };
        }
        BrianTemplate::Spatialstateupdate => {
            view.sp = SpatialView::new(plan, co, kernel)?;
        }
        BrianTemplate::Ratemonitor => {
            view.fill = fill_of(plan, co)?;
            view.n_array = array_pointer(co, "N")?;
            view.rate_staging = staging_of(plan, &array_name(co, "rate")?)?;
            view.t_staging = staging_of(plan, &array_name(co, "t")?)?;
            view.source_start = constant_u64(co, "_source_start")?;
            view.source_stop = constant_u64(co, "_source_stop")?;
            view.num_source_neurons = constant_u64(co, "_num_source_neurons")?;
            view.events = array_pointer(co, "_spikespace")?;
            view.num_source = events_of(plan, co)?;
        }
        _ => {}
    }
    Ok(())
}

/// The elements of `co`'s event space, as the plan counted them.
fn events_of(plan: &Plan, co: &CodeObject) -> Result<u64> {
    plan.code_objects
        .get(&co.name)
        .and_then(|e| e.events)
        .ok_or_else(|| {
            Error::internal("the plan has no event space").in_object(&co.owner, &co.name)
        })
}

macro_rules! kernel_templates {
    ($($ty:ident => $path:literal),* $(,)?) => {
        $(
            #[derive(Template)]
            #[template(path = $path)]
            struct $ty<'a> {
                k: &'a KernelView,
            }
        )*
    };
}

kernel_templates! {
    StateupdateCpp => "cpp/stateupdate.cpp",
    StateupdateCuda => "cuda/stateupdate.cu",
    GroupVariableSetConditionalCpp => "cpp/group_variable_set_conditional.cpp",
    GroupVariableSetConditionalCuda => "cuda/group_variable_set_conditional.cu",
    GroupVariableSetCpp => "cpp/group_variable_set.cpp",
    GroupVariableSetCuda => "cuda/group_variable_set.cu",
    ThresholdCpp => "cpp/threshold.cpp",
    ThresholdCuda => "cuda/threshold.cu",
    ThresholdAfterCpp => "cpp/threshold_after_run.cpp",
    ThresholdAfterCuda => "cuda/threshold_after_run.cu",
    ResetCpp => "cpp/reset.cpp",
    ResetCuda => "cuda/reset.cu",
    SpikemonitorCpp => "cpp/spikemonitor.cpp",
    SpikemonitorCuda => "cuda/spikemonitor.cu",
    SpikemonitorBitsCpp => "cpp/spikemonitor_bits.cpp",
    SpikemonitorBitsCuda => "cuda/spikemonitor_bits.cu",
    StatemonitorCpp => "cpp/statemonitor.cpp",
    StatemonitorCuda => "cuda/statemonitor.cu",
    SpikegeneratorCpp => "cpp/spikegenerator.cpp",
    SpikegeneratorCuda => "cuda/spikegenerator.cu",
    RatemonitorCpp => "cpp/ratemonitor.cpp",
    RatemonitorCuda => "cuda/ratemonitor.cu",
}

macro_rules! synapse_templates {
    ($($ty:ident => $path:literal),* $(,)?) => {
        $(
            #[derive(Template)]
            #[template(path = $path)]
            struct $ty<'a> {
                k: &'a KernelView,
                s: &'a SynView,
            }
        )*
    };
}

#[derive(Template)]
#[template(path = "cpp/spatialstateupdate.cpp")]
struct SpatialCpp<'a> {
    k: &'a KernelView,
    sp: &'a SpatialView,
}

#[derive(Template)]
#[template(path = "cuda/spatialstateupdate.cu")]
struct SpatialCuda<'a> {
    k: &'a KernelView,
    sp: &'a SpatialView,
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

/// Renders any kernel of a SpatialNeuron's cable solve (every phase).
pub fn render_spatial(view: &KernelView, target: Target) -> Result<String, askama::Error> {
    let (k, sp) = (view, &view.sp);
    match target {
        Target::Cpp => SpatialCpp { k, sp }.render(),
        Target::Cuda => SpatialCuda { k, sp }.render(),
    }
}

synapse_templates! {
    CreateGeneratorCpp => "cpp/synapses_create_generator.cpp",
    CreateGeneratorCuda => "cuda/synapses_create_generator.cu",
    CreateArrayCpp => "cpp/synapses_create_array.cpp",
    CreateArrayCuda => "cuda/synapses_create_array.cu",
    PushSpikesCpp => "cpp/synapses_push_spikes.cpp",
    PushSpikesCuda => "cuda/synapses_push_spikes.cu",
    SynapsesCpp => "cpp/synapses.cpp",
    SynapsesCuda => "cuda/synapses.cu",
    SummedVariableCpp => "cpp/summed_variable.cpp",
    SummedVariableCuda => "cuda/summed_variable.cu",
}

/// Renders a kernel's main phase (or a connect() count pass) with its Brian template.
pub fn render_main(
    view: &KernelView,
    co: &CodeObject,
    target: Target,
) -> Result<String, askama::Error> {
    let k = view;
    let s = &view.syn;
    use BrianTemplate as T;
    match (&co.template, target) {
        (T::SynapsesCreateGenerator, Target::Cpp) => CreateGeneratorCpp { k, s }.render(),
        (T::SynapsesCreateGenerator, Target::Cuda) => CreateGeneratorCuda { k, s }.render(),
        (T::SynapsesCreateArray, Target::Cpp) => CreateArrayCpp { k, s }.render(),
        (T::SynapsesCreateArray, Target::Cuda) => CreateArrayCuda { k, s }.render(),
        (T::SynapsesPushSpikes, Target::Cpp) => PushSpikesCpp { k, s }.render(),
        (T::SynapsesPushSpikes, Target::Cuda) => PushSpikesCuda { k, s }.render(),
        (T::Synapses, Target::Cpp) => SynapsesCpp { k, s }.render(),
        (T::Synapses, Target::Cuda) => SynapsesCuda { k, s }.render(),
        (T::SummedVariable, Target::Cpp) => SummedVariableCpp { k, s }.render(),
        (T::SummedVariable, Target::Cuda) => SummedVariableCuda { k, s }.render(),
        (T::Stateupdate, Target::Cpp) => StateupdateCpp { k }.render(),
        (T::Stateupdate, Target::Cuda) => StateupdateCuda { k }.render(),
        (T::GroupVariableSetConditional, Target::Cpp) => {
            GroupVariableSetConditionalCpp { k }.render()
        }
        (T::GroupVariableSetConditional, Target::Cuda) => {
            GroupVariableSetConditionalCuda { k }.render()
        }
        (T::GroupVariableSet, Target::Cpp) => GroupVariableSetCpp { k }.render(),
        (T::GroupVariableSet, Target::Cuda) => GroupVariableSetCuda { k }.render(),
        (T::Threshold, Target::Cpp) => ThresholdCpp { k }.render(),
        (T::Threshold, Target::Cuda) => ThresholdCuda { k }.render(),
        (T::Reset, Target::Cpp) => ResetCpp { k }.render(),
        (T::Reset, Target::Cuda) => ResetCuda { k }.render(),
        (T::Spikemonitor, Target::Cpp) if k.spike_bits => SpikemonitorBitsCpp { k }.render(),
        (T::Spikemonitor, Target::Cuda) if k.spike_bits => SpikemonitorBitsCuda { k }.render(),
        (T::Spikemonitor, Target::Cpp) => SpikemonitorCpp { k }.render(),
        (T::Spikemonitor, Target::Cuda) => SpikemonitorCuda { k }.render(),
        (T::Statemonitor, Target::Cpp) => StatemonitorCpp { k }.render(),
        (T::Statemonitor, Target::Cuda) => StatemonitorCuda { k }.render(),
        (T::Spikegenerator, Target::Cpp) => SpikegeneratorCpp { k }.render(),
        (T::Spikegenerator, Target::Cuda) => SpikegeneratorCuda { k }.render(),
        (T::Ratemonitor, Target::Cpp) => RatemonitorCpp { k }.render(),
        (T::Ratemonitor, Target::Cuda) => RatemonitorCuda { k }.render(),
        _ => Ok(format!(
            "// no code for template '{}'\n",
            co.template.name()
        )),
    }
}

/// Renders a before/after-run phase.
pub fn render_phase(
    view: &KernelView,
    co: &CodeObject,
    phase: Phase,
    target: Target,
) -> Result<String, askama::Error> {
    let k = view;
    match (&co.template, phase, target) {
        (BrianTemplate::Threshold, Phase::AfterRun, Target::Cpp) => {
            ThresholdAfterCpp { k }.render()
        }
        (BrianTemplate::Threshold, Phase::AfterRun, Target::Cuda) => {
            ThresholdAfterCuda { k }.render()
        }
        _ => Ok(format!(
            "// no {phase:?} code for template '{}'\n",
            co.template.name()
        )),
    }
}

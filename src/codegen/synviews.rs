//! Template views of the Synapses templates: connect(), spike push, delivery
//! and summed variables.
//!
//! In: a plan kernel of a `synapses_*` or `summed_variable` code object. Out:
//! the [`SynView`] part of its [`KernelView`]: buffer pointers from the plan,
//! Brian's generator keywords, and the rendered code of each block.

use crate::codegen::body::{buffer_pointer, pointer_name, render_part, render_part_atomic};
use crate::codegen::views::{lines, KernelView};
use crate::diag::{Error, Result};
use crate::ir::{CodeObject, ConnectIterator, Symbol, Template, TemplateData};
use crate::plan::{Delivery, Kernel, Phase, Plan};

/// `((T*)_a.arrays[buf])`.
fn pointer(plan: &Plan, buf: usize) -> String {
    buffer_pointer(plan.buffers[buf].dtype.c_type(), buf)
}

/// A block's vector code, indented for the generator body; its scalar code is returned apart.
fn block_code(co: &CodeObject, name: &str) -> (String, Vec<String>) {
    match co.block(Some(name)) {
        Some(block) => {
            let (mut vector, stores) = render_part(co, &block.vector, &block.vector_info);
            vector.extend(stores);
            let (mut scalar, sstores) = render_part(co, &block.scalar, &block.scalar_info);
            scalar.extend(sstores);
            (lines(&vector), scalar)
        }
        None => (String::new(), Vec::new()),
    }
}

/// A size as C: the constant's name, or the first element of a scalar array.
fn size_expr(co: &CodeObject, name: &str) -> Result<String> {
    match co.symbols.get(name) {
        Some(Symbol::Constant { .. }) => Ok(name.to_string()),
        Some(Symbol::Array { array, .. }) => Ok(format!("{}[0]", pointer_name(array))),
        _ => Err(
            Error::internal(format!("connect() needs the size '{name}'"))
                .in_object(&co.owner, &co.name),
        ),
    }
}

/// connect(): generator keywords and blocks, or the array form's buffers.
/// The synapse templates' parts of a kernel's view (`KernelView::new` makes
/// the rest): connect(), the pathways' pushes and deliveries, summed variables.
pub fn fill(plan: &Plan, co: &CodeObject, kernel: &Kernel, view: &mut KernelView) -> Result<()> {
    match co.template {
        Template::SynapsesCreateGenerator | Template::SynapsesCreateArray => {
            connect(plan, co, kernel, view)
        }
        Template::SynapsesPushSpikes | Template::Synapses => pathway(plan, co, view),
        Template::SummedVariable => summed(plan, co, view),
        _ => Ok(()),
    }
}

pub fn connect(plan: &Plan, co: &CodeObject, kernel: &Kernel, view: &mut KernelView) -> Result<()> {
    let c = plan
        .connects
        .get(&co.name)
        .ok_or_else(|| Error::internal(format!("no connect plan for '{}'", co.name)))?;
    let s = &mut view.syn;
    s.counts = pointer(plan, c.counts);
    s.error = pointer(plan, c.error);
    s.synaptic_pre = pointer(plan, c.synaptic_pre);
    s.synaptic_post = pointer(plan, c.synaptic_post);
    s.n_incoming = pointer(plan, c.n_incoming);
    s.n_outgoing = pointer(plan, c.n_outgoing);
    let offset = |name: &str| {
        if co.symbols.contains_key(name) {
            name
        } else {
            "0"
        }
        .to_string()
    };
    s.pre_size = size_expr(co, "N_pre")?;
    s.post_size = size_expr(co, "N_post")?;
    s.source_offset = offset("_source_offset");
    s.target_offset = offset("_target_offset");
    let TemplateData::Generator { generator: g, .. } = &co.data else {
        return Ok(());
    };
    s.count_pass = kernel.phase == Phase::Count;
    s.pass_name = if s.count_pass { "count" } else { "fill" }.to_string();
    s.original = g.original_expression.clone();
    s.iterator_range = g.iterator == ConnectIterator::Range;
    s.sample_fixed = g.iterator == ConnectIterator::SampleFixed;
    s.sample_p = g.iterator == ConnectIterator::SampleP;
    s.inner = g.inner_variable.clone();
    s.outer_index = g.outer_index.clone();
    s.outer_array = g.outer_index_array.clone();
    s.outer_offset = g.outer_index_offset.clone();
    s.result_index = g.result_index.clone();
    s.result_array = g.result_index_array.clone();
    s.result_size = size_expr(co, &g.result_index_size)?;
    s.result_offset = g.result_index_offset.clone();
    s.result_condition = g.result_index_condition;
    s.result_used = g.result_index_used;
    s.if_true = g.if_true;
    s.skip_if_invalid = g.skip_if_invalid;
    let mut scalar = Vec::new();
    for (name, slot) in [
        ("setup_iterator", &mut s.setup_iterator),
        ("generator_expr", &mut s.generator_expr),
        ("create_cond", &mut s.create_cond),
        ("update", &mut s.update),
    ] {
        let (vector, sc) = block_code(co, name);
        *slot = vector;
        scalar.extend(sc);
    }
    view.scalar_code = lines(&scalar);
    if co.blocks.iter().any(|b| co.stmts_use_rng(&b.scalar)) {
        view.rng_scalar = crate::codegen::functions::rng(
            crate::codegen::functions::RngLines::Make("0xFFFFFFFFu"),
        )?;
    }
    Ok(())
}

/// A pathway's queue buffers (push and delivery) and, for delivery, the atomic form of the code.
pub fn pathway(plan: &Plan, co: &CodeObject, view: &mut KernelView) -> Result<()> {
    let decl = co
        .pathway()
        .ok_or_else(|| Error::internal("no pathway").in_object(&co.owner, &co.name))?;
    let p = plan
        .pathways
        .get(&decl.name)
        .ok_or_else(|| Error::runtime(format!("no plan for pathway '{}'", decl.name)))?;
    let s = &mut view.syn;
    s.pathway = p.name.clone();
    s.qstate = pointer(plan, p.state);
    s.history = pointer(plan, p.history);
    s.by_source_start = pointer(plan, p.by_source_start);
    s.by_source = pointer(plan, p.by_source);
    s.by_source_delay = pointer(plan, p.by_source_delay);
    s.carry_start = pointer(plan, p.carry_start);
    s.carry = pointer(plan, p.carry);
    s.num_sources = p.num_sources;
    s.slot_len = p.num_sources + 1;
    s.spikes_start = decl.spikes_start;
    s.spikes_stop = decl.spikes_stop;
    if let Some(g) = &p.by_target {
        s.grouped_start = pointer(plan, g.start);
        s.grouped_synapse = pointer(plan, g.synapse);
        s.grouped_source = pointer(plan, g.source);
        s.grouped_delay = pointer(plan, g.delay);
        s.grouped_index = pointer(plan, g.index);
        s.grouped_index_name = g.index_name.clone();
        s.groups = g.groups;
        if let Some(block) = co.blocks.first() {
            let (mut vector, stores) =
                render_part_atomic(co, &block.vector, &block.vector_info, &g.atomic);
            vector.extend(stores);
            s.vector_grouped = lines(&vector);
        }
    }
    let delivery = plan
        .code_objects
        .get(&co.name)
        .and_then(|e| e.delivery.as_ref());
    s.delivery = match delivery {
        Some(Delivery::Atomic(_)) => "atomic",
        Some(Delivery::ByTarget) => "by_target",
        Some(Delivery::Serial) | None => "serial",
    };
    if let (Some(block), Some(Delivery::Atomic(atomic))) = (co.blocks.first(), delivery) {
        let (mut vector, stores) =
            render_part_atomic(co, &block.vector, &block.vector_info, atomic);
        vector.extend(stores);
        s.vector_atomic = lines(&vector);
    }
    Ok(())
}

/// A summed variable's target and index arrays.
pub fn summed(plan: &Plan, co: &CodeObject, view: &mut KernelView) -> Result<()> {
    let TemplateData::Summed {
        summed: decl,
        target_size_name,
    } = &co.data
    else {
        return Err(Error::internal("no summed target").in_object(&co.owner, &co.name));
    };
    let buf = |name: &str| {
        plan.buffer_of(name).ok_or_else(|| {
            Error::internal(format!("array '{name}' is not in the export"))
                .in_object(&co.owner, &co.name)
        })
    };
    let target = buf(&decl.target)?;
    let index = buf(&decl.index)?;
    let s = &mut view.syn;
    s.summed_target = pointer(plan, target);
    s.summed_target_name = decl.target.clone();
    s.summed_type = plan.buffers[target].dtype.c_type().to_string();
    s.summed_index = pointer(plan, index);
    s.summed_start = decl.start;
    // Brian zeroes `_target_size` elements from the start (a Synapses target: its current `N`).
    let size_name = target_size_name.as_str();
    s.summed_stop = format!("{} + (int64_t){}", decl.start, size_expr(co, size_name)?);
    s.summed_synapses = format!("(int64_t){}", size_expr(co, "N")?);
    let csr = plan
        .summed
        .get(&co.name)
        .ok_or_else(|| Error::runtime(format!("no summed plan for '{}'", co.name)))?;
    s.by_target_start = pointer(plan, csr.by_target_start);
    s.by_target = pointer(plan, csr.by_target);
    s.by_target_start_buffer = csr.by_target_start;
    Ok(())
}

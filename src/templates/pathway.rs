//! What the two templates of a synaptic pathway (`synapses_push_spikes`,
//! `synapses`) share: the pathway's declaration, its buffers (made once per
//! pathway, `plan::synapses::add_buffers`) and its view (the queue's
//! buffers and, for a delivery, the plan's delivery and the code in the
//! form it takes). Not a template itself.

use super::missing;
use crate::diag::{Error, Result};
use crate::export::CodeObjectDecl;
use crate::ir::CodeObject;
use crate::plan::{BufferId, Delivery, Plan};
use crate::render::body::{buffer_pointer, render_part_atomic};
use crate::render::views::{lines, KernelView};

/// It declares its pathway.
pub fn check(co: &CodeObjectDecl, path: &str) -> Result<()> {
    match co.pathway {
        None => Err(missing(co, "a pathway", path, "pathway")),
        Some(_) => Ok(()),
    }
}

/// `((T*)_a.arrays[buf])`.
fn pointer(plan: &Plan, buf: BufferId) -> String {
    buffer_pointer(plan.buffers[buf].dtype.c_type(), buf)
}

/// A pathway's queue buffers (push and delivery) and, for delivery, the atomic form of the code.
pub fn view(plan: &Plan, co: &CodeObject, view: &mut KernelView) -> Result<()> {
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
    s.by_source_delays = pointer(plan, p.by_source_delays);
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

//! Brian's `synapses`: a pathway's delivery of the events due this step
//! (`on_pre`, `on_post`).
//!
//! Needs a pathway. Lowers to the pathway. Plans the pathway's buffers
//! (once per pathway) and one kernel whose [`Delivery`] the plan decides
//! for a GPU: a thread per synapse with atomic additions where the code is
//! race-free as atomics ([`crate::analysis::atomic_updates`]); else a
//! thread per target element where its writes go to one target each
//! (`plan::synapses::add_by_target`); else one thread, in Brian's order.
//! The C++ target delivers in one thread, in Brian's order. A profiled run
//! also gets the queue-walk kernel ([`Phase::QueueWalk`]). Renders
//! `synapses.cpp` / `.cu`.

use super::{askama_pair, checked, main_phase, pathway, BrianTemplate};
use crate::diag::Result;
use crate::export::{CodeObjectDecl, Export, QueueEntry};
use crate::ir::{CodeObject, TemplateData};
use crate::plan::{
    synapses, Delivery, Kernel, KernelBuilder, Launch, LoopSize, Phase, Plan, Split, Target,
};
use crate::render::body::buffer_pointer;
use crate::render::filters;
use crate::render::views::{KernelView, SynView};

pub struct Synapses;

askama_pair!(render: Cpp => "cpp/synapses.cpp", Cuda => "cuda/synapses.cu", s: SynView = syn);

impl BrianTemplate for Synapses {
    fn name(&self) -> &'static str {
        "synapses"
    }

    fn check(&self, _: &Export, co: &CodeObjectDecl, path: &str) -> Result<()> {
        pathway::check(co, path)
    }

    fn data(&self, decl: &CodeObjectDecl) -> Result<TemplateData> {
        Ok(TemplateData::Deliver {
            pathway: checked(&decl.pathway, "pathway")?,
        })
    }

    fn buffers(&self, plan: &mut Plan, co: &CodeObject) -> Result<()> {
        synapses::add_buffers(plan, co)
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        let co = k.co;
        let (delivery, launch, size) = match crate::analysis::atomic_updates(co) {
            Some(atomic) => (
                Delivery::Atomic(atomic),
                Launch::Grid,
                LoopSize::Fixed(synapses::delivery_threads(co)),
            ),
            None => match synapses::add_by_target(k.plan, co)? {
                Some(groups) => (Delivery::ByTarget, Launch::Grid, LoopSize::Fixed(groups)),
                None => (Delivery::Serial, Launch::Block, LoopSize::Fixed(1)),
            },
        };
        k.entry.delivery = Some(delivery);
        let main = k.push(Phase::Main, launch, size.clone());
        k.entry.main = Some(main);
        k.plan.kernels[main].split = cpu_split(k.plan, co);
        if let (Split::Targets { index, .. }, Some(p)) = (k.plan.kernels[main].split, co.pathway())
        {
            if let Some(pathway) = k.plan.pathways.get_mut(&p.name) {
                pathway.order_by = Some(index);
            }
        }
        let profiled = k
            .export
            .main_queue
            .iter()
            .any(|e| matches!(e, QueueEntry::RunNetwork(r) if r.profile));
        if profiled {
            k.entry.walk = Some(k.push(Phase::QueueWalk, launch, size));
        }
        Ok(())
    }

    fn view(
        &self,
        plan: &Plan,
        co: &CodeObject,
        kernel: &Kernel,
        view: &mut KernelView,
    ) -> Result<()> {
        view.split_synapses = true;
        view.syn.split_owner = match kernel.split {
            Split::Synapses { .. } => "(const int32_t*)0".to_string(),
            Split::Targets { index, .. } => buffer_pointer("const int32_t", index),
            _ => {
                view.split_synapses = false;
                String::new()
            }
        };
        pathway::view(plan, co, view)
    }

    fn render(
        &self,
        k: &KernelView,
        phase: Phase,
        target: Target,
    ) -> Result<Option<String>, askama::Error> {
        main_phase(phase).then(|| render(k, target)).transpose()
    }
}

/// How the C++ target runs the delivery on threads: by synapse where the code
/// writes only synapse variables (STDP's `on_post`), by target where it writes
/// through one index into arrays of a fixed length (`v_post += w`), else whole.
fn cpu_split(plan: &Plan, co: &CodeObject) -> Split {
    let scalar_writes = co.scalar_writes();
    if scalar_writes {
        return Split::Whole;
    }
    if super::writes_own_elements(co) {
        // (the pathway's per-synapse source indices: as many as synapses)
        return match co.pathway().and_then(|p| plan.buffer_of(&p.sources)) {
            Some(count) => Split::Synapses { count },
            None => Split::Whole,
        };
    }
    let Some(owner) = super::owner_index(co) else {
        return Split::Whole;
    };
    let index = synapses::var_buffer(plan, co, &owner).ok();
    // the targets: the (fixed) length of the arrays written through the index
    let groups = synapses::indexed_write_len(plan, co, &Default::default())
        .ok()
        .flatten();
    match (index, groups) {
        (Some(index), Some(groups)) if groups > 0 => Split::Targets { index, groups },
        _ => Split::Whole,
    }
}

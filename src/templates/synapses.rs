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
        // the C++ target: synapse-only effects (STDP's on_post, say) on threads, by synapse
        let scalar_writes = co.blocks.iter().any(|b| !b.scalar_info.write.is_empty());
        if !scalar_writes && super::writes_own_elements(co) {
            // (the pathway's per-synapse source indices: as many as synapses)
            if let Some(count) = co.pathway().and_then(|p| k.plan.buffer_of(&p.sources)) {
                k.plan.kernels[main].split = Split::Synapses { count };
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
        view.split_synapses = matches!(kernel.split, Split::Synapses { .. });
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

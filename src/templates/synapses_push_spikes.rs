//! Brian's `synapses_push_spikes`: a pathway's spikes of this step into its
//! spike history (cpp_standalone's queue push).
//!
//! Needs an event space and a pathway. Lowers to the pathway and event
//! space. Plans the pathway's buffers (once per pathway) and one kernel, a
//! grid over the pathway's source range (at most [`EVENT_THREADS`]
//! threads), which also prepares the pathway's queue when a run starts;
//! renders `synapses_push_spikes.cpp` / `.cu`.

use super::{askama_pair, checked, main_phase, pathway, BrianTemplate};
use crate::diag::Result;
use crate::export::{CodeObjectDecl, Export};
use crate::ir::{CodeObject, TemplateData};
use crate::plan::{
    synapses, Kernel, KernelBuilder, Launch, LoopSize, Phase, Plan, Target, EVENT_THREADS,
};
use crate::render::filters;
use crate::render::views::{KernelView, SynView};

pub struct SynapsesPushSpikes;

askama_pair!(render: Cpp => "cpp/synapses_push_spikes.cpp", Cuda => "cuda/synapses_push_spikes.cu", s: SynView = syn);

impl BrianTemplate for SynapsesPushSpikes {
    fn name(&self) -> &'static str {
        "synapses_push_spikes"
    }

    fn check(&self, _: &Export, co: &CodeObjectDecl, path: &str) -> Result<()> {
        super::check_eventspace(co, path)?;
        pathway::check(co, path)
    }

    fn data(&self, decl: &CodeObjectDecl) -> Result<TemplateData> {
        Ok(TemplateData::Push {
            pathway: checked(&decl.pathway, "pathway")?,
            eventspace: checked(&decl.eventspace, "event space")?,
        })
    }

    fn buffers(&self, plan: &mut Plan, co: &CodeObject) -> Result<()> {
        synapses::add_buffers(plan, co)
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        let sources =
            k.co.pathway()
                .map(|p| p.spikes_stop - p.spikes_start)
                .unwrap_or(1);
        let threads = u64::try_from(sources).unwrap_or(1).clamp(1, EVENT_THREADS);
        k.sync();
        k.entry.main = Some(k.push(Phase::Main, Launch::Grid, LoopSize::Fixed(threads)));
        k.entry.prepares = k.co.pathway().map(|p| p.name.clone());
        Ok(())
    }

    fn view(&self, plan: &Plan, co: &CodeObject, _: &Kernel, view: &mut KernelView) -> Result<()> {
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

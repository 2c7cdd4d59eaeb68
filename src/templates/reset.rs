//! Brian's `reset`: the reset of the elements in an event space.
//!
//! Needs an event space. Plans one kernel, a grid over the event space's
//! elements; renders `reset.cpp` / `.cu`.

use super::{askama_pair, checked, main_phase, BrianTemplate};
use crate::diag::Result;
use crate::export::{CodeObjectDecl, Export};
use crate::ir::TemplateData;
use crate::plan::{KernelBuilder, Launch, LoopSize, Phase, Target};
use crate::render::filters;
use crate::render::views::KernelView;

pub struct Reset;

askama_pair!(render: Cpp => "cpp/reset.cpp", Cuda => "cuda/reset.cu");

impl BrianTemplate for Reset {
    fn name(&self) -> &'static str {
        "reset"
    }

    fn check(&self, _: &Export, co: &CodeObjectDecl, path: &str) -> Result<()> {
        super::check_eventspace(co, path)
    }

    fn data(&self, decl: &CodeObjectDecl) -> Result<TemplateData> {
        Ok(TemplateData::Reset {
            eventspace: checked(&decl.eventspace, "event space")?,
        })
    }

    fn elementwise(&self) -> bool {
        true
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        let n = k.events()?;
        k.entry.main = Some(k.push(Phase::Main, Launch::Grid, LoopSize::Fixed(n)));
        Ok(())
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

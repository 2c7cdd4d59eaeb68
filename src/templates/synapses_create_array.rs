//! Brian's `synapses_create_array`: `connect(i=..., j=...)` with index
//! arrays.
//!
//! Needs connect()'s variables ([`connect::needs`]) and `sources`. Plans
//! one kernel, a grid over the index arrays, and the connect()'s tables;
//! renders `synapses_create_array.cpp` / `.cu` (which checks each index
//! against its group).

use super::{askama_pair, checked, connect, main_phase, BrianTemplate, Need};
use crate::diag::Result;
use crate::export::{CodeObjectDecl, Export};
use crate::ir::{CodeObject, TemplateData};
use crate::plan::{synapses, Kernel, KernelBuilder, Launch, LoopSize, Phase, Plan, Target};
use crate::render::filters;
use crate::render::views::{KernelView, SynView};

pub struct SynapsesCreateArray;

askama_pair!(render: Cpp => "cpp/synapses_create_array.cpp", Cuda => "cuda/synapses_create_array.cu", s: SynView = syn);

impl BrianTemplate for SynapsesCreateArray {
    fn name(&self) -> &'static str {
        "synapses_create_array"
    }

    fn needs(&self, co: &CodeObjectDecl) -> Vec<(String, Need)> {
        connect::needs(co)
    }

    fn check(&self, _: &Export, co: &CodeObjectDecl, path: &str) -> Result<()> {
        connect::check(co, path)
    }

    fn data(&self, decl: &CodeObjectDecl) -> Result<TemplateData> {
        Ok(TemplateData::FromArrays {
            connect: checked(&decl.connect, "connect() arrays")?,
        })
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        let sources = synapses::var_buffer(k.plan, k.co, "sources")?;
        k.entry.main = Some(k.push(Phase::Main, Launch::Grid, LoopSize::BufferLen(sources)));
        synapses::add_connect(k.plan, k.co, None, None)
    }

    fn view(
        &self,
        plan: &Plan,
        co: &CodeObject,
        kernel: &Kernel,
        view: &mut KernelView,
    ) -> Result<()> {
        connect::view(plan, co, kernel, view)
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

//! Brian's `ratemonitor`: the population rate of an event space's source
//! range, every step it runs.
//!
//! Needs `_source_start`, `_source_stop`, `_num_source_neurons` (constants)
//! and `_spikespace`, `N`, `rate`, `t` (arrays). Appends one record per step
//! (`rate`, `t`). Plans one kernel, one block; renders `ratemonitor.cpp` /
//! `.cu`.

use super::{askama_pair, main_phase, needs_of, BrianTemplate, Need, Recorded};
use crate::diag::Result;
use crate::export::{CodeObjectDecl, Export};
use crate::ir::CodeObject;
use crate::plan::{constant_u64, Kernel, KernelBuilder, Launch, LoopSize, Phase, Plan, Target};
use crate::render::filters;
use crate::render::views::{array_name, array_pointer, events_of, fill_of, staging_of, KernelView};

pub struct Ratemonitor;

askama_pair!(render: Cpp => "cpp/ratemonitor.cpp", Cuda => "cuda/ratemonitor.cu");

impl BrianTemplate for Ratemonitor {
    fn name(&self) -> &'static str {
        "ratemonitor"
    }

    fn needs(&self, _: &CodeObjectDecl) -> Vec<(String, Need)> {
        needs_of(&[
            ("_source_start", Need::Constant),
            ("_source_stop", Need::Constant),
            ("_num_source_neurons", Need::Constant),
            ("_spikespace", Need::Array),
            ("N", Need::Array),
            ("rate", Need::Array),
            ("t", Need::Array),
        ])
    }

    fn recorded(&self, _: &Export, co: &CodeObject) -> Result<Option<Recorded>> {
        Ok(Some((
            1,
            vec![(array_name(co, "rate")?, 1), (array_name(co, "t")?, 1)],
        )))
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        k.entry.main = Some(k.push(Phase::Main, Launch::Block, LoopSize::Fixed(1)));
        Ok(())
    }

    fn view(&self, plan: &Plan, co: &CodeObject, _: &Kernel, view: &mut KernelView) -> Result<()> {
        view.fill = fill_of(plan, co)?;
        view.n_array = array_pointer(co, "N")?;
        view.rate_staging = staging_of(plan, &array_name(co, "rate")?)?;
        view.t_staging = staging_of(plan, &array_name(co, "t")?)?;
        view.source_start = constant_u64(co, "_source_start")?;
        view.source_stop = constant_u64(co, "_source_stop")?;
        view.num_source_neurons = constant_u64(co, "_num_source_neurons")?;
        view.events = array_pointer(co, "_spikespace")?;
        view.num_source = events_of(plan, co)?;
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

//! Brian's `spikegenerator`: a SpikeGeneratorGroup's spikes of this step,
//! from its sorted spike times.
//!
//! Needs `_spikespace`, `_lastindex`, `_timebins`, `neuron_index` and
//! `_period_bins` (arrays). Plans one kernel, one block; renders
//! `spikegenerator.cpp` / `.cu`.

use super::{askama_pair, main_phase, needs_of, BrianTemplate, Need};
use crate::diag::{Error, Result};
use crate::export::CodeObjectDecl;
use crate::ir::CodeObject;
use crate::plan::{Kernel, KernelBuilder, Launch, LoopSize, Phase, Plan, Target};
use crate::render::filters;
use crate::render::views::{array_name, array_pointer, events_of, KernelView, SpikeGeneratorView};

pub struct Spikegenerator;

askama_pair!(render: Cpp => "cpp/spikegenerator.cpp", Cuda => "cuda/spikegenerator.cu");

impl BrianTemplate for Spikegenerator {
    fn name(&self) -> &'static str {
        "spikegenerator"
    }

    fn needs(&self, _: &CodeObjectDecl) -> Vec<(String, Need)> {
        needs_of(&[
            ("_spikespace", Need::Array),
            ("_lastindex", Need::Array),
            ("_timebins", Need::Array),
            ("neuron_index", Need::Array),
            ("_period_bins", Need::Array),
        ])
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        k.entry.main = Some(k.push(Phase::Main, Launch::Block, LoopSize::Fixed(1)));
        Ok(())
    }

    fn view(&self, plan: &Plan, co: &CodeObject, _: &Kernel, view: &mut KernelView) -> Result<()> {
        view.events = array_pointer(co, "_spikespace")?;
        view.num_source = events_of(plan, co)?;
        let timebins = array_name(co, "_timebins")?;
        view.sg = SpikeGeneratorView {
            lastindex: array_pointer(co, "_lastindex")?,
            timebins: array_pointer(co, "_timebins")?,
            timebins_buffer: plan
                .buffer_of(&timebins)
                .ok_or_else(|| Error::internal(format!("no buffer for '{timebins}'")))?
                .0,
            neuron_index: array_pointer(co, "neuron_index")?,
            period_bins: array_pointer(co, "_period_bins")?,
        };
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

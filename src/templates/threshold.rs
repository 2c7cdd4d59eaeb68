//! Brian's `threshold`: a group's threshold, filling its event space in
//! element order.
//!
//! Needs `N` (a constant) and an event space. Plans the chunked ordered
//! compaction (a block per [`CHUNK`] elements, sync and look-back words)
//! and an after-run kernel; renders `threshold.cpp` / `.cu` and
//! `threshold_after_run.cpp` / `.cu`.

use super::{askama_pair, checked, main_phase, needs_of, BrianTemplate, Need};
use crate::diag::Result;
use crate::dtype::Dtype;
use crate::export::{CodeObjectDecl, Export};
use crate::ir::TemplateData;
use crate::plan::{
    add_internal, constant_u64, KernelBuilder, Launch, LoopSize, Phase, Split, Target, CHUNK,
};
use crate::render::filters;
use crate::render::views::KernelView;

pub struct Threshold;

askama_pair!(render: Cpp => "cpp/threshold.cpp", Cuda => "cuda/threshold.cu");
askama_pair!(render_after: AfterCpp => "cpp/threshold_after_run.cpp", AfterCuda => "cuda/threshold_after_run.cu");

impl BrianTemplate for Threshold {
    fn name(&self) -> &'static str {
        "threshold"
    }

    fn needs(&self, _: &CodeObjectDecl) -> Vec<(String, Need)> {
        // its chunked launch is sized when the plan is made
        needs_of(&[("N", Need::Constant)])
    }

    fn check(&self, _: &Export, co: &CodeObjectDecl, path: &str) -> Result<()> {
        super::check_eventspace(co, path)
    }

    fn data(&self, decl: &CodeObjectDecl) -> Result<TemplateData> {
        Ok(TemplateData::Threshold {
            eventspace: checked(&decl.eventspace, "event space")?,
            uses_refractory: decl.template_kwds.uses_refractory,
        })
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        // (a NeuronGroup's N is a constant: validation checked it)
        let n = constant_u64(k.co, "N")?;
        k.sync();
        k.entry.chunk_status = Some(add_internal(
            k.plan,
            format!("_chunks_{}", k.co.name),
            Dtype::Uint64,
            n.div_ceil(CHUNK).max(1),
        ));
        let main = k.push(Phase::Main, Launch::Chunks, LoopSize::Fixed(n));
        k.entry.main = Some(main);
        // the C++ target: chunks on threads, compacted in order (the element code of a
        // threshold writes at most its own element's refractoriness)
        if super::writes_own_elements(k.co) {
            if let Some(events) = k.co.eventspace().and_then(|e| k.plan.buffer_of(e)) {
                k.plan.kernels[main].split = Split::Events { events };
            }
        }
        k.entry.after_run = Some(k.push(Phase::AfterRun, Launch::Block, LoopSize::Fixed(1)));
        Ok(())
    }

    fn render(
        &self,
        k: &KernelView,
        phase: Phase,
        target: Target,
    ) -> Result<Option<String>, askama::Error> {
        match phase {
            Phase::AfterRun => render_after(k, target).map(Some),
            p if main_phase(p) => render(k, target).map(Some),
            _ => Ok(None),
        }
    }
}

//! Brian's `spikemonitor` (SpikeMonitor and EventMonitor): records the
//! events of an event space's source range, with the recorded variables.
//!
//! Needs `_source_start`, `_source_stop` (constants), `count`, `N` and each
//! recorded variable (arrays), and an event space. Appends one record per
//! event (at most the source range per step). Plans one kernel, a grid
//! over the event space (at most [`EVENT_THREADS`] threads); renders
//! `spikemonitor.cpp` / `.cu`, or `spikemonitor_bits.cpp` / `.cu` when the
//! plan records its events as bits (`plan::SpikeBits`).

use super::Recorded;
use super::{askama_pair, checked, main_phase, needs_of, BrianTemplate, Need};
use crate::diag::Result;
use crate::export::{CodeObjectDecl, Export};
use crate::ir::{CodeObject, TemplateData};
use crate::plan::{
    constant_u64, Kernel, KernelBuilder, Launch, LoopSize, Phase, Plan, Target, EVENT_THREADS,
};
use crate::render::filters;
use crate::render::views::{
    array_name, array_pointer, fill_of, staging_of, staging_pointer, KernelView, Record,
};

pub struct Spikemonitor;

askama_pair!(render: Cpp => "cpp/spikemonitor.cpp", Cuda => "cuda/spikemonitor.cu");
askama_pair!(render_bits: BitsCpp => "cpp/spikemonitor_bits.cpp", BitsCuda => "cuda/spikemonitor_bits.cu");

impl BrianTemplate for Spikemonitor {
    fn name(&self) -> &'static str {
        "spikemonitor"
    }

    fn needs(&self, co: &CodeObjectDecl) -> Vec<(String, Need)> {
        let mut v = needs_of(&[
            ("_source_start", Need::Constant),
            ("_source_stop", Need::Constant),
            ("count", Need::Array),
            ("N", Need::Array),
        ]);
        let recorded = &co.template_kwds.record_variables;
        v.extend(recorded.iter().map(|r| (r.clone(), Need::Array)));
        v
    }

    fn check(&self, _: &Export, co: &CodeObjectDecl, path: &str) -> Result<()> {
        super::check_eventspace(co, path)
    }

    fn data(&self, decl: &CodeObjectDecl) -> Result<TemplateData> {
        Ok(TemplateData::Spikemonitor {
            eventspace: checked(&decl.eventspace, "event space")?,
            record_variables: decl.template_kwds.record_variables.clone(),
        })
    }

    fn recorded(&self, _: &Export, co: &CodeObject) -> Result<Option<Recorded>> {
        let start = constant_u64(co, "_source_start")?;
        let stop = constant_u64(co, "_source_stop")?;
        let mut arrays = Vec::new();
        for var in co.recorded() {
            arrays.push((array_name(co, &var)?, 1));
        }
        Ok(Some((stop.saturating_sub(start), arrays)))
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        let n = k.events()?;
        k.sync();
        k.entry.main = Some(k.push(
            Phase::Main,
            Launch::Grid,
            LoopSize::Fixed(n.clamp(1, EVENT_THREADS)),
        ));
        Ok(())
    }

    fn view(&self, plan: &Plan, co: &CodeObject, _: &Kernel, view: &mut KernelView) -> Result<()> {
        view.fill = fill_of(plan, co)?;
        view.count = array_pointer(co, "count")?;
        view.n_array = array_pointer(co, "N")?;
        view.source_start = constant_u64(co, "_source_start")?;
        view.source_stop = constant_u64(co, "_source_stop")?;
        let rec = plan.recorders.iter().find(|r| r.owner == co.owner);
        if let Some((rec, bits)) = rec.and_then(|r| Some((r, r.bits.as_ref()?))) {
            view.spike_bits = true;
            view.bits_words = staging_pointer(plan, rec, bits.words, bits.words_per_slot);
            view.bits_times = staging_pointer(plan, rec, bits.times, 1);
            view.bits_per_slot = bits.words_per_slot;
        }
        for var in co.recorded().to_vec() {
            view.records.push(Record {
                staging: staging_of(plan, &array_name(co, &var)?)?,
                local: format!("_to_record_{var}"),
                width: 1,
            });
        }
        Ok(())
    }

    fn render(
        &self,
        k: &KernelView,
        phase: Phase,
        target: Target,
    ) -> Result<Option<String>, askama::Error> {
        let text = |target| match k.spike_bits {
            true => render_bits(k, target),
            false => render(k, target),
        };
        main_phase(phase).then(|| text(target)).transpose()
    }
}

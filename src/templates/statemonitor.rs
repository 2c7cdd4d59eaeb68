//! Brian's `statemonitor`: records variables of the recorded indices every
//! step it runs.
//!
//! Needs `N`, `_indices`, `t` and each recorded variable (arrays). Appends
//! one record per step: `t`, and each variable's values at the indices (a
//! row of the 2-D results array). Plans one kernel, a grid over the
//! indices (on the C++ target, chunks of them on threads: each writes its own
//! columns of the row, and the last to finish advances the fill counter);
//! renders `statemonitor.cpp` / `.cu`.

use super::{askama_pair, main_phase, needs_of, BrianTemplate, Need, Recorded};
use crate::diag::Result;
use crate::export::{CodeObjectDecl, Export};
use crate::ir::{CodeObject, Symbol, TemplateData};
use crate::plan::{Kernel, KernelBuilder, Launch, LoopSize, Phase, Plan, Target};
use crate::render::filters;
use crate::render::views::{array_name, array_pointer, fill_of, staging_of, KernelView, Record};

pub struct Statemonitor;

askama_pair!(render: Cpp => "cpp/statemonitor.cpp", Cuda => "cuda/statemonitor.cu");

impl BrianTemplate for Statemonitor {
    fn name(&self) -> &'static str {
        "statemonitor"
    }

    fn needs(&self, co: &CodeObjectDecl) -> Vec<(String, Need)> {
        let mut v = needs_of(&[
            ("N", Need::Array),
            ("_indices", Need::Array),
            ("t", Need::Array),
        ]);
        let recorded = &co.template_kwds.recorded_variables;
        v.extend(recorded.iter().map(|r| (r.clone(), Need::Array)));
        v
    }

    fn data(&self, decl: &CodeObjectDecl) -> Result<TemplateData> {
        Ok(TemplateData::Statemonitor {
            recorded_variables: decl.template_kwds.recorded_variables.clone(),
        })
    }

    /// Every recorded index writes its own column of the row; the scalar
    /// code only reads.
    fn splits(&self, _co: &CodeObject) -> bool {
        true
    }

    fn recorded(&self, export: &Export, co: &CodeObject) -> Result<Option<Recorded>> {
        let indices = array_name(co, "_indices")?;
        let n = export.array(&indices).map(|a| a.size.len()).unwrap_or(0);
        let mut arrays = vec![(array_name(co, "t")?, 1)];
        for var in co.recorded() {
            arrays.push((array_name(co, &var)?, n));
        }
        Ok(Some((1, arrays)))
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        let indices = match k.co.symbols.get("_indices") {
            Some(Symbol::Array { array, .. }) => k.export.array(array).map(|a| a.size.len()),
            _ => None,
        }
        .unwrap_or(0);
        k.sync();
        k.entry.main = Some(k.push(Phase::Main, Launch::Grid, LoopSize::Fixed(indices)));
        Ok(())
    }

    fn view(
        &self,
        plan: &Plan,
        co: &CodeObject,
        kernel: &Kernel,
        view: &mut KernelView,
    ) -> Result<()> {
        view.fill = fill_of(plan, co)?;
        view.n_array = array_pointer(co, "N")?;
        view.indices = array_pointer(co, "_indices")?;
        view.t_staging = staging_of(plan, &array_name(co, "t")?)?;
        view.num_indices = match kernel.size {
            LoopSize::Fixed(n) => n,
            _ => 0,
        };
        for var in co.recorded().to_vec() {
            view.records.push(Record {
                staging: staging_of(plan, &array_name(co, &var)?)?,
                local: format!("_to_record_{var}"),
                width: view.num_indices,
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
        main_phase(phase).then(|| render(k, target)).transpose()
    }
}

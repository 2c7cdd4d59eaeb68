//! Brian's `summed_variable`: `x_post = ... (summed)`, a sum over each
//! target's synapses.
//!
//! Needs `N` and the target's size (sizes) and a summed target. Lowers to
//! the target range and its size's name. Plans the target range's CSR
//! (`plan::synapses::SummedPlan`) and one kernel, a grid over the targets
//! (CUDA; the C++ target loops over the synapses, in chunks of targets on
//! threads: each call adds the synapses of its own targets, in synapse order,
//! so every sum is the one-call sum); renders `summed_variable.cpp` / `.cu`.

use super::{askama_pair, checked, main_phase, missing, BrianTemplate, Need};
use crate::diag::{Error, Result};
use crate::export::{CodeObjectDecl, Export};
use crate::ir::{CodeObject, Symbol, TemplateData};
use crate::plan::{synapses, BufferId, Kernel, KernelBuilder, Launch, Phase, Plan, Target};
use crate::render::body::buffer_pointer;
use crate::render::filters;
use crate::render::views::{size_expr, KernelView, SynView};

pub struct SummedVariable;

askama_pair!(render: Cpp => "cpp/summed_variable.cpp", Cuda => "cuda/summed_variable.cu", s: SynView = syn);

/// Brian's name of the target's size (`N_post` unless a keyword says otherwise).
fn target_size_name(co: &CodeObjectDecl) -> String {
    co.template_kwds
        .target_size_name
        .clone()
        .unwrap_or_else(|| "N_post".to_string())
}

impl BrianTemplate for SummedVariable {
    fn name(&self) -> &'static str {
        "summed_variable"
    }

    fn needs(&self, co: &CodeObjectDecl) -> Vec<(String, Need)> {
        vec![("N".into(), Need::Size), (target_size_name(co), Need::Size)]
    }

    fn check(&self, _: &Export, co: &CodeObjectDecl, path: &str) -> Result<()> {
        match co.summed {
            None => Err(missing(co, "a summed target", path, "summed")),
            Some(_) => Ok(()),
        }
    }

    fn data(&self, decl: &CodeObjectDecl) -> Result<TemplateData> {
        Ok(TemplateData::Summed {
            summed: checked(&decl.summed, "summed target")?,
            target_size_name: target_size_name(decl),
        })
    }

    /// The C++ target splits the targets when the code writes no array (it
    /// computes `_synaptic_var`; the template adds it to the target).
    fn splits(&self, co: &CodeObject) -> bool {
        co.blocks.iter().all(|b| {
            b.vector_info
                .write
                .iter()
                .chain(&b.scalar_info.write)
                .all(|v| !matches!(co.symbols.get(v), Some(Symbol::Array { .. })))
        })
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        // CUDA: a thread per target element (the C++ target loops over the synapses).
        let summed = synapses::add_summed(k.plan, k.co)?;
        let main = k.push(Phase::Main, Launch::Grid, summed.size.clone());
        // An element of the split is a target with its synapses: taken to be 16 of them.
        k.plan.kernels[main].weight *= 16;
        k.entry.main = Some(main);
        k.plan.summed.insert(k.co.name.clone(), summed);
        Ok(())
    }

    /// The target and index arrays, and the target range's CSR.
    fn view(&self, plan: &Plan, co: &CodeObject, _: &Kernel, view: &mut KernelView) -> Result<()> {
        let TemplateData::Summed {
            summed: decl,
            target_size_name,
        } = &co.data
        else {
            return Err(Error::internal("no summed target").in_object(&co.owner, &co.name));
        };
        let buf = |name: &str| {
            plan.buffer_of(name).ok_or_else(|| {
                Error::internal(format!("array '{name}' is not in the export"))
                    .in_object(&co.owner, &co.name)
            })
        };
        let pointer = |b: BufferId| buffer_pointer(plan.buffers[b].dtype.c_type(), b);
        let target = buf(&decl.target)?;
        let index = buf(&decl.index)?;
        let s = &mut view.syn;
        s.summed_target = pointer(target);
        s.summed_target_name = decl.target.clone();
        s.summed_type = plan.buffers[target].dtype.c_type().to_string();
        s.summed_index = pointer(index);
        s.summed_start = decl.start;
        // Brian zeroes `_target_size` elements from the start (a Synapses target: its current `N`).
        let size_name = target_size_name.as_str();
        s.summed_stop = format!("{} + (int64_t){}", decl.start, size_expr(co, size_name)?);
        s.summed_synapses = format!("(int64_t){}", size_expr(co, "N")?);
        let csr = plan
            .summed
            .get(&co.name)
            .ok_or_else(|| Error::runtime(format!("no summed plan for '{}'", co.name)))?;
        s.by_target_start = pointer(csr.by_target_start);
        s.by_target = pointer(csr.by_target);
        s.by_target_start_buffer = csr.by_target_start.0;
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

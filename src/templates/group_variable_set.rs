//! Brian's `group_variable_set`: `G.v[indices] = expr`, a grid over the
//! indices.
//!
//! Needs `_group_idx` (an array: the indices). Plans one kernel, a grid over
//! the indices' current length; renders `group_variable_set.cpp` / `.cu`.

use super::{askama_pair, main_phase, needs_of, BrianTemplate, Need};
use crate::diag::{Error, Result};
use crate::export::CodeObjectDecl;
use crate::ir::{CodeObject, Symbol};
use crate::plan::{Kernel, KernelBuilder, Launch, LoopSize, Phase, Plan, Target};
use crate::render::filters;
use crate::render::views::{array_pointer, KernelView};

pub struct GroupVariableSet;

askama_pair!(render: Cpp => "cpp/group_variable_set.cpp", Cuda => "cuda/group_variable_set.cu");

impl BrianTemplate for GroupVariableSet {
    fn name(&self) -> &'static str {
        "group_variable_set"
    }

    fn needs(&self, _: &CodeObjectDecl) -> Vec<(String, Need)> {
        needs_of(&[("_group_idx", Need::Array)])
    }

    fn elementwise(&self) -> bool {
        true
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        let co = k.co;
        let buf = match co.symbols.get("_group_idx") {
            Some(Symbol::Array { array, .. }) => k.plan.buffer_of(array),
            _ => None,
        }
        .ok_or_else(|| {
            Error::internal("group_variable_set needs '_group_idx'").in_object(&co.owner, &co.name)
        })?;
        k.entry.main = Some(k.push(Phase::Main, Launch::Grid, LoopSize::BufferLen(buf)));
        Ok(())
    }

    fn view(&self, _: &Plan, co: &CodeObject, _: &Kernel, view: &mut KernelView) -> Result<()> {
        view.group_idx = array_pointer(co, "_group_idx")?;
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

//! Brian's `group_variable_set_conditional`: `G.v['cond'] = expr`, a grid
//! over the group's elements.
//!
//! Needs `N` (a size). Its `condition` block guards its `statement` block.
//! Plans one kernel, a grid over `N`; renders
//! `group_variable_set_conditional.cpp` / `.cu`.

use super::{askama_pair, main_phase, needs_of, BrianTemplate, Need};
use crate::diag::Result;
use crate::export::CodeObjectDecl;
use crate::ir::{Block, CodeObject};
use crate::plan::{group_size, KernelBuilder, Launch, Phase, Target};
use crate::render::filters;
use crate::render::views::KernelView;

pub struct GroupVariableSetConditional;

askama_pair!(render: Cpp => "cpp/group_variable_set_conditional.cpp", Cuda => "cuda/group_variable_set_conditional.cu");

impl BrianTemplate for GroupVariableSetConditional {
    fn name(&self) -> &'static str {
        "group_variable_set_conditional"
    }

    fn needs(&self, _: &CodeObjectDecl) -> Vec<(String, Need)> {
        needs_of(&[("N", Need::Size)])
    }

    fn elementwise(&self) -> bool {
        true
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        let size = group_size(k.plan, k.co)?;
        k.entry.main = Some(k.push(Phase::Main, Launch::Grid, size));
        Ok(())
    }

    fn blocks<'a>(&self, co: &'a CodeObject) -> (Option<&'a Block>, Option<&'a Block>) {
        (co.block(Some("statement")), co.block(Some("condition")))
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

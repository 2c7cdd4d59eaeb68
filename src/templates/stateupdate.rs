//! Brian's `stateupdate`: a group's state update, a grid over its elements.
//!
//! Needs `N` (a size). Plans one kernel, a grid over `N`; renders
//! `stateupdate.cpp` / `stateupdate.cu`.

use super::{askama_pair, main_phase, needs_of, BrianTemplate, Need};
use crate::diag::Result;
use crate::export::CodeObjectDecl;
use crate::ir::CodeObject;
use crate::plan::{group_size, KernelBuilder, Launch, Phase, Target};
use crate::render::filters;
use crate::render::views::KernelView;

pub struct Stateupdate;

askama_pair!(render: Cpp => "cpp/stateupdate.cpp", Cuda => "cuda/stateupdate.cu");

impl BrianTemplate for Stateupdate {
    fn name(&self) -> &'static str {
        "stateupdate"
    }

    fn needs(&self, _: &CodeObjectDecl) -> Vec<(String, Need)> {
        needs_of(&[("N", Need::Size)])
    }

    fn elementwise(&self) -> bool {
        true
    }

    fn splits(&self, co: &CodeObject) -> bool {
        super::writes_own_elements(co)
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        let size = group_size(k.plan, k.co)?;
        k.entry.main = Some(k.push(Phase::Main, Launch::Grid, size));
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

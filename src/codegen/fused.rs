//! Fused kernels (`plan::fusion`): a group's state update, threshold and
//! reset as one CUDA kernel.
//!
//! In: one of the plan's [`Fusion`]s and its code objects. Out: CUDA text:
//! an element function per part (`_element.cu`: the part's own template
//! body for one element, with its own prologue and scalar code, so the
//! parts' names never meet), then the kernel (`threshold_fused.cu`), which
//! calls them per element inside the threshold's chunked compaction. Each
//! part draws from its own random-number stream, as it would unfused
//! (`Fusion::streams`). The C++ target has no fused kernels.

use askama::Template;

use crate::diag::{Error, Result};
use crate::ir::CodeObject;
use crate::plan::fusion::Fusion;
use crate::plan::{Kernel, Plan};
use crate::render::filters;
use crate::render::views::KernelView;
use crate::templates;

/// What `threshold_fused.cu` calls.
#[derive(Debug, Clone)]
pub struct FusedView {
    pub stateupdate: String,
    pub threshold: String,
    /// Empty when the reset is not fused.
    pub reset: String,
    pub streams: [u64; 3],
}

#[derive(Template)]
#[template(path = "cuda/_element.cu")]
struct ElementCuda<'a> {
    k: &'a KernelView,
    threshold: bool,
}

#[derive(Template)]
#[template(path = "cuda/threshold_fused.cu")]
struct ThresholdFusedCuda<'a> {
    k: &'a KernelView,
    f: &'a FusedView,
}

/// The element functions and the fused kernel of `fusion` (kernel `kernel`).
pub fn render(
    plan: &Plan,
    code_objects: &[CodeObject],
    fusion: &Fusion,
    kernel: &Kernel,
) -> Result<String> {
    let part = |name: &str| -> Result<(&CodeObject, &Kernel)> {
        let co = code_objects
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                Error::internal(format!("the fusion names unknown code object '{name}'"))
            })?;
        let main = plan
            .code_objects
            .get(name)
            .and_then(|c| c.main)
            .ok_or_else(|| Error::internal(format!("fused code object '{name}' has no kernel")))?;
        Ok((co, &plan.kernels[main]))
    };
    let template_error = |co: &CodeObject, e: askama::Error| {
        Error::runtime(format!("template error for '{}': {e}", co.name))
            .in_object(&co.owner, &co.name)
    };
    let mut text = String::new();
    let mut element = |name: &str, threshold: bool| -> Result<String> {
        let (co, k) = part(name)?;
        let mut view = KernelView::new(plan, co, k, templates::of(&co.template).blocks(co))?;
        view.symbol = format!("brisk_{name}_element");
        text.push_str(
            &ElementCuda {
                k: &view,
                threshold,
            }
            .render()
            .map_err(|e| template_error(co, e))?,
        );
        text.push('\n');
        Ok(view.symbol)
    };
    let f = FusedView {
        stateupdate: element(&fusion.stateupdate, false)?,
        threshold: element(&fusion.threshold, true)?,
        reset: match &fusion.reset {
            Some(r) => element(r, false)?,
            None => String::new(),
        },
        streams: fusion.streams,
    };
    let th = part(&fusion.threshold)?.0;
    let view = KernelView::new(plan, th, kernel, templates::of(&th.template).blocks(th))?;
    text.push_str(
        &ThresholdFusedCuda { k: &view, f: &f }
            .render()
            .map_err(|e| template_error(th, e))?,
    );
    Ok(text)
}

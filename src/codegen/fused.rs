//! Fused kernels (`plan::fusion`): a group's state update, threshold and
//! reset as one kernel.
//!
//! In: one of the plan's [`Fusion`]s and its code objects. Out, for CUDA:
//! an element function per part (`_element.cu`: the part's own template
//! body for one element, with its own prologue and scalar code, so the
//! parts' names never meet), then the kernel (`threshold_fused.cu`), which
//! calls them per element inside the threshold's chunked compaction; for
//! C++: one function (`threshold_fused.cpp`), the threshold's blocked loop
//! with the state update of each block before its conditions and the reset
//! of each event after it, the state update and reset each in a scope of
//! its own. Each part draws from its own random-number stream, as it would
//! unfused (`Fusion::streams`).

use askama::Template;

use crate::diag::{Error, Result};
use crate::ir::CodeObject;
use crate::plan::fusion::Fusion;
use crate::plan::{Kernel, Plan, Target};
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

#[derive(Template)]
#[template(path = "cpp/threshold_fused.cpp")]
struct ThresholdFusedCpp<'a> {
    k: &'a KernelView,
    f: &'a Fusion,
    su: &'a KernelView,
    reset: Option<&'a KernelView>,
}

/// The fused kernel of `fusion` (kernel `kernel`) for `target`.
pub fn render(
    plan: &Plan,
    code_objects: &[CodeObject],
    fusion: &Fusion,
    kernel: &Kernel,
    target: Target,
) -> Result<String> {
    match target {
        Target::Cuda => render_cuda(plan, code_objects, fusion, kernel),
        Target::Cpp => render_cpp(plan, code_objects, fusion, kernel),
    }
}

/// A fused part: its code object and its own (unfused) kernel.
fn part<'a>(
    plan: &'a Plan,
    code_objects: &'a [CodeObject],
    name: &str,
) -> Result<(&'a CodeObject, &'a Kernel)> {
    let co = code_objects
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| Error::internal(format!("the fusion names unknown code object '{name}'")))?;
    Ok((co, plan.main_kernel(name)?))
}

fn template_error(co: &CodeObject, e: askama::Error) -> Error {
    Error::runtime(format!("template error for '{}': {e}", co.name)).in_object(&co.owner, &co.name)
}

/// C++: the threshold's loop with the other parts' code in scopes of their own.
fn render_cpp(
    plan: &Plan,
    code_objects: &[CodeObject],
    fusion: &Fusion,
    kernel: &Kernel,
) -> Result<String> {
    let view = |name: &str| -> Result<KernelView> {
        let (co, k) = part(plan, code_objects, name)?;
        KernelView::new(plan, co, k, templates::of(&co.template).blocks(co))
    };
    let su = view(&fusion.stateupdate)?;
    let reset = fusion.reset.as_deref().map(view).transpose()?;
    let th = part(plan, code_objects, &fusion.threshold)?.0;
    let mut k = KernelView::new(plan, th, kernel, templates::of(&th.template).blocks(th))?;
    k.fused = true;
    k.fused_reset = reset.is_some();
    ThresholdFusedCpp {
        k: &k,
        f: fusion,
        su: &su,
        reset: reset.as_ref(),
    }
    .render()
    .map_err(|e| template_error(th, e))
}

/// CUDA: the element functions, then the kernel.
fn render_cuda(
    plan: &Plan,
    code_objects: &[CodeObject],
    fusion: &Fusion,
    kernel: &Kernel,
) -> Result<String> {
    let part = |name: &str| part(plan, code_objects, name);
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

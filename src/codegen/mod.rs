//! Code generation: the plan and the IR to one C++ or CUDA source file.
//!
//! In: the [`Plan`] and the lowered code objects. Out: a [`Program`]: one
//! self-contained translation unit per target (the prelude and support
//! header, the functions the code calls, then one function per plan
//! kernel, named by the plan). Each kernel's text comes from its code
//! object's Brian template ([`crate::templates`]: the common view of
//! [`crate::render::views`], the template's own part, its askama template
//! in `templates/cpp` or `templates/cuda`); the fused kernels from
//! [`fused`]. Output is deterministic: everything is iterated in plan or
//! sorted order.

mod fused;

use std::collections::BTreeSet;

use crate::diag::{Error, Result};
use crate::ir::{CodeObject, Function, Symbol};
use crate::plan::{Kernel, Phase, Plan};
use crate::render::{expr, functions, views};
use crate::templates;

use askama::Template as _;

pub use views::SUPPORT_HEADER;

pub use crate::plan::Target;

/// A generated translation unit.
#[derive(Debug, Clone)]
pub struct Program {
    pub target: Target,
    pub source: String,
}

pub use crate::plan::CUDA_BLOCK;

/// Generates the whole program for `target`.
pub fn generate(plan: &Plan, code_objects: &[CodeObject], target: Target) -> Result<Program> {
    let mut source = functions::prelude(target)?;
    source.push_str(SUPPORT_HEADER);
    source.push('\n');
    // Functions emitted so far (TimedArray readers, binomial samplers, user code).
    let mut emitted = BTreeSet::new();
    for co in code_objects {
        for symbol in co.symbols.values() {
            if let Symbol::Function(f @ Function::TimedArray { .. }) = symbol {
                let name = expr::timed_array_function_name(f);
                if emitted.insert(name.clone()) {
                    source.push_str(&functions::timed_array(plan, &name, f)?);
                }
            }
            if let Symbol::Function(Function::User { pieces, .. }) = symbol {
                for (c_name, code) in pieces {
                    if emitted.insert(format!("user:{c_name}")) {
                        source.push_str(&format!(
                            "// user function '{c_name}' (its C++ implementation)\n{code}"
                        ));
                    }
                }
            }
            if let Symbol::Function(f @ Function::Binomial { .. }) = symbol {
                let name = expr::binomial_function_name(f);
                if emitted.insert(name.clone()) {
                    source.push_str(&functions::binomial(&name, f)?);
                }
            }
        }
    }
    for (index, kernel) in plan.kernels.iter().enumerate() {
        if kernel.phase == Phase::Fused {
            if let Some(fusion) = plan.fusions.iter().find(|f| f.kernel.0 == index) {
                source.push('\n');
                source.push_str(&fused::render(plan, code_objects, fusion, kernel, target)?);
            }
            continue;
        }
        if kernel.phase == Phase::Tick {
            source.push('\n');
            source.push_str(
                &views::render_tick(plan, target).map_err(|e| {
                    Error::runtime(format!("template error for the step tick: {e}"))
                })?,
            );
            continue;
        }
        let co = code_objects
            .iter()
            .find(|c| c.name == kernel.code_object)
            .ok_or_else(|| {
                Error::runtime(format!(
                    "plan names unknown code object '{}'",
                    kernel.code_object
                ))
            })?;
        source.push('\n');
        source.push_str(&render_kernel(plan, co, kernel, target)?);
    }
    Ok(Program { target, source })
}

fn render_kernel(plan: &Plan, co: &CodeObject, kernel: &Kernel, target: Target) -> Result<String> {
    let template = templates::of(&co.template);
    let mut view = views::KernelView::new(plan, co, kernel, template.blocks(co))?;
    template.view(plan, co, kernel, &mut view)?;
    // the walk over the queue is the delivery's main kernel, reduced
    let (view, phase) = match kernel.phase {
        Phase::QueueWalk => (queue_walk(view)?, Phase::Main),
        phase => (view, phase),
    };
    let text = template.render(&view, phase, target).map(|text| {
        text.unwrap_or_else(|| match phase {
            Phase::Main | Phase::Count => {
                format!("// no code for template '{}'\n", co.template.name())
            }
            _ => format!(
                "// no {:?} code for template '{}'\n",
                kernel.phase,
                co.template.name()
            ),
        })
    });
    text.map_err(|e| {
        Error::runtime(format!("template error for '{}': {e}", co.name))
            .in_object(&co.owner, &co.name)
    })
}

/// A `synapses` kernel reduced to its walk over the spike queue
/// ([`Phase::QueueWalk`]): each due synapse's index goes to a volatile local
/// (the work of cpp_standalone's queue push, which stores it in a queue
/// slot), and nothing is written, drawn or computed.
fn queue_walk(mut view: views::KernelView) -> Result<views::KernelView> {
    let sink = QueueWalk { part: "vector" }.render();
    let scalar = QueueWalk { part: "scalar" }.render();
    let (sink, scalar) = sink
        .and_then(|sink| Ok((sink, scalar?)))
        .map_err(|e| Error::internal(format!("template error for the queue walk: {e}")))?;
    view.scalar_code = scalar;
    view.scalar_stores = String::new();
    view.rng_scalar = String::new();
    view.rng_vector = String::new();
    // (one level deeper than the templates place the synapse's code)
    view.vector_code = format!("    {sink}");
    view.syn.vector_atomic = sink.clone();
    view.syn.vector_grouped = sink;
    Ok(view)
}

/// The lines of a queue walk (`templates/common/queue_walk.txt`).
#[derive(askama::Template)]
#[template(path = "common/queue_walk.txt")]
struct QueueWalk {
    part: &'static str,
}

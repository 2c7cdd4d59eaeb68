//! SpatialNeuron's cable solve (Brian's `spatialstateupdate`): its kernels
//! and working memory.
//!
//! In: the code object of a SpatialNeuron's spatial state updater. Out: a
//! [`SpatialPlan`] (sizes of the morphology's arrays, the compartment ->
//! section map) and the kernels of each step, launched one after another:
//!
//! | phase | kernel | launch |
//! |---|---|---|
//! | before run | inverse axial resistances, the matrices, boundary conditions, the section map | one thread |
//! | main | per compartment: total conductance `_gtot`, current `_I0`, `v` before the step | grid over compartments |
//! | `Sections` | per section: three tridiagonal solves (Thomas) for `_v_star`, `_u_plus`, `_u_minus` | grid over sections |
//! | `Coupling` | the sections' coupling system, a tree: Gaussian elimination in Brian's order | one thread |
//! | `Voltage` | per compartment: `v` from the section solutions and the coupling values, then `Ic` | grid over compartments |
//!
//! The arithmetic, and the order of every sum, is Brian's, so the CPU target
//! matches cpp_standalone to rounding.

use serde::Serialize;

use crate::diag::{Error, Result};
use crate::dtype::Dtype;
use crate::ir::{CodeObject, Symbol};
use crate::plan::{constant_u64, Buffer, BufferId, BufferRole, Plan};

/// What the spatial kernels of one SpatialNeuron need beyond its arrays.
#[derive(Debug, Clone, Serialize)]
pub struct SpatialPlan {
    /// Compartments (the group's `N`).
    pub compartments: u64,
    /// Sections of the morphology (`_starts`, `_ends`, ... have one value each).
    pub sections: u64,
    /// Columns of the coupling matrix's child table (`_morph_children` is
    /// `(sections + 1) x children_row_length`).
    pub children_row_length: u64,
    /// int32 per compartment: its section (-1 if none), filled before each run.
    pub section_of: BufferId,
}

/// The length of the array behind variable `var`.
fn array_len(plan: &Plan, co: &CodeObject, var: &str) -> Result<u64> {
    match co.symbols.get(var) {
        Some(Symbol::Array { array, .. }) => plan
            .buffer_of(array)
            .map(|b| plan.buffers[b].len)
            .ok_or_else(|| Error::internal(format!("array '{array}' is not in the export"))),
        _ => Err(Error::internal(format!(
            "the spatialstateupdate template needs array '{var}'"
        ))
        .in_object(&co.owner, &co.name)),
    }
}

/// Adds the working memory of `co` and returns its plan.
pub fn add(plan: &mut Plan, co: &CodeObject) -> Result<SpatialPlan> {
    let compartments = constant_u64(co, "N")?;
    let sections = array_len(plan, co, "_starts")?;
    let children = array_len(plan, co, "_morph_children")?;
    let children_rows = array_len(plan, co, "_morph_children_num")?;
    // (validation checked the morphology's lengths: `validate::needs`, so `children_rows` > 0)
    let section_of = plan.next_buffer();
    plan.buffers.push(Buffer {
        name: format!("_section_of_{}", co.name),
        dtype: Dtype::Int32,
        len: compartments.max(1),
        role: BufferRole::Internal,
    });
    Ok(SpatialPlan {
        compartments,
        sections,
        children_row_length: children / children_rows,
        section_of,
    })
}

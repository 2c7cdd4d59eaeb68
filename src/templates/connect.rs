//! What the two connect() templates (`synapses_create_generator`,
//! `synapses_create_array`) share: the variables they need, the checks of
//! their connect() declaration, and their view (the connect()'s buffers,
//! the groups' sizes and offsets, and the generator's keywords and blocks).
//! Not a template itself.

use super::{is_element_count, missing, needs_of, Need, MAX_ELEMENTS};
use crate::diag::{Error, Result};
use crate::export::{CodeObjectDecl, VariableDecl};
use crate::ir::{CodeObject, ConnectIterator, TemplateData};
use crate::plan::{BufferId, Kernel, Phase, Plan};
use crate::render::body::{buffer_pointer, render_part};
use crate::render::functions::{self, RngLines};
use crate::render::views::{lines, size_expr, KernelView};

/// The variables every connect() needs.
pub fn needs(co: &CodeObjectDecl) -> Vec<(String, Need)> {
    let mut v = needs_of(&[
        ("N", Need::Array),
        ("_synaptic_pre", Need::Array),
        ("_synaptic_post", Need::Array),
        ("N_incoming", Need::Array),
        ("N_outgoing", Need::Array),
        ("N_pre", Need::Size),
        ("N_post", Need::Size),
    ]);
    if co.template == "synapses_create_array" {
        v.push(("sources".into(), Need::Array));
    }
    let k = &co.template_kwds;
    if let Some(n) = &k.outer_index_size {
        v.push((n.clone(), Need::Size));
    }
    if let Some(n) = &k.result_index_size {
        v.push((n.clone(), Need::Size));
    }
    v
}

/// Its connect() arrays are declared, and a subgroup's offsets (with the
/// sizes, the lengths of `N_incoming` and `N_outgoing`) are element counts.
pub fn check(co: &CodeObjectDecl, path: &str) -> Result<()> {
    if co.connect.is_none() {
        return Err(missing(co, "its connect() arrays", path, "connect"));
    }
    for name in ["_source_offset", "_target_offset"] {
        if let Some(VariableDecl::Constant { value, .. }) = co.variables.get(name) {
            let n = value.as_f64();
            if !is_element_count(n) {
                return Err(Error::export(format!(
                    "connect()'s '{name}' is {n:?}: an offset is a whole number from 0 to {:?}",
                    MAX_ELEMENTS as f64
                ))
                .at_path(&format!("{path}.variables.{name}")));
            }
        }
    }
    Ok(())
}

/// `((T*)_a.arrays[buf])`.
fn pointer(plan: &Plan, buf: BufferId) -> String {
    buffer_pointer(plan.buffers[buf].dtype.c_type(), buf)
}

/// A block's vector code, indented for the generator body; its scalar code is returned apart.
fn block_code(co: &CodeObject, name: &str) -> (String, Vec<String>) {
    match co.block(Some(name)) {
        Some(block) => {
            let (mut vector, stores) = render_part(co, &block.vector, &block.vector_info);
            vector.extend(stores);
            let (mut scalar, sstores) = render_part(co, &block.scalar, &block.scalar_info);
            scalar.extend(sstores);
            (lines(&vector), scalar)
        }
        None => (String::new(), Vec::new()),
    }
}

/// connect(): the buffers and sizes, and a generator's keywords and blocks.
pub fn view(plan: &Plan, co: &CodeObject, kernel: &Kernel, view: &mut KernelView) -> Result<()> {
    let c = plan
        .connects
        .get(&co.name)
        .ok_or_else(|| Error::internal(format!("no connect plan for '{}'", co.name)))?;
    let s = &mut view.syn;
    s.counts = pointer(plan, c.counts);
    s.error = pointer(plan, c.error);
    s.synaptic_pre = pointer(plan, c.synaptic_pre);
    s.synaptic_post = pointer(plan, c.synaptic_post);
    s.n_incoming = pointer(plan, c.n_incoming);
    s.n_outgoing = pointer(plan, c.n_outgoing);
    let offset = |name: &str| {
        if co.symbols.contains_key(name) {
            name
        } else {
            "0"
        }
        .to_string()
    };
    s.pre_size = size_expr(co, "N_pre")?;
    s.post_size = size_expr(co, "N_post")?;
    s.source_offset = offset("_source_offset");
    s.target_offset = offset("_target_offset");
    let TemplateData::Generator { generator: g, .. } = &co.data else {
        return Ok(());
    };
    s.count_pass = kernel.phase == Phase::Count;
    s.pass_name = if s.count_pass { "count" } else { "fill" }.to_string();
    s.original = g.original_expression.clone();
    s.iterator_range = g.iterator == ConnectIterator::Range;
    s.sample_fixed = g.iterator == ConnectIterator::SampleFixed;
    s.sample_p = g.iterator == ConnectIterator::SampleP;
    s.inner = g.inner_variable.clone();
    s.outer_index = g.outer_index.clone();
    s.outer_array = g.outer_index_array.clone();
    s.outer_offset = g.outer_index_offset.clone();
    s.result_index = g.result_index.clone();
    s.result_array = g.result_index_array.clone();
    s.result_size = size_expr(co, &g.result_index_size)?;
    s.result_offset = g.result_index_offset.clone();
    s.result_condition = g.result_index_condition;
    s.result_used = g.result_index_used;
    s.if_true = g.if_true;
    s.skip_if_invalid = g.skip_if_invalid;
    let mut scalar = Vec::new();
    for (name, slot) in [
        ("setup_iterator", &mut s.setup_iterator),
        ("generator_expr", &mut s.generator_expr),
        ("create_cond", &mut s.create_cond),
        ("update", &mut s.update),
    ] {
        let (vector, sc) = block_code(co, name);
        *slot = vector;
        scalar.extend(sc);
    }
    view.scalar_code = lines(&scalar);
    if co.blocks.iter().any(|b| co.stmts_use_rng(&b.scalar)) {
        view.rng_scalar = functions::rng(RngLines::Make("0xFFFFFFFFu"))?;
    }
    Ok(())
}

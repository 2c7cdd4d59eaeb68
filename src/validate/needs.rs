//! The variables each Brian template needs, checked once so that planning
//! and code generation can rely on them.
//!
//! In: one code object of a deserialised export. Out: `Ok`, or an export
//! error naming the missing (or wrongly kinded) variable at its JSON path.
//! The table mirrors what `plan` and `codegen` read per template: loop sizes
//! (`N`, a constant or a scalar array), the arrays a template indexes
//! (spike spaces, monitor buffers, connect() outputs), the source range of
//! monitors, the recorded variables named by the template keywords, the
//! event space, pathway, summed target or connect() arrays a template works
//! on, a generator connect()'s keywords, and SpatialNeuron's morphology
//! arrays with their lengths.

use crate::diag::{Error, Result};
use crate::export::{CodeObjectDecl, Export, VariableDecl};

/// What a template needs a variable to be.
#[derive(Clone, Copy)]
enum Need {
    /// An array variable.
    Array,
    /// A constant.
    Constant,
    /// A size: a constant, or a scalar array holding it.
    Size,
}

fn needs(co: &CodeObjectDecl) -> Vec<(String, Need)> {
    use Need::*;
    let fixed = |names: &[(&str, Need)]| {
        names
            .iter()
            .map(|(n, k)| (n.to_string(), *k))
            .collect::<Vec<_>>()
    };
    let k = &co.template_kwds;
    let mut out = match co.template.as_str() {
        "stateupdate" | "group_variable_set_conditional" => fixed(&[("N", Size)]),
        // a group's thresholder: its chunked launch is sized when the plan is made
        "threshold" => fixed(&[("N", Constant)]),
        "group_variable_set" => fixed(&[("_group_idx", Array)]),
        "spikemonitor" => fixed(&[
            ("_source_start", Constant),
            ("_source_stop", Constant),
            ("count", Array),
            ("N", Array),
        ]),
        "statemonitor" => fixed(&[("N", Array), ("_indices", Array), ("t", Array)]),
        "ratemonitor" => fixed(&[
            ("_source_start", Constant),
            ("_source_stop", Constant),
            ("_num_source_neurons", Constant),
            ("_spikespace", Array),
            ("N", Array),
            ("rate", Array),
            ("t", Array),
        ]),
        "spikegenerator" => fixed(&[
            ("_spikespace", Array),
            ("_lastindex", Array),
            ("_timebins", Array),
            ("neuron_index", Array),
            ("_period_bins", Array),
        ]),
        "synapses_create_generator" | "synapses_create_array" => {
            let mut v = fixed(&[
                ("N", Array),
                ("_synaptic_pre", Array),
                ("_synaptic_post", Array),
                ("N_incoming", Array),
                ("N_outgoing", Array),
                ("N_pre", Size),
                ("N_post", Size),
            ]);
            if co.template == "synapses_create_array" {
                v.push(("sources".into(), Array));
            }
            if let Some(n) = &k.outer_index_size {
                v.push((n.clone(), Size));
            }
            if let Some(n) = &k.result_index_size {
                v.push((n.clone(), Size));
            }
            v
        }
        "summed_variable" => {
            let target = k
                .target_size_name
                .clone()
                .unwrap_or_else(|| "N_post".to_string());
            vec![("N".into(), Size), (target, Size)]
        }
        "spatialstateupdate" => {
            let mut v = fixed(&[("N", Constant)]);
            for a in SECTION_ARRAYS.iter().chain(COMPARTMENT_ARRAYS).chain(&[
                "_starts",
                "_morph_children",
                "_morph_children_num",
            ]) {
                v.push((a.to_string(), Array));
            }
            v
        }
        _ => Vec::new(),
    };
    if k.uses_refractory {
        out.extend(fixed(&[("not_refractory", Array), ("lastspike", Array)]));
    }
    match co.template.as_str() {
        "spikemonitor" => out.extend(k.record_variables.iter().map(|v| (v.clone(), Array))),
        "statemonitor" => out.extend(k.recorded_variables.iter().map(|v| (v.clone(), Array))),
        _ => {}
    }
    out
}

/// The largest size (a group's or a range's element count) an export may
/// declare: the most 8-byte elements an array may have (`checks` asserts it
/// equals `MAX_ARRAY_BYTES / 8`; no overflow in `size + 1`).
pub const MAX_ELEMENTS: u64 = 1 << 45;
const MAX_SIZE: f64 = MAX_ELEMENTS as f64;

/// A size or offset in elements: a whole number from 0 to [`MAX_SIZE`].
fn is_element_count(n: f64) -> bool {
    n >= 0.0 && n.fract() == 0.0 && n <= MAX_SIZE
}

/// SpatialNeuron arrays with one value per section, and per compartment.
const SECTION_ARRAYS: &[&str] = &[
    "_ends",
    "_morph_parent_i",
    "_morph_idxchild",
    "_invr0",
    "_invrn",
    "_P_parent",
];
const COMPARTMENT_ARRAYS: &[&str] = &[
    "v",
    "Cm",
    "Ic",
    "area",
    "r_length_1",
    "r_length_2",
    "_invr",
    "_c",
    "_v_star",
    "_u_plus",
    "_u_minus",
];

/// Checks that `co` (at `path`) declares every variable its template needs.
pub fn check(export: &Export, co: &CodeObjectDecl, path: &str) -> Result<()> {
    for (name, need) in needs(co) {
        let at = format!("{path}.variables.{name}");
        let ok = match (co.variables.get(&name), need) {
            (Some(VariableDecl::Array { .. }), Need::Array) => true,
            (Some(VariableDecl::Constant { .. }), Need::Constant) => true,
            (Some(VariableDecl::Constant { value, .. }), Need::Size) => {
                let n = value.as_f64();
                if !is_element_count(n) {
                    return Err(Error::export(format!(
                        "the {} template's size '{name}' is {n:?}: a size is a whole number from 0 to {MAX_SIZE:?}",
                        co.template
                    ))
                    .at_path(&at));
                }
                true
            }
            (Some(VariableDecl::Array { array, .. }), Need::Size) => {
                export.array(array).is_some_and(|a| a.scalar)
            }
            _ => false,
        };
        if !ok {
            let what = match need {
                Need::Array => "an array variable",
                Need::Constant => "a constant",
                Need::Size => "a size (a constant or a scalar array)",
            };
            return Err(Error::export(format!(
                "the {} template needs '{name}' as {what}",
                co.template
            ))
            .at_path(&at));
        }
    }
    let missing = |what: &str, at: &str| {
        Err(
            Error::export(format!("the {} template needs {what}", co.template))
                .at_path(&format!("{path}.{at}")),
        )
    };
    match co.template.as_str() {
        "threshold" | "reset" | "spikemonitor" | "synapses_push_spikes"
            if co.eventspace.is_none() =>
        {
            return missing("an event space", "eventspace");
        }
        "synapses" | "synapses_push_spikes" if co.pathway.is_none() => {
            return missing("a pathway", "pathway")
        }
        "summed_variable" if co.summed.is_none() => return missing("a summed target", "summed"),
        "synapses_create_generator" | "synapses_create_array" if co.connect.is_none() => {
            return missing("its connect() arrays", "connect");
        }
        "synapses_create_generator" | "synapses_create_array" => {
            // a subgroup's offsets: with the sizes, the lengths of N_incoming and N_outgoing
            for name in ["_source_offset", "_target_offset"] {
                if let Some(VariableDecl::Constant { value, .. }) = co.variables.get(name) {
                    let n = value.as_f64();
                    if !is_element_count(n) {
                        return Err(Error::export(format!(
                            "connect()'s '{name}' is {n:?}: an offset is a whole number from 0 to {MAX_SIZE:?}"
                        ))
                        .at_path(&format!("{path}.variables.{name}")));
                    }
                }
            }
            if co.template == "synapses_create_generator" {
                generator_keywords(co, path)?;
            }
        }
        "spatialstateupdate" => spatial_lengths(export, co, path)?,
        _ => {}
    }
    Ok(())
}

/// A generator connect(): Brian's keywords that shape its loops, present, over
/// the pre- and the postsynaptic index once each.
fn generator_keywords(co: &CodeObjectDecl, path: &str) -> Result<()> {
    let k = &co.template_kwds;
    let keywords = [
        ("iterator_func", &k.iterator_func),
        ("inner_variable", &k.inner_variable),
        ("outer_index", &k.outer_index),
        ("outer_index_array", &k.outer_index_array),
        ("outer_index_offset", &k.outer_index_offset),
        ("outer_index_size", &k.outer_index_size),
        ("result_index", &k.result_index),
        ("result_index_array", &k.result_index_array),
        ("result_index_size", &k.result_index_size),
        ("result_index_offset", &k.result_index_offset),
        ("if_expression", &k.if_expression),
    ];
    for (key, value) in keywords {
        if value.is_none() {
            return Err(
                Error::export(format!("connect() needs the template keyword '{key}'"))
                    .at_path(&format!("{path}.template_kwds.{key}")),
            );
        }
    }
    // each loop's index array with its offset and size: the lengths the runtime gives
    // N_outgoing and N_incoming (N_pre + _source_offset, N_post + _target_offset)
    let loops = [
        (
            "outer",
            &k.outer_index_array,
            &k.outer_index_offset,
            &k.outer_index_size,
        ),
        (
            "result",
            &k.result_index_array,
            &k.result_index_offset,
            &k.result_index_size,
        ),
    ];
    for (which, array, offset, size) in loops {
        let expected = match array.as_deref() {
            Some("_pre_idx") => ("_source_offset", "N_pre"),
            Some("_post_idx") => ("_target_offset", "N_post"),
            _ => continue, // (named below)
        };
        if (offset.as_deref(), size.as_deref()) != (Some(expected.0), Some(expected.1)) {
            return Err(Error::export(format!(
                "connect() loops over '{}' with offset {:?} and size {:?}, not '{}' and '{}'",
                array.as_deref().unwrap_or(""),
                offset.as_deref().unwrap_or(""),
                size.as_deref().unwrap_or(""),
                expected.0,
                expected.1
            ))
            .at_path(&format!("{path}.template_kwds.{which}_index_offset")));
        }
    }
    let mut arrays = [
        k.outer_index_array.as_deref(),
        k.result_index_array.as_deref(),
    ];
    arrays.sort();
    if arrays != [Some("_post_idx"), Some("_pre_idx")] {
        return Err(Error::export(format!(
            "connect() must loop over '_pre_idx' and '_post_idx', not {:?} and {:?}",
            k.outer_index_array.as_deref().unwrap_or(""),
            k.result_index_array.as_deref().unwrap_or("")
        ))
        .at_path(&format!("{path}.template_kwds.outer_index_array")));
    }
    Ok(())
}

/// The morphology arrays agree: sections, children rows, compartments.
fn spatial_lengths(export: &Export, co: &CodeObjectDecl, path: &str) -> Result<()> {
    let len = |name: &str| match co.variables.get(name) {
        Some(VariableDecl::Array { array, .. }) => export.array(array).map_or(0, |a| a.size.len()),
        _ => 0,
    };
    let compartments = match co.variables.get("N") {
        Some(VariableDecl::Constant { value, .. }) => value.as_f64().max(0.0) as u64,
        _ => 0,
    };
    let (sections, children, rows) = (
        len("_starts"),
        len("_morph_children"),
        len("_morph_children_num"),
    );
    if sections == 0 || rows != sections + 1 || children % rows != 0 {
        return Err(Error::export(format!(
            "inconsistent morphology arrays: {sections} sections, {rows} rows of {children} children"
        ))
        .at_path(&format!("{path}.variables._morph_children_num")));
    }
    for name in SECTION_ARRAYS {
        if len(name) != sections {
            return Err(Error::export(format!(
                "'{name}' does not have one value per section ({sections})"
            ))
            .at_path(&format!("{path}.variables.{name}")));
        }
    }
    for name in COMPARTMENT_ARRAYS {
        if len(name) < compartments {
            return Err(Error::export(format!(
                "'{name}' has fewer values than the {compartments} compartments"
            ))
            .at_path(&format!("{path}.variables.{name}")));
        }
    }
    Ok(())
}

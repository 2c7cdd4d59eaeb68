//! Brian's `synapses_create_generator`: `connect(j='k for k in ...', p=...,
//! condition=...)`, Brian's generator syntax.
//!
//! Needs connect()'s variables ([`connect::needs`]), the sizes its loops
//! name, and Brian's generator keywords, looping over `_pre_idx` and
//! `_post_idx` once each with their offsets and sizes. Lowers to its
//! [`Generator`]. Plans a count pass and a fill pass, each a grid over the
//! outer index, and the connect()'s tables; renders
//! `synapses_create_generator.cpp` / `.cu` (both passes).

use super::{askama_pair, checked, connect, main_phase, BrianTemplate, Need};
use crate::diag::{Error, Result};
use crate::export::{CodeObjectDecl, Export};
use crate::ir::{Block, CodeObject, ConnectIterator, Generator, TemplateData};
use crate::plan::{synapses, Kernel, KernelBuilder, Launch, Phase, Plan, Target};
use crate::render::filters;
use crate::render::views::{KernelView, SynView};

pub struct SynapsesCreateGenerator;

askama_pair!(render: Cpp => "cpp/synapses_create_generator.cpp", Cuda => "cuda/synapses_create_generator.cu", s: SynView = syn);

impl BrianTemplate for SynapsesCreateGenerator {
    fn name(&self) -> &'static str {
        "synapses_create_generator"
    }

    fn needs(&self, co: &CodeObjectDecl) -> Vec<(String, Need)> {
        connect::needs(co)
    }

    fn check(&self, _: &Export, co: &CodeObjectDecl, path: &str) -> Result<()> {
        connect::check(co, path)?;
        keywords(co, path)
    }

    fn data(&self, decl: &CodeObjectDecl) -> Result<TemplateData> {
        let k = &decl.template_kwds;
        let iterator = match (
            k.iterator_func.as_deref(),
            k.iterator_kwds.sample_size.as_deref(),
        ) {
            (Some("range"), _) => ConnectIterator::Range,
            (Some("sample"), Some("fixed")) => ConnectIterator::SampleFixed,
            (Some("sample"), _) => ConnectIterator::SampleP,
            (other, _) => {
                return Err(Error::not_implemented(format!(
                    "connect() with the iterator '{}'",
                    other.unwrap_or_default()
                )))
            }
        };
        let kwd = |v: &Option<String>, key: &str| checked(v, &format!("keyword '{key}'"));
        let generator = Generator {
            iterator,
            original_expression: k
                .original_expression
                .as_deref()
                .unwrap_or_default()
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
            inner_variable: kwd(&k.inner_variable, "inner_variable")?,
            outer_index: kwd(&k.outer_index, "outer_index")?,
            outer_index_array: kwd(&k.outer_index_array, "outer_index_array")?,
            outer_index_offset: kwd(&k.outer_index_offset, "outer_index_offset")?,
            outer_index_size: kwd(&k.outer_index_size, "outer_index_size")?,
            result_index: kwd(&k.result_index, "result_index")?,
            result_index_array: kwd(&k.result_index_array, "result_index_array")?,
            result_index_size: kwd(&k.result_index_size, "result_index_size")?,
            result_index_offset: kwd(&k.result_index_offset, "result_index_offset")?,
            result_index_condition: k.result_index_condition,
            result_index_used: k.result_index_used,
            if_true: kwd(&k.if_expression, "if_expression")? == "True",
            skip_if_invalid: k.skip_if_invalid,
        };
        Ok(TemplateData::Generator {
            connect: checked(&decl.connect, "connect() arrays")?,
            generator,
        })
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        let outer = synapses::outer_size(k.plan, k.co)?;
        k.entry.count = Some(k.push(Phase::Count, Launch::Grid, outer.clone()));
        k.entry.main = Some(k.push(Phase::Main, Launch::Grid, outer.clone()));
        synapses::add_connect(k.plan, k.co, Some(outer), k.entry.count)
    }

    /// Its blocks are the generator's (`connect::view`), not the common view's.
    fn blocks<'a>(&self, _: &'a CodeObject) -> (Option<&'a Block>, Option<&'a Block>) {
        (None, None)
    }

    fn view(
        &self,
        plan: &Plan,
        co: &CodeObject,
        kernel: &Kernel,
        view: &mut KernelView,
    ) -> Result<()> {
        connect::view(plan, co, kernel, view)
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

/// Brian's keywords that shape its loops, present, over the pre- and the
/// postsynaptic index once each.
fn keywords(co: &CodeObjectDecl, path: &str) -> Result<()> {
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

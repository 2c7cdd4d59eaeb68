//! Brian's templates, one file each, behind one trait.
//!
//! A Brian template (`stateupdate`, `threshold`, `synapses`, ...) is a
//! kind of code object: its file here holds everything Brisk knows about
//! it, stage by stage, as the methods of [`BrianTemplate`]:
//!
//! | stage | method | in → out |
//! |---|---|---|
//! | validation ([`crate::validate`]) | [`needs`](BrianTemplate::needs), [`check`](BrianTemplate::check) | the code object's declaration → the variables it must have, and an export error naming the JSON path |
//! | lowering ([`crate::lower`]) | [`data`](BrianTemplate::data) | the declaration → its typed [`TemplateData`] |
//! | planning ([`crate::planner`]) | [`recorded`](BrianTemplate::recorded), [`buffers`](BrianTemplate::buffers), [`kernels`](BrianTemplate::kernels) | the lowered code object → its recorded arrays, own buffers and kernels (phases, launch shapes, sizes, delivery) in the [`Plan`] |
//! | code generation ([`crate::codegen`]) | [`blocks`](BrianTemplate::blocks), [`view`](BrianTemplate::view), [`render`](BrianTemplate::render) | a plan kernel → its part of the [`KernelView`] and its text per target, from its askama templates (`templates/cpp/<name>.cpp`, `templates/cuda/<name>.cu`) |
//!
//! The stages iterate over code objects and ask each one's template
//! ([`of`], [`by_name`]); adding a template is one file here (and its
//! template files), listed in [`ALL`]. Shared by several templates:
//! [`connect`] (the two `synapses_create_*`) and [`pathway`]
//! (`synapses_push_spikes` and `synapses`).
//!
//! Layering: this module sits above the types it fills (`export`, `ir`,
//! `plan`, `render`) and below the stages that drive it.

use std::fmt;

use crate::diag::Result;
use crate::export::{CodeObjectDecl, Export};
use crate::ir::{Block, CodeObject, Template, TemplateData};
use crate::plan::{Kernel, KernelBuilder, Phase, Plan, Target};
use crate::render::views::KernelView;

mod connect;
mod group_variable_set;
mod group_variable_set_conditional;
mod pathway;
mod ratemonitor;
mod reset;
mod spatialstateupdate;
mod spikegenerator;
mod spikemonitor;
mod statemonitor;
mod stateupdate;
mod summed_variable;
mod synapses;
mod synapses_create_array;
mod synapses_create_generator;
mod synapses_push_spikes;
mod threshold;

/// What a template needs a variable to be (validation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// An array variable.
    Array,
    /// A constant.
    Constant,
    /// A size: a constant, or a scalar array holding it.
    Size,
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Need::Array => "an array variable",
            Need::Constant => "a constant",
            Need::Size => "a size (a constant or a scalar array)",
        })
    }
}

/// `names` as needs.
pub fn needs_of(names: &[(&str, Need)]) -> Vec<(String, Need)> {
    names.iter().map(|(n, k)| (n.to_string(), *k)).collect()
}

/// The largest size (a group's or a range's element count) an export may
/// declare: the most 8-byte elements an array may have (validation asserts
/// it equals its `MAX_ARRAY_BYTES / 8`; no overflow in `size + 1`).
pub const MAX_ELEMENTS: u64 = 1 << 45;

/// A size or offset in elements: a whole number from 0 to [`MAX_ELEMENTS`].
pub fn is_element_count(n: f64) -> bool {
    n >= 0.0 && n.fract() == 0.0 && n <= MAX_ELEMENTS as f64
}

/// The phases whose kernels a template's main template renders (a
/// connect()'s count pass included).
pub fn main_phase(phase: Phase) -> bool {
    matches!(phase, Phase::Main | Phase::Count)
}

/// A value validation checked to be there (lowering).
pub fn checked<T: Clone>(value: &Option<T>, what: &str) -> Result<T> {
    value.clone().ok_or_else(|| {
        crate::diag::Error::internal(format!("the template has no {what} after validation"))
    })
}

/// An export error: the template needs `what`, at `path.at`.
pub fn missing(co: &CodeObjectDecl, what: &str, path: &str, at: &str) -> crate::diag::Error {
    crate::diag::Error::export(format!("the {} template needs {what}", co.template))
        .at_path(&format!("{path}.{at}"))
}

/// Validation of the templates that work on an event space: it is declared.
pub fn check_eventspace(co: &CodeObjectDecl, path: &str) -> Result<()> {
    match co.eventspace {
        None => Err(missing(co, "an event space", path, "eventspace")),
        Some(_) => Ok(()),
    }
}

/// Whether every array `co`'s element code writes is written at the element
/// itself (`_idx`) and read nowhere else: then its elements may run in any
/// order, or at once. (A Synapses' `run_regularly` may write a postsynaptic
/// variable through `_postsynaptic_idx`, where two synapses meet one target;
/// a linked variable may read another element of an array the code writes.)
pub fn writes_own_elements(co: &CodeObject) -> bool {
    use crate::ir::{Index, Symbol};
    let array = |var: &String| match co.symbols.get(var) {
        Some(Symbol::Array { array, index, .. }) => Some((array.as_str(), index)),
        _ => None,
    };
    let mut written = std::collections::BTreeSet::new();
    for b in &co.blocks {
        for var in &b.vector_info.write {
            match array(var) {
                Some((name, Index::Element)) => {
                    written.insert(name);
                }
                _ => return false,
            }
        }
    }
    co.blocks.iter().all(|b| {
        b.vector_info.read.iter().all(|var| match array(var) {
            Some((name, index)) => *index == Index::Element || !written.contains(name),
            None => true,
        })
    })
}

/// The one index variable through which `co`'s element code writes (beside
/// the element's own variables), when nothing reads what it writes through
/// it by another index and the scalar code writes nothing: then the
/// elements of different targets touch disjoint state, and only the order
/// within one target matters. (`v_post += w`: `_postsynaptic_idx`.)
pub fn owner_index(co: &CodeObject) -> Option<String> {
    use crate::ir::{Index, Symbol};
    if co.scalar_writes() {
        return None;
    }
    let array = |var: &String| match co.symbols.get(var) {
        Some(Symbol::Array { array, index, .. }) => Some((array.as_str(), index)),
        _ => None,
    };
    let mut owner: Option<&String> = None;
    let mut written = std::collections::BTreeMap::new();
    for b in &co.blocks {
        for var in &b.vector_info.write {
            match array(var)? {
                (name, Index::Element) => {
                    written.insert(name, None);
                }
                (name, Index::Via(i)) => {
                    if owner.is_some_and(|o| o != i) {
                        return None;
                    }
                    owner = Some(i);
                    written.insert(name, Some(i));
                }
                (_, Index::Scalar) => return None,
            }
        }
    }
    let owner = owner?;
    // the index itself: an element of the synapse, never written
    match array(owner)? {
        (name, Index::Element) if !written.contains_key(name) => {}
        _ => return None,
    }
    // what is written is read through the same index only (conditional writes' guards too)
    for b in &co.blocks {
        let guards = co.conditional_writes.values();
        for var in b
            .vector_info
            .read
            .iter()
            .chain(&b.scalar_info.read)
            .chain(guards)
        {
            if let Some((name, index)) = array(var) {
                let same = match (written.get(name), index) {
                    (None, _) => true,
                    (Some(None), Index::Element) => true,
                    (Some(Some(i)), Index::Via(j)) => *i == j,
                    _ => false,
                };
                if !same {
                    return None;
                }
            }
        }
    }
    Some(owner.clone())
}

/// A monitor's recorded Brian arrays: records per step, and (array, elements per record).
pub type Recorded = (u64, Vec<(String, u64)>);

/// One Brian template, through every stage (see the module's table).
pub trait BrianTemplate: Sync {
    /// Brian's name for it: the export's `template`.
    fn name(&self) -> &'static str;

    /// Validation: the variables it needs, by name.
    fn needs(&self, _co: &CodeObjectDecl) -> Vec<(String, Need)> {
        Vec::new()
    }

    /// Validation: the rest of its declaration (its event space, pathway,
    /// keywords, lengths), with errors at `path` (the code object's JSON path).
    fn check(&self, _export: &Export, _co: &CodeObjectDecl, _path: &str) -> Result<()> {
        Ok(())
    }

    /// Lowering: its typed data (what validation checked).
    fn data(&self, _decl: &CodeObjectDecl) -> Result<TemplateData> {
        Ok(TemplateData::Plain {})
    }

    /// Planning: its main kernel is a grid over independent elements (whose
    /// scalar writes the last block stores).
    fn elementwise(&self) -> bool {
        false
    }

    /// Planning: on the C++ target its main kernel may run as chunks of its
    /// elements on threads at once ([`crate::plan::Split::Elements`]): each
    /// element's work touches only that element, and its template loops over
    /// `BriskArgs::lo..hi`.
    fn splits(&self, _co: &CodeObject) -> bool {
        false
    }

    /// Planning: the Brian arrays it appends to (monitors).
    fn recorded(&self, _export: &Export, _co: &CodeObject) -> Result<Option<Recorded>> {
        Ok(None)
    }

    /// Planning: its own buffers, made before any kernel is planned.
    fn buffers(&self, _plan: &mut Plan, _co: &CodeObject) -> Result<()> {
        Ok(())
    }

    /// Planning: its kernels, each phase with its launch shape and size.
    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()>;

    /// Code generation: its main block and (`group_variable_set_conditional`)
    /// its condition block, which the common view renders.
    fn blocks<'a>(&self, co: &'a CodeObject) -> (Option<&'a Block>, Option<&'a Block>) {
        (co.blocks.first(), None)
    }

    /// Code generation: its part of a kernel's view.
    fn view(
        &self,
        _plan: &Plan,
        _co: &CodeObject,
        _kernel: &Kernel,
        _view: &mut KernelView,
    ) -> Result<()> {
        Ok(())
    }

    /// Code generation: the text of its kernel of `phase` for `target`, or
    /// `None` when it has no code for that phase.
    fn render(
        &self,
        view: &KernelView,
        phase: Phase,
        target: Target,
    ) -> Result<Option<String>, askama::Error>;
}

/// Every template Brisk runs.
pub const ALL: &[&dyn BrianTemplate] = &[
    &stateupdate::Stateupdate,
    &threshold::Threshold,
    &reset::Reset,
    &group_variable_set::GroupVariableSet,
    &group_variable_set_conditional::GroupVariableSetConditional,
    &spikemonitor::Spikemonitor,
    &statemonitor::Statemonitor,
    &ratemonitor::Ratemonitor,
    &synapses::Synapses,
    &synapses_push_spikes::SynapsesPushSpikes,
    &synapses_create_generator::SynapsesCreateGenerator,
    &synapses_create_array::SynapsesCreateArray,
    &summed_variable::SummedVariable,
    &spikegenerator::Spikegenerator,
    &spatialstateupdate::Spatialstateupdate,
];

/// The template named `name` (unknown ones: [`Unsupported`]).
pub fn by_name(name: &str) -> &'static dyn BrianTemplate {
    ALL.iter()
        .copied()
        .find(|t| t.name() == name)
        .unwrap_or(&Unsupported)
}

/// The template of a lowered code object.
pub fn of(template: &Template) -> &'static dyn BrianTemplate {
    by_name(template.name())
}

/// A template Brisk does not run: validation and lowering pass it, planning
/// names it in a `NotImplementedError`.
pub struct Unsupported;

impl BrianTemplate for Unsupported {
    fn name(&self) -> &'static str {
        "(unsupported)"
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        let co = k.co;
        Err(co
            .template
            .unsupported(&co.owner_class, &co.owner)
            .in_object(&co.owner, &co.name))
    }

    fn render(&self, _: &KernelView, _: Phase, _: Target) -> Result<Option<String>, askama::Error> {
        Ok(None)
    }
}

/// Declares one askama template struct per target over the common view (with
/// extra fields taken from it: `s: SynView = syn` gives `s: &k.syn`), and
/// `fn $render(k, target)`, which renders the target's.
macro_rules! askama_pair {
    ($render:ident: $cpp:ident => $cpp_path:literal, $cuda:ident => $cuda_path:literal
     $(, $field:ident : $ty:ty = $from:ident)*) => {
        #[derive(askama::Template)]
        #[template(path = $cpp_path)]
        struct $cpp<'a> {
            k: &'a crate::render::views::KernelView,
            $($field: &'a $ty,)*
        }

        #[derive(askama::Template)]
        #[template(path = $cuda_path)]
        struct $cuda<'a> {
            k: &'a crate::render::views::KernelView,
            $($field: &'a $ty,)*
        }

        /// The kernel's text for `target`, from its askama template.
        fn $render(
            k: &crate::render::views::KernelView,
            target: crate::plan::Target,
        ) -> Result<String, askama::Error> {
            use askama::Template as _;
            match target {
                crate::plan::Target::Cpp => $cpp { k, $($field: &k.$from,)* }.render(),
                crate::plan::Target::Cuda => $cuda { k, $($field: &k.$from,)* }.render(),
            }
        }
    };
}
pub(crate) use askama_pair;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_of_the_ir_has_one_file_and_every_file_a_template_of_the_ir() {
        let mut names: Vec<&str> = ALL.iter().map(|t| t.name()).collect();
        for name in &names {
            assert!(
                !matches!(Template::from_name(name), Template::Other(_)),
                "'{name}' is not a template of the IR"
            );
        }
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a template is listed twice");
        for t in Template::KNOWN {
            assert_eq!(
                by_name(t.name()).name(),
                t.name(),
                "no file for '{}'",
                t.name()
            );
        }
        assert_eq!(by_name("subexpression_update").name(), Unsupported.name());
    }
}

//! Brian's `spatialstateupdate`: a SpatialNeuron's implicit cable solve
//! (`plan::spatial` has the kernels' table).
//!
//! Needs `N` (a constant) and the morphology's and the solver's arrays,
//! each with its length ([`ARRAYS`]: one table that validation checks and
//! the view reads, so that nothing the kernels index goes unchecked).
//! Plans a before-run kernel and the chain of four kernels of each step;
//! renders `spatialstateupdate.cpp` / `.cu` (every phase).

use super::{askama_pair, BrianTemplate, Need};
use crate::diag::{Error, Result};
use crate::export::{CodeObjectDecl, Export, VariableDecl};
use crate::ir::CodeObject;
use crate::plan::{spatial, Kernel, KernelBuilder, Launch, LoopSize, Phase, Plan, Target};
use crate::render::body::buffer_pointer;
use crate::render::filters;
use crate::render::views::{array_pointer, KernelView, SpatialView};

pub struct Spatialstateupdate;

askama_pair!(render: Cpp => "cpp/spatialstateupdate.cpp", Cuda => "cuda/spatialstateupdate.cu", sp: SpatialView = sp);

/// How many values an array of the solve holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Per {
    /// At least one per compartment (`N`).
    Compartment,
    /// One per section (the length of `_starts`).
    Section,
    /// One per section and one for the root.
    SectionAndRoot,
    /// One per entry of the children table (`_morph_children`).
    Child,
    /// A shared value.
    Shared,
}

/// Every array the kernels index, with its length (Brian's
/// `SpatialStateUpdater` and `SpatialNeuron` make them so).
const ARRAYS: &[(&str, Per)] = &[
    ("v", Per::Compartment),
    ("Cm", Per::Compartment),
    ("Ic", Per::Compartment),
    ("area", Per::Compartment),
    ("r_length_1", Per::Compartment),
    ("r_length_2", Per::Compartment),
    ("_invr", Per::Compartment),
    ("_ab_star0", Per::Compartment),
    ("_ab_star1", Per::Compartment),
    ("_ab_star2", Per::Compartment),
    ("_b_plus", Per::Compartment),
    ("_b_minus", Per::Compartment),
    ("_v_star", Per::Compartment),
    ("_u_plus", Per::Compartment),
    ("_u_minus", Per::Compartment),
    ("_v_previous", Per::Compartment),
    ("_c", Per::Compartment),
    ("_I0_all", Per::Compartment),
    ("_gtot_all", Per::Compartment),
    ("_starts", Per::Section),
    ("_ends", Per::Section),
    ("_morph_parent_i", Per::Section),
    ("_morph_idxchild", Per::Section),
    ("_invr0", Per::Section),
    ("_invrn", Per::Section),
    ("_P_parent", Per::Section),
    ("_P_diag", Per::SectionAndRoot),
    ("_B", Per::SectionAndRoot),
    ("_morph_children_num", Per::SectionAndRoot),
    ("_morph_children", Per::Child),
    ("_P_children", Per::Child),
    ("Ri", Per::Shared),
];

/// The pointer of `var`, one of [`ARRAYS`].
fn pointer(co: &CodeObject, var: &str) -> Result<String> {
    if !ARRAYS.iter().any(|(name, _)| *name == var) {
        return Err(Error::internal(format!(
            "the spatial view reads '{var}', which validation does not check"
        ))
        .in_object(&co.owner, &co.name));
    }
    array_pointer(co, var)
}

impl BrianTemplate for Spatialstateupdate {
    fn name(&self) -> &'static str {
        "spatialstateupdate"
    }

    fn needs(&self, _: &CodeObjectDecl) -> Vec<(String, Need)> {
        let mut v = vec![("N".to_string(), Need::Constant)];
        v.extend(ARRAYS.iter().map(|(a, _)| (a.to_string(), Need::Array)));
        v
    }

    /// The morphology's arrays agree: sections, children rows, compartments.
    fn check(&self, export: &Export, co: &CodeObjectDecl, path: &str) -> Result<()> {
        let len = |name: &str| match co.variables.get(name) {
            Some(VariableDecl::Array { array, .. }) => {
                export.array(array).map_or(0, |a| a.size.len())
            }
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
        for (name, per) in ARRAYS {
            let (ok, what) = match per {
                Per::Compartment => (
                    len(name) >= compartments,
                    format!("has fewer values than the {compartments} compartments"),
                ),
                Per::Section => (
                    len(name) == sections,
                    format!("does not have one value per section ({sections})"),
                ),
                Per::SectionAndRoot => (
                    len(name) == sections + 1,
                    format!(
                        "does not have one value per section and one for the root ({})",
                        sections + 1
                    ),
                ),
                Per::Child => (
                    len(name) == children,
                    format!("does not have one value per entry of the children table ({children})"),
                ),
                Per::Shared => (len(name) >= 1, "has no value".to_string()),
            };
            if !ok {
                return Err(Error::export(format!("'{name}' {what}"))
                    .at_path(&format!("{path}.variables.{name}")));
            }
        }
        Ok(())
    }

    fn elementwise(&self) -> bool {
        true
    }

    fn kernels(&self, k: &mut KernelBuilder<'_>) -> Result<()> {
        let sp = spatial::add(k.plan, k.co)?;
        let (n, sections) = (sp.compartments, sp.sections);
        k.plan.spatial.insert(k.co.name.clone(), sp);
        k.entry.before_run = Some(k.push(Phase::BeforeRun, Launch::Block, LoopSize::Fixed(1)));
        let main = k.push(Phase::Main, Launch::Grid, LoopSize::Fixed(n));
        let steps = k.push(Phase::Sections, Launch::Grid, LoopSize::Fixed(sections));
        let coupling = k.push(Phase::Coupling, Launch::Block, LoopSize::Fixed(1));
        let voltage = k.push(Phase::Voltage, Launch::Grid, LoopSize::Fixed(n));
        k.plan.kernels[main].then = Some(steps);
        k.plan.kernels[steps].then = Some(coupling);
        k.plan.kernels[coupling].then = Some(voltage);
        k.entry.main = Some(main);
        Ok(())
    }

    fn view(
        &self,
        plan: &Plan,
        co: &CodeObject,
        kernel: &Kernel,
        view: &mut KernelView,
    ) -> Result<()> {
        let sp = plan
            .spatial
            .get(&co.name)
            .ok_or_else(|| Error::runtime(format!("no spatial plan for '{}'", co.name)))?;
        let p = |var: &str| pointer(co, var);
        view.sp = SpatialView {
            step: match kernel.phase {
                Phase::BeforeRun => "before_run",
                Phase::Sections => "sections",
                Phase::Coupling => "coupling",
                Phase::Voltage => "voltage",
                _ => "compartments",
            }
            .to_string(),
            n: sp.compartments,
            sections: sp.sections,
            row: sp.children_row_length,
            section_of: buffer_pointer("int32_t", sp.section_of),
            v: p("v")?,
            cm: p("Cm")?,
            ic: p("Ic")?,
            ri: p("Ri")?,
            area: p("area")?,
            r_length_1: p("r_length_1")?,
            r_length_2: p("r_length_2")?,
            invr: p("_invr")?,
            invr0: p("_invr0")?,
            invrn: p("_invrn")?,
            ab0: p("_ab_star0")?,
            ab1: p("_ab_star1")?,
            ab2: p("_ab_star2")?,
            b_plus: p("_b_plus")?,
            b_minus: p("_b_minus")?,
            v_star: p("_v_star")?,
            u_plus: p("_u_plus")?,
            u_minus: p("_u_minus")?,
            v_previous: p("_v_previous")?,
            gtot_all: p("_gtot_all")?,
            i0_all: p("_I0_all")?,
            c: p("_c")?,
            p_diag: p("_P_diag")?,
            p_parent: p("_P_parent")?,
            p_children: p("_P_children")?,
            b: p("_B")?,
            parent: p("_morph_parent_i")?,
            starts: p("_starts")?,
            ends: p("_ends")?,
            children: p("_morph_children")?,
            children_num: p("_morph_children_num")?,
            idxchild: p("_morph_idxchild")?,
        };
        Ok(())
    }

    /// Every phase of the solve, from one template per target.
    fn render(
        &self,
        k: &KernelView,
        _phase: Phase,
        target: Target,
    ) -> Result<Option<String>, askama::Error> {
        render(k, target).map(Some)
    }
}

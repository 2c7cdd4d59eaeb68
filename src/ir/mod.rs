//! Typed IR: one [`CodeObject`] per Brian code object, statements typed and
//! every name resolved.
//!
//! In: an [`crate::export::CodeObjectDecl`] (built by [`lower`]). Out: code
//! objects whose statements have a [`Dtype`] on every expression, whose names
//! all resolve in [`CodeObject::symbols`], and whose blocks carry the
//! read/write/index sets of [`crate::analysis`], and whose template data is
//! one typed [`TemplateData`] per Brian template. The export was validated
//! before ([`crate::validate`]); `lower` resolves and types names and rejects
//! what Brisk cannot run; later stages (schedule, plan, codegen) fail on IR
//! they are given only with internal errors.
//!
//! Semantics follow Brian's C++ generator: per block, the *scalar*
//! statements run once, then the *vector* statements run per element with
//! array variables loaded into locals of the same name before the first
//! statement and stored back after the last. A write to a variable listed in
//! [`CodeObject::conditional_writes`] happens only where its guard is true.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::dtype::{Dtype, Value};

/// A code object ready for scheduling and code generation.
#[derive(Debug, Clone, Serialize)]
pub struct CodeObject {
    /// Unique code object name (`neurongroup_stateupdater_codeobject_1`).
    pub name: String,
    /// The owning Brian object's name and class (for messages).
    pub owner: String,
    pub owner_class: String,
    /// Brian's template.
    pub template: Template,
    /// The clock whose `t`/`dt`/`timestep` the code reads, if any.
    pub clock: Option<String>,
    /// Blocks in export order.
    pub blocks: Vec<Block>,
    /// Every name the statements or the template use.
    pub symbols: BTreeMap<String, Symbol>,
    /// Variable -> boolean variable guarding writes to it (after overrides).
    pub conditional_writes: BTreeMap<String, String>,
    /// What the template works on beyond its code: one typed structure per
    /// Brian template that has any (validated: never missing).
    #[serde(flatten)]
    pub data: TemplateData,
}

/// The data of one Brian template, resolved from the export's declarations
/// and template keywords (`validate::needs` checked their presence).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum TemplateData {
    /// threshold: the event space it fills, and whether the group is refractory.
    Threshold {
        eventspace: String,
        uses_refractory: bool,
    },
    /// reset: the event space it reads.
    Reset { eventspace: String },
    /// spikemonitor (and EventMonitor): the event space, and the variables recorded per event (sorted).
    Spikemonitor {
        eventspace: String,
        record_variables: Vec<String>,
    },
    /// statemonitor: the variables recorded per step (sorted).
    Statemonitor { recorded_variables: Vec<String> },
    /// synapses_push_spikes: the pathway, and the source's event space.
    Push {
        pathway: crate::export::PathwayDecl,
        eventspace: String,
    },
    /// synapses: the pathway it delivers.
    Deliver { pathway: crate::export::PathwayDecl },
    /// synapses_create_generator: the arrays it resizes and Brian's generator.
    Generator {
        connect: crate::export::ConnectDecl,
        generator: Generator,
    },
    /// synapses_create_array: the arrays it resizes.
    FromArrays { connect: crate::export::ConnectDecl },
    /// summed_variable: the target range, and the constant holding its size.
    Summed {
        summed: crate::export::SummedDecl,
        target_size_name: String,
    },
    /// Every other template: nothing beyond its variables.
    Plain {},
}

/// How a generator connect() draws the result index for each outer element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectIterator {
    /// `range(...)`
    Range,
    /// `sample(..., size=k)`
    SampleFixed,
    /// `sample(..., p=p)`
    SampleP,
}

/// Brian's generator syntax of a `synapses_create_generator` code object
/// (its template keywords, all present).
#[derive(Debug, Clone, Serialize)]
pub struct Generator {
    pub iterator: ConnectIterator,
    /// The expression as written (for comments).
    pub original_expression: String,
    pub inner_variable: String,
    pub outer_index: String,
    pub outer_index_array: String,
    pub outer_index_offset: String,
    pub outer_index_size: String,
    pub result_index: String,
    pub result_index_array: String,
    pub result_index_size: String,
    pub result_index_offset: String,
    pub result_index_condition: bool,
    pub result_index_used: bool,
    /// The condition is the literal `True`.
    pub if_true: bool,
    pub skip_if_invalid: bool,
}

impl CodeObject {
    /// True when the scalar code writes a variable (a shared one: every element sees it).
    pub fn scalar_writes(&self) -> bool {
        self.blocks.iter().any(|b| !b.scalar_info.write.is_empty())
    }

    /// True when the code object draws random numbers: a statement calls
    /// `rand`, `randn`, `poisson` or a binomial, or its connect() samples
    /// (`sample(...)`, and so `connect(p=...)`: the template draws).
    pub fn uses_rng(&self) -> bool {
        let samples = matches!(
            &self.data,
            TemplateData::Generator { generator, .. } if generator.iterator != ConnectIterator::Range
        );
        samples
            || self
                .blocks
                .iter()
                .any(|b| self.stmts_use_rng(&b.scalar) || self.stmts_use_rng(&b.vector))
    }

    /// True when any of `stmts` calls `rand`, `randn` or `poisson`.
    pub fn stmts_use_rng(&self, stmts: &[Stmt]) -> bool {
        self.stmts_call(stmts, &|f| {
            matches!(
                f,
                Function::Rand | Function::Randn | Function::Poisson | Function::Binomial { .. }
            )
        })
    }

    /// True when any of `stmts` draws normals: `randn`, or a binomial by
    /// its normal approximation.
    pub fn stmts_use_randn(&self, stmts: &[Stmt]) -> bool {
        self.stmts_call(stmts, &|f| {
            matches!(f, Function::Randn | Function::Binomial { normal: true, .. })
        })
    }

    fn stmts_call(&self, stmts: &[Stmt], pred: &dyn Fn(&Function) -> bool) -> bool {
        stmts.iter().any(|s| {
            self.expr_calls(&s.expr, pred)
                || s.branches.iter().any(|b| self.expr_calls(&b.expr, pred))
        })
    }

    fn expr_calls(&self, expr: &Expr, pred: &dyn Fn(&Function) -> bool) -> bool {
        match &expr.kind {
            ExprKind::Call(name, args) => {
                matches!(self.symbols.get(name), Some(Symbol::Function(f)) if pred(f))
                    || args.iter().any(|a| self.expr_calls(a, pred))
            }
            ExprKind::Unary(_, a) => self.expr_calls(a, pred),
            ExprKind::Binary(_, l, r) => self.expr_calls(l, pred) || self.expr_calls(r, pred),
            _ => false,
        }
    }

    /// The event space the template fills or reads (threshold, reset,
    /// spikemonitor, synapses_push_spikes), Brian array name.
    pub fn eventspace(&self) -> Option<&str> {
        match &self.data {
            TemplateData::Threshold { eventspace, .. }
            | TemplateData::Reset { eventspace }
            | TemplateData::Spikemonitor { eventspace, .. }
            | TemplateData::Push { eventspace, .. } => Some(eventspace),
            _ => None,
        }
    }

    /// The pathway of `synapses_push_spikes` and `synapses`.
    pub fn pathway(&self) -> Option<&crate::export::PathwayDecl> {
        match &self.data {
            TemplateData::Push { pathway, .. } | TemplateData::Deliver { pathway } => Some(pathway),
            _ => None,
        }
    }

    /// The variables a monitor records (spikemonitor: per event; statemonitor: per step).
    pub fn recorded(&self) -> &[String] {
        match &self.data {
            TemplateData::Spikemonitor {
                record_variables: v,
                ..
            }
            | TemplateData::Statemonitor {
                recorded_variables: v,
            } => v,
            _ => &[],
        }
    }

    /// Whether the group is refractory (threshold).
    pub fn uses_refractory(&self) -> bool {
        matches!(
            self.data,
            TemplateData::Threshold {
                uses_refractory: true,
                ..
            }
        )
    }

    /// The block with this name (`None` for single-block templates).
    pub fn block(&self, name: Option<&str>) -> Option<&Block> {
        self.blocks.iter().find(|b| b.name.as_deref() == name)
    }
}

/// Brian's template names (the ones Brisk generates code for).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    Stateupdate,
    Threshold,
    Reset,
    GroupVariableSet,
    GroupVariableSetConditional,
    Spikemonitor,
    Statemonitor,
    Ratemonitor,
    Synapses,
    SynapsesPushSpikes,
    SynapsesCreateGenerator,
    SynapsesCreateArray,
    SummedVariable,
    Spikegenerator,
    /// `SpatialNeuron`: the implicit cable solve (Brian's `spatialstateupdate`).
    Spatialstateupdate,
    /// A template Brisk does not know.
    Other(String),
}

impl Template {
    /// Every template Brisk knows (all but [`Template::Other`]).
    pub const KNOWN: [Template; 15] = [
        Template::Stateupdate,
        Template::Threshold,
        Template::Reset,
        Template::GroupVariableSet,
        Template::GroupVariableSetConditional,
        Template::Spikemonitor,
        Template::Statemonitor,
        Template::Ratemonitor,
        Template::Synapses,
        Template::SynapsesPushSpikes,
        Template::SynapsesCreateGenerator,
        Template::SynapsesCreateArray,
        Template::SummedVariable,
        Template::Spikegenerator,
        Template::Spatialstateupdate,
    ];

    pub fn from_name(name: &str) -> Template {
        match name {
            "stateupdate" => Template::Stateupdate,
            "threshold" => Template::Threshold,
            "reset" => Template::Reset,
            "group_variable_set" => Template::GroupVariableSet,
            "group_variable_set_conditional" => Template::GroupVariableSetConditional,
            "spikemonitor" => Template::Spikemonitor,
            "statemonitor" => Template::Statemonitor,
            "ratemonitor" => Template::Ratemonitor,
            "synapses" => Template::Synapses,
            "synapses_push_spikes" => Template::SynapsesPushSpikes,
            "synapses_create_generator" => Template::SynapsesCreateGenerator,
            "synapses_create_array" => Template::SynapsesCreateArray,
            "summed_variable" => Template::SummedVariable,
            "spikegenerator" => Template::Spikegenerator,
            "spatialstateupdate" => Template::Spatialstateupdate,
            other => Template::Other(other.to_string()),
        }
    }

    /// True for the templates Brisk generates code for.
    pub fn is_supported(&self) -> bool {
        matches!(
            self,
            Template::Stateupdate
                | Template::Threshold
                | Template::Reset
                | Template::GroupVariableSet
                | Template::GroupVariableSetConditional
                | Template::Spikemonitor
                | Template::Statemonitor
                | Template::Ratemonitor
                | Template::Synapses
                | Template::SynapsesPushSpikes
                | Template::SynapsesCreateGenerator
                | Template::SynapsesCreateArray
                | Template::SummedVariable
                | Template::Spikegenerator
                | Template::Spatialstateupdate
        )
    }

    /// The error for a Brian object that needs a template Brisk does not support.
    pub fn unsupported(&self, owner_class: &str, owner: &str) -> crate::diag::Error {
        crate::diag::Error::not_implemented(format!(
            "Brisk does not support Brian's '{}' template yet (needed by {owner_class} '{owner}')",
            self.name()
        ))
    }

    /// Brian's name of the template.
    pub fn name(&self) -> &str {
        match self {
            Template::Stateupdate => "stateupdate",
            Template::Threshold => "threshold",
            Template::Reset => "reset",
            Template::GroupVariableSet => "group_variable_set",
            Template::GroupVariableSetConditional => "group_variable_set_conditional",
            Template::Spikemonitor => "spikemonitor",
            Template::Statemonitor => "statemonitor",
            Template::Ratemonitor => "ratemonitor",
            Template::Synapses => "synapses",
            Template::SynapsesPushSpikes => "synapses_push_spikes",
            Template::SynapsesCreateGenerator => "synapses_create_generator",
            Template::SynapsesCreateArray => "synapses_create_array",
            Template::SummedVariable => "summed_variable",
            Template::Spikegenerator => "spikegenerator",
            Template::Spatialstateupdate => "spatialstateupdate",
            Template::Other(name) => name,
        }
    }
}

/// One abstract-code block with its typed statements.
#[derive(Debug, Clone, Serialize)]
pub struct Block {
    /// `None` for single-block templates; `condition`, `statement`, ... otherwise.
    pub name: Option<String>,
    /// Statements run once per call.
    pub scalar: Vec<Stmt>,
    /// Statements run per element.
    pub vector: Vec<Stmt>,
    /// Array reads/writes of each part (Brian's `arrays_helper`).
    pub scalar_info: AccessInfo,
    pub vector_info: AccessInfo,
}

/// Which array variables a statement sequence loads, stores and indexes through.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AccessInfo {
    /// Array variables loaded into locals before the statements (sorted).
    pub read: BTreeSet<String>,
    /// Array variables stored back after the statements (sorted).
    pub write: BTreeSet<String>,
    /// Index-array variables to load first (sorted).
    pub indices: BTreeSet<String>,
}

/// An assignment statement.
#[derive(Debug, Clone, Serialize)]
pub struct Stmt {
    /// The assigned name.
    pub var: String,
    pub op: AssignOp,
    pub expr: Expr,
    /// Type of `var` (of the new local for [`AssignOp::Declare`]).
    pub dtype: Dtype,
    /// A declared local that is never reassigned.
    pub constant: bool,
    /// Brian's boolean simplification: alternative expressions selected by
    /// the values of boolean variables, tried in order (empty if none).
    pub branches: Vec<BoolBranch>,
    /// The statement as text, for messages.
    pub source: String,
}

/// One branch of a boolean-simplified statement.
#[derive(Debug, Clone, Serialize)]
pub struct BoolBranch {
    /// `(variable, value)` pairs that must all hold.
    pub when: Vec<(String, bool)>,
    pub expr: Expr,
}

/// Assignment operators of Brian's abstract code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AssignOp {
    /// `=`
    Assign,
    /// `:=` declares a new local.
    Declare,
    /// `+=`
    Add,
    /// `-=`
    Sub,
    /// `*=`
    Mul,
    /// `/=`
    Div,
    /// `%=`
    Mod,
    /// `//=`
    FloorDiv,
    /// `**=`
    Pow,
}

impl AssignOp {
    pub fn from_str(op: &str) -> Option<AssignOp> {
        Some(match op {
            "=" => AssignOp::Assign,
            ":=" => AssignOp::Declare,
            "+=" => AssignOp::Add,
            "-=" => AssignOp::Sub,
            "*=" => AssignOp::Mul,
            "/=" => AssignOp::Div,
            "%=" => AssignOp::Mod,
            "//=" => AssignOp::FloorDiv,
            "**=" => AssignOp::Pow,
            _ => return None,
        })
    }

    /// The binary operator of an in-place assignment.
    pub fn binary(self) -> Option<BinaryOp> {
        Some(match self {
            AssignOp::Assign | AssignOp::Declare => return None,
            AssignOp::Add => BinaryOp::Add,
            AssignOp::Sub => BinaryOp::Sub,
            AssignOp::Mul => BinaryOp::Mul,
            AssignOp::Div => BinaryOp::Div,
            AssignOp::Mod => BinaryOp::Mod,
            AssignOp::FloorDiv => BinaryOp::FloorDiv,
            AssignOp::Pow => BinaryOp::Pow,
        })
    }
}

/// A typed expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    /// Result type under Brian's rules.
    pub dtype: Dtype,
}

/// Expression forms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExprKind {
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A name resolved in [`CodeObject::symbols`] (or a local declared earlier).
    Name(String),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// A call of a function in [`CodeObject::symbols`] (or a built-in such as `int`).
    Call(String, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UnaryOp {
    Neg,
    Pos,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    /// True division (`/`): Brian renders `1.0f*a/b`.
    Div,
    /// `//`: Python floor division.
    FloorDiv,
    /// `%`: Python modulo (sign of the divisor).
    Mod,
    /// `**`
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

/// What a name means inside one code object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Symbol {
    /// A value fixed at export time.
    Constant { dtype: Dtype, value: Value },
    /// An element of a Brian array.
    Array {
        /// Brian's array name (key of [`crate::export::ArrayDecl`]).
        array: String,
        dtype: Dtype,
        /// One value shared by all elements.
        scalar: bool,
        index: Index,
        dynamic: bool,
        read_only: bool,
    },
    /// `t`, `dt` or `timestep` of the code object's clock: passed to every
    /// launch, never read from memory.
    Clock { clock: String, field: ClockField },
    /// A template-local variable (Brian `AuxiliaryVariable`) or a local declared with `:=`.
    Local { dtype: Dtype },
    /// A function: Brian default function, `rand`/`randn`, TimedArray, ...
    Function(Function),
}

/// How an array variable is indexed in the vector code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Index {
    /// `_idx`: the element the loop is at.
    Element,
    /// `0`: a scalar.
    Scalar,
    /// Through an index array variable (`_postsynaptic_idx`, ...), by its variable name.
    Via(String),
}

/// Which clock value a [`Symbol::Clock`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ClockField {
    T,
    Dt,
    Timestep,
}

/// Functions callable from abstract code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Function {
    /// A Brian default function rendered by name (exp, log, sqrt, clip, int, timestep, ...).
    Builtin(String),
    /// `rand()`: uniform in [0, 1) from Brisk's Philox stream.
    Rand,
    /// `randn()`: standard normal from Brisk's Philox stream.
    Randn,
    /// `poisson(lam)`.
    Poisson,
    /// A Brian `BinomialFunction` (PoissonInput): `n` trials of probability
    /// `p`; a normal approximation when `normal`.
    Binomial {
        name: String,
        n: u64,
        p: f64,
        normal: bool,
    },
    /// A user function with C++ code: `pieces` are `(C name, code)` of its
    /// dependencies and then of itself, in the order to emit them.
    User {
        c_name: String,
        pieces: Vec<(String, String)>,
        return_type: String,
        auto_vectorise: bool,
    },
    /// A TimedArray: values in a static array (`rows` x `cols`, row-major),
    /// sampled every `dt` and read with Brian's upsampling factor `k`.
    TimedArray {
        name: String,
        values: String,
        ndim: u8,
        rows: u64,
        cols: u64,
        dt: f64,
        k: u64,
    },
}

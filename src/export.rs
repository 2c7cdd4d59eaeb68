//! Export reader: the manifest the Python device writes, as typed Rust values.
//!
//! In: an export folder (`manifest.json`, plus `../static_arrays/` beside it,
//! as Brian's `write_static_arrays` leaves them). Out: [`Export`], checked for
//! its format name and version ([`Export::read_json`]; [`crate::validate::read`]
//! reads and validates an export), and [`Export::read_static_array`] for the raw
//! static arrays. The format is documented in `docs/export-format.md`; this
//! module mirrors `python/brian2brisk/export.py` and is the only place that
//! knows its JSON shape.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diag::{Error, Result};
use crate::dtype::{Dtype, Value};

/// The export format version this build reads.
pub const EXPORT_VERSION: u32 = 4;

/// A whole export: arrays, clocks, code objects and the main queue.
#[derive(Debug, Clone, Deserialize)]
pub struct Export {
    /// Always `"brisk-export"`.
    pub format: String,
    /// Must equal [`EXPORT_VERSION`].
    pub version: u32,
    /// The Brian version that wrote the export.
    pub brian_version: String,
    /// `prefs.core.default_float_dtype`.
    pub float_dtype: Dtype,
    /// Every array of `device.arrays`, sorted by name.
    pub arrays: Vec<ArrayDecl>,
    /// Static arrays in `static_arrays/`: name -> dtype and length.
    pub static_arrays: BTreeMap<String, StaticArrayDecl>,
    /// Every clock used by a network, sorted by name.
    pub clocks: Vec<ClockDecl>,
    /// Every code object, in creation order.
    pub code_objects: Vec<CodeObjectDecl>,
    /// The main queue, in order.
    pub main_queue: Vec<QueueEntry>,
    /// Where the export was read from (not part of the JSON).
    #[serde(skip)]
    pub dir: PathBuf,
    /// Array and code-object names -> their first position (not part of the JSON).
    #[serde(skip)]
    index: NameIndex,
}

/// The position of each name's first declaration, built once when an export is read.
#[derive(Debug, Clone, Default)]
struct NameIndex {
    arrays: HashMap<String, usize>,
    code_objects: HashMap<String, usize>,
}

/// One Brian array (`ArrayVariable` or `DynamicArrayVariable`).
#[derive(Debug, Clone, Deserialize)]
pub struct ArrayDecl {
    /// Brian's name for the whole array, e.g. `_array_neurongroup_v` or
    /// `_dynamic_array_spikemonitor_t`: the key used everywhere in the export.
    pub name: String,
    /// The owning Brian object's name.
    pub owner: Option<String>,
    /// The variable's name in its owner.
    pub var: String,
    pub dtype: Dtype,
    /// Element count, or `[rows, cols]` for 2-D dynamic arrays (size at export time).
    pub size: ArraySize,
    pub dynamic: bool,
    pub ndim: u8,
    pub scalar: bool,
    pub read_only: bool,
    pub constant: bool,
    /// Results file name, `<name>_<crc32(name)>`.
    pub file: String,
    /// `zeros` or `arange` (then `arange_start`).
    pub init: ArrayInit,
    #[serde(default)]
    pub arange_start: i64,
    #[serde(default)]
    pub resize_along_first: bool,
}

/// Size of an array at export time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ArraySize {
    Flat(u64),
    TwoD([u64; 2]),
}

impl ArraySize {
    /// Total element count.
    pub fn len(self) -> u64 {
        match self {
            ArraySize::Flat(n) => n,
            // validation bounds every declared size, so this cannot saturate
            ArraySize::TwoD([r, c]) => r.saturating_mul(c),
        }
    }
}

/// How an array starts out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArrayInit {
    Zeros,
    Arange,
}

/// A static array file written by Brian (`arr.tofile`).
#[derive(Debug, Clone, Deserialize)]
pub struct StaticArrayDecl {
    pub dtype: Dtype,
    pub size: u64,
}

/// A Brian clock: a regular `Clock` (fixed dt) or an `EventClock` (a list of times).
#[derive(Debug, Clone, Deserialize)]
pub struct ClockDecl {
    pub name: String,
    pub kind: ClockKind,
    /// Regular clocks: dt in seconds at export time (the `dt` array holds the value set by the queue).
    #[serde(default)]
    pub dt: Option<f64>,
    pub t_array: String,
    #[serde(default)]
    pub dt_array: Option<String>,
    pub timestep_array: String,
    /// Event clocks: the sorted times, ending with +inf.
    #[serde(default)]
    pub times_array: Option<String>,
}

/// Which kind of Brian clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockKind {
    Regular,
    Event,
}

/// One code object as `device.code_object` saw it.
#[derive(Debug, Clone, Deserialize)]
pub struct CodeObjectDecl {
    pub name: String,
    /// Brian's template name (`stateupdate`, `threshold`, ...).
    pub template: String,
    pub owner: OwnerDecl,
    /// The clock it runs on (for code objects run from the main queue: the owner's clock).
    pub clock: Option<String>,
    pub when: Option<String>,
    pub order: Option<i64>,
    /// The scheduled Brian object (e.g. `neurongroup_stateupdater`).
    #[serde(default)]
    pub object: Option<String>,
    /// Abstract-code blocks, sorted by name (`null` for single-block templates).
    pub blocks: Vec<BlockDecl>,
    /// Variables by name, as the code object sees them.
    pub variables: BTreeMap<String, VariableDecl>,
    /// Variable name -> index name (`_idx`, `0`, or an index array's name).
    pub indices: BTreeMap<String, String>,
    /// The template keywords Brisk uses (the others are ignored).
    #[serde(default)]
    pub template_kwds: TemplateKwds,
    /// Variable -> the boolean variable guarding writes to it.
    #[serde(default)]
    pub conditional_writes: BTreeMap<String, String>,
    #[serde(default)]
    pub override_conditional_write: Vec<String>,
    /// The array holding the events (threshold, reset, spikemonitor).
    #[serde(default)]
    pub eventspace: Option<String>,
    /// `synapses_create_*`: what adding synapses resizes.
    #[serde(default)]
    pub connect: Option<ConnectDecl>,
    /// `synapses_push_spikes` and `synapses`: the pathway.
    #[serde(default)]
    pub pathway: Option<PathwayDecl>,
    /// `summed_variable`: the target range.
    #[serde(default)]
    pub summed: Option<SummedDecl>,
}

/// The template keywords Brisk reads (Brian's `template_kwds`; objects in
/// them are reduced to `{name, type}` by the exporter). The names among them
/// become code, so validation checks each ([`TemplateKwds::names`]).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct TemplateKwds {
    /// Threshold: whether the group is refractory.
    #[serde(rename = "_uses_refractory")]
    pub uses_refractory: bool,
    /// Summed variables: the constant holding the target group's size.
    #[serde(rename = "_target_size_name")]
    pub target_size_name: Option<String>,
    /// Monitors: the recorded variables (their names, sorted).
    #[serde(deserialize_with = "map_keys")]
    pub record_variables: Vec<String>,
    #[serde(rename = "_recorded_variables", deserialize_with = "map_keys")]
    pub recorded_variables: Vec<String>,
    /// `synapses_create_generator`: Brian's generator syntax, parsed.
    pub original_expression: Option<String>,
    pub iterator_func: Option<String>,
    pub iterator_kwds: IteratorKwds,
    pub inner_variable: Option<String>,
    pub outer_index: Option<String>,
    pub outer_index_array: Option<String>,
    pub outer_index_offset: Option<String>,
    pub outer_index_size: Option<String>,
    pub result_index: Option<String>,
    pub result_index_array: Option<String>,
    pub result_index_size: Option<String>,
    pub result_index_offset: Option<String>,
    pub result_index_condition: bool,
    pub result_index_used: bool,
    pub if_expression: Option<String>,
    pub skip_if_invalid: bool,
}

/// `iterator_kwds` of a generator connect: only the sample mode is read.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct IteratorKwds {
    pub sample_size: Option<String>,
}

/// The sorted keys of a JSON object.
fn map_keys<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    let map = BTreeMap::<String, serde::de::IgnoredAny>::deserialize(d)?;
    Ok(map.into_keys().collect())
}

impl TemplateKwds {
    /// The keywords that generated code uses as names, by keyword.
    pub fn names(&self) -> Vec<(&'static str, &str)> {
        [
            ("_target_size_name", &self.target_size_name),
            ("iterator_func", &self.iterator_func),
            ("inner_variable", &self.inner_variable),
            ("outer_index", &self.outer_index),
            ("outer_index_array", &self.outer_index_array),
            ("outer_index_offset", &self.outer_index_offset),
            ("outer_index_size", &self.outer_index_size),
            ("result_index", &self.result_index),
            ("result_index_array", &self.result_index_array),
            ("result_index_size", &self.result_index_size),
            ("result_index_offset", &self.result_index_offset),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

/// What a `connect()` code object resizes.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct ConnectDecl {
    /// The Synapses object.
    pub synapses: String,
    /// Every array registered with the Synapses (resized to the synapse count), sorted.
    pub registered: Vec<String>,
    /// The `synapse_number` array of `multisynaptic_index`, if any.
    pub multisynaptic_index: Option<String>,
}

/// A synaptic pathway (`synapses_pre`, `synapses_post`, ...).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct PathwayDecl {
    pub name: String,
    pub synapses: String,
    pub prepost: String,
    /// Each synapse's source neuron (`_synaptic_pre` for `pre` pathways).
    pub sources: String,
    /// The delay array: one value (`delay_scalar`) or one per synapse.
    pub delay: String,
    pub delay_scalar: bool,
    /// The source (sub)group's range of neuron indices in the event space.
    pub spikes_start: i64,
    pub spikes_stop: i64,
    pub eventspace: String,
    /// The source clock's `dt` array.
    pub source_dt: String,
}

/// The target of a `(summed)` variable.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct SummedDecl {
    pub target: String,
    /// Synapse -> target element (`_synaptic_post` or `_synaptic_pre`).
    pub index: String,
    pub start: i64,
    pub stop: i64,
}

/// The Brian object owning a code object.
#[derive(Debug, Clone, Deserialize)]
pub struct OwnerDecl {
    pub name: String,
    pub class: String,
}

/// One abstract-code block with Brian's statements for it.
#[derive(Debug, Clone, Deserialize)]
pub struct BlockDecl {
    /// Block name (`condition`, `statement`, ...) or `None`.
    pub name: Option<String>,
    /// The abstract code as Brian wrote it.
    pub abstract_code: String,
    /// `make_statements` output: statements run once per call.
    pub scalar: Vec<StatementDecl>,
    /// `make_statements` output: statements run per element.
    pub vector: Vec<StatementDecl>,
}

impl BlockDecl {
    /// The block's name for messages (`main` when Brian gives none).
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("main")
    }
}

/// A statement from Brian's `make_statements`.
#[derive(Debug, Clone, Deserialize)]
pub struct StatementDecl {
    pub var: String,
    /// `=`, `:=`, `+=`, `-=`, `*=`, `/=` (and the other in-place operators).
    pub op: String,
    pub expr: String,
    pub dtype: Dtype,
    pub constant: bool,
    pub scalar: bool,
    #[serde(default)]
    pub comment: Option<String>,
    /// Boolean variables whose values select a simplified expression.
    #[serde(default)]
    pub boolean_variables: Vec<String>,
    /// The simplified expression per assignment of `boolean_variables`.
    #[serde(default)]
    pub boolean_branches: Vec<BooleanBranchDecl>,
}

/// One branch of Brian's boolean simplification.
#[derive(Debug, Clone, Deserialize)]
pub struct BooleanBranchDecl {
    /// Pairs `[variable, value]` that select this branch.
    pub when: Vec<(String, bool)>,
    pub expr: String,
}

/// A variable as a code object sees it.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VariableDecl {
    /// A `Constant`: value known at export time.
    Constant { dtype: Dtype, value: Value },
    /// An `ArrayVariable` or `DynamicArrayVariable`.
    Array {
        array: String,
        dtype: Dtype,
        scalar: bool,
        read_only: bool,
        constant: bool,
        dynamic: bool,
        ndim: u8,
        owner: Option<String>,
        index: String,
        #[serde(default)]
        conditional_write: Option<String>,
    },
    /// An `AuxiliaryVariable`: a local of the template.
    Auxiliary { dtype: Dtype },
    /// A `Subexpression` (already inlined by `make_statements`).
    Subexpression {
        dtype: Dtype,
        expr: String,
        scalar: bool,
    },
    /// A `TimedArray`: `values` is its static array, `k` Brian's upsampling
    /// factor for this code object's clock.
    TimedArray {
        ndim: u8,
        shape: Vec<u64>,
        dt: f64,
        k: u64,
        values: String,
    },
    /// A Brian `BinomialFunction` (PoissonInput): `n` draws of probability
    /// `p`, sampled from a normal distribution when `normal`.
    Binomial { n: u64, p: f64, normal: bool },
    /// A user `Function` with a C++ implementation: its code, inserted
    /// before the kernels (as `__device__` code on CUDA), and the user
    /// functions it calls.
    UserFunction {
        c_name: String,
        support_code: String,
        hashdefine_code: String,
        /// Brian's `return_type`: `float`, `integer`, `boolean` or `highest`.
        return_type: String,
        dependencies: BTreeMap<String, VariableDecl>,
        /// Brian's `auto_vectorise`: calls get the element index (`_vectorisation_idx`) as a last argument.
        #[serde(default)]
        auto_vectorise: bool,
    },
    /// Any other `Function` (Brian's default functions).
    Function {
        name: String,
        auto_vectorise: bool,
        stateless: bool,
    },
}

/// One entry of Brian's main queue.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueueEntry {
    RunCodeObject {
        code_object: String,
    },
    BeforeRunCodeObject {
        code_object: String,
    },
    AfterRunCodeObject {
        code_object: String,
    },
    RunNetwork(RunNetwork),
    SetByConstant {
        array: String,
        value: Value,
    },
    SetByArray {
        array: String,
        static_array: String,
    },
    /// `item` may be negative: Python indexing from the end.
    SetBySingleValue {
        array: String,
        item: i64,
        value: Value,
    },
    SetArrayByArray {
        array: String,
        static_index: String,
        static_value: String,
    },
    ResizeArray {
        array: String,
        size: u64,
    },
    Seed {
        seed: Option<u64>,
    },
    /// `device.set_random_state(state)` in a live session: the random-number
    /// key and the launches since it (`device.get_random_state()`).
    SetRandomState {
        seed: u64,
        stream: u64,
    },
    ApplyRunArgs,
    /// `Network.store(name)`: the arrays of the network's objects and clocks
    /// and the queues of its pathways, kept in the simulation under
    /// (`network`, `name`).
    StoreState {
        network: String,
        name: String,
        arrays: Vec<String>,
        pathways: Vec<String>,
    },
    /// `Network.restore(name)`: puts back what `StoreState` kept (and the
    /// random-number state with `random_state`).
    RestoreState {
        network: String,
        name: String,
        random_state: bool,
    },
}

/// A `run()` call.
#[derive(Debug, Clone, Deserialize)]
pub struct RunNetwork {
    pub network: String,
    /// Seconds of simulated time.
    pub duration: f64,
    /// `text`, `stdout`, `stderr`, or none.
    pub report: Option<String>,
    pub report_period: f64,
    /// Code objects in Brian's schedule order; `code_object` is `None` for a clock with no code.
    pub objects: Vec<ScheduledObject>,
    #[serde(default)]
    pub profile: bool,
    /// A live session: the network's time where the run starts, as Python has it
    /// (Brian's magic network starts again at 0 when every object is new).
    #[serde(default)]
    pub t_start: Option<f64>,
    /// The network's `schedule` (its slots in order), when it is not Brian's default.
    #[serde(default)]
    pub schedule: Option<Vec<String>>,
}

/// One `network.add(&clock, codeobj)`.
#[derive(Debug, Clone, Deserialize)]
pub struct ScheduledObject {
    pub clock: String,
    pub code_object: Option<String>,
    /// A live session's `network_operation` (its number in the Python device), called here.
    #[serde(default)]
    pub operation: Option<u32>,
}

impl Export {
    /// Reads `<dir>/manifest.json` as JSON and checks its format name and
    /// version: the first step of [`crate::validate::read`], the only way to
    /// an `Export` outside tests.
    pub fn read_json(dir: &Path) -> Result<serde_json::Value> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::export(format!("cannot read {}: {e}", path.display())))?;
        let probe: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::export(format!("{} is not JSON: {e}", path.display())))?;
        let format = probe.get("format").and_then(|f| f.as_str());
        if format != Some("brisk-export") {
            return Err(Error::export(format!(
                "{} is not a Brisk export (format {:?})",
                path.display(),
                format
            )));
        }
        let version = probe.get("version").and_then(|v| v.as_u64());
        if version != Some(u64::from(EXPORT_VERSION)) {
            return Err(Error::export(format!(
                "{} has export version {:?}, this brisk reads version {EXPORT_VERSION}; \
                 reinstall brian2brisk so the device and the binary match",
                path.display(),
                version
            )));
        }
        Ok(probe)
    }

    /// The export in `json` (from [`Export::read_json`] of `dir`, its names
    /// checked): the second step of [`crate::validate::read`], which then
    /// validates it.
    pub fn from_json(dir: &Path, json: serde_json::Value) -> Result<Export> {
        let mut export: Export = serde_path_to_error::deserialize(json).map_err(|e| {
            let at = e.path().to_string();
            Error::export(format!(
                "malformed export {}: {}",
                dir.join("manifest.json").display(),
                e.into_inner()
            ))
            .at_path(&at)
        })?;
        export.dir = dir.to_path_buf();
        for (i, a) in export.arrays.iter().enumerate() {
            export.index.arrays.entry(a.name.clone()).or_insert(i);
        }
        for (i, c) in export.code_objects.iter().enumerate() {
            export.index.code_objects.entry(c.name.clone()).or_insert(i);
        }
        Ok(export)
    }

    /// The folder holding Brian's static arrays (`<project>/static_arrays`).
    pub fn static_dir(&self) -> PathBuf {
        self.dir.join("..").join("static_arrays")
    }

    /// Reads a static array's raw bytes, checking its length against the manifest.
    pub fn read_static_array(&self, name: &str) -> Result<(Dtype, Vec<u8>)> {
        let decl = self
            .static_arrays
            .get(name)
            .ok_or_else(|| Error::export(format!("unknown static array '{name}'")))?;
        let path = self.static_dir().join(name);
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::export(format!("cannot read static array {}: {e}", path.display()))
        })?;
        let expected = decl.size as usize * decl.dtype.size();
        if bytes.len() != expected {
            return Err(Error::export(format!(
                "static array '{name}' has {} bytes, expected {expected}",
                bytes.len()
            )));
        }
        Ok((decl.dtype, bytes))
    }

    /// The array with Brian name `name`.
    pub fn array(&self, name: &str) -> Option<&ArrayDecl> {
        self.index.arrays.get(name).map(|&i| &self.arrays[i])
    }

    /// Where the array `name` is first declared in `arrays`.
    pub fn array_position(&self, name: &str) -> Option<usize> {
        self.index.arrays.get(name).copied()
    }

    /// The code object named `name`.
    pub fn code_object(&self, name: &str) -> Option<&CodeObjectDecl> {
        self.index
            .code_objects
            .get(name)
            .map(|&i| &self.code_objects[i])
    }

    /// Where the code object `name` is first declared in `code_objects`.
    pub fn code_object_position(&self, name: &str) -> Option<usize> {
        self.index.code_objects.get(name).copied()
    }
}

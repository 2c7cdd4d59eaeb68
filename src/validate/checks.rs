//! The semantic checks of a deserialised export (see the module header of
//! [`crate::validate`] for what they guarantee).

use std::collections::BTreeMap;

use crate::diag::{Error, Result};
use crate::dtype::{Dtype, Value};
use crate::export::{
    ArrayDecl, ArrayInit, ArraySize, ClockKind, CodeObjectDecl, Export, QueueEntry,
    StaticArrayDecl, VariableDecl,
};

use super::is_identifier;

/// The most bytes one array may declare (256 TiB: beyond any device, and
/// far from overflowing `u64`/`usize` arithmetic on element offsets).
pub const MAX_ARRAY_BYTES: u64 = 1 << 48;

const _: () = assert!(MAX_ARRAY_BYTES / 8 == super::needs::MAX_ELEMENTS);

/// The most steps one `run()` may take.
pub const MAX_STEPS: f64 = (1u64 << 53) as f64;

/// Checks a deserialised export; names were checked on its JSON before.
pub fn validate(export: &Export) -> Result<()> {
    let v = Validator { export };
    v.arrays()?;
    v.static_arrays()?;
    v.clocks()?;
    for (i, co) in export.code_objects.iter().enumerate() {
        v.code_object(i, co)?;
    }
    let dts = export
        .clocks
        .iter()
        .filter_map(|c| c.dt_array.clone().map(|a| (a, c.dt.unwrap_or(0.0))))
        .collect();
    v.queue(&export.main_queue, dts, "main_queue")?;
    Ok(())
}

/// Checks main-queue `entries` that a live session runs on an export it
/// validated before (`brisk session`'s `run` request), with `dts` the dt
/// each clock's array holds now; `what` names them in errors. `export`
/// holds the static arrays `added` for them, which are checked too.
pub fn queue_entries(
    export: &Export,
    added: &BTreeMap<String, StaticArrayDecl>,
    entries: &[QueueEntry],
    dts: BTreeMap<String, f64>,
    what: &str,
) -> Result<()> {
    let v = Validator { export };
    for (name, decl) in added {
        let path = format!("{what}.static_arrays.{name}");
        if !is_identifier(name) {
            return Err(err(
                &path,
                format!("'{name}' is not a name of a static array"),
            ));
        }
        v.static_array(name, decl, &path)?;
    }
    v.queue(entries, dts, what)
}

struct Validator<'a> {
    export: &'a Export,
}

fn err(path: &str, message: String) -> Error {
    Error::export(message).at_path(path)
}

impl<'a> Validator<'a> {
    fn array(&self, name: &str, path: &str) -> Result<&'a ArrayDecl> {
        self.export.array(name).ok_or_else(|| {
            err(
                path,
                format!("names the array '{name}', which is not in the export's arrays"),
            )
        })
    }

    fn arrays(&self) -> Result<()> {
        let mut files = BTreeMap::new();
        for (i, a) in self.export.arrays.iter().enumerate() {
            let path = format!("arrays[{i}]");
            let len = match a.size {
                ArraySize::Flat(n) => Some(n),
                ArraySize::TwoD([r, c]) => r.checked_mul(c),
            };
            let bytes = len.and_then(|n| n.checked_mul(a.dtype.size() as u64));
            if !bytes.is_some_and(|b| b <= MAX_ARRAY_BYTES) {
                return Err(err(&format!("{path}.size"), format!(
                    "array '{}' declares {:?} elements of {} bytes: more than {MAX_ARRAY_BYTES} bytes", a.name, a.size, a.dtype.size()
                )));
            }
            if matches!(a.size, ArraySize::TwoD(_)) != (a.ndim == 2)
                || !(1..=2).contains(&a.ndim)
                || (a.ndim == 2 && !a.dynamic)
            {
                return Err(err(
                    &format!("{path}.ndim"),
                    format!(
                        "array '{}' has ndim {} and size {:?}",
                        a.name, a.ndim, a.size
                    ),
                ));
            }
            if a.scalar && a.size.len() != 1 {
                return Err(err(
                    &format!("{path}.size"),
                    format!("scalar array '{}' has {} elements", a.name, a.size.len()),
                ));
            }
            if a.init == ArrayInit::Arange
                && a.arange_start.checked_add(a.size.len() as i64).is_none()
            {
                return Err(err(
                    &format!("{path}.arange_start"),
                    format!("array '{}' counts past 2^63", a.name),
                ));
            }
            if let Some(other) = files.insert(a.file.as_str(), &a.name) {
                return Err(err(
                    &format!("{path}.file"),
                    format!(
                        "arrays '{other}' and '{}' share the results file '{}'",
                        a.name, a.file
                    ),
                ));
            }
            if self.export.array_position(&a.name) != Some(i) {
                return Err(err(
                    &format!("{path}.name"),
                    format!("the array '{}' is declared twice", a.name),
                ));
            }
        }
        Ok(())
    }

    fn static_arrays(&self) -> Result<()> {
        for (name, decl) in &self.export.static_arrays {
            self.static_array(name, decl, &format!("static_arrays.{name}"))?;
        }
        Ok(())
    }

    fn static_array(&self, name: &str, decl: &StaticArrayDecl, path: &str) -> Result<()> {
        let expected = decl
            .size
            .checked_mul(decl.dtype.size() as u64)
            .filter(|&b| b <= MAX_ARRAY_BYTES);
        let Some(expected) = expected else {
            return Err(err(
                path,
                format!(
                    "static array '{name}' declares {} elements: too many",
                    decl.size
                ),
            ));
        };
        let file = self.export.static_dir().join(name);
        let meta = std::fs::symlink_metadata(&file).map_err(|e| {
            err(
                path,
                format!(
                    "cannot read static array '{name}' ({}): {e}",
                    file.display()
                ),
            )
        })?;
        if !meta.is_file() {
            return Err(err(
                path,
                format!(
                    "static array '{name}' ({}) is not a regular file",
                    file.display()
                ),
            ));
        }
        if meta.len() != expected {
            return Err(err(path, format!(
                "static array '{name}' has {} bytes, the manifest declares {} elements of {} ({expected} bytes)",
                meta.len(), decl.size, decl.dtype.name()
            )));
        }
        Ok(())
    }

    fn clocks(&self) -> Result<()> {
        for (i, c) in self.export.clocks.iter().enumerate() {
            let path = format!("clocks[{i}]");
            self.scalar_of(&c.t_array, Dtype::Float64, &format!("{path}.t_array"))?;
            self.scalar_of(
                &c.timestep_array,
                Dtype::Int64,
                &format!("{path}.timestep_array"),
            )?;
            match c.kind {
                ClockKind::Regular => {
                    let dt = c.dt.unwrap_or(f64::NAN);
                    if !(dt.is_finite() && dt > 0.0) {
                        return Err(err(
                            &format!("{path}.dt"),
                            format!(
                                "clock '{}' has dt = {dt}: dt must be finite and > 0",
                                c.name
                            ),
                        ));
                    }
                    let dt_array = c
                        .dt_array
                        .as_deref()
                        .ok_or_else(|| err(&path, format!("clock '{}' has no dt array", c.name)))?;
                    self.scalar_of(dt_array, Dtype::Float64, &format!("{path}.dt_array"))?;
                }
                ClockKind::Event => {
                    let times = c.times_array.as_deref().ok_or_else(|| {
                        err(&path, format!("event clock '{}' has no times", c.name))
                    })?;
                    let a = self.array(times, &format!("{path}.times_array"))?;
                    if a.dtype != Dtype::Float64 || a.size.len() == 0 {
                        return Err(err(
                            &format!("{path}.times_array"),
                            format!("event clock '{}' needs float64 times", c.name),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// `name` is an array of one element of `dtype`.
    fn scalar_of(&self, name: &str, dtype: Dtype, path: &str) -> Result<&'a ArrayDecl> {
        let a = self.array(name, path)?;
        if a.dtype != dtype || a.size.len() != 1 || a.dynamic {
            return Err(err(
                path,
                format!(
                    "'{name}' must be one {} element (it is {:?} of {})",
                    dtype.name(),
                    a.size,
                    a.dtype.name()
                ),
            ));
        }
        Ok(a)
    }

    fn clock_exists(&self, name: &str, path: &str) -> Result<()> {
        if self.export.clocks.iter().any(|c| c.name == name) {
            Ok(())
        } else {
            Err(err(
                path,
                format!("names the clock '{name}', which is not in the export's clocks"),
            ))
        }
    }

    fn code_object(&self, i: usize, co: &CodeObjectDecl) -> Result<()> {
        let path = format!("code_objects[{i}]");
        let within = |e: Error| e.in_object(&co.owner.name, &co.name);
        if self.export.code_object_position(&co.name) != Some(i) {
            return Err(within(err(
                &format!("{path}.name"),
                "the code object is declared twice".to_string(),
            )));
        }
        if let Some(clock) = &co.clock {
            self.clock_exists(clock, &format!("{path}.clock"))
                .map_err(within)?;
        }
        for (name, var) in &co.variables {
            self.variable(co, var, &format!("{path}.variables.{name}"))
                .map_err(within)?;
        }
        for (var, index) in &co.indices {
            // Brian lists indices of variables the code object may not have;
            // an index that is a variable of it must be an integer array
            let ok = match co.variables.get(index) {
                None => true,
                Some(VariableDecl::Array { dtype, .. } | VariableDecl::Auxiliary { dtype }) => {
                    dtype.is_integer()
                }
                Some(_) => false,
            };
            if !ok {
                return Err(within(err(
                    &format!("{path}.indices.{var}"),
                    format!("'{var}' is indexed by '{index}', which is not an integer variable"),
                )));
            }
        }
        self.keywords(co, &path).map_err(within)?;
        self.sizes(co, &path).map_err(within)?;
        super::needs::check(self.export, co, &path).map_err(within)?;
        Ok(())
    }

    fn variable(&self, co: &CodeObjectDecl, var: &VariableDecl, path: &str) -> Result<()> {
        match var {
            VariableDecl::Array {
                array,
                dtype,
                ndim,
                dynamic,
                index,
                ..
            } => {
                let a = self.array(array, &format!("{path}.array"))?;
                if a.dtype != *dtype {
                    return Err(err(
                        &format!("{path}.dtype"),
                        format!(
                            "the variable is {} but its array '{array}' is {}",
                            dtype.name(),
                            a.dtype.name()
                        ),
                    ));
                }
                if a.ndim != *ndim || a.dynamic != *dynamic {
                    return Err(err(&format!("{path}.ndim"), format!(
                        "the variable has ndim {ndim} (dynamic: {dynamic}) but its array '{array}' has ndim {} (dynamic: {})", a.ndim, a.dynamic
                    )));
                }
                if index != "_idx" && index != "0" && !co.variables.contains_key(index) {
                    return Err(err(
                        &format!("{path}.index"),
                        format!("the index '{index}' is not a variable of the code object"),
                    ));
                }
            }
            VariableDecl::TimedArray {
                ndim,
                shape,
                dt,
                values,
                ..
            } => {
                let decl = self.export.static_arrays.get(values).ok_or_else(|| {
                    err(
                        &format!("{path}.values"),
                        format!("the TimedArray's values '{values}' are not a static array"),
                    )
                })?;
                let count = shape.iter().try_fold(1u64, |acc, &n| acc.checked_mul(n));
                if usize::from(*ndim) != shape.len()
                    || !(1..=2).contains(ndim)
                    || count != Some(decl.size)
                    || decl.size == 0
                {
                    return Err(err(
                        &format!("{path}.shape"),
                        format!(
                            "the TimedArray's shape {shape:?} does not match its {} values",
                            decl.size
                        ),
                    ));
                }
                if !(dt.is_finite() && *dt > 0.0) {
                    return Err(err(
                        &format!("{path}.dt"),
                        format!("the TimedArray's dt = {dt} must be finite and > 0"),
                    ));
                }
            }
            VariableDecl::UserFunction { dependencies, .. } => {
                for (name, dep) in dependencies {
                    self.variable(co, dep, &format!("{path}.dependencies.{name}"))?;
                }
            }
            VariableDecl::Binomial { n, p, .. } => {
                if !(0.0..=1.0).contains(p) || *n > (1 << 31) {
                    return Err(err(path, format!("a binomial of n = {n}, p = {p}")));
                }
            }
            VariableDecl::Constant { .. }
            | VariableDecl::Auxiliary { .. }
            | VariableDecl::Subexpression { .. }
            | VariableDecl::Function { .. } => {}
        }
        Ok(())
    }

    /// Template keywords used as code are identifiers (the JSON walk skips them).
    fn keywords(&self, co: &CodeObjectDecl, path: &str) -> Result<()> {
        let k = &co.template_kwds;
        for (key, value) in k.names() {
            if !value.is_empty() && !is_identifier(value) {
                return Err(err(
                    &format!("{path}.template_kwds.{key}"),
                    format!("{value:?} is not a valid name"),
                ));
            }
        }
        for (key, map) in [
            ("record_variables", &k.record_variables),
            ("_recorded_variables", &k.recorded_variables),
        ] {
            if let Some(bad) = map.iter().find(|n| !is_identifier(n)) {
                return Err(err(
                    &format!("{path}.template_kwds.{key}"),
                    format!("{bad:?} is not a valid name"),
                ));
            }
        }
        Ok(())
    }

    /// Sizes that generated code relies on.
    fn sizes(&self, co: &CodeObjectDecl, path: &str) -> Result<()> {
        let constant = |name: &str| match co.variables.get(name) {
            Some(VariableDecl::Constant { value, .. }) => Some(value.as_i64()),
            _ => None,
        };
        let array_of = |name: &str| match co.variables.get(name) {
            Some(VariableDecl::Array { array, .. }) => self.export.array(array),
            _ => None,
        };
        let n = constant("N");
        if n.is_some_and(|n| !(0..=1 << 40).contains(&n)) {
            return Err(err(
                &format!("{path}.variables.N"),
                format!("N = {} is out of range", n.unwrap_or(0)),
            ));
        }
        // the event space holds the whole source group and the count
        if let Some(space) = &co.eventspace {
            let a = self.array(space, &format!("{path}.eventspace"))?;
            if a.dtype != Dtype::Int32 || a.dynamic {
                return Err(err(
                    &format!("{path}.eventspace"),
                    format!("the event space '{space}' must be a fixed int32 array"),
                ));
            }
            let needed = match co.template.as_str() {
                "threshold" | "reset" => n,
                "spikemonitor" | "ratemonitor" => constant("_source_stop"),
                _ => None,
            };
            if let Some(needed) = needed {
                if a.size.len() < needed.max(0) as u64 + 1 {
                    return Err(err(
                        &format!("{path}.eventspace"),
                        format!(
                            "the event space '{space}' has {} elements, the {} needs {} + 1",
                            a.size.len(),
                            co.template,
                            needed
                        ),
                    ));
                }
            }
        }
        if let (Some(start), Some(stop)) = (constant("_source_start"), constant("_source_stop")) {
            if !(0 <= start && start <= stop) {
                return Err(err(
                    &format!("{path}.variables._source_start"),
                    format!("the source range {start}..{stop} is empty or negative"),
                ));
            }
        }
        // arrays indexed by `_idx` hold the N elements a code object with a
        // constant N loops over (a SpatialNeuron's per-section arrays belong
        // to its state updater, not to the neuron, and are not per element)
        if let Some(n) = n {
            let group_template = matches!(
                co.template.as_str(),
                "stateupdate"
                    | "threshold"
                    | "reset"
                    | "group_variable_set"
                    | "group_variable_set_conditional"
            );
            for (name, var) in &co.variables {
                if let VariableDecl::Array {
                    array,
                    scalar: false,
                    dynamic: false,
                    index,
                    ..
                } = var
                {
                    let a = self.array(array, path)?;
                    // `_group_idx` (group_variable_set on a subgroup) holds the indices, checked below
                    let per_element = name != "_group_idx"
                        && (group_template || a.owner.as_deref() == Some(co.owner.name.as_str()));
                    if per_element && index == "_idx" && a.size.len() < n as u64 {
                        return Err(err(
                            &format!("{path}.variables.{name}"),
                            format!(
                                "'{name}' ({array}) has {} elements, the group has N = {n}",
                                a.size.len()
                            ),
                        ));
                    }
                }
            }
        }
        // group_variable_set on a subgroup: `_num_group_idx` indices, each inside the group
        if let (Some(indices), Some(count)) = (array_of("_group_idx"), constant("_num_group_idx")) {
            if (indices.size.len() as i64) < count {
                return Err(err(
                    &format!("{path}.variables._group_idx"),
                    format!(
                        "'_group_idx' has {} elements, the code sets {count}",
                        indices.size.len()
                    ),
                ));
            }
            if let Some(n) = n {
                if let Some((value, origin)) = self
                    .written_values(indices)?
                    .into_iter()
                    .find(|(v, _)| !(0..n).contains(v))
                {
                    return Err(err(
                        &origin,
                        format!("sets element {value} of a group of N = {n}"),
                    ));
                }
            }
        }
        if co.template == "statemonitor" {
            self.statemonitor(co, &array_of)?;
        }
        if let Some(p) = &co.pathway {
            let space = self.array(&p.eventspace, &format!("{path}.pathway.eventspace"))?;
            if !(0 <= p.spikes_start
                && p.spikes_start <= p.spikes_stop
                && (p.spikes_stop as u64) < space.size.len())
            {
                return Err(err(
                    &format!("{path}.pathway.spikes_stop"),
                    format!(
                        "the pathway '{}' reads neurons {}..{} of an event space of {} elements",
                        p.name,
                        p.spikes_start,
                        p.spikes_stop,
                        space.size.len()
                    ),
                ));
            }
            self.array(&p.sources, &format!("{path}.pathway.sources"))?;
            self.array(&p.delay, &format!("{path}.pathway.delay"))?;
            self.scalar_of(
                &p.source_dt,
                Dtype::Float64,
                &format!("{path}.pathway.source_dt"),
            )?;
        }
        if co.template == "spikemonitor" {
            // the events of [_source_start, _source_stop) are counted in `count`
            let constant = |name: &str| match co.variables.get(name) {
                Some(VariableDecl::Constant { value, .. }) => Some(value.as_i64()),
                _ => None,
            };
            if let (Some(start), Some(stop), Some(VariableDecl::Array { array, .. })) = (
                constant("_source_start"),
                constant("_source_stop"),
                co.variables.get("count"),
            ) {
                let count = self.array(array, &format!("{path}.variables.count"))?;
                if !(0 <= start && start <= stop && (stop - start) as u64 <= count.size.len()) {
                    return Err(err(
                        &format!("{path}.variables.count"),
                        format!(
                            "the spike monitor counts the events of {start}..{stop} in '{array}' ({} elements)",
                            count.size.len()
                        ),
                    ));
                }
            }
        }
        if let Some(s) = &co.summed {
            let target = self.array(&s.target, &format!("{path}.summed.target"))?;
            self.array(&s.index, &format!("{path}.summed.index"))?;
            // a Synapses target (a dynamic array) has the range 0..-1: all of it, whatever its size
            let in_range = if target.dynamic {
                0 <= s.start
            } else {
                0 <= s.start && s.start <= s.stop && s.stop as u64 <= target.size.len()
            };
            // the number of target elements the code sums into, when a constant, fits the range
            let size = co
                .template_kwds
                .target_size_name
                .as_deref()
                .unwrap_or("N_post");
            if let (false, Some(VariableDecl::Constant { value, .. })) =
                (target.dynamic, co.variables.get(size))
            {
                if value.as_f64() > (s.stop - s.start) as f64 {
                    return Err(err(
                        &format!("{path}.variables.{size}"),
                        format!(
                            "the summed variable sums into {:?} elements of '{}', its range {}..{} has {}",
                            value.as_f64(),
                            s.target,
                            s.start,
                            s.stop,
                            s.stop - s.start
                        ),
                    ));
                }
            }
            if !in_range {
                return Err(err(
                    &format!("{path}.summed.stop"),
                    format!(
                        "the summed variable writes {}..{} of '{}' ({} elements)",
                        s.start,
                        s.stop,
                        s.target,
                        target.size.len()
                    ),
                ));
            }
        }
        if let Some(c) = &co.connect {
            // the arrays connect() resizes to the new number of synapses: per-synapse arrays
            // (not another object's), among them the arrays its code and the runtime write
            for (j, a) in c.registered.iter().enumerate() {
                let at = format!("{path}.connect.registered[{j}]");
                let decl = self.array(a, &at)?;
                // (an array whose owner Python no longer knew, a Brian object gone, names none)
                if !decl.dynamic || decl.owner.as_deref().is_some_and(|o| o != c.synapses) {
                    return Err(err(
                        &at,
                        format!(
                            "connect() resizes '{a}', which is not a per-synapse array of '{}'",
                            c.synapses
                        ),
                    ));
                }
            }
            let mut written: Vec<&str> = ["_synaptic_pre", "_synaptic_post"]
                .into_iter()
                .filter_map(|v| match co.variables.get(v) {
                    Some(VariableDecl::Array { array, .. }) => Some(array.as_str()),
                    _ => None,
                })
                .collect();
            written.extend(c.multisynaptic_index.as_deref());
            if let Some(array) = written
                .into_iter()
                .find(|a| !c.registered.iter().any(|r| r == a))
            {
                return Err(err(
                    &format!("{path}.connect.registered"),
                    format!("connect() writes '{array}' but does not resize it with the synapses"),
                ));
            }
            if let Some(m) = &c.multisynaptic_index {
                self.array(m, &format!("{path}.connect.multisynaptic_index"))?;
            }
        }
        Ok(())
    }

    /// The recorded indices (as the script set them) lie inside the
    /// monitored group: the size of a fixed array that the group indexes by
    /// `_idx` (a neuron's variable, a subgroup's `_sub_idx`). A Synapses'
    /// arrays are dynamic: their size is the number of synapses, made by
    /// `connect()`, so the runtime checks those indices when a run starts
    /// ([`monitored_group`]).
    fn statemonitor(
        &self,
        co: &CodeObjectDecl,
        array_of: &dyn Fn(&str) -> Option<&'a ArrayDecl>,
    ) -> Result<()> {
        let Some(indices) = array_of("_indices") else {
            return Ok(());
        };
        let group = monitored_group(co)
            .into_iter()
            .filter_map(|(_, array)| self.export.array(array))
            .filter(|a| !a.dynamic)
            .min_by_key(|a| a.size.len());
        let Some(group) = group else { return Ok(()) };
        let size = group.size.len();
        for (value, origin) in self.written_values(indices)? {
            if value < 0 || value as u64 >= size {
                let owner = group.owner.as_deref().unwrap_or(&group.name);
                return Err(err(&origin, format!(
                    "the StateMonitor records index {value}, outside its group '{owner}' of {size} elements"
                ))
                .in_object(&co.owner.name, &co.name));
            }
        }
        Ok(())
    }

    /// Every value the export puts into a fixed array before the generated
    /// code runs (its initialisation and the queue's writes), with the JSON
    /// path it came from.
    fn written_values(&self, a: &ArrayDecl) -> Result<Vec<(i64, String)>> {
        let i = self.export.array_position(&a.name).unwrap_or(0);
        let mut out = Vec::new();
        if a.init == ArrayInit::Arange && a.size.len() > 0 {
            out.push((a.arange_start, format!("arrays[{i}].arange_start")));
            out.push((
                a.arange_start + a.size.len() as i64 - 1,
                format!("arrays[{i}].arange_start"),
            ));
        }
        for (q, entry) in self.export.main_queue.iter().enumerate() {
            let qpath = format!("main_queue[{q}]");
            match entry {
                QueueEntry::SetByConstant { array, value }
                | QueueEntry::SetBySingleValue { array, value, .. }
                    if *array == a.name =>
                {
                    out.push((value.as_i64(), format!("{qpath}.value")));
                }
                QueueEntry::SetByArray {
                    array,
                    static_array,
                } if *array == a.name => {
                    for v in self.static_values(static_array, &format!("{qpath}.static_array"))? {
                        out.push((v, format!("{qpath}.static_array")));
                    }
                }
                QueueEntry::SetArrayByArray {
                    array,
                    static_value,
                    ..
                } if *array == a.name => {
                    for v in self.static_values(static_value, &format!("{qpath}.static_value"))? {
                        out.push((v, format!("{qpath}.static_value")));
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The values of static array `name` (read errors name `path`).
    fn static_decoded(&self, name: &str, path: &str) -> Result<Vec<Value>> {
        let (dtype, bytes) = self
            .export
            .read_static_array(name)
            .map_err(|e| e.at_path(path))?;
        Ok(bytes
            .chunks_exact(dtype.size())
            .map(|b| Value::from_bytes(dtype, b))
            .collect())
    }

    fn static_values(&self, name: &str, path: &str) -> Result<Vec<i64>> {
        Ok(self
            .static_decoded(name, path)?
            .into_iter()
            .map(Value::as_i64)
            .collect())
    }

    fn queue(
        &self,
        entries: &[QueueEntry],
        mut dts: BTreeMap<String, f64>,
        what: &str,
    ) -> Result<()> {
        let code_object = |name: &str, path: &str| {
            if self.export.code_object(name).is_some() {
                Ok(())
            } else {
                Err(err(
                    path,
                    format!("names the code object '{name}', which is not in the export"),
                ))
            }
        };
        let static_array = |name: &str, path: &str| -> Result<u64> {
            self.export
                .static_arrays
                .get(name)
                .map(|d| d.size)
                .ok_or_else(|| {
                    err(
                        path,
                        format!("names the static array '{name}', which is not in the export"),
                    )
                })
        };
        // (`dts`: the dt each clock has when a run starts)
        for (q, entry) in entries.iter().enumerate() {
            let path = format!("{what}[{q}]");
            match entry {
                QueueEntry::RunCodeObject { code_object: c }
                | QueueEntry::BeforeRunCodeObject { code_object: c }
                | QueueEntry::AfterRunCodeObject { code_object: c } => {
                    code_object(c, &format!("{path}.code_object"))?
                }
                QueueEntry::RunNetwork(run) => {
                    if run.t_start.is_some_and(|t| !(t.is_finite() && t >= 0.0)) {
                        return Err(err(
                            &format!("{path}.t_start"),
                            "the run's start time must be finite and >= 0".to_string(),
                        ));
                    }
                    if !(run.duration.is_finite() && run.duration >= 0.0) {
                        return Err(err(
                            &format!("{path}.duration"),
                            format!(
                                "run() for {} s: the duration must be finite and >= 0",
                                run.duration
                            ),
                        ));
                    }
                    if !(run.report_period.is_finite() && run.report_period > 0.0) {
                        return Err(err(
                            &format!("{path}.report_period"),
                            format!(
                                "report_period = {} s must be finite and > 0",
                                run.report_period
                            ),
                        ));
                    }
                    for (j, o) in run.objects.iter().enumerate() {
                        let opath = format!("{path}.objects[{j}]");
                        self.clock_exists(&o.clock, &format!("{opath}.clock"))?;
                        if let Some(c) = &o.code_object {
                            code_object(c, &format!("{opath}.code_object"))?;
                        }
                        let clock = self.export.clocks.iter().find(|c| c.name == o.clock);
                        if let Some(dt) = clock
                            .and_then(|c| c.dt_array.as_deref())
                            .and_then(|a| dts.get(a))
                        {
                            if run.duration / dt > MAX_STEPS {
                                return Err(err(&format!("{path}.duration"), format!(
                                    "run() for {} s at dt = {dt} s of clock '{}' would take more than 2^53 steps", run.duration, o.clock
                                )));
                            }
                        }
                    }
                }
                QueueEntry::SetByConstant { array, value }
                | QueueEntry::SetBySingleValue { array, value, .. } => {
                    let a = self.array(array, &format!("{path}.array"))?;
                    if let QueueEntry::SetBySingleValue { item, .. } = entry {
                        let len = a.size.len() as i64;
                        if !a.dynamic && !(-len <= *item && *item < len) {
                            return Err(err(
                                &format!("{path}.item"),
                                format!("item {item} of '{array}' ({len} elements)"),
                            ));
                        }
                    }
                    if let Some(dt) = dts.get_mut(array.as_str()) {
                        *dt = value.as_f64();
                        self.check_dt(*dt, &format!("{path}.value"))?;
                    }
                }
                QueueEntry::SetByArray {
                    array,
                    static_array: s,
                } => {
                    let a = self.array(array, &format!("{path}.array"))?;
                    let n = static_array(s, &format!("{path}.static_array"))?;
                    if !a.dynamic && n != a.size.len() && n != 1 {
                        return Err(err(
                            &format!("{path}.static_array"),
                            format!(
                                "sets '{array}' ({} elements) from '{s}' ({n} elements)",
                                a.size.len()
                            ),
                        ));
                    }
                    if dts.contains_key(array.as_str()) {
                        let field = format!("{path}.static_array");
                        for dt in self
                            .static_decoded(s, &field)?
                            .into_iter()
                            .map(Value::as_f64)
                        {
                            self.check_dt(dt, &field)?;
                            dts.insert(array.clone(), dt);
                        }
                    }
                }
                QueueEntry::SetArrayByArray {
                    array,
                    static_index,
                    static_value,
                } => {
                    let a = self.array(array, &format!("{path}.array"))?;
                    let ni = static_array(static_index, &format!("{path}.static_index"))?;
                    let nv = static_array(static_value, &format!("{path}.static_value"))?;
                    if nv != ni && nv != 1 {
                        return Err(err(
                            &format!("{path}.static_value"),
                            format!("{ni} indices and {nv} values"),
                        ));
                    }
                    if !a.dynamic {
                        let len = a.size.len() as i64;
                        if let Some(bad) = self
                            .static_values(static_index, &format!("{path}.static_index"))?
                            .into_iter()
                            .find(|&k| !(-len <= k && k < len))
                        {
                            return Err(err(
                                &format!("{path}.static_index"),
                                format!("index {bad} of '{array}' ({len} elements)"),
                            ));
                        }
                    }
                    if dts.contains_key(array.as_str()) {
                        let field = format!("{path}.static_value");
                        for dt in self
                            .static_decoded(static_value, &field)?
                            .into_iter()
                            .map(Value::as_f64)
                        {
                            self.check_dt(dt, &field)?;
                        }
                    }
                }
                QueueEntry::ResizeArray { array, size } => {
                    let a = self.array(array, &format!("{path}.array"))?;
                    if !a.dynamic {
                        return Err(err(
                            &format!("{path}.array"),
                            format!("resizes the fixed-size array '{array}'"),
                        ));
                    }
                    if !size
                        .checked_mul(a.dtype.size() as u64)
                        .is_some_and(|b| b <= MAX_ARRAY_BYTES)
                    {
                        return Err(err(
                            &format!("{path}.size"),
                            format!("resizes '{array}' to {size} elements: too many"),
                        ));
                    }
                }
                QueueEntry::StoreState { arrays, .. } => {
                    for (j, a) in arrays.iter().enumerate() {
                        self.array(a, &format!("{path}.arrays[{j}]"))?;
                    }
                }
                QueueEntry::Seed { .. }
                | QueueEntry::SetRandomState { .. }
                | QueueEntry::ApplyRunArgs
                | QueueEntry::RestoreState { .. } => {}
            }
        }
        Ok(())
    }

    fn check_dt(&self, dt: f64, path: &str) -> Result<()> {
        if dt.is_finite() && dt > 0.0 {
            Ok(())
        } else {
            Err(err(
                path,
                format!("sets a clock's dt to {dt} s: dt must be finite and > 0"),
            ))
        }
    }
}

/// The arrays of a StateMonitor's code object that the monitored group
/// indexes by `_idx` (its variables' arrays, a subgroup's `_sub_idx`, a
/// Synapses' `_postsynaptic_idx`), as (variable, array): each has one element
/// per element of the group, so a recorded index must lie below every one's
/// length. Variables read through another index (`_sub_idx`,
/// `_postsynaptic_idx`) belong to a larger group and say nothing about it.
pub fn monitored_group(co: &CodeObjectDecl) -> Vec<(&str, &str)> {
    co.variables
        .iter()
        .filter_map(|(name, var)| match var {
            VariableDecl::Array {
                array,
                scalar: false,
                index,
                owner,
                ..
            } if index == "_idx" && owner.as_deref() != Some(co.owner.name.as_str()) => {
                Some((name.as_str(), array.as_str()))
            }
            _ => None,
        })
        .collect()
}

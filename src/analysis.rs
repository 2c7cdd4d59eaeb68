//! Array access sets of a block: which arrays its code loads, stores and
//! indexes through, computed exactly as Brian's C++ generator does.
//!
//! In: the typed scalar and vector statements of one block, the code
//! object's symbols and its conditional writes. Out: one [`AccessInfo`] per
//! part. The rules are those of Brian 2.11:
//!
//! * `CodeGenerator.array_read_write` (`codegen/generators/base.py`): *read*
//!   = array variables named anywhere in the statements' expressions, plus
//!   the target of in-place operations (`+=`, ...); *write* = array variables
//!   assigned; *indices* = the index arrays (`Index::Via`) of read or written
//!   variables, which are then removed from *read*.
//! * `CodeGenerator.arrays_helper`: written variables with a conditional
//!   write, and their guard variables, are added to *read* (after the
//!   indices were computed, as in Brian).
//! * `CPPCodeGenerator.translate_statement_sequence`: a scalar array variable
//!   read but not written by the vector part is read in the scalar part instead.
//!
//! Only [`Symbol::Array`] names count as arrays: clock values
//! ([`Symbol::Clock`]), constants, locals and functions never appear.

use std::collections::{BTreeMap, BTreeSet};

use crate::dtype::Dtype;
use crate::ir::{AccessInfo, Expr, ExprKind, Index, Stmt, Symbol};

/// Access sets of the scalar and the vector part of one block.
pub fn access_info(
    scalar: &[Stmt],
    vector: &[Stmt],
    symbols: &BTreeMap<String, Symbol>,
    conditional_writes: &BTreeMap<String, String>,
) -> (AccessInfo, AccessInfo) {
    let mut sc = part_access(scalar, symbols, conditional_writes);
    let mut ve = part_access(vector, symbols, conditional_writes);
    // Scalar variables the vector code only reads are loaded once, in the scalar code.
    let moved: Vec<String> = ve
        .read
        .iter()
        .filter(|name| is_scalar_array(symbols, name) && !ve.write.contains(*name))
        .cloned()
        .collect();
    for name in moved {
        ve.read.remove(&name);
        sc.read.insert(name);
    }
    (sc, ve)
}

/// Races of parallel synaptic code: `Some(vars)` when running the vector
/// code of every block for many synapses at once is safe if the writes to
/// `vars` become atomic additions; `None` when it is not (the code must run
/// in one thread, in Brian's order).
///
/// Each synapse runs at most once per launch, so variables indexed by the
/// synapse itself (`_idx`) never race. A variable reached through another
/// index (`v_post`, via `_postsynaptic_idx`) may be shared by several
/// synapses: it is safe only if every write is `+=` or `-=` of a numeric
/// type and no expression reads its array (through any variable).
pub fn atomic_updates(co: &crate::ir::CodeObject) -> Option<BTreeSet<String>> {
    use crate::ir::AssignOp;
    let mut atomic = BTreeSet::new();
    for block in &co.blocks {
        let read: BTreeSet<String> = block
            .vector
            .iter()
            .flat_map(|s| {
                let mut names = expr_names(&s.expr);
                for b in &s.branches {
                    names.extend(expr_names(&b.expr));
                }
                names
            })
            .collect();
        for stmt in &block.vector {
            let Some(Symbol::Array {
                array,
                index,
                dtype,
                ..
            }) = co.symbols.get(&stmt.var)
            else {
                continue;
            };
            match index {
                Index::Element => continue,
                Index::Scalar => return None,
                Index::Via(_) => {}
            }
            let numeric = matches!(
                dtype,
                crate::dtype::Dtype::Float64
                    | crate::dtype::Dtype::Float32
                    | crate::dtype::Dtype::Int32
                    | crate::dtype::Dtype::Int64
            );
            // read through any variable: `v_post += v_pre` on a recurrent Synapses reads `v`
            let array_read = read.iter().any(
                |n| matches!(co.symbols.get(n), Some(Symbol::Array { array: a, .. }) if a == array),
            );
            if !numeric || !matches!(stmt.op, AssignOp::Add | AssignOp::Sub) || array_read {
                return None;
            }
            atomic.insert(stmt.var.clone());
        }
        // A guard of a conditional write must not itself be written by the code.
        for var in &atomic {
            if let Some(guard) = co.conditional_writes.get(var) {
                if block.vector_info.write.contains(guard) {
                    return None;
                }
            }
        }
    }
    Some(atomic)
}

/// Delivery grouped by target: `Some((index, atomic))` when synaptic code
/// that is not race-free as atomics (it reads what it writes, or assigns)
/// can still run a thread per *target element*, each applying its synapses
/// in Brian's order. That holds when every such write goes through the same
/// index variable (`_postsynaptic_idx`, say), and nothing reads an array
/// written through it by any other index: then the synapses of one target
/// touch no state of another target, and only the order within a target
/// matters. Writes through another index are allowed where they can be
/// atomic additions (`x_pre += 1`, never read): `atomic` names them.
/// `None`: the code must run in one thread (a scalar write, order-dependent
/// writes through two indices, or a written array read through another
/// index, as in `v_post = v_pre` on a recurrent Synapses).
pub fn by_target_index(co: &crate::ir::CodeObject) -> Option<(String, BTreeSet<String>)> {
    use crate::ir::AssignOp;
    let array_of = |name: &str| match co.symbols.get(name) {
        Some(Symbol::Array {
            array,
            index,
            dtype,
            ..
        }) => Some((array.clone(), index.clone(), *dtype)),
        _ => None,
    };
    // Every array the code reads (by any variable), and through which index.
    let mut read: Vec<(String, Index)> = Vec::new();
    for block in &co.blocks {
        if !block.scalar_info.write.is_empty() {
            return None;
        }
        for stmt in block.scalar.iter().chain(&block.vector) {
            let mut names = expr_names(&stmt.expr);
            for b in &stmt.branches {
                names.extend(expr_names(&b.expr));
            }
            names.extend(co.conditional_writes.get(&stmt.var).cloned());
            read.extend(
                names
                    .iter()
                    .filter_map(|n| array_of(n))
                    .map(|(array, index, _)| (array, index)),
            );
        }
    }
    let is_read = |array: &str| read.iter().any(|(a, _)| a == array);
    // Writes through an index: order-dependent ones (one index for all), or atomic.
    let mut target: Option<String> = None;
    let mut written: BTreeMap<String, Index> = BTreeMap::new();
    let mut atomic_candidates: Vec<(String, String, String)> = Vec::new();
    for block in &co.blocks {
        for stmt in &block.vector {
            let Some((array, index, dtype)) = array_of(&stmt.var) else {
                continue;
            };
            if written
                .insert(array.clone(), index.clone())
                .is_some_and(|old| old != index)
            {
                return None;
            }
            let idx = match &index {
                Index::Element => continue,
                Index::Scalar => return None,
                Index::Via(idx) => idx.clone(),
            };
            let numeric = matches!(
                dtype,
                Dtype::Float64 | Dtype::Float32 | Dtype::Int32 | Dtype::Int64
            );
            if numeric && matches!(stmt.op, AssignOp::Add | AssignOp::Sub) && !is_read(&array) {
                atomic_candidates.push((stmt.var.clone(), array, idx));
                continue;
            }
            match &target {
                Some(t) if *t != idx => return None,
                _ => target = Some(idx),
            }
        }
    }
    let target = target?;
    // The index itself: an element of the synapse (e.g. `_synaptic_post`), never written.
    match array_of(&target) {
        Some((array, Index::Element, _)) if !written.contains_key(&array) => {}
        _ => return None,
    }
    // Nothing reads an array written through the target index by another index.
    for (array, index) in &read {
        if written.get(array).is_some_and(|w| w != index) {
            return None;
        }
    }
    let mut atomic = BTreeSet::new();
    for (var, _, idx) in atomic_candidates {
        if idx != target {
            // an atomic write's guard must not change during the delivery
            if co
                .conditional_writes
                .get(&var)
                .is_some_and(|g| co.blocks.iter().any(|b| b.vector_info.write.contains(g)))
            {
                return None;
            }
            atomic.insert(var);
        }
    }
    Some((target, atomic))
}

/// The Brian arrays one launch of a code object reads and writes: for moving
/// code objects past each other (`plan::fusion`). Each maps an array to
/// whether every access to it is the loop element's own (`Index::Element`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Footprint {
    pub read: BTreeMap<String, bool>,
    pub write: BTreeMap<String, bool>,
}

impl Footprint {
    fn add(map: &mut BTreeMap<String, bool>, array: &str, elementwise: bool) {
        let e = map.entry(array.to_string()).or_insert(true);
        *e &= elementwise;
    }

    /// Every array either reads or writes.
    pub fn touches(&self, array: &str) -> bool {
        self.read.contains_key(array) || self.write.contains_key(array)
    }

    /// Whether running `self` before or after `other` gives the same results:
    /// neither writes an array the other reads or writes.
    pub fn commutes_with(&self, other: &Footprint) -> bool {
        self.write.keys().all(|a| !other.touches(a)) && other.write.keys().all(|a| !self.touches(a))
    }
}

/// The [`Footprint`] of a code object. Every array variable it names counts
/// as read (whatever its code does with it); writes are its code's
/// assignments plus what its template writes: the threshold its event space
/// and refractoriness, a monitor or spike generator every array its owner
/// holds (`owner_of`: an array's owning Brian object). Templates not listed
/// write, as far as this knows, every array they name.
pub fn footprint(
    co: &crate::ir::CodeObject,
    owner_of: &dyn Fn(&str) -> Option<String>,
) -> Footprint {
    use crate::ir::{Template, TemplateData};
    let mut fp = Footprint::default();
    let arrays = co.symbols.iter().filter_map(|(name, s)| match s {
        Symbol::Array { array, index, .. } => Some((name, array, *index == Index::Element)),
        _ => None,
    });
    for (_, array, element) in arrays.clone() {
        Footprint::add(&mut fp.read, array, element);
    }
    if let Some(events) = co.eventspace() {
        Footprint::add(&mut fp.read, events, false);
    }
    let code_writes = |fp: &mut Footprint| {
        for block in &co.blocks {
            for var in block
                .scalar_info
                .write
                .iter()
                .chain(&block.vector_info.write)
            {
                if let Some(Symbol::Array { array, index, .. }) = co.symbols.get(var) {
                    Footprint::add(&mut fp.write, array, *index == Index::Element);
                }
            }
        }
    };
    match &co.template {
        Template::Stateupdate
        | Template::Reset
        | Template::GroupVariableSet
        | Template::GroupVariableSetConditional
        | Template::Synapses
        | Template::SynapsesPushSpikes => code_writes(&mut fp),
        Template::Threshold => {
            code_writes(&mut fp);
            if let TemplateData::Threshold {
                eventspace,
                uses_refractory,
            } = &co.data
            {
                Footprint::add(&mut fp.write, eventspace, false);
                if *uses_refractory {
                    for var in ["not_refractory", "lastspike"] {
                        if let Some(Symbol::Array { array, .. }) = co.symbols.get(var) {
                            Footprint::add(&mut fp.write, array, true);
                        }
                    }
                }
            }
        }
        Template::Spikemonitor
        | Template::Statemonitor
        | Template::Ratemonitor
        | Template::Spikegenerator => {
            code_writes(&mut fp);
            for (_, array, _) in arrays {
                if owner_of(array).as_deref() == Some(co.owner.as_str()) {
                    Footprint::add(&mut fp.write, array, false);
                }
            }
        }
        _ => {
            for (_, array, _) in arrays {
                Footprint::add(&mut fp.write, array, false);
            }
        }
    }
    fp
}

/// What a spike monitor records, when it can record events as bits (`plan::SpikeBits`).
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeBitsSource {
    /// The recorded variable whose value is an array read at the event's element
    /// (`i`: Brian's `_to_record_i = _source_i`), and that array.
    pub index_var: String,
    pub index_array: String,
    /// The recorded variable whose value is the clock's `t`.
    pub time_var: String,
}

/// A SpikeMonitor or EventMonitor recording what Brian records by default, the
/// event's `i` and `t`, and nothing else: each recorded value is either a
/// constant array of the source read at the event (`i`) or the clock's `t`,
/// and the code draws no random numbers and has no other statement. Then
/// the events of a step are all there is to record, and one bit per source
/// element says them.
pub fn spike_bits(co: &crate::ir::CodeObject) -> Option<SpikeBitsSource> {
    use crate::ir::{ClockField, Template};
    if co.template != Template::Spikemonitor
        || co.recorded().len() != 2
        || co.blocks.len() != 1
        || co.uses_rng()
    {
        return None;
    }
    let block = &co.blocks[0];
    if !block.scalar.is_empty() || block.vector.len() != 2 {
        return None;
    }
    let (mut index, mut time) = (None, None);
    for var in co.recorded() {
        let local = format!("_to_record_{var}");
        let stmt = block
            .vector
            .iter()
            .find(|s| s.var == local && s.branches.is_empty())?;
        let ExprKind::Name(name) = &stmt.expr.kind else {
            return None;
        };
        match co.symbols.get(name) {
            Some(Symbol::Array {
                array,
                index: Index::Element,
                scalar: false,
                dynamic: false,
                read_only: true,
                dtype,
            }) if *dtype == stmt.dtype => {
                index = Some((var.clone(), array.clone()));
            }
            Some(Symbol::Clock {
                field: ClockField::T,
                ..
            }) if stmt.dtype == Dtype::Float64 => time = Some(var.clone()),
            _ => return None,
        }
    }
    let ((index_var, index_array), time_var) = (index?, time?);
    Some(SpikeBitsSource {
        index_var,
        index_array,
        time_var,
    })
}

/// Brian's `arrays_helper` for one statement sequence.
pub fn part_access(
    statements: &[Stmt],
    symbols: &BTreeMap<String, Symbol>,
    conditional_writes: &BTreeMap<String, String>,
) -> AccessInfo {
    let mut read = BTreeSet::new();
    let mut write = BTreeSet::new();
    for stmt in statements {
        let mut ids = expr_names(&stmt.expr);
        if stmt.op.binary().is_some() {
            ids.insert(stmt.var.clone());
        }
        read.extend(ids.into_iter().filter(|n| is_array(symbols, n)));
        if is_array(symbols, &stmt.var) {
            write.insert(stmt.var.clone());
        }
    }
    let mut indices = BTreeSet::new();
    for name in read.iter().chain(write.iter()) {
        if let Some(Symbol::Array {
            index: Index::Via(idx),
            ..
        }) = symbols.get(name)
        {
            if is_array(symbols, idx) {
                indices.insert(idx.clone());
            }
        }
    }
    read.retain(|n| !indices.contains(n));
    for name in &write {
        if let Some(guard) = conditional_writes.get(name) {
            read.insert(name.clone());
            if is_array(symbols, guard) {
                read.insert(guard.clone());
            }
        }
    }
    AccessInfo {
        read,
        write,
        indices,
    }
}

/// Every name an expression reads or calls (Brian's `get_identifiers`), sorted.
pub fn expr_names(expr: &Expr) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    collect(expr, &mut out);
    out
}

fn collect(expr: &Expr, out: &mut BTreeSet<String>) {
    match &expr.kind {
        ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Float(_) => {}
        ExprKind::Name(n) => {
            out.insert(n.clone());
        }
        ExprKind::Unary(_, e) => collect(e, out),
        ExprKind::Binary(_, l, r) => {
            collect(l, out);
            collect(r, out);
        }
        ExprKind::Call(f, args) => {
            out.insert(f.clone());
            args.iter().for_each(|a| collect(a, out));
        }
    }
}

fn is_array(symbols: &BTreeMap<String, Symbol>, name: &str) -> bool {
    matches!(symbols.get(name), Some(Symbol::Array { .. }))
}

fn is_scalar_array(symbols: &BTreeMap<String, Symbol>, name: &str) -> bool {
    matches!(symbols.get(name), Some(Symbol::Array { scalar: true, .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::Dtype;
    use crate::ir::AssignOp;

    fn array(index: Index, scalar: bool) -> Symbol {
        Symbol::Array {
            array: "_array".into(),
            dtype: Dtype::Float64,
            scalar,
            index,
            dynamic: false,
            read_only: false,
        }
    }

    fn name(n: &str) -> Expr {
        Expr {
            kind: ExprKind::Name(n.into()),
            dtype: Dtype::Float64,
        }
    }

    fn stmt(var: &str, op: AssignOp, expr: Expr) -> Stmt {
        Stmt {
            var: var.into(),
            op,
            expr,
            dtype: Dtype::Float64,
            constant: false,
            branches: vec![],
            source: String::new(),
        }
    }

    /// A `synapses` code object over a recurrent group: `v_post`/`v_pre` share
    /// the array `v`, `x_pre` is in `x`, `w` is synaptic; `code` = (variable, op, names read).
    fn delivery(code: &[(&str, AssignOp, &[&str])]) -> crate::ir::CodeObject {
        let arr = |array: &str, index: Index| Symbol::Array {
            array: array.into(),
            dtype: Dtype::Float64,
            scalar: false,
            index,
            dynamic: false,
            read_only: false,
        };
        let mut symbols = BTreeMap::new();
        symbols.insert(
            "v_post".to_string(),
            arr("v", Index::Via("_postsynaptic_idx".into())),
        );
        symbols.insert(
            "v_pre".to_string(),
            arr("v", Index::Via("_presynaptic_idx".into())),
        );
        symbols.insert(
            "x_pre".to_string(),
            arr("x", Index::Via("_presynaptic_idx".into())),
        );
        symbols.insert("w".to_string(), arr("w", Index::Element));
        symbols.insert(
            "_postsynaptic_idx".to_string(),
            arr("_synaptic_post", Index::Element),
        );
        symbols.insert(
            "_presynaptic_idx".to_string(),
            arr("_synaptic_pre", Index::Element),
        );
        let vector: Vec<Stmt> = code
            .iter()
            .map(|(var, op, reads)| {
                let expr = reads.iter().fold(
                    Expr {
                        kind: ExprKind::Float(0.0),
                        dtype: Dtype::Float64,
                    },
                    |acc, n| Expr {
                        kind: ExprKind::Binary(
                            crate::ir::BinaryOp::Add,
                            Box::new(acc),
                            Box::new(name(n)),
                        ),
                        dtype: Dtype::Float64,
                    },
                );
                stmt(var, *op, expr)
            })
            .collect();
        let (scalar_info, vector_info) = access_info(&[], &vector, &symbols, &BTreeMap::new());
        crate::ir::CodeObject {
            name: "s_pre_codeobject".into(),
            owner: "s".into(),
            owner_class: "Synapses".into(),
            template: crate::ir::Template::Synapses,
            clock: None,
            blocks: vec![crate::ir::Block {
                name: None,
                scalar: vec![],
                vector,
                scalar_info,
                vector_info,
            }],
            symbols,
            conditional_writes: BTreeMap::new(),
            data: crate::ir::TemplateData::Plain {},
        }
    }

    #[test]
    fn delivery_modes() {
        use AssignOp::{Add, Assign};
        let set = |names: &[&str]| {
            names
                .iter()
                .map(|n| n.to_string())
                .collect::<BTreeSet<String>>()
        };
        // `v_post += w`: atomic
        let co = delivery(&[("v_post", Add, &["w"])]);
        assert_eq!(atomic_updates(&co), Some(set(&["v_post"])));
        // `v_post = 0.9*v_post + w` reads what it writes: grouped by the postsynaptic index
        let co = delivery(&[("v_post", Assign, &["v_post", "w"])]);
        assert_eq!(atomic_updates(&co), None);
        assert_eq!(
            by_target_index(&co),
            Some(("_postsynaptic_idx".to_string(), set(&[])))
        );
        // plus `x_pre += 1` (never read): still grouped, that write atomic
        let co = delivery(&[("v_post", Assign, &["v_post", "w"]), ("x_pre", Add, &[])]);
        assert_eq!(
            by_target_index(&co),
            Some(("_postsynaptic_idx".to_string(), set(&["x_pre"])))
        );
        // `v_post += v_pre` reads `v` through another index: neither atomic nor grouped
        let co = delivery(&[("v_post", Add, &["v_pre"])]);
        assert_eq!(atomic_updates(&co), None);
        assert_eq!(by_target_index(&co), None);
        // order-dependent writes through two indices: one thread
        let co = delivery(&[
            ("v_post", Assign, &["v_post"]),
            ("x_pre", Assign, &["x_pre"]),
        ]);
        assert_eq!(by_target_index(&co), None);
    }

    #[test]
    fn brian_rules() {
        let mut symbols = BTreeMap::new();
        symbols.insert("v".to_string(), array(Index::Element, false));
        symbols.insert("w".to_string(), array(Index::Element, false));
        symbols.insert(
            "g_post".to_string(),
            array(Index::Via("_post".into()), false),
        );
        symbols.insert("_post".to_string(), array(Index::Element, false));
        symbols.insert("a".to_string(), array(Index::Scalar, true));
        symbols.insert("nr".to_string(), array(Index::Element, false));
        symbols.insert(
            "x".to_string(),
            Symbol::Local {
                dtype: Dtype::Float64,
            },
        );
        let cond: BTreeMap<String, String> = [("v".to_string(), "nr".to_string())].into();
        let vector = vec![
            stmt("x", AssignOp::Declare, name("a")),
            stmt("g_post", AssignOp::Add, name("w")),
            stmt("v", AssignOp::Assign, name("x")),
        ];
        let (sc, ve) = access_info(&[], &vector, &symbols, &cond);
        assert_eq!(sc.read, ["a".to_string()].into());
        assert_eq!(ve.read, ["g_post", "nr", "v", "w"].map(String::from).into());
        assert_eq!(ve.write, ["g_post", "v"].map(String::from).into());
        assert_eq!(ve.indices, ["_post".to_string()].into());
    }
}

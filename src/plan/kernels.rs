//! The kernels of one code object, per Brian template: which phases it
//! runs (main, before and after a run, a count pass, the spatial solver's
//! steps), each kernel's launch shape and element count, and the buffers
//! the template needs beyond its arrays (sync words, chunk status, a
//! connect()'s tables, a pathway's queue, a summed variable's CSR).
//!
//! In: a lowered [`CodeObject`] and the plan so far. Out: its
//! [`CodeObjectPlan`], its kernels pushed onto the plan. What each Brian
//! template pushes is decided in its file of [`crate::templates`], through
//! the [`KernelBuilder`] here.

use super::*;
use crate::ir::{BinaryOp, Expr, ExprKind};

/// Adds one of Brisk's own buffers (zero-filled at allocation).
pub fn add_internal(plan: &mut Plan, name: String, dtype: Dtype, len: u64) -> BufferId {
    plan.buffers.push(Buffer {
        name,
        dtype,
        len,
        role: BufferRole::Internal,
    });
    BufferId(plan.buffers.len() - 1)
}

/// The value of an integer constant of a code object.
pub fn constant_u64(co: &CodeObject, name: &str) -> Result<u64> {
    match co.symbols.get(name) {
        Some(Symbol::Constant { value, .. }) => Ok(value.as_f64().max(0.0) as u64),
        _ => Err(Error::internal(format!(
            "the {} template needs a constant '{name}'",
            co.template.name()
        ))
        .in_object(&co.owner, &co.name)),
    }
}

/// The element count of a group-like code object: the `N` constant or scalar array.
pub fn group_size(plan: &Plan, co: &CodeObject) -> Result<LoopSize> {
    size_of(plan, co, "N")
}

/// The value of an integer constant, or of a scalar integer array, as a loop size.
pub fn size_of(plan: &Plan, co: &CodeObject, name: &str) -> Result<LoopSize> {
    match co.symbols.get(name) {
        Some(Symbol::Constant { value, .. }) => Ok(LoopSize::Fixed(value.as_f64().max(0.0) as u64)),
        Some(Symbol::Array { array, .. }) => {
            let buf = plan
                .buffer_of(array)
                .ok_or_else(|| Error::internal(format!("array '{array}' is not in the export")))?;
            Ok(LoopSize::BufferValue(buf))
        }
        _ => Err(Error::internal(format!(
            "the {} template needs '{name}'",
            co.template.name()
        ))
        .in_object(&co.owner, &co.name)),
    }
}

/// The elements of `co`'s event space (its `eventspace`, or a spike
/// generator's `_spikespace`), without the count slot.
fn events_len(plan: &Plan, co: &CodeObject) -> Option<u64> {
    let name = match (co.eventspace(), co.symbols.get("_spikespace")) {
        (Some(name), _) => name,
        (None, Some(Symbol::Array { array, .. })) => array.as_str(),
        _ => return None,
    };
    plan.buffer_of(name)
        .map(|b| plan.buffers[b].len.saturating_sub(1))
}

/// Builds the kernels of one code object: what each Brian template's
/// `kernels` (`crate::templates`) pushes, with the entry it fills.
pub struct KernelBuilder<'a> {
    pub export: &'a Export,
    pub plan: &'a mut Plan,
    pub co: &'a CodeObject,
    pub entry: CodeObjectPlan,
    /// A grid whose scalar code writes shared variables: its last block stores them.
    scalar_stores_last: bool,
    /// Its template's main kernel may run as chunks on threads (C++).
    splits: bool,
}

impl<'a> KernelBuilder<'a> {
    /// Starts the entry of `co`; `elementwise`: its template's main kernel is a
    /// grid over independent elements; `splits`: the C++ target may run that
    /// kernel as chunks on threads ([`Split::Elements`]).
    pub fn new(
        export: &'a Export,
        plan: &'a mut Plan,
        co: &'a CodeObject,
        elementwise: bool,
        splits: bool,
    ) -> KernelBuilder<'a> {
        let entry = CodeObjectPlan {
            events: events_len(plan, co),
            main: None,
            before_run: None,
            after_run: None,
            count: None,
            clock: co.clock.clone(),
            prepares: None,
            sync: None,
            chunk_status: None,
            delivery: None,
            walk: None,
        };
        let scalar_writes = co.scalar_writes();
        let mut builder = KernelBuilder {
            export,
            plan,
            co,
            entry,
            scalar_stores_last: scalar_writes && elementwise,
            splits,
        };
        // The element-wise templates run as a grid even when their scalar code writes a
        // shared variable: every block computes the new value from the old one, and the
        // last block to finish stores it (`_loop_tail.cu`), through the sync words.
        if builder.scalar_stores_last {
            builder.sync();
        }
        builder
    }

    /// Adds a kernel of `phase`; returns its index.
    pub fn push(&mut self, phase: Phase, launch: Launch, size: LoopSize) -> KernelId {
        let co = self.co;
        let suffix = match phase {
            Phase::Main => "",
            Phase::Count => "_count",
            Phase::BeforeRun => "_before_run",
            Phase::AfterRun => "_after_run",
            Phase::Sections => "_sections",
            Phase::Coupling => "_coupling",
            Phase::Voltage => "_voltage",
            Phase::Tick => "_tick",
            Phase::Fused => "_fused",
            Phase::QueueWalk => "_queue_walk",
        };
        self.plan.kernels.push(Kernel {
            symbol: format!("brisk_{}{suffix}", co.name),
            code_object: co.name.clone(),
            owner: co.owner.clone(),
            phase,
            launch,
            size,
            rng_streams: u64::from(matches!(phase, Phase::Main | Phase::Count) && co.uses_rng()),
            then: None,
            last_block_stores: phase == Phase::Main
                && launch == Launch::Grid
                && self.scalar_stores_last,
            // (scalar code that writes a shared variable stores it before the
            // elements on the C++ target: such a kernel runs whole)
            split: if phase == Phase::Main
                && launch == Launch::Grid
                && self.splits
                && !self.scalar_stores_last
            {
                Split::Elements
            } else {
                Split::Whole
            },
            weight: element_weight(co),
        });
        KernelId(self.plan.kernels.len() - 1)
    }

    /// The code object's sync words ([`CodeObjectPlan::sync`]), added once.
    pub fn sync(&mut self) -> BufferId {
        if let Some(b) = self.entry.sync {
            return b;
        }
        let b = add_internal(
            self.plan,
            format!("_sync_{}", self.co.name),
            Dtype::Uint32,
            SYNC_LEN,
        );
        self.entry.sync = Some(b);
        b
    }

    /// The elements of the code object's event space.
    pub fn events(&self) -> Result<u64> {
        self.entry.events.ok_or_else(|| {
            Error::internal("missing event space").in_object(&self.co.owner, &self.co.name)
        })
    }

    /// The finished entry.
    pub fn finish(self) -> CodeObjectPlan {
        self.entry
    }
}

/// An estimate of one element's work in a code object's vector code, in units
/// of a few arithmetic operations (about half a nanosecond on a current CPU,
/// vectorised): 1 for the loads, stores and arithmetic, plus per call of a
/// function: 8 for a transcendental one (`exp`, `log`, `sin`, ...), or one
/// Brisk does not know (a user's), 4 per uniform random number (Philox), 6
/// per normal one, 16 per Poisson or binomial draw, 2 for `sqrt`, nothing for
/// the cheap ones (`abs`, `clip`, `floor`, `int`, ...). Only the ratio
/// matters: the CPU device compares elements times weight with its split
/// minimum.
pub fn element_weight(co: &CodeObject) -> u64 {
    fn expr(e: &Expr) -> u64 {
        match &e.kind {
            ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Name(_) => 0,
            ExprKind::Unary(_, a) => expr(a),
            ExprKind::Binary(op, a, b) => {
                let pow = if *op == BinaryOp::Pow { 8 } else { 0 };
                pow + expr(a) + expr(b)
            }
            ExprKind::Call(name, args) => call(name) + args.iter().map(expr).sum::<u64>(),
        }
    }
    fn call(name: &str) -> u64 {
        match name {
            "abs" | "clip" | "floor" | "ceil" | "int" | "sign" | "bool" | "float" | "_timestep"
            | "timestep" | "_brian_mod" | "_brian_floordiv" => 0,
            "sqrt" => 2,
            "rand" => 4,
            "randn" => 6,
            n if n.starts_with("poisson") || n.starts_with("_binomial") => 16,
            _ => 8,
        }
    }
    let stmts = co.blocks.iter().flat_map(|b| b.vector.iter());
    let calls: u64 = stmts
        .map(|s| match s.branches.iter().map(|b| expr(&b.expr)).max() {
            // Brian's boolean branches stand for the statement: one of them runs
            Some(most) => most,
            None => expr(&s.expr),
        })
        .sum();
    1 + calls
}

//! Statement rendering: a block part (scalar or vector) to C lines.
//!
//! In: typed statements and their [`AccessInfo`]. Out: Brian's statement
//! sequence, as its C++ generator writes it: load index arrays, then read
//! arrays into locals, declare write-only locals, run the statements (with
//! conditional writes and boolean branches), store the written arrays.

use std::collections::BTreeSet;

use crate::ir::{AccessInfo, AssignOp, BinaryOp, CodeObject, Expr, ExprKind, Index, Stmt, Symbol};
use crate::plan::BufferId;
use crate::render::expr::{render, Names};

/// Pointer local for Brian array `array`.
pub fn pointer_name(array: &str) -> String {
    format!("_ptr{array}")
}

/// Runtime buffer `buf` as a pointer to `c_type`: `((T*)_a.arrays[buf])`,
/// the one way generated code reaches a buffer by number.
pub fn buffer_pointer(c_type: &str, buf: BufferId) -> String {
    format!("(({c_type}*)_a.arrays[{buf}])")
}

/// The C index expression of an array variable.
fn index_expr(index: &Index) -> String {
    match index {
        Index::Element => "_idx".to_string(),
        Index::Scalar => "0".to_string(),
        Index::Via(name) => name.clone(),
    }
}

/// Renders a statement sequence: (loads, declarations and statements; the
/// stores of written arrays), apart so that CUDA single-block kernels can put
/// scalar stores after a barrier.
pub fn render_part(
    co: &CodeObject,
    stmts: &[Stmt],
    info: &AccessInfo,
) -> (Vec<String>, Vec<String>) {
    render_part_atomic(co, stmts, info, &BTreeSet::new())
}

/// [`render_part`], with the writes to `atomic` (see
/// [`crate::analysis::atomic_updates`]) rendered as atomic additions to
/// memory: those variables are neither loaded nor stored.
pub fn render_part_atomic(
    co: &CodeObject,
    stmts: &[Stmt],
    info: &AccessInfo,
    atomic: &BTreeSet<String>,
) -> (Vec<String>, Vec<String>) {
    let names = CoNames(co);
    let mut lines = Vec::new();
    for name in info
        .indices
        .iter()
        .chain(info.read.iter().filter(|n| !atomic.contains(*n)))
    {
        if let Some(Symbol::Array {
            array,
            dtype,
            index,
            ..
        }) = co.symbols.get(name)
        {
            let constness = if info.write.contains(name) {
                ""
            } else {
                "const "
            };
            lines.push(format!(
                "{constness}{} {name} = {}[{}];",
                dtype.local_type(),
                pointer_name(array),
                index_expr(index)
            ));
        }
    }
    for name in &info.write {
        if info.read.contains(name) || info.indices.contains(name) || atomic.contains(name) {
            continue;
        }
        if let Some(Symbol::Array { dtype, .. }) = co.symbols.get(name) {
            lines.push(format!("{} {name};", dtype.local_type()));
        }
    }
    for stmt in stmts {
        let code = match co.symbols.get(&stmt.var) {
            Some(Symbol::Array {
                array,
                index,
                dtype,
                ..
            }) if atomic.contains(&stmt.var) => {
                let target = format!("&{}[{}]", pointer_name(array), index_expr(index));
                render_atomic(stmt, &names, &target, dtype.local_type())
            }
            _ => render_statement(stmt, &names),
        };
        match co.conditional_writes.get(&stmt.var) {
            Some(guard) => {
                lines.push(format!("if({guard})"));
                for l in code {
                    lines.push(format!("    {l}"));
                }
            }
            None => lines.extend(code),
        }
    }
    let mut stores = Vec::new();
    for name in info.write.iter().filter(|n| !atomic.contains(*n)) {
        if let Some(Symbol::Array { array, index, .. }) = co.symbols.get(name) {
            stores.push(format!(
                "{}[{}] = {name};",
                pointer_name(array),
                index_expr(index)
            ));
        }
    }
    (lines, stores)
}

fn assign_text(op: AssignOp) -> &'static str {
    match op {
        AssignOp::Assign | AssignOp::Declare => "=",
        AssignOp::Add => "+=",
        AssignOp::Sub => "-=",
        AssignOp::Mul => "*=",
        AssignOp::Div => "/=",
        // Rewritten below: C has no Python modulo, floor division or power operators.
        AssignOp::Mod | AssignOp::FloorDiv | AssignOp::Pow => "=",
    }
}

fn rhs(stmt: &Stmt, expr_text: String) -> String {
    match stmt.op {
        AssignOp::Mod => format!("_brian_mod({}, {expr_text})", stmt.var),
        AssignOp::FloorDiv => format!("_brian_floordiv({}, {expr_text})", stmt.var),
        AssignOp::Pow => format!("_brian_pow({}, {expr_text})", stmt.var),
        _ => expr_text,
    }
}

fn render_statement(stmt: &Stmt, names: &CoNames) -> Vec<String> {
    let op = assign_text(stmt.op);
    let var = &stmt.var;
    if stmt.branches.is_empty() {
        return vec![format!(
            "{}{var} {op} {};",
            declaration(stmt),
            rhs(stmt, render(&stmt.expr, names))
        )];
    }
    let plain_op = matches!(
        stmt.op,
        AssignOp::Assign | AssignOp::Declare | AssignOp::Add | AssignOp::Sub | AssignOp::Mul
    );
    if plain_op && stmt.branches.iter().all(|b| selectable(&b.expr)) {
        return vec![render_select(stmt, names)];
    }
    let mut lines = Vec::new();
    if stmt.op == AssignOp::Declare {
        lines.push(format!("{} {var};", stmt.dtype.local_type()));
    }
    let used: usize = stmt.branches.first().map(|b| b.when.len()).unwrap_or(0);
    for (i, branch) in stmt.branches.iter().enumerate() {
        let mut head = if i == 0 {
            String::new()
        } else {
            "else ".to_string()
        };
        if i == 0 || used > 1 {
            head.push_str(&format!("if({})", branch_condition(branch)));
        }
        lines.push(head);
        lines.push(format!(
            "    {var} {op} {};",
            rhs(stmt, render(&branch.expr, names))
        ));
    }
    lines
}

/// Whether both sides of a boolean branch may be computed and one taken: no
/// calls (random numbers would be drawn, and a function may be costly) and
/// no integer division (`//`, `%`, `**` are calls on integers that may trap).
fn selectable(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Name(_) => true,
        ExprKind::Unary(_, e) => selectable(e),
        ExprKind::Binary(op, a, b) => {
            !matches!(op, BinaryOp::FloorDiv | BinaryOp::Mod | BinaryOp::Pow)
                && selectable(a)
                && selectable(b)
        }
        ExprKind::Call(..) => false,
    }
}

/// A statement's boolean branches as one conditional expression
/// (`x = b ? e1 : e2;`): the same value as Brian's `if`/`else`, without a
/// branch, so that the element loops vectorise and a condition that changes
/// from element to element costs no mispredictions.
fn render_select(stmt: &Stmt, names: &CoNames) -> String {
    let last = stmt.branches.len() - 1;
    let mut text = String::new();
    for (i, branch) in stmt.branches.iter().enumerate() {
        let value = format!("({})", rhs(stmt, render(&branch.expr, names)));
        if i == last {
            text.push_str(&value);
        } else {
            text.push_str(&format!("({}) ? {value} : ", branch_condition(branch)));
        }
    }
    format!(
        "{}{} {} {text};",
        declaration(stmt),
        stmt.var,
        assign_text(stmt.op)
    )
}

/// The type a statement that declares its variable starts with (`const double `),
/// else nothing.
fn declaration(stmt: &Stmt) -> String {
    if stmt.op != AssignOp::Declare {
        return String::new();
    }
    let c = if stmt.constant { "const " } else { "" };
    format!("{c}{} ", stmt.dtype.local_type())
}

/// The C condition of a boolean-simplification branch: `b1 && !b2`.
fn branch_condition(branch: &crate::ir::BoolBranch) -> String {
    let cond: Vec<String> = branch
        .when
        .iter()
        .map(|(name, value)| {
            if *value {
                name.clone()
            } else {
                format!("!{name}")
            }
        })
        .collect();
    cond.join(" && ")
}

/// `x += e` / `x -= e` on shared memory: `brisk_atomic_add(&x, (T)(±e))`.
fn render_atomic(stmt: &Stmt, names: &CoNames, target: &str, ty: &str) -> Vec<String> {
    let sign = if stmt.op == AssignOp::Sub { "-" } else { "" };
    let add = |e: &crate::ir::Expr| {
        format!(
            "brisk_atomic_add({target}, {sign}({ty})({}));",
            render(e, names)
        )
    };
    if stmt.branches.is_empty() {
        return vec![add(&stmt.expr)];
    }
    let mut lines = Vec::new();
    for (i, branch) in stmt.branches.iter().enumerate() {
        let head = if i == 0 { "" } else { "else " };
        lines.push(format!("{head}if({})", branch_condition(branch)));
        lines.push(format!("    {}", add(&branch.expr)));
    }
    lines
}

/// Name lookup in one code object.
pub struct CoNames<'a>(pub &'a CodeObject);

impl Names for CoNames<'_> {
    fn symbol(&self, name: &str) -> Option<&Symbol> {
        self.0.symbols.get(name)
    }
}

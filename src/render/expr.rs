//! Expression rendering: typed IR expressions to C++/CUDA text.
//!
//! In: an [`ir::Expr`] whose names resolve in the code object. Out: a C
//! expression string that both targets compile, following Brian's C++
//! renderer so results match cpp_standalone: `**` is `_brian_pow`, `%` and
//! `//` are Python's (`_brian_mod`, `_brian_floordiv`), `/` is
//! `1.0f*a/b`, and Brian's default functions map to their C names.

use crate::dtype::{float_literal, int_literal};
use crate::ir::{BinaryOp, Expr, ExprKind, Function, Symbol, UnaryOp};

/// What the renderer needs to know about names.
pub trait Names {
    /// The symbol `name` resolves to (`None` for a local).
    fn symbol(&self, name: &str) -> Option<&Symbol>;
}

/// Renders `expr` as C.
pub fn render(expr: &Expr, names: &dyn Names) -> String {
    match &expr.kind {
        ExprKind::Bool(b) => (if *b { "true" } else { "false" }).to_string(),
        ExprKind::Int(i) => int_literal(*i),
        ExprKind::Float(f) => float_literal(*f),
        ExprKind::Name(name) => name.clone(),
        ExprKind::Unary(op, arg) => {
            let arg = render_element(arg, names);
            match op {
                UnaryOp::Neg => format!("(-{arg})"),
                UnaryOp::Pos => format!("(+{arg})"),
                UnaryOp::Not => format!("(!{arg})"),
            }
        }
        ExprKind::Binary(op, lhs, rhs) => {
            let (l, r) = (render(lhs, names), render(rhs, names));
            match op {
                BinaryOp::Pow => format!("_brian_pow({l}, {r})"),
                BinaryOp::Mod => format!("_brian_mod({l}, {r})"),
                BinaryOp::FloorDiv => format!("_brian_floordiv({l}, {r})"),
                BinaryOp::Div => {
                    format!(
                        "(1.0f*{}/{})",
                        render_element(lhs, names),
                        render_element(rhs, names)
                    )
                }
                other => format!("({l} {} {r})", c_operator(*other)),
            }
        }
        ExprKind::Call(name, args) => render_call(name, args, names),
    }
}

/// Renders `expr`, parenthesised unless it is a name or a literal.
fn render_element(expr: &Expr, names: &dyn Names) -> String {
    let text = render(expr, names);
    match expr.kind {
        ExprKind::Name(_) | ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Float(_) => text,
        _ if text.starts_with('(') && text.ends_with(')') && balanced_outer(&text) => text,
        _ => format!("({text})"),
    }
}

/// True when the first parenthesis of `text` closes at its last character.
fn balanced_outer(text: &str) -> bool {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && i + 1 != text.len() {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

fn c_operator(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Lt => "<",
        BinaryOp::Le => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::Ge => ">=",
        BinaryOp::Eq => "==",
        BinaryOp::Ne => "!=",
        BinaryOp::And => "&&",
        BinaryOp::Or => "||",
        // Handled by the caller.
        BinaryOp::Div | BinaryOp::FloorDiv | BinaryOp::Mod | BinaryOp::Pow => "?",
    }
}

/// The C name of a Brian default function.
pub fn builtin_c_name(name: &str) -> &str {
    match name {
        "arcsin" => "asin",
        "arccos" => "acos",
        "arctan" => "atan",
        "int" => "int_",
        "exprel" => "_exprel",
        "abs" => "_brian_abs",
        "clip" => "_clip",
        "sign" => "_sign",
        "timestep" => "_timestep",
        other => other,
    }
}

fn render_call(name: &str, args: &[Expr], names: &dyn Names) -> String {
    let rendered: Vec<String> = args.iter().map(|a| render(a, names)).collect();
    match names.symbol(name) {
        Some(Symbol::Function(Function::Rand)) => "brisk_rand(&_rng)".to_string(),
        Some(Symbol::Function(Function::Randn)) => "brisk_randn(&_rng)".to_string(),
        Some(Symbol::Function(f @ Function::Binomial { .. })) => {
            format!("{}(&_rng)", binomial_function_name(f))
        }
        Some(Symbol::Function(Function::Poisson)) => {
            format!("brisk_poisson(&_rng, {})", rendered.join(", "))
        }
        Some(Symbol::Function(Function::User {
            c_name,
            auto_vectorise,
            ..
        })) => {
            let mut rendered = rendered;
            if *auto_vectorise {
                // Brian's auto_vectorise: the element index as the last argument
                rendered.push("_vectorisation_idx".to_string());
            }
            format!("{c_name}({})", rendered.join(", "))
        }
        Some(Symbol::Function(f @ Function::TimedArray { .. })) => {
            format!(
                "{}({}, _a)",
                timed_array_function_name(f),
                rendered.join(", ")
            )
        }
        _ => format!("{}({})", builtin_c_name(name), rendered.join(", ")),
    }
}

/// The C name of the function reading a TimedArray at upsampling factor `k`.
pub fn timed_array_function_name(f: &Function) -> String {
    match f {
        Function::TimedArray { values, k, .. } => format!("_brisk_timedarray_{values}_k{k}"),
        _ => String::new(),
    }
}

/// The generated sampler of a binomial function.
pub fn binomial_function_name(f: &Function) -> String {
    match f {
        Function::Binomial { name, .. } => format!("brisk_binomial_{name}"),
        _ => String::new(),
    }
}

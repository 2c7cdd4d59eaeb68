//! Untyped syntax tree of Brian's abstract code, as the grammar reads it.
//!
//! In: built by [`crate::parse`] from `grammars/abstract_code.pest`. Out:
//! [`Statement`] and [`Expr`] with names as plain strings and literals as
//! written (`True`, `3`, `0.5`); nothing is resolved or typed here (that is
//! [`crate::lower`]). [`Expr::sexpr`] prints a tree as an S-expression,
//! [`Expr::python`] as fully parenthesised Python/Brian syntax.

use std::fmt::Write as _;

use crate::ir::{AssignOp, BinaryOp, UnaryOp};

/// One statement `var op expr  # comment`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub var: String,
    pub op: AssignOp,
    pub expr: Expr,
    /// The text after `#`, trimmed (`None` without a comment).
    pub comment: Option<String>,
}

/// An expression as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `True` / `False`.
    Bool(bool),
    /// An integer literal (no sign: `-3` is `Unary(Neg, Int(3))`).
    Int(i64),
    /// A floating-point literal (`1.`, `.5`, `1e-3`).
    Float(f64),
    /// A name: variable, constant or local.
    Name(String),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `f(args...)`.
    Call(String, Vec<Expr>),
}

/// The abstract-code spelling of an assignment operator.
pub fn assign_op_str(op: AssignOp) -> &'static str {
    match op {
        AssignOp::Assign => "=",
        AssignOp::Declare => ":=",
        AssignOp::Add => "+=",
        AssignOp::Sub => "-=",
        AssignOp::Mul => "*=",
        AssignOp::Div => "/=",
        AssignOp::Mod => "%=",
        AssignOp::FloorDiv => "//=",
        AssignOp::Pow => "**=",
    }
}

/// The abstract-code spelling of a binary operator.
pub fn binary_op_str(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::FloorDiv => "//",
        BinaryOp::Mod => "%",
        BinaryOp::Pow => "**",
        BinaryOp::Lt => "<",
        BinaryOp::Le => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::Ge => ">=",
        BinaryOp::Eq => "==",
        BinaryOp::Ne => "!=",
        BinaryOp::And => "and",
        BinaryOp::Or => "or",
    }
}

/// The abstract-code spelling of a unary operator.
pub fn unary_op_str(op: UnaryOp) -> &'static str {
    match op {
        UnaryOp::Neg => "-",
        UnaryOp::Pos => "+",
        UnaryOp::Not => "not",
    }
}

/// A float in its shortest round-tripping form, always marked as a float
/// (`1.0`, `0.001`, `1e100`, `inf`, `nan`); Brian's parser reads it back.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        "nan".to_string()
    } else if f.is_infinite() {
        if f > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        }
    } else {
        // `{:?}` prints the shortest round-tripping form and always marks floats.
        format!("{f:?}")
    }
}

impl Expr {
    /// The tree as an S-expression: `(+ a (* 2 (call exp x)))`.
    pub fn sexpr(&self) -> String {
        let mut out = String::new();
        self.write_sexpr(&mut out);
        out
    }

    fn write_sexpr(&self, out: &mut String) {
        match self {
            Expr::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Expr::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Expr::Float(f) => out.push_str(&float_repr(*f)),
            Expr::Name(n) => out.push_str(n),
            Expr::Unary(op, e) => {
                let _ = write!(out, "({} ", unary_op_str(*op));
                e.write_sexpr(out);
                out.push(')');
            }
            Expr::Binary(op, l, r) => {
                let _ = write!(out, "({} ", binary_op_str(*op));
                l.write_sexpr(out);
                out.push(' ');
                r.write_sexpr(out);
                out.push(')');
            }
            Expr::Call(f, args) => {
                let _ = write!(out, "(call {f}");
                for a in args {
                    out.push(' ');
                    a.write_sexpr(out);
                }
                out.push(')');
            }
        }
    }

    /// The tree as Brian/Python syntax, every operation parenthesised:
    /// parsing the result gives the same tree back.
    pub fn python(&self) -> String {
        let mut out = String::new();
        self.write_python(&mut out);
        out
    }

    fn write_python(&self, out: &mut String) {
        match self {
            Expr::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Expr::Int(i) => {
                let _ = write!(out, "{i}");
            }
            // `inf` would read back as a name (Brian's constant): write a literal that overflows.
            Expr::Float(f) if f.is_infinite() && *f > 0.0 => out.push_str("1e999"),
            Expr::Float(f) => out.push_str(&float_repr(*f)),
            Expr::Name(n) => out.push_str(n),
            Expr::Unary(op, e) => {
                out.push('(');
                out.push_str(unary_op_str(*op));
                if *op == UnaryOp::Not {
                    out.push(' ');
                }
                e.write_python(out);
                out.push(')');
            }
            Expr::Binary(op, l, r) => {
                out.push('(');
                l.write_python(out);
                let _ = write!(out, " {} ", binary_op_str(*op));
                r.write_python(out);
                out.push(')');
            }
            Expr::Call(f, args) => {
                out.push_str(f);
                out.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    a.write_python(out);
                }
                out.push(')');
            }
        }
    }

    /// Every name the expression reads (not the called functions), sorted.
    pub fn names(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names(&self, out: &mut std::collections::BTreeSet<String>) {
        match self {
            Expr::Bool(_) | Expr::Int(_) | Expr::Float(_) => {}
            Expr::Name(n) => {
                out.insert(n.clone());
            }
            Expr::Unary(_, e) => e.collect_names(out),
            Expr::Binary(_, l, r) => {
                l.collect_names(out);
                r.collect_names(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect_names(out)),
        }
    }
}

impl Statement {
    /// `var op (sexpr)`, for dumps.
    pub fn sexpr(&self) -> String {
        format!(
            "{} {} {}",
            self.var,
            assign_op_str(self.op),
            self.expr.sexpr()
        )
    }
}

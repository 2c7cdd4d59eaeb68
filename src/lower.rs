//! Lowering: one exported code object to a typed, resolved [`CodeObject`].
//!
//! In: a [`CodeObjectDecl`] and the [`Export`] it came from (for clocks and
//! the default float dtype). Out: a [`CodeObject`] whose symbols are built
//! from the code object's variables, whose statements are parsed
//! ([`crate::parse`]), resolved and typed, and whose blocks carry the access
//! sets of [`crate::analysis`]; or the first [`Error`], naming the Brian
//! object, code object, block and statement.
//!
//! Typing follows Brian 2.11 (`parsing/bast.py` `BrianASTRenderer`,
//! `core/functions.py` `DEFAULT_FUNCTIONS`) refined to concrete dtypes as the
//! C++ code Brian generates computes them (`codegen/generators/cpp_generator.py`):
//!
//! * literals: `True`/`False` bool; integers `int32` (`int64` if they do not
//!   fit, like a C++ literal); floats `float64`.
//! * `+ - * // % **`: [`Dtype::promote`] (`bast.py` `render_BinOp`: the
//!   "highest" of the operands); `/`: the promoted float type, or the
//!   default float dtype for integer operands ("Division turns integers into
//!   floating point values").
//! * comparisons, `and`, `or`, `not`: bool; `and`/`or` need boolean operands
//!   and unary `-`/`+` reject them (`render_BoolOp`, `render_UnaryOp`).
//! * functions: see [`builtin_dtype`].
//!
//! Brian does not check that an assigned value's dtype matches its target
//! (C++ converts implicitly), so neither does Brisk: [`Stmt::dtype`] is the
//! target's type and code generation converts.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis;
use crate::diag::{Error, Result};
use crate::dtype::{Dtype, Value};
use crate::export::{BlockDecl, CodeObjectDecl, Export, StatementDecl, VariableDecl};
use crate::ir::{
    AssignOp, BinaryOp, Block, BoolBranch, ClockField, CodeObject, Expr, ExprKind, Function, Index,
    Stmt, Symbol, Template, UnaryOp,
};
use crate::parse::{self, ast};

/// Brian's default functions that Brisk renders by name (`Function::Builtin`).
pub const BUILTINS: &[&str] = &[
    "exp", "log", "log10", "expm1", "exprel", "log1p", "sqrt", "sin", "cos", "tan", "sinh", "cosh",
    "tanh", "arcsin", "arccos", "arctan", "abs", "sign", "clip", "floor", "ceil", "int",
    "timestep",
];

/// Lowers every code object of the export, in export order.
pub fn lower_all(export: &Export) -> Result<Vec<CodeObject>> {
    export
        .code_objects
        .iter()
        .map(|decl| lower(decl, export))
        .collect()
}

/// Lowers one code object.
pub fn lower(decl: &CodeObjectDecl, export: &Export) -> Result<CodeObject> {
    lower_inner(decl, export)
        .map_err(|e| {
            // Code Brisk cannot run yet may also not lower: say what is missing.
            let template = Template::from_name(&decl.template);
            if template.is_supported() {
                e
            } else {
                template.unsupported(&decl.owner.class, &decl.owner.name)
            }
        })
        .map_err(|e| e.in_object(&decl.owner.name, &decl.name))
}

fn lower_inner(decl: &CodeObjectDecl, export: &Export) -> Result<CodeObject> {
    let Symbols {
        symbols,
        subexpressions,
        clock,
    } = build_symbols(decl, export)?;
    let mut lowerer = Lowerer {
        symbols,
        subexpressions,
        float_dtype: export.float_dtype,
    };
    let mut blocks = Vec::with_capacity(decl.blocks.len());
    for block in &decl.blocks {
        blocks.push(lowerer.block(block, decl)?);
    }
    let template = Template::from_name(&decl.template);
    // Brian's cpp_standalone writes shared variables only from a state update
    // (run_regularly): its `stateupdate` template alone is ALLOWS_SCALAR_WRITE.
    if template != Template::Stateupdate {
        if let Some((block, var)) = blocks
            .iter()
            .find_map(|b| b.scalar_info.write.iter().next().map(|v| (b, v)))
        {
            return Err(Error::semantic(format!(
                "the {} template writes the shared variable '{var}'; Brian writes shared variables only \
                 in a state update or run_regularly",
                decl.template
            ))
            .at(block.name.as_deref().unwrap_or("main"), var));
        }
    }
    Ok(CodeObject {
        name: decl.name.clone(),
        owner: decl.owner.name.clone(),
        owner_class: decl.owner.class.clone(),
        data: crate::templates::of(&template).data(decl)?,
        template,
        clock,
        blocks,
        symbols: lowerer.symbols,
        conditional_writes: decl.conditional_writes.clone(),
    })
}

struct Symbols {
    symbols: BTreeMap<String, Symbol>,
    subexpressions: BTreeSet<String>,
    clock: Option<String>,
}

/// Symbols from the code object's variables. Arrays holding `t`, `dt` or
/// `timestep` of the code object's clock become [`Symbol::Clock`]. A code
/// object without a clock (run once, outside a network) that reads one
/// clock's values gets that clock; values of a second clock are not supported.
fn build_symbols(decl: &CodeObjectDecl, export: &Export) -> Result<Symbols> {
    let mut clock_arrays: BTreeMap<&str, (&str, ClockField)> = BTreeMap::new();
    for c in &export.clocks {
        clock_arrays.insert(&c.t_array, (&c.name, ClockField::T));
        if let Some(dt_array) = &c.dt_array {
            clock_arrays.insert(dt_array, (&c.name, ClockField::Dt));
        }
        clock_arrays.insert(&c.timestep_array, (&c.name, ClockField::Timestep));
    }
    let mut clock = decl.clock.clone();
    if let Some(name) = &clock {
        if !export.clocks.iter().any(|c| &c.name == name) {
            return Err(Error::export(format!(
                "code object runs on clock '{name}', which the export does not list"
            )));
        }
    }
    let mut symbols = BTreeMap::new();
    let mut subexpressions = BTreeSet::new();
    for (name, var) in &decl.variables {
        let symbol = match var {
            VariableDecl::Constant { dtype, value } => Symbol::Constant {
                dtype: *dtype,
                value: *value,
            },
            VariableDecl::Array {
                array,
                dtype,
                scalar,
                read_only,
                dynamic,
                index,
                ..
            } => {
                // The code object's own clock values are launch arguments; another
                // clock's values are read from its arrays (the runtime keeps them current).
                let own_clock_value =
                    clock_arrays
                        .get(array.as_str())
                        .and_then(|&(owner_clock, field)| {
                            let own = clock.get_or_insert_with(|| owner_clock.to_string());
                            (own == owner_clock).then_some((owner_clock, field))
                        });
                if let Some((owner_clock, field)) = own_clock_value {
                    Symbol::Clock {
                        clock: owner_clock.to_string(),
                        field,
                    }
                } else {
                    let index = match index.as_str() {
                        "_idx" => Index::Element,
                        "0" => Index::Scalar,
                        other => Index::Via(other.to_string()),
                    };
                    Symbol::Array {
                        array: array.clone(),
                        dtype: *dtype,
                        scalar: *scalar,
                        index,
                        dynamic: *dynamic,
                        read_only: *read_only,
                    }
                }
            }
            VariableDecl::Auxiliary { dtype } => Symbol::Local { dtype: *dtype },
            VariableDecl::Subexpression { .. } => {
                subexpressions.insert(name.clone());
                continue;
            }
            VariableDecl::TimedArray {
                ndim,
                shape,
                dt,
                k,
                values,
            } => {
                let (rows, cols) = match (ndim, shape.as_slice()) {
                    (1, [rows]) => (*rows, 1),
                    (2, [rows, cols]) => (*rows, *cols),
                    _ => {
                        return Err(Error::export(format!(
                            "TimedArray '{name}' has ndim {ndim} and shape {shape:?}; \
                             expected 1 or 2 dimensions"
                        )))
                    }
                };
                Symbol::Function(Function::TimedArray {
                    name: name.clone(),
                    values: values.clone(),
                    ndim: *ndim,
                    rows,
                    cols,
                    dt: *dt,
                    k: *k,
                })
            }
            VariableDecl::Binomial { n, p, normal } => Symbol::Function(Function::Binomial {
                name: name.clone(),
                n: *n,
                p: *p,
                normal: *normal,
            }),
            VariableDecl::UserFunction {
                c_name,
                return_type,
                auto_vectorise,
                ..
            } => {
                let mut pieces = Vec::new();
                user_function_pieces(var, &mut pieces, 0).map_err(|e| {
                    Error::not_implemented(format!("function '{name}': {}", e.message))
                })?;
                Symbol::Function(Function::User {
                    c_name: c_name.clone(),
                    pieces,
                    return_type: return_type.clone(),
                    auto_vectorise: *auto_vectorise,
                })
            }
            VariableDecl::Function { name: fname, .. } => Symbol::Function(match fname.as_str() {
                "rand" => Function::Rand,
                "randn" => Function::Randn,
                "poisson" => Function::Poisson,
                f if BUILTINS.contains(&f) => Function::Builtin(f.to_string()),
                _ => {
                    return Err(Error::not_implemented(format!(
                        "function '{name}' (used by {}) is not supported by Brisk yet",
                        decl.owner.name
                    )))
                }
            }),
        };
        symbols.insert(name.clone(), symbol);
    }
    Ok(Symbols {
        symbols,
        subexpressions,
        clock,
    })
}

/// The dtype a clock value has in Brian (`Clock` variables `t`, `dt`, `timestep`).
pub fn clock_dtype(field: ClockField) -> Dtype {
    match field {
        ClockField::T | ClockField::Dt => Dtype::Float64,
        ClockField::Timestep => Dtype::Int64,
    }
}

struct Lowerer {
    symbols: BTreeMap<String, Symbol>,
    subexpressions: BTreeSet<String>,
    float_dtype: Dtype,
}

/// Locals declared with `:=` so far in one block (scalar part, then vector part).
type Scope = BTreeMap<String, Dtype>;

impl Lowerer {
    fn block(&mut self, decl: &BlockDecl, co: &CodeObjectDecl) -> Result<Block> {
        let label = decl.label();
        let mut scope = Scope::new();
        let mut scalar = Vec::with_capacity(decl.scalar.len());
        for s in &decl.scalar {
            scalar.push(
                self.statement(s, &mut scope)
                    .map_err(|e| e.at(label, &source(s)))?,
            );
        }
        let mut vector = Vec::with_capacity(decl.vector.len());
        for s in &decl.vector {
            vector.push(
                self.statement(s, &mut scope)
                    .map_err(|e| e.at(label, &source(s)))?,
            );
        }
        let (scalar_info, vector_info) =
            analysis::access_info(&scalar, &vector, &self.symbols, &co.conditional_writes);
        for (stmts, info) in [(&scalar, &scalar_info), (&vector, &vector_info)] {
            self.check_access(stmts, info, co)
                .map_err(|(e, s)| e.at(label, s))?;
        }
        Ok(Block {
            name: decl.name.clone(),
            scalar,
            vector,
            scalar_info,
            vector_info,
        })
    }

    /// Index arrays and write guards the generated code will load must be
    /// arrays of this code object.
    fn check_access<'s>(
        &self,
        stmts: &'s [Stmt],
        info: &crate::ir::AccessInfo,
        co: &CodeObjectDecl,
    ) -> std::result::Result<(), (Error, &'s str)> {
        let source_of = |var: &str| {
            stmts
                .iter()
                .find(|s| s.var == var || analysis::expr_names(&s.expr).contains(var))
                .map(|s| s.source.as_str())
                .unwrap_or("")
        };
        for name in info.read.iter().chain(&info.write) {
            if let Some(Symbol::Array {
                index: Index::Via(idx),
                ..
            }) = self.symbols.get(name)
            {
                // Index arrays, or indices the template computes (`_raw_pre_idx` of connect()).
                if !matches!(
                    self.symbols.get(idx),
                    Some(Symbol::Array { .. } | Symbol::Local { .. })
                ) {
                    return Err((
                        Error::semantic(format!(
                            "'{name}' is indexed by '{idx}', which is not an array variable of this code object"
                        )),
                        source_of(name),
                    ));
                }
            }
        }
        for name in &info.write {
            if let Some(guard) = co.conditional_writes.get(name) {
                if !matches!(self.symbols.get(guard), Some(Symbol::Array { .. })) {
                    return Err((
                        Error::semantic(format!(
                            "writes to '{name}' are guarded by '{guard}', which is not an array \
                             variable of this code object"
                        )),
                        source_of(name),
                    ));
                }
            }
        }
        Ok(())
    }

    fn statement(&mut self, decl: &StatementDecl, scope: &mut Scope) -> Result<Stmt> {
        let source = source(decl);
        let op = AssignOp::from_str(&decl.op)
            .ok_or_else(|| Error::semantic(format!("unknown assignment operator '{}'", decl.op)))?;
        let parsed = parse::parse_statement(&source)?;
        if parsed.var != decl.var || parsed.op != op {
            return Err(Error::semantic(format!(
                "statement does not read as '{} {} <expression>'",
                decl.var, decl.op
            )));
        }
        let expr = self.expr(&parsed.expr, scope)?;
        let var = &decl.var;
        let dtype = if op == AssignOp::Declare {
            match self.symbols.get(var) {
                None | Some(Symbol::Local { .. }) => {}
                Some(other) => {
                    return Err(Error::semantic(format!(
                        "cannot declare '{var}' with ':=': it is {}",
                        describe(other)
                    )))
                }
            }
            if scope.contains_key(var) {
                return Err(Error::semantic(format!(
                    "'{var}' is declared twice in this block"
                )));
            }
            decl.dtype
        } else {
            self.target_dtype(var, scope)?
        };
        if let Some(bop) = op.binary() {
            self.binary_dtype(bop, dtype, expr.dtype)?;
        }
        let mut branches = Vec::with_capacity(decl.boolean_branches.len());
        for branch in &decl.boolean_branches {
            for (name, _) in &branch.when {
                let d = self.name_dtype(name, scope)?;
                if d != Dtype::Bool {
                    return Err(Error::semantic(format!(
                        "boolean branch condition '{name}' is not a boolean variable (it is {})",
                        d.name()
                    )));
                }
            }
            let parsed = parse::parse_expression(&branch.expr)?;
            let lowered = self.expr(&parsed, scope)?;
            branches.push(BoolBranch {
                when: branch.when.clone(),
                expr: lowered,
            });
        }
        if op == AssignOp::Declare {
            scope.insert(var.clone(), dtype);
        }
        Ok(Stmt {
            var: var.clone(),
            op,
            expr,
            dtype,
            constant: decl.constant,
            branches,
            source,
        })
    }

    /// The dtype of an assignment target, rejecting what cannot be written.
    fn target_dtype(&self, var: &str, scope: &Scope) -> Result<Dtype> {
        if let Some(d) = scope.get(var) {
            return Ok(*d);
        }
        match self.symbols.get(var) {
            Some(Symbol::Array { dtype, .. }) | Some(Symbol::Local { dtype }) => Ok(*dtype),
            Some(other) => Err(Error::semantic(format!(
                "cannot write to '{var}': it is {}",
                describe(other)
            ))),
            None if self.subexpressions.contains(var) => Err(Error::semantic(format!(
                "cannot write to subexpression '{var}'"
            ))),
            None => Err(Error::semantic(format!("unknown variable '{var}'"))),
        }
    }

    /// The dtype of a name read in an expression.
    fn name_dtype(&mut self, name: &str, scope: &Scope) -> Result<Dtype> {
        if let Some(d) = scope.get(name) {
            return Ok(*d);
        }
        match self.symbols.get(name) {
            Some(Symbol::Constant { dtype, .. })
            | Some(Symbol::Array { dtype, .. })
            | Some(Symbol::Local { dtype }) => Ok(*dtype),
            Some(Symbol::Clock { field, .. }) => Ok(clock_dtype(*field)),
            Some(Symbol::Function(_)) => Err(Error::semantic(format!(
                "'{name}' is a function, it cannot be used as a value (call it: {name}(...))"
            ))),
            None if self.subexpressions.contains(name) => Err(Error::semantic(format!(
                "subexpression '{name}' is used before a statement defines it"
            ))),
            None => match default_constant(name) {
                Some(value) => {
                    self.symbols.insert(
                        name.to_string(),
                        Symbol::Constant {
                            dtype: Dtype::Float64,
                            value: Value::Float(value),
                        },
                    );
                    Ok(Dtype::Float64)
                }
                None => Err(Error::semantic(format!("unknown variable '{name}'"))),
            },
        }
    }

    fn expr(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        Ok(match e {
            ast::Expr::Bool(b) => Expr {
                kind: ExprKind::Bool(*b),
                dtype: Dtype::Bool,
            },
            ast::Expr::Int(i) => Expr {
                kind: ExprKind::Int(*i),
                dtype: if i32::try_from(*i).is_ok() {
                    Dtype::Int32
                } else {
                    Dtype::Int64
                },
            },
            ast::Expr::Float(f) => Expr {
                kind: ExprKind::Float(*f),
                dtype: Dtype::Float64,
            },
            ast::Expr::Name(n) => {
                let dtype = self.name_dtype(n, scope)?;
                Expr {
                    kind: ExprKind::Name(n.clone()),
                    dtype,
                }
            }
            ast::Expr::Unary(op, x) => {
                let x = self.expr(x, scope)?;
                let dtype = match op {
                    UnaryOp::Not => Dtype::Bool,
                    UnaryOp::Neg | UnaryOp::Pos if x.dtype == Dtype::Bool => {
                        return Err(Error::semantic(format!(
                            "unary '{}' does not apply to boolean values: {}",
                            ast::unary_op_str(*op),
                            e.python()
                        )))
                    }
                    UnaryOp::Neg | UnaryOp::Pos => x.dtype,
                };
                Expr {
                    kind: ExprKind::Unary(*op, Box::new(x)),
                    dtype,
                }
            }
            ast::Expr::Binary(op, l, r) => {
                let l = self.expr(l, scope)?;
                let r = self.expr(r, scope)?;
                let dtype = self
                    .binary_dtype(*op, l.dtype, r.dtype)
                    .map_err(|err| Error::semantic(format!("{}: {}", err.message, e.python())))?;
                Expr {
                    kind: ExprKind::Binary(*op, Box::new(l), Box::new(r)),
                    dtype,
                }
            }
            ast::Expr::Call(f, args) => {
                let mut lowered = Vec::with_capacity(args.len());
                for a in args {
                    lowered.push(self.expr(a, scope)?);
                }
                let dtype = self.call_dtype(f, &lowered, scope)?;
                Expr {
                    kind: ExprKind::Call(f.clone(), lowered),
                    dtype,
                }
            }
        })
    }

    /// Result type of a binary operation (`bast.py` `render_BinOp`,
    /// `render_BoolOp`, `render_Compare`).
    fn binary_dtype(&self, op: BinaryOp, l: Dtype, r: Dtype) -> Result<Dtype> {
        Ok(match op {
            BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::FloorDiv
            | BinaryOp::Mod
            | BinaryOp::Pow => Dtype::promote(l, r),
            BinaryOp::Div => {
                let p = Dtype::promote(l, r);
                if p.is_float() {
                    p
                } else {
                    self.float_dtype
                }
            }
            BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::Eq
            | BinaryOp::Ne => Dtype::Bool,
            BinaryOp::And | BinaryOp::Or => {
                if l != Dtype::Bool || r != Dtype::Bool {
                    return Err(Error::semantic(format!(
                        "'{}' needs boolean operands, got {} and {}",
                        ast::binary_op_str(op),
                        l.name(),
                        r.name()
                    )));
                }
                Dtype::Bool
            }
        })
    }

    fn call_dtype(&self, f: &str, args: &[Expr], scope: &Scope) -> Result<Dtype> {
        let function = match self.symbols.get(f) {
            Some(Symbol::Function(function)) if !scope.contains_key(f) => function,
            Some(_) => return Err(Error::semantic(format!("'{f}' is not a function"))),
            None if scope.contains_key(f) => {
                return Err(Error::semantic(format!("'{f}' is not a function")))
            }
            None => return Err(Error::semantic(format!("unknown function '{f}'"))),
        };
        let arity = |n: usize| -> Result<()> {
            if args.len() == n {
                Ok(())
            } else {
                Err(Error::semantic(format!(
                    "function '{f}' takes {n} argument{}, got {}",
                    if n == 1 { "" } else { "s" },
                    args.len()
                )))
            }
        };
        let arg_types: Vec<Dtype> = args.iter().map(|a| a.dtype).collect();
        match function {
            Function::Rand | Function::Randn => {
                arity(0)?;
                Ok(Dtype::Float64)
            }
            Function::Poisson => {
                arity(1)?;
                Ok(Dtype::Int32)
            }
            Function::User { return_type, .. } => Ok(match return_type.as_str() {
                "integer" => Dtype::Int32,
                "boolean" => Dtype::Bool,
                "highest" => arg_types.iter().copied().fold(Dtype::Bool, Dtype::promote),
                _ => self.float_dtype,
            }),
            Function::Binomial { normal, .. } => {
                arity(0)?;
                Ok(if *normal {
                    Dtype::Float64
                } else {
                    Dtype::Int32
                })
            }
            Function::TimedArray { ndim, .. } => {
                arity(usize::from(*ndim))?;
                Ok(Dtype::Float64)
            }
            Function::Builtin(name) => {
                let (n, dtype) = builtin_dtype(name, &arg_types).ok_or_else(|| {
                    Error::not_implemented(format!("function '{f}' is not supported by Brisk yet"))
                })?;
                arity(n)?;
                Ok(dtype)
            }
        }
    }
}

/// The code of a user function's dependencies, then its own, in emission order.
fn user_function_pieces(
    decl: &VariableDecl,
    out: &mut Vec<(String, String)>,
    depth: usize,
) -> Result<()> {
    let VariableDecl::UserFunction {
        c_name,
        support_code,
        hashdefine_code,
        dependencies,
        ..
    } = decl
    else {
        return Err(Error::not_implemented(
            "a dependency is not a user function with C++ code",
        ));
    };
    if depth > 32 {
        return Err(Error::not_implemented(
            "its dependencies are nested too deeply",
        ));
    }
    for dep in dependencies.values() {
        user_function_pieces(dep, out, depth + 1)?;
    }
    if !out.iter().any(|(name, _)| name == c_name) {
        out.push((
            c_name.clone(),
            format!("{hashdefine_code}\n{support_code}\n"),
        ));
    }
    Ok(())
}

/// Arity and result type of a Brian default function called with `args`
/// (`None` for a name that is not one). Brian's `return_type`s
/// (`core/functions.py`) made concrete as its C++ implementations compute:
///
/// * `exp log log10 expm1 exprel log1p sqrt sin cos tan sinh cosh tanh
///   arcsin arccos arctan floor ceil` ("float"): `float32` for a `float32`
///   argument (the C++ `float` overload), else `float64`;
/// * `abs`, `sign` ("highest"): the argument's type (bool promoted to int32);
/// * `clip` ("highest"): the promoted type of its three arguments;
/// * `int` ("integer"): `int32` (`int_` returns `int`, `stdint_compat.h`);
/// * `timestep` ("integer"): `int64` (`_timestep` returns `int64_t`).
pub fn builtin_dtype(name: &str, args: &[Dtype]) -> Option<(usize, Dtype)> {
    let first = args.first().copied().unwrap_or(Dtype::Float64);
    Some(match name {
        "exp" | "log" | "log10" | "expm1" | "exprel" | "log1p" | "sqrt" | "sin" | "cos" | "tan"
        | "sinh" | "cosh" | "tanh" | "arcsin" | "arccos" | "arctan" | "floor" | "ceil" => (
            1,
            if first == Dtype::Float32 {
                Dtype::Float32
            } else {
                Dtype::Float64
            },
        ),
        "abs" | "sign" => (1, Dtype::promote(first, first)),
        "clip" => (3, args.iter().copied().fold(first, Dtype::promote)),
        "int" => (1, Dtype::Int32),
        "timestep" => (2, Dtype::Int64),
        _ => return None,
    })
}

/// Brian's `DEFAULT_CONSTANTS` (`pi`, `e`, `inf`), used where the code object
/// does not define the name itself.
fn default_constant(name: &str) -> Option<f64> {
    match name {
        "pi" => Some(std::f64::consts::PI),
        "e" => Some(std::f64::consts::E),
        "inf" => Some(f64::INFINITY),
        _ => None,
    }
}

fn describe(symbol: &Symbol) -> &'static str {
    match symbol {
        Symbol::Constant { .. } => "a constant",
        Symbol::Array { .. } => "an array variable",
        Symbol::Clock { .. } => "a clock variable (t, dt or timestep)",
        Symbol::Local { .. } => "a local variable",
        Symbol::Function(_) => "a function",
    }
}

/// The statement as text, `var op expr`.
fn source(decl: &StatementDecl) -> String {
    format!("{} {} {}", decl.var, decl.op, decl.expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-block code object over float32 `x`, int32 `k`, bool `b`, with
    /// the given vector statements `(var, op, expr, dtype)`.
    fn lower_vector(float_dtype: &str, stmts: &[(&str, &str, &str, &str)]) -> Result<CodeObject> {
        let stmts: Vec<serde_json::Value> = stmts
            .iter()
            .map(|(var, op, expr, dtype)| {
                serde_json::json!({"var": var, "op": op, "expr": expr, "dtype": dtype,
                                   "constant": false, "scalar": false})
            })
            .collect();
        let array = |name: &str, dtype: &str| {
            serde_json::json!({"kind": "array", "array": name, "dtype": dtype, "scalar": false,
                               "read_only": false, "constant": false, "dynamic": false,
                               "ndim": 1, "owner": "g", "index": "_idx"})
        };
        let export = serde_json::json!({
            "format": "brisk-export", "version": 1, "brian_version": "2.11.0",
            "float_dtype": float_dtype, "arrays": [], "static_arrays": {}, "clocks": [],
            "main_queue": [],
            "code_objects": [{
                "name": "co", "template": "stateupdate", "owner": {"name": "g", "class": "NeuronGroup"},
                "clock": null, "when": null, "order": null,
                "blocks": [{"name": null, "abstract_code": "", "scalar": [], "vector": stmts}],
                "variables": {
                    "x": array("_x", "float32"), "k": array("_k", "int32"), "b": array("_b", "bool"),
                    "exp": {"kind": "function", "name": "exp", "auto_vectorise": false, "stateless": true},
                    "sign": {"kind": "function", "name": "sign", "auto_vectorise": false, "stateless": true},
                    "rand": {"kind": "function", "name": "rand", "auto_vectorise": true, "stateless": false}
                },
                "indices": {}
            }]
        });
        let export: Export = serde_json::from_value(export).expect("valid test export");
        lower(&export.code_objects[0], &export)
    }

    fn dtype_of(float_dtype: &str, expr: &str) -> Dtype {
        let co = lower_vector(float_dtype, &[("_y", ":=", expr, "float64")])
            .unwrap_or_else(|e| panic!("{expr}: {e}"));
        co.blocks[0].vector[0].expr.dtype
    }

    #[test]
    fn brian_dtype_rules() {
        use Dtype::*;
        for (expr, expected) in [
            ("k + 1", Int32),
            ("k + 3000000000", Int64),
            ("x * 2", Float32),
            ("x * 0.5", Float64),
            ("k / 2", Float64),
            ("x / k", Float32),
            ("k // 2", Int32),
            ("k % 3", Int32),
            ("k ** 2", Int32),
            ("x ** 2", Float32),
            ("b + b", Int32),
            ("k < x", Bool),
            ("not k", Bool),
            ("b and (k > 1)", Bool),
            ("exp(x)", Float32),
            ("exp(k)", Float64),
            ("sign(x)", Float32),
            ("sign(k)", Int32),
            ("rand()", Float64),
            ("-k", Int32),
        ] {
            assert_eq!(dtype_of("float64", expr), expected, "{expr}");
        }
        assert_eq!(dtype_of("float32", "k / 2"), Float32);
    }

    #[test]
    fn scopes_and_errors() {
        let co = lower_vector(
            "float64",
            &[("_a", ":=", "k", "int64"), ("x", "=", "_a * 2", "float32")],
        )
        .expect("locals are visible to later statements");
        assert_eq!(co.blocks[0].vector[1].expr.dtype, Dtype::Int64);
        assert_eq!(co.blocks[0].vector_info.read, ["k".to_string()].into());
        assert_eq!(co.blocks[0].vector_info.write, ["x".to_string()].into());
        for (stmts, message) in [
            (vec![("x", "=", "-b", "float32")], "unary '-'"),
            (
                vec![("x", "=", "k or b", "float32")],
                "needs boolean operands",
            ),
            (vec![("x", "=", "exp()", "float32")], "takes 1 argument"),
            (vec![("x", "=", "_a", "float32")], "unknown variable '_a'"),
            (vec![("x", ":=", "1", "float32")], "cannot declare 'x'"),
            (
                vec![("_a", ":=", "1", "int64"), ("_a", ":=", "2", "int64")],
                "declared twice",
            ),
            (vec![("exp", "=", "1", "float64")], "it is a function"),
            (vec![("x", "=", "rand(", "float32")], "syntax error"),
        ] {
            let err = lower_vector("float64", &stmts).expect_err(message);
            assert!(
                err.message.contains(message),
                "{} does not contain {message}",
                err.message
            );
            assert_eq!(err.object.as_deref(), Some("g"));
            assert_eq!(err.block.as_deref(), Some("main"));
            assert!(err.line.is_some());
        }
    }
}

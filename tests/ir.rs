//! Lowering tests: every code object of the fixture exports
//! (`fixtures/exports/<name>/export/manifest.json`, written by
//! `scripts/export-fixtures`) lowered and dumped as text, and the broken
//! exports under `fixtures/exports-err/` giving the errors snapshotted.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use brisk::dtype::Dtype;
use brisk::export::Export;
use brisk::ir::{AccessInfo, Block, CodeObject, Expr, ExprKind, Index, Stmt, Symbol};
use brisk::lower::{lower, lower_all};
use brisk::parse::ast::{assign_op_str, binary_op_str, float_repr, unary_op_str};

fn short(d: Dtype) -> &'static str {
    match d {
        Dtype::Bool => "b",
        Dtype::Int8 => "i8",
        Dtype::Uint8 => "u8",
        Dtype::Int16 => "i16",
        Dtype::Uint16 => "u16",
        Dtype::Int32 => "i32",
        Dtype::Uint32 => "u32",
        Dtype::Int64 => "i64",
        Dtype::Uint64 => "u64",
        Dtype::Float32 => "f32",
        Dtype::Float64 => "f64",
    }
}

/// `(op arg...):dtype`, leaves `name:dtype`.
fn typed(e: &Expr, out: &mut String) {
    match &e.kind {
        ExprKind::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        ExprKind::Int(i) => {
            let _ = write!(out, "{i}");
        }
        ExprKind::Float(f) => out.push_str(&float_repr(*f)),
        ExprKind::Name(n) => out.push_str(n),
        ExprKind::Unary(op, x) => {
            let _ = write!(out, "({} ", unary_op_str(*op));
            typed(x, out);
            out.push(')');
        }
        ExprKind::Binary(op, l, r) => {
            let _ = write!(out, "({} ", binary_op_str(*op));
            typed(l, out);
            out.push(' ');
            typed(r, out);
            out.push(')');
        }
        ExprKind::Call(f, args) => {
            let _ = write!(out, "({f}");
            for a in args {
                out.push(' ');
                typed(a, out);
            }
            out.push(')');
        }
    }
    let _ = write!(out, ":{}", short(e.dtype));
}

fn set(s: &BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join(" ")
}

fn dump_info(label: &str, info: &AccessInfo, out: &mut String) {
    if info.read.is_empty() && info.write.is_empty() && info.indices.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "    {label}: read [{}] write [{}] indices [{}]",
        set(&info.read),
        set(&info.write),
        set(&info.indices)
    );
}

fn dump_stmt(part: &str, s: &Stmt, out: &mut String) {
    let mut expr = String::new();
    typed(&s.expr, &mut expr);
    let _ = writeln!(
        out,
        "    {part} {}:{} {} {expr}{}",
        s.var,
        short(s.dtype),
        assign_op_str(s.op),
        if s.constant { "  [const]" } else { "" }
    );
    for b in &s.branches {
        let when: Vec<String> = b.when.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let mut expr = String::new();
        typed(&b.expr, &mut expr);
        let _ = writeln!(out, "      if {}: {expr}", when.join(" "));
    }
}

fn dump_block(b: &Block, out: &mut String) {
    let _ = writeln!(out, "  block {}", b.name.as_deref().unwrap_or("-"));
    b.scalar.iter().for_each(|s| dump_stmt("S", s, out));
    b.vector.iter().for_each(|s| dump_stmt("V", s, out));
    dump_info("scalar", &b.scalar_info, out);
    dump_info("vector", &b.vector_info, out);
}

fn dump_symbol(name: &str, s: &Symbol, out: &mut String) {
    let text = match s {
        Symbol::Constant { dtype, value } => format!("constant {} = {value:?}", short(*dtype)),
        Symbol::Array {
            array,
            dtype,
            scalar,
            index,
            dynamic,
            read_only,
        } => {
            let index = match index {
                Index::Element => "_idx".to_string(),
                Index::Scalar => "0".to_string(),
                Index::Via(v) => format!("via {v}"),
            };
            format!(
                "array {} {array} [{index}]{}{}{}",
                short(*dtype),
                if *scalar { " scalar" } else { "" },
                if *dynamic { " dynamic" } else { "" },
                if *read_only { " read-only" } else { "" }
            )
        }
        Symbol::Clock { clock, field } => format!("clock {clock} {field:?}"),
        Symbol::Local { dtype } => format!("local {}", short(*dtype)),
        Symbol::Function(f) => format!("function {f:?}"),
    };
    let _ = writeln!(out, "  {name}: {text}");
}

fn dump(co: &CodeObject) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}) owner {} ({}) clock {} eventspace {}",
        co.name,
        co.template.name(),
        co.owner,
        co.owner_class,
        co.clock.as_deref().unwrap_or("-"),
        co.eventspace().unwrap_or("-")
    );
    for (name, s) in &co.symbols {
        dump_symbol(name, s, &mut out);
    }
    for (var, guard) in &co.conditional_writes {
        let _ = writeln!(out, "  write {var} if {guard}");
    }
    co.blocks.iter().for_each(|b| dump_block(b, &mut out));
    out
}

fn read_export(manifest: &Path) -> Export {
    let dir = manifest.parent().expect("manifest has a folder");
    brisk::validate::read(dir).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()))
}

/// The dump of every code object of the export at `path`.
fn lowered_text(path: &Path) -> String {
    let export = read_export(path);
    let lowered = lower_all(&export).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(lowered.len(), export.code_objects.len());
    let text: Vec<String> = lowered.iter().map(dump).collect();
    text.join("\n")
}

#[test]
fn lower_fixture_exports() {
    insta::glob!("../fixtures/exports", "*/export/manifest.json", |path| {
        insta::assert_snapshot!(lowered_text(path));
    });
}

/// Invariants later stages rely on, over every lowered code object.
#[test]
fn lowered_invariants() {
    insta::glob!("../fixtures", "exports*/*/export/manifest.json", |path| {
        if path.components().any(|c| c.as_os_str() == "exports-err") {
            return;
        }
        let export = read_export(path);
        for co in lower_all(&export).unwrap_or_else(|e| panic!("{e}")) {
            for b in &co.blocks {
                for info in [&b.scalar_info, &b.vector_info] {
                    for name in info.read.iter().chain(&info.write).chain(&info.indices) {
                        assert!(
                            matches!(co.symbols.get(name), Some(Symbol::Array { .. })),
                            "{}: '{name}' in access sets is not an array",
                            co.name
                        );
                    }
                }
                for s in b.scalar.iter().chain(&b.vector) {
                    assert!(!matches!(
                        co.symbols.get(&s.var),
                        Some(Symbol::Clock { .. })
                    ));
                }
                // Clock values are never loaded from memory when the code object has a clock.
                if co.clock.is_some() {
                    for (name, sym) in &co.symbols {
                        if let Symbol::Array { array, .. } = sym {
                            assert!(
                                export.clocks.iter().all(|c| c.t_array != *array
                                    && c.dt_array.as_deref() != Some(array.as_str())
                                    && c.timestep_array != *array),
                                "{}: '{name}' reads a clock array",
                                co.name
                            );
                        }
                    }
                }
            }
        }
    });
}

#[test]
fn lowering_errors() {
    insta::glob!(
        "../fixtures/exports-err",
        "*/export/manifest.json",
        |path| {
            let export = read_export(path);
            let decl = export
                .code_objects
                .first()
                .expect("error fixture has a code object");
            let err = match lower(decl, &export) {
                Ok(_) => panic!("{} lowers but should not", path.display()),
                Err(e) => e,
            };
            assert_eq!(err.object.as_deref(), Some(decl.owner.name.as_str()));
            assert_eq!(err.code_object.as_deref(), Some(decl.name.as_str()));
            insta::assert_snapshot!(format!("{err}\n\n{}", err.to_json_line()));
        }
    );
}

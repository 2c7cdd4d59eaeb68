//! Parser tests: abstract-code fixtures (`fixtures/abstract_code/{ok,err}/*.txt`,
//! one block per file) snapshotted as S-expressions or error messages, and
//! every statement of every fixture export (`fixtures/exports/*`,
//! `fixtures/exports-unsupported/*`) parsed.

use std::path::{Path, PathBuf};

use brisk::parse::{ast, parse_block, parse_expression, parse_statement};

fn dump_block(statements: &[ast::Statement]) -> String {
    let mut out = String::new();
    for s in statements {
        out.push_str(&s.sexpr());
        if let Some(c) = &s.comment {
            out.push_str("    # ");
            out.push_str(c);
        }
        out.push('\n');
    }
    out
}

#[test]
fn ok_blocks() {
    insta::glob!("../fixtures/abstract_code", "ok/*.txt", |path| {
        let text = std::fs::read_to_string(path).expect("fixture is readable");
        let statements = match parse_block(&text) {
            Ok(s) => s,
            Err(e) => panic!("{} does not parse: {e}", path.display()),
        };
        // Printing and re-parsing gives the same trees.
        for s in &statements {
            let again = parse_expression(&s.expr.python()).expect("printed expression parses");
            assert_eq!(again, s.expr, "round trip of {}", s.expr.python());
        }
        insta::assert_snapshot!(dump_block(&statements));
    });
}

#[test]
fn err_blocks() {
    insta::glob!("../fixtures/abstract_code", "err/*.txt", |path| {
        let text = std::fs::read_to_string(path).expect("fixture is readable");
        match parse_block(&text) {
            Ok(s) => panic!(
                "{} parses but should not: {}",
                path.display(),
                dump_block(&s)
            ),
            Err(e) => {
                assert_eq!(e.kind, brisk::diag::ErrorKind::Parse);
                assert!(e.line.is_some(), "parse errors name the line");
                insta::assert_snapshot!(e.to_string());
            }
        }
    });
}

#[test]
fn single_statements_and_expressions() {
    let s = parse_statement("v = v_reset  # reset").expect("parses");
    assert_eq!(s.sexpr(), "v = v_reset");
    assert_eq!(s.comment.as_deref(), Some("reset"));
    assert!(
        parse_statement("v = 1\nw = 2").is_err(),
        "one statement only"
    );
    assert!(parse_statement("").is_err());
    assert_eq!(
        parse_expression("  a+b  ").expect("parses").sexpr(),
        "(+ a b)"
    );
    assert!(parse_expression("a = b").is_err());
    let e = parse_statement("v = a < b < c").expect_err("chained comparison");
    assert_eq!(e.line.as_deref(), Some("v = a < b < c"));
    assert!(e.message.contains("column 11"), "{}", e.message);
}

/// Hostile inputs: each gives a parse error (or, for the few that are valid
/// Python, the statements expected), never a panic or a stack overflow.
#[test]
fn hostile_inputs() {
    let deep = format!("v = {}x{}", "f(".repeat(99), ")".repeat(99));
    let long_sum = format!("v = {}", vec!["x"; 20_000].join(" + "));
    let inputs: [(String, Option<usize>); 14] = [
        ("(".repeat(20_000), None),
        (")".repeat(1000), None),
        (format!("v = {}x", "-".repeat(20_000)), None),
        (format!("v = {}x", "not ".repeat(10_000)), None),
        (format!("v = {}", vec!["x"; 20_000].join("**")), None),
        (long_sum.clone(), None),
        (format!("v = {}", vec!["x"; 10_000].join(" and ")), None),
        (deep.clone(), Some(1)),
        ("v = \u{0}".to_string(), None),
        ("v = é".to_string(), None),
        ("v = 1e99999".to_string(), Some(1)), // (valid Python: inf)
        ("\u{feff}v = 1".to_string(), None),
        ("v = 'text'".to_string(), None),
        ("#".to_string(), Some(0)), // (a comment: an empty block)
    ];
    for (input, statements) in &inputs {
        let shown: String = input.chars().take(40).collect();
        match parse_block(input) {
            Ok(parsed) => assert_eq!(
                Some(parsed.len()),
                *statements,
                "{shown:?} parses, to {} statements",
                parsed.len()
            ),
            Err(e) => {
                assert!(statements.is_none(), "{shown:?} does not parse: {e}");
                assert_eq!(e.kind, brisk::diag::ErrorKind::Parse, "{shown:?}: {e}");
                assert!(!e.message.is_empty(), "{shown:?}");
            }
        }
        // one statement or expression: the same verdict, never a panic
        assert_eq!(
            parse_statement(input).is_ok(),
            *statements == Some(1),
            "{shown:?}"
        );
        let expression = input.strip_prefix("v = ").unwrap_or(input);
        if let Err(e) = parse_expression(expression) {
            assert_eq!(e.kind, brisk::diag::ErrorKind::Parse, "{shown:?}: {e}");
        }
    }
}

fn export_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for folder in ["fixtures/exports", "fixtures/exports-unsupported"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        dirs.extend(
            entries
                .filter_map(|e| e.ok().map(|e| e.path().join("export")))
                .filter(|p| p.join("manifest.json").is_file()),
        );
    }
    dirs.sort();
    dirs
}

/// The parser accepts every statement, boolean branch and abstract-code
/// block of every fixture export.
#[test]
fn every_exported_statement_parses() {
    let dirs = export_dirs();
    assert!(!dirs.is_empty(), "no fixture exports found");
    let mut count = 0;
    for dir in dirs {
        let export =
            brisk::validate::read(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for co in &export.code_objects {
            for block in &co.blocks {
                if let Err(e) = parse_block(&block.abstract_code) {
                    panic!(
                        "{} {}: abstract code does not parse: {e}",
                        dir.display(),
                        co.name
                    );
                }
                for s in block.scalar.iter().chain(&block.vector) {
                    let text = format!("{} {} {}", s.var, s.op, s.expr);
                    let parsed = parse_statement(&text)
                        .unwrap_or_else(|e| panic!("{} {}: {e}", dir.display(), co.name));
                    assert_eq!(parsed.var, s.var);
                    let again = parse_expression(&parsed.expr.python()).expect("round trip parses");
                    assert_eq!(again, parsed.expr);
                    for b in &s.boolean_branches {
                        parse_expression(&b.expr)
                            .unwrap_or_else(|e| panic!("{} {}: {e}", dir.display(), co.name));
                    }
                    count += 1;
                }
            }
        }
    }
    assert!(count > 50, "only {count} statements in the fixture exports");
}

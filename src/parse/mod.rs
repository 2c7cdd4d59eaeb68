//! Parser for Brian's abstract code (statements and expressions in Python syntax).
//!
//! In: text — one statement `var op expr` (as the export's statements are
//! rebuilt from `var`, `op`, `expr`), one expression, or a whole multi-line
//! abstract-code block (statements separated by line breaks or `;`, with
//! indentation, blank lines and `# comments`). Out: the untyped [`ast`] tree,
//! or an [`Error`] of kind [`ErrorKind::Parse`] whose message names the
//! column (and line, for blocks) and what was expected, with `line` set to
//! the offending source line. The grammar is `grammars/abstract_code.pest`;
//! operator precedence and associativity follow Python (two Pratt parsers
//! below). Never panics: nesting is bounded ([`MAX_NESTING`], [`MAX_DEPTH`])
//! so that no input can exhaust the stack here or in later recursive passes.

pub mod ast;

use std::sync::LazyLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use crate::diag::{Error, ErrorKind};
use crate::ir::{AssignOp, BinaryOp, UnaryOp};
use ast::{Expr, Statement};

/// Most parentheses that may be open at once (Python allows 200).
pub const MAX_NESTING: usize = 100;
/// Most levels an expression tree may have; deeper trees are rejected.
/// (Brian's own recursive renderers give up at about this depth.)
pub const MAX_DEPTH: usize = 256;
/// Most prefix operators / `**` operators in one unbroken chain (`- - -x`, `a**b**c`).
const MAX_CHAIN: usize = 64;

#[derive(pest_derive::Parser)]
#[grammar = "grammars/abstract_code.pest"]
struct AbstractCodeParser;

/// `or` < `and` < prefix `not`, over comparisons.
static BOOL_PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or_op, Assoc::Left))
        .op(Op::infix(Rule::and_op, Assoc::Left))
        .op(Op::prefix(Rule::not_op))
});

/// `+ -` < `* / // %` < prefix `- +` < `**` (right-associative), over atoms.
static ARITH_PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left)
            | Op::infix(Rule::div, Assoc::Left)
            | Op::infix(Rule::floordiv, Assoc::Left)
            | Op::infix(Rule::modulo, Assoc::Left))
        .op(Op::prefix(Rule::neg) | Op::prefix(Rule::pos))
        .op(Op::infix(Rule::pow, Assoc::Right))
});

/// Parses one statement `var op expr` (an optional trailing `# comment` is kept).
pub fn parse_statement(text: &str) -> Result<Statement, Error> {
    let ctx = Ctx { multiline: false };
    check_nesting(text, &ctx)?;
    let mut pairs = AbstractCodeParser::parse(Rule::statement_only, text)
        .map_err(|e| pest_error(e, text, &ctx))?;
    let top = pairs
        .next()
        .ok_or_else(|| parse_error("empty statement", text))?;
    let mut statement = None;
    let mut comment = None;
    for pair in top.into_inner() {
        match pair.as_rule() {
            Rule::statement => statement = Some(build_statement(pair, &ctx)?),
            Rule::comment => comment = Some(comment_text(&pair)),
            _ => {}
        }
    }
    let mut statement = statement.ok_or_else(|| parse_error("expected a statement", text))?;
    statement.comment = comment;
    Ok(statement)
}

/// Parses one expression.
pub fn parse_expression(text: &str) -> Result<Expr, Error> {
    let ctx = Ctx { multiline: false };
    check_nesting(text, &ctx)?;
    let mut pairs = AbstractCodeParser::parse(Rule::expression_only, text)
        .map_err(|e| pest_error(e, text, &ctx))?;
    let top = pairs
        .next()
        .ok_or_else(|| parse_error("empty expression", text))?;
    for pair in top.into_inner() {
        if pair.as_rule() == Rule::expr {
            return Ok(build_expr(pair, &ctx)?.0);
        }
    }
    Err(parse_error("expected an expression", text))
}

/// Parses a block of abstract code: one statement per line (or separated by
/// `;`), indentation stripped, blank lines and comments skipped.
pub fn parse_block(code: &str) -> Result<Vec<Statement>, Error> {
    let ctx = Ctx { multiline: true };
    check_nesting(code, &ctx)?;
    let mut pairs =
        AbstractCodeParser::parse(Rule::block, code).map_err(|e| pest_error(e, code, &ctx))?;
    let top = pairs
        .next()
        .ok_or_else(|| parse_error("empty block", code))?;
    let mut out = Vec::new();
    for line in top.into_inner() {
        if line.as_rule() != Rule::line {
            continue;
        }
        let mut statement = None;
        let mut comment = None;
        for pair in line.into_inner() {
            match pair.as_rule() {
                Rule::statement => statement = Some(build_statement(pair, &ctx)?),
                Rule::comment => comment = Some(comment_text(&pair)),
                _ => {}
            }
        }
        if let Some(mut statement) = statement {
            statement.comment = comment;
            out.push(statement);
        }
    }
    Ok(out)
}

/// What the builders need to word their errors.
struct Ctx {
    /// Name the line as well as the column.
    multiline: bool,
}

impl Ctx {
    fn position(&self, line: usize, col: usize) -> String {
        if self.multiline {
            format!("line {line}, column {col}")
        } else {
            format!("column {col}")
        }
    }

    /// A parse error at the start of `pair`, naming its source line.
    fn error_at(&self, pair: &Pair<'_, Rule>, message: &str) -> Error {
        let pos = pair.as_span().start_pos();
        let (line, col) = pos.line_col();
        let text = pos.line_of().trim_end_matches(['\r', '\n']);
        parse_error(
            format!("syntax error at {}: {}", self.position(line, col), message),
            text,
        )
    }
}

fn parse_error(message: impl Into<String>, line: &str) -> Error {
    let mut e = Error::new(ErrorKind::Parse, message);
    e.line = Some(line.to_string());
    e
}

fn comment_text(pair: &Pair<'_, Rule>) -> String {
    pair.as_str().trim_start_matches('#').trim().to_string()
}

/// Rejects text with more than [`MAX_NESTING`] open parentheses (outside comments)
/// before pest's recursive descent sees it.
fn check_nesting(text: &str, ctx: &Ctx) -> Result<(), Error> {
    let mut depth = 0usize;
    let mut in_comment = false;
    let (mut line, mut col) = (1usize, 0usize);
    for c in text.chars() {
        col += 1;
        match c {
            '\n' => {
                in_comment = false;
                line += 1;
                col = 0;
            }
            ';' => in_comment = false,
            '#' => in_comment = true,
            '(' if !in_comment => {
                depth += 1;
                if depth > MAX_NESTING {
                    let source = text.lines().nth(line - 1).unwrap_or(text);
                    return Err(parse_error(
                        format!(
                            "syntax error at {}: too many nested parentheses (more than {MAX_NESTING})",
                            ctx.position(line, col)
                        ),
                        source,
                    ));
                }
            }
            ')' if !in_comment => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Turns pest's error into a readable [`ErrorKind::Parse`] error.
fn pest_error(err: pest::error::Error<Rule>, text: &str, ctx: &Ctx) -> Error {
    use pest::error::{ErrorVariant, InputLocation, LineColLocation};
    let (line, col) = match err.line_col {
        LineColLocation::Pos(p) | LineColLocation::Span(p, _) => p,
    };
    let offset = match err.location {
        InputLocation::Pos(p) | InputLocation::Span((p, _)) => p,
    };
    let rest = text.get(offset..).unwrap_or("");
    let found = match rest.chars().next() {
        None => "end of input".to_string(),
        Some('\n' | '\r') => "end of line".to_string(),
        Some(_) => {
            let token: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace())
                .take(12)
                .collect();
            format!("'{token}'")
        }
    };
    let expected = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().map(|r| describe(*r)).collect();
            names.sort_unstable();
            names.dedup();
            // An optional comment is always possible; a name or '(' is one
            // kind of expression.
            let expression = names.contains(&EXPRESSION);
            names.retain(|n| *n != COMMENT && !(expression && (*n == NAME || *n == LPAREN)));
            join_or(&names)
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let mut message = format!("syntax error at {}: ", ctx.position(line, col));
    if expected.is_empty() {
        message.push_str(&format!("unexpected {found}"));
    } else {
        message.push_str(&format!("expected {expected}, found {found}"));
    }
    let hint = if rest.starts_with('&') {
        Some("use 'and' instead of '&'")
    } else if rest.starts_with('|') {
        Some("use 'or' instead of '|'")
    } else if rest.starts_with('^') {
        Some("use '**' instead of '^'")
    } else if rest.starts_with('!') && !rest.starts_with("!=") {
        Some("use 'not' instead of '!'")
    } else {
        None
    };
    if let Some(hint) = hint {
        message.push_str(&format!(" ({hint})"));
    }
    let source = if ctx.multiline {
        text.lines().nth(line.saturating_sub(1)).unwrap_or("")
    } else {
        text
    };
    parse_error(message, source)
}

const EXPRESSION: &str = "an expression";
const NAME: &str = "a name";
const LPAREN: &str = "'('";
const COMMENT: &str = "a comment";

/// Words for what the grammar expected at a failing position.
fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of input",
        Rule::ident | Rule::statement | Rule::keyword => NAME,
        Rule::lparen => LPAREN,
        Rule::assign_op => "an assignment operator (=, :=, +=, -=, *=, /=, %=, //=, **=)",
        Rule::expr
        | Rule::comparison
        | Rule::arith
        | Rule::call
        | Rule::name
        | Rule::number
        | Rule::float
        | Rule::int
        | Rule::true_lit
        | Rule::false_lit
        | Rule::paren
        | Rule::not_op
        | Rule::neg
        | Rule::pos => EXPRESSION,
        Rule::or_op
        | Rule::and_op
        | Rule::le
        | Rule::ge
        | Rule::eq
        | Rule::ne
        | Rule::lt
        | Rule::gt
        | Rule::add
        | Rule::sub
        | Rule::pow
        | Rule::mul
        | Rule::floordiv
        | Rule::div
        | Rule::modulo => "an operator",
        Rule::rparen => "')'",
        Rule::comma => "','",
        Rule::comment => COMMENT,
        _ => "a statement",
    }
}

fn join_or(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// A built subtree with its depth.
type Built = Result<(Expr, usize), Error>;

fn build_statement(pair: Pair<'_, Rule>, ctx: &Ctx) -> Result<Statement, Error> {
    let mut var = None;
    let mut op = None;
    let mut expr = None;
    for p in pair.clone().into_inner() {
        match p.as_rule() {
            Rule::ident => var = Some(p.as_str().to_string()),
            Rule::assign_op => {
                op = Some(
                    AssignOp::from_str(p.as_str())
                        .ok_or_else(|| ctx.error_at(&p, "unknown assignment operator"))?,
                )
            }
            Rule::expr => expr = Some(build_expr(p, ctx)?.0),
            _ => {}
        }
    }
    match (var, op, expr) {
        (Some(var), Some(op), Some(expr)) => Ok(Statement {
            var,
            op,
            expr,
            comment: None,
        }),
        _ => Err(ctx.error_at(&pair, "incomplete statement")),
    }
}

/// Rejects unbroken chains of prefix operators and `**` longer than
/// [`MAX_CHAIN`]: the Pratt parser recurses once per link.
fn check_chains(pairs: &Pairs<'_, Rule>, ctx: &Ctx) -> Result<(), Error> {
    let mut chain = 0usize;
    for p in pairs.clone() {
        match p.as_rule() {
            Rule::neg | Rule::pos | Rule::not_op | Rule::pow => {
                chain += 1;
                if chain > MAX_CHAIN {
                    return Err(ctx.error_at(
                        &p,
                        &format!("expression nested too deeply (more than {MAX_CHAIN} chained operators)"),
                    ));
                }
            }
            Rule::add
            | Rule::sub
            | Rule::mul
            | Rule::div
            | Rule::floordiv
            | Rule::modulo
            | Rule::and_op
            | Rule::or_op => chain = 0,
            _ => {}
        }
    }
    Ok(())
}

fn node(expr: Expr, depth: usize, at: &Pair<'_, Rule>, ctx: &Ctx) -> Built {
    if depth > MAX_DEPTH {
        return Err(ctx.error_at(
            at,
            &format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
        ));
    }
    Ok((expr, depth))
}

/// `expr`: `not`, `and`, `or` over comparisons.
fn build_expr(pair: Pair<'_, Rule>, ctx: &Ctx) -> Built {
    let pairs = pair.into_inner();
    check_chains(&pairs, ctx)?;
    BOOL_PRATT
        .map_primary(|p| build_comparison(p, ctx))
        .map_prefix(|op, rhs| {
            let (rhs, d) = rhs?;
            node(Expr::Unary(UnaryOp::Not, Box::new(rhs)), d + 1, &op, ctx)
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, dl) = lhs?;
            let (rhs, dr) = rhs?;
            let bop = if op.as_rule() == Rule::and_op {
                BinaryOp::And
            } else {
                BinaryOp::Or
            };
            node(
                Expr::Binary(bop, Box::new(lhs), Box::new(rhs)),
                dl.max(dr) + 1,
                &op,
                ctx,
            )
        })
        .parse(pairs)
}

/// `comparison`: one arithmetic expression, or two with a comparison operator.
fn build_comparison(pair: Pair<'_, Rule>, ctx: &Ctx) -> Built {
    if pair.as_rule() != Rule::comparison {
        return Err(ctx.error_at(&pair, "expected a comparison"));
    }
    let at = pair.clone();
    let mut inner = pair.into_inner();
    let first = inner
        .next()
        .ok_or_else(|| ctx.error_at(&at, "expected an expression"))?;
    let (lhs, dl) = build_arith(first, ctx)?;
    let Some(op) = inner.next() else {
        return Ok((lhs, dl));
    };
    let rhs_pair = inner
        .next()
        .ok_or_else(|| ctx.error_at(&op, "expected an expression"))?;
    let (rhs, dr) = build_arith(rhs_pair, ctx)?;
    if let Some(second) = inner.next() {
        return Err(ctx.error_at(
            &second,
            "can only handle single comparisons like a<b not a<b<c",
        ));
    }
    let bop = match op.as_rule() {
        Rule::lt => BinaryOp::Lt,
        Rule::le => BinaryOp::Le,
        Rule::gt => BinaryOp::Gt,
        Rule::ge => BinaryOp::Ge,
        Rule::eq => BinaryOp::Eq,
        Rule::ne => BinaryOp::Ne,
        _ => return Err(ctx.error_at(&op, "expected a comparison operator")),
    };
    node(
        Expr::Binary(bop, Box::new(lhs), Box::new(rhs)),
        dl.max(dr) + 1,
        &op,
        ctx,
    )
}

/// `arith`: signs and arithmetic operators over atoms.
fn build_arith(pair: Pair<'_, Rule>, ctx: &Ctx) -> Built {
    if pair.as_rule() != Rule::arith {
        return Err(ctx.error_at(&pair, "expected an arithmetic expression"));
    }
    let pairs = pair.into_inner();
    check_chains(&pairs, ctx)?;
    ARITH_PRATT
        .map_primary(|p| build_atom(p, ctx))
        .map_prefix(|op, rhs| {
            let (rhs, d) = rhs?;
            let uop = if op.as_rule() == Rule::neg {
                UnaryOp::Neg
            } else {
                UnaryOp::Pos
            };
            node(Expr::Unary(uop, Box::new(rhs)), d + 1, &op, ctx)
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, dl) = lhs?;
            let (rhs, dr) = rhs?;
            let bop = match op.as_rule() {
                Rule::add => BinaryOp::Add,
                Rule::sub => BinaryOp::Sub,
                Rule::mul => BinaryOp::Mul,
                Rule::div => BinaryOp::Div,
                Rule::floordiv => BinaryOp::FloorDiv,
                Rule::modulo => BinaryOp::Mod,
                Rule::pow => BinaryOp::Pow,
                _ => return Err(ctx.error_at(&op, "expected an operator")),
            };
            node(
                Expr::Binary(bop, Box::new(lhs), Box::new(rhs)),
                dl.max(dr) + 1,
                &op,
                ctx,
            )
        })
        .parse(pairs)
}

/// Literals, names, calls and parenthesised expressions.
fn build_atom(pair: Pair<'_, Rule>, ctx: &Ctx) -> Built {
    match pair.as_rule() {
        Rule::true_lit => Ok((Expr::Bool(true), 1)),
        Rule::false_lit => Ok((Expr::Bool(false), 1)),
        Rule::name => Ok((Expr::Name(pair.as_str().trim().to_string()), 1)),
        Rule::number => {
            let inner = pair
                .clone()
                .into_inner()
                .next()
                .ok_or_else(|| ctx.error_at(&pair, "expected a number"))?;
            let digits: String = inner.as_str().chars().filter(|c| *c != '_').collect();
            if inner.as_rule() == Rule::int {
                digits
                    .parse::<i64>()
                    .map(|i| (Expr::Int(i), 1))
                    .map_err(|_| {
                        ctx.error_at(
                            &pair,
                            &format!("integer literal '{}' is too large", inner.as_str()),
                        )
                    })
            } else {
                digits
                    .parse::<f64>()
                    .map(|f| (Expr::Float(f), 1))
                    .map_err(|_| {
                        ctx.error_at(&pair, &format!("invalid number '{}'", inner.as_str()))
                    })
            }
        }
        Rule::paren => {
            let at = pair.clone();
            let inner = pair
                .into_inner()
                .find(|p| p.as_rule() == Rule::expr)
                .ok_or_else(|| ctx.error_at(&at, "expected an expression"))?;
            build_expr(inner, ctx)
        }
        Rule::call => {
            let at = pair.clone();
            let mut name = None;
            let mut args = Vec::new();
            let mut depth = 0;
            for p in pair.into_inner() {
                match p.as_rule() {
                    Rule::ident => name = Some(p.as_str().to_string()),
                    Rule::expr => {
                        let (arg, d) = build_expr(p, ctx)?;
                        depth = depth.max(d);
                        args.push(arg);
                    }
                    _ => {}
                }
            }
            let name = name.ok_or_else(|| ctx.error_at(&at, "expected a function name"))?;
            node(Expr::Call(name, args), depth + 1, &at, ctx)
        }
        _ => Err(ctx.error_at(&pair, "expected an expression")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sx(text: &str) -> String {
        match parse_expression(text) {
            Ok(e) => e.sexpr(),
            Err(e) => format!("ERR {}", e.message),
        }
    }

    #[test]
    fn precedence() {
        assert_eq!(sx("-x**2"), "(- (** x 2))");
        assert_eq!(sx("2**-1"), "(** 2 (- 1))");
        assert_eq!(sx("a**b**c"), "(** a (** b c))");
        assert_eq!(sx("2**-x*3"), "(* (** 2 (- x)) 3)");
        assert_eq!(sx("a//b % 3"), "(% (// a b) 3)");
        assert_eq!(sx("a - b - c"), "(- (- a b) c)");
        assert_eq!(sx("not a < b"), "(not (< a b))");
        assert_eq!(sx("a or b and not c"), "(or a (and b (not c)))");
        assert_eq!(sx("1.0*x/2"), "(/ (* 1.0 x) 2)");
        assert_eq!(sx("android and notice"), "(and android notice)");
        assert_eq!(sx("Trueish or False"), "(or Trueish False)");
        assert_eq!(sx("f(a, b,)"), "(call f a b)");
        assert_eq!(sx("rand()"), "(call rand)");
        assert_eq!(
            sx(".5 + 5. + 1e-3 + 1_000"),
            "(+ (+ (+ 0.5 5.0) 0.001) 1000)"
        );
    }

    #[test]
    fn errors() {
        assert!(sx("a < b < c").contains("single comparisons"));
        assert!(sx("a & b").contains("use 'and'"));
        assert!(sx("2x").starts_with("ERR"));
        assert!(sx("a < not b").starts_with("ERR"));
        assert!(sx("99999999999999999999").contains("too large"));
        let deep = format!("{}x{}", "(".repeat(500), ")".repeat(500));
        assert!(sx(&deep).contains("too many nested"));
        let minus = format!("{}x", "-".repeat(5000));
        assert!(sx(&minus).contains("too deeply"));
        let pows = vec!["x"; 5000].join("**");
        assert!(sx(&pows).contains("too deeply"));
        let sum = vec!["x"; 5000].join("+");
        assert!(sx(&sum).contains("too deeply"));
    }
}

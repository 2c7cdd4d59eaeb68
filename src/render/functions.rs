//! The program's shared pieces outside any kernel: its prelude (the
//! `#define`s the plan decides) and the functions the code calls (Brian's
//! binomial samplers, TimedArray readers), rendered from `templates/common`.
//!
//! In: the plan and a [`Function`] symbol of the IR. Out: C/CUDA text (the
//! same for both targets: the support header's `BRISK_FN` makes a function
//! a device function on CUDA).

use askama::Template;

use crate::diag::{Error, Result};
use crate::ir::Function;
use crate::plan::Plan;

use crate::plan::Target;

#[derive(Template)]
#[template(path = "common/prelude.txt")]
struct Prelude {
    version: &'static str,
    target: &'static str,
    block: u32,
    rounds: u64,
    chunk: u64,
}

/// The first lines of every program: what generated it, and the launch
/// constants of the plan.
pub fn prelude(target: Target) -> Result<String> {
    let prelude = Prelude {
        version: env!("CARGO_PKG_VERSION"),
        target: target.name(),
        block: crate::plan::CUDA_BLOCK,
        rounds: crate::plan::THRESHOLD_ROUNDS,
        chunk: crate::plan::CHUNK,
    };
    render(&prelude, "the program's prelude")
}

#[derive(Template)]
#[template(path = "common/binomial.txt")]
struct Binomial {
    name: String,
    normal: bool,
    scale: String,
    loc: String,
    qn: String,
    bound: String,
    n: String,
    big_p: String,
    q: String,
    result: String,
}

/// A binomial sampler, as Brian's `BinomialFunction` samples: the normal
/// approximation `loc + scale*randn()`, or inversion with Brian's
/// constants (`binomial.py` `_pre_calc_constants`).
pub fn binomial(name: &str, f: &Function) -> Result<String> {
    let Function::Binomial { n, p, normal, .. } = f else {
        return Err(Error::internal(format!(
            "'{name}' is not a binomial function"
        )));
    };
    let (n, p) = (*n as f64, *p);
    let reverse = p > 0.5;
    let big_p = if reverse { 1.0 - p } else { p };
    let q = 1.0 - big_p;
    // (numbers as Rust's `{:?}` writes them: always with a decimal point or exponent)
    let sampler = Binomial {
        name: name.to_string(),
        normal: *normal,
        scale: format!("{:?}", (n * p * (1.0 - p)).sqrt()),
        loc: format!("{:?}", n * p),
        qn: format!("{:?}", (n * q.ln()).exp()),
        bound: format!(
            "{:?}",
            n.min(n * big_p + 10.0 * (n * big_p * q + 1.0).sqrt())
        ),
        n: format!("{n:?}"),
        big_p: format!("{big_p:?}"),
        q: format!("{q:?}"),
        result: if reverse {
            format!("{n:?} - X")
        } else {
            "X".to_string()
        },
    };
    render(&sampler, name)
}

#[derive(Template)]
#[template(path = "common/timed_array.txt")]
struct TimedArray {
    name: String,
    two_d: bool,
    buffer: crate::plan::BufferId,
    dt: String,
    k: String,
    rows: String,
    cols: String,
}

/// A TimedArray reader: Brian's `TimedArray` C++ implementation, on the
/// values' buffer.
pub fn timed_array(plan: &Plan, name: &str, f: &Function) -> Result<String> {
    let Function::TimedArray {
        values,
        ndim,
        rows,
        cols,
        dt,
        k,
        ..
    } = f
    else {
        return Err(Error::internal(format!("'{name}' is not a TimedArray")));
    };
    let buffer = plan
        .buffer_of(values)
        .ok_or_else(|| Error::internal(format!("no buffer for '{values}'")))?;
    let reader = TimedArray {
        name: name.to_string(),
        two_d: *ndim == 2,
        buffer,
        dt: format!("{dt:.18}"),
        k: k.to_string(),
        rows: rows.to_string(),
        cols: cols.to_string(),
    };
    render(&reader, name)
}

#[derive(Template)]
#[template(path = "common/rng.txt")]
struct Rng<'a> {
    kind: &'a str,
    stream: &'a str,
    prefetch: &'a str,
}

/// The random-number generator a piece of code draws from (unindented).
pub enum RngLines<'a> {
    /// A generator of its own for the stream `stream` (a C expression).
    Make(&'a str),
    /// The blocks a loop prefetches random numbers into.
    Blocks,
    /// An element's generator from the prefetched blocks; `prefetch` fills them.
    Ahead { prefetch: &'a str },
    /// `prefetch` filling the blocks for the elements from `_base` (a multiple
    /// of `BRISK_AHEAD`), before a loop over them.
    Fill { prefetch: &'a str },
    /// An element's generator from blocks filled by `Fill`.
    FromBlocks,
}

/// The C of `lines` (`templates/common/rng.txt`).
pub fn rng(lines: RngLines<'_>) -> Result<String> {
    let (kind, stream, prefetch) = match lines {
        RngLines::Make(stream) => ("make", stream, ""),
        RngLines::Blocks => ("blocks", "", ""),
        RngLines::Ahead { prefetch } => ("ahead", "", prefetch),
        RngLines::Fill { prefetch } => ("fill", "", prefetch),
        RngLines::FromBlocks => ("from", "", ""),
    };
    Rng {
        kind,
        stream,
        prefetch,
    }
    .render()
    .map_err(|e| Error::internal(format!("template error for the random numbers: {e}")))
}

fn render(template: &impl Template, what: &str) -> Result<String> {
    let mut text = template
        .render()
        .map_err(|e| Error::internal(format!("template error for {what}: {e}")))?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampler(n: u64, p: f64, normal: bool) -> String {
        binomial(
            "_b",
            &Function::Binomial {
                name: "b".into(),
                n: n as _,
                p,
                normal,
            },
        )
        .expect("renders")
    }

    #[test]
    fn binomial_samplers_have_brians_constants() {
        assert_eq!(
            sampler(1000, 0.5, true),
            "BRISK_FN double _b(BriskRng* _rng)\n{\n    return brisk_randn(_rng) * 15.811388300841896 + 500.0;\n}\n"
        );
        let inversion = sampler(10, 0.3, false);
        assert!(inversion.starts_with("BRISK_FN int32_t _b(BriskRng* _rng)\n{\n    long X = 0;\n    double px = 0.02824752489999998;\n"), "{inversion}");
        assert!(inversion.contains("        if (X > 10.0)\n"), "{inversion}");
        assert!(
            inversion.contains("            px = ((10.0 - X + 1) * 0.3 * px) / (X * 0.7);\n"),
            "{inversion}"
        );
        assert!(
            inversion.ends_with("    }\n    return (int32_t)(X);\n}\n"),
            "{inversion}"
        );
        // p > 0.5 samples the complement
        assert!(sampler(10, 0.7, false).ends_with("return (int32_t)(10.0 - X);\n}\n"));
    }
}

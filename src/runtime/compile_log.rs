//! A compiler's rejection of generated code, located: each error of the
//! compiler's log (the system C++ compiler's or NVRTC's) with its generated
//! line and the kernel it is in, quoted in one [`Error`] for both targets.
//!
//! In: the generated source, the compiler's log and which compiler wrote it.
//! Out: an [`ErrorKind::Compile`](crate::diag::ErrorKind::Compile) error
//! whose `kernel` is the first error's kernel (the plan's kernel table then
//! names its code object and Brian object: `Error::in_kernel_of`).

use crate::diag::Error;

/// Which compiler wrote a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compiler {
    /// gcc or clang: `path.cpp:LINE:COL: error: ...`.
    Cxx,
    /// NVRTC: `default_program(LINE): error: ...`.
    Nvrtc,
}

impl Compiler {
    fn rejected(self) -> &'static str {
        match self {
            Compiler::Cxx => "the C++ compiler rejected the generated code",
            Compiler::Nvrtc => "NVRTC rejected the generated CUDA code",
        }
    }
}

/// One error diagnostic of a compile log.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// 1-based line in the generated source.
    pub line: usize,
    /// `error: ...` as the compiler wrote it.
    pub text: String,
}

/// The error diagnostics of `log`.
pub fn log_errors(log: &str, compiler: Compiler) -> Vec<Diagnostic> {
    log.lines()
        .filter_map(|l| match compiler {
            Compiler::Cxx => cxx_error(l),
            Compiler::Nvrtc => nvrtc_error(l),
        })
        .filter(|d| d.line > 0)
        .collect()
}

/// `path.cpp:LINE:COL: error: ...`
fn cxx_error(l: &str) -> Option<Diagnostic> {
    let mut parts = l.splitn(4, ':');
    let (_, line, _, text) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let text = text.trim_start();
    let line = line.trim().parse::<usize>().ok()?;
    (text.starts_with("error") || text.starts_with("fatal error")).then(|| Diagnostic {
        line,
        text: text.to_string(),
    })
}

/// `default_program(LINE): error: ...`
fn nvrtc_error(l: &str) -> Option<Diagnostic> {
    let mut rest = l;
    while let Some(open) = rest.find('(') {
        let after = &rest[open + 1..];
        let close = after.find("): ")?;
        let text = &after[close + 3..];
        if let Ok(line) = after[..close].parse::<usize>() {
            let is_error = text.starts_with("error") || text.starts_with("catastrophic error");
            return is_error.then(|| Diagnostic {
                line,
                text: text.to_string(),
            });
        }
        rest = after;
    }
    None
}

/// The `extern "C"` function defined before 1-based `line` of `source`.
pub fn kernel_at(source: &[&str], line: usize) -> Option<String> {
    source[..line.min(source.len())].iter().rev().find_map(|l| {
        let rest = &l[l.find("extern \"C\"")? + "extern \"C\"".len()..];
        let head = rest.split('(').next()?;
        head.split_whitespace().last().map(str::to_string)
    })
}

/// Most diagnostics quoted in a compile error's message (all are in the log).
const QUOTED_ERRORS: usize = 5;

/// The compile error for `compiler`'s rejection of `source`: each error
/// located in the generated source, with its kernel and line quoted.
pub fn compile_failure(compiler: Compiler, source: &str, log: &str) -> Error {
    let lines: Vec<&str> = source.lines().collect();
    let errors = log_errors(log, compiler);
    let mut message = if errors.is_empty() {
        format!("{} (see the log)", compiler.rejected())
    } else {
        format!(
            "{} ({} error{})",
            compiler.rejected(),
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        )
    };
    let mut first_kernel = None;
    for d in errors.iter().take(QUOTED_ERRORS) {
        let kernel = kernel_at(&lines, d.line);
        let place = match &kernel {
            Some(k) => format!("in kernel {k}"),
            None => "in the support code".to_string(),
        };
        if first_kernel.is_none() {
            first_kernel = kernel;
        }
        let quoted = lines.get(d.line - 1).map(|l| l.trim()).unwrap_or("");
        message.push_str(&format!(
            "\n  generated line {} {place}: {}\n    | {quoted}",
            d.line, d.text
        ));
    }
    if errors.len() > QUOTED_ERRORS {
        message.push_str(&format!(
            "\n  ... and {} more (see the log)",
            errors.len() - QUOTED_ERRORS
        ));
    }
    let mut err = Error::compile(message, log);
    err.kernel = first_kernel;
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "// header\nint x;\nextern \"C\" __global__ void brisk_neurongroup_stateupdater_codeobject(const BriskArgs _a)\n{\n    v = undefined_thing;\n}\nextern \"C\" __global__ void brisk_spikemonitor_codeobject_after_run(const BriskArgs _a)\n{\n    w = 1\n}\n";

    #[test]
    fn nvrtc_errors_name_line_and_kernel() {
        let log = "default_program(5): error: identifier \"undefined_thing\" is undefined\n\
                   default_program(9): warning #550-D: variable \"error_count\" was set but never used\n\
                   default_program(10): error: expected a \";\"\n\n2 errors detected in the compilation of \"default_program\".\n";
        let e = compile_failure(Compiler::Nvrtc, SOURCE, log);
        assert_eq!(e.kind, crate::diag::ErrorKind::Compile);
        assert!(e.message.contains("2 errors"), "{}", e.message);
        assert!(
            e.message
                .contains("generated line 5 in kernel brisk_neurongroup_stateupdater_codeobject"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("| v = undefined_thing;"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("generated line 10 in kernel brisk_spikemonitor_codeobject_after_run"),
            "{}",
            e.message
        );
        assert_eq!(
            e.kernel.as_deref(),
            Some("brisk_neurongroup_stateupdater_codeobject")
        );
        assert_eq!(e.log.as_deref(), Some(log));
        // the plan's kernel table names the Brian object and code object
        let table = [
            ("brisk_other", "ng", "other"),
            (
                "brisk_neurongroup_stateupdater_codeobject",
                "neurongroup",
                "neurongroup_stateupdater_codeobject",
            ),
        ];
        let e = e.in_kernel_of(table);
        assert_eq!(
            e.code_object.as_deref(),
            Some("neurongroup_stateupdater_codeobject")
        );
        assert_eq!(e.object.as_deref(), Some("neurongroup"));
    }

    #[test]
    fn cxx_errors_name_line_and_kernel() {
        let log = "/tmp/x.cpp: In function 'void brisk_a(const BriskArgs*)':\n\
                   /tmp/x.cpp:5:9: error: 'undefined_thing' was not declared in this scope\n\
                   /tmp/x.cpp:9:10: warning: unused variable\n";
        let e = compile_failure(Compiler::Cxx, SOURCE, log);
        assert!(
            e.message
                .starts_with("the C++ compiler rejected the generated code (1 error)"),
            "{}",
            e.message
        );
        assert!(e.message.contains("generated line 5 in kernel brisk_neurongroup_stateupdater_codeobject: error: 'undefined_thing'"), "{}", e.message);
        assert_eq!(
            e.kernel.as_deref(),
            Some("brisk_neurongroup_stateupdater_codeobject")
        );
    }

    #[test]
    fn nvrtc_log_parsing_ignores_other_parentheses() {
        let d = log_errors(
            "default_program(x)(12): catastrophic error: cannot open source file \"a.h\"\n",
            Compiler::Nvrtc,
        );
        assert_eq!(
            d,
            vec![Diagnostic {
                line: 12,
                text: "catastrophic error: cannot open source file \"a.h\"".into()
            }]
        );
    }

    #[test]
    fn errors_before_any_kernel_are_in_the_support_code() {
        let e = compile_failure(Compiler::Nvrtc, SOURCE, "default_program(2): error: bad\n");
        assert!(
            e.message.contains("generated line 2 in the support code"),
            "{}",
            e.message
        );
        assert_eq!(e.kernel, None);
        let e = compile_failure(Compiler::Nvrtc, SOURCE, "nvrtc: error: something odd\n");
        assert!(e.message.contains("see the log"), "{}", e.message);
        let e = compile_failure(Compiler::Cxx, SOURCE, "c++: fatal error: no input files\n");
        assert!(e.message.contains("see the log"), "{}", e.message);
    }
}

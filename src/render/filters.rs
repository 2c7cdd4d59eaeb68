//! Askama filters of the code templates: `block(depth)` indents each
//! non-empty line of a piece of generated code by `depth` levels of four
//! spaces, so that a template, not the Rust that renders the piece, says
//! how deep the piece sits in its loops.

use askama::Values;

/// Each non-empty line of `code`, indented by `depth` levels.
#[askama::filter_fn]
pub fn block(code: impl std::fmt::Display, _: &dyn Values, depth: usize) -> askama::Result<String> {
    let pad = "    ".repeat(depth);
    let code = code.to_string();
    Ok(code
        .split('\n')
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

#[cfg(test)]
mod tests {
    use crate::render::filters;

    #[test]
    fn each_non_empty_line_is_indented() {
        #[derive(askama::Template)]
        #[template(source = "[{{ code|block(2) }}]", ext = "txt")]
        struct T<'a> {
            code: &'a str,
        }
        let text = askama::Template::render(&T {
            code: "a;\n\nif (x)\n    b;",
        })
        .unwrap();
        assert_eq!(text, "[        a;\n\n        if (x)\n            b;]");
        assert_eq!(askama::Template::render(&T { code: "" }).unwrap(), "[]");
    }
}

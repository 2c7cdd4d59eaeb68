//! The variables and declarations each Brian template needs, checked once
//! so that planning and code generation can rely on them.
//!
//! In: one code object of a deserialised export. Out: `Ok`, or an export
//! error naming the missing (or wrongly kinded) variable at its JSON path.
//! What a template needs is said by its file of [`crate::templates`]
//! ([`BrianTemplate::needs`], [`BrianTemplate::check`]); this module checks
//! it, with what every template needs when its group is refractory.

use crate::diag::{Error, Result};
use crate::export::{CodeObjectDecl, Export, VariableDecl};
use crate::templates::{self, is_element_count, BrianTemplate, Need};

pub use crate::templates::MAX_ELEMENTS;

/// What `co`'s template needs, and what a refractory group's code needs.
fn needs(template: &dyn BrianTemplate, co: &CodeObjectDecl) -> Vec<(String, Need)> {
    let mut out = template.needs(co);
    if co.template_kwds.uses_refractory {
        out.extend(templates::needs_of(&[
            ("not_refractory", Need::Array),
            ("lastspike", Need::Array),
        ]));
    }
    out
}

const MAX_SIZE: f64 = MAX_ELEMENTS as f64;

/// Checks that `co` (at `path`) declares every variable its template needs.
pub fn check(export: &Export, co: &CodeObjectDecl, path: &str) -> Result<()> {
    let template = templates::by_name(&co.template);
    for (name, need) in needs(template, co) {
        let at = format!("{path}.variables.{name}");
        let ok = match (co.variables.get(&name), need) {
            (Some(VariableDecl::Array { .. }), Need::Array) => true,
            (Some(VariableDecl::Constant { .. }), Need::Constant) => true,
            (Some(VariableDecl::Constant { value, .. }), Need::Size) => {
                let n = value.as_f64();
                if !is_element_count(n) {
                    return Err(Error::export(format!(
                        "the {} template's size '{name}' is {n:?}: a size is a whole number from 0 to {MAX_SIZE:?}",
                        co.template
                    ))
                    .at_path(&at));
                }
                true
            }
            (Some(VariableDecl::Array { array, .. }), Need::Size) => {
                export.array(array).is_some_and(|a| a.scalar)
            }
            _ => false,
        };
        if !ok {
            return Err(Error::export(format!(
                "the {} template needs '{name}' as {need}",
                co.template
            ))
            .at_path(&at));
        }
    }
    template.check(export, co, path)
}

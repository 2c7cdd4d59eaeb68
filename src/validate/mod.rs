//! Validation: the one place that checks the export.
//!
//! In: the manifest as JSON and the [`Export`] deserialised from it (by
//! [`read`], which calls [`names`] before and [`validate`] after
//! deserialising). Out: `Ok(())`, or an [`Error`] naming the export's JSON
//! path (`code_objects[3].variables.v.dtype`) and the Brian object.
//!
//! What a validated export guarantees to the stages after it (plan,
//! codegen, runtime, results), so that they neither re-check nor fail on it:
//! * every name that can reach generated code or a file path is a C
//!   identifier (array, variable, code object, owner, clock, pathway, static
//!   array and results file names, and the template keywords used as code);
//!   free text (abstract code, comments) is never pasted into code except as
//!   a sanitised comment, and user functions' C++ is inserted verbatim, as
//!   Brian's cpp_standalone does;
//! * results and static array files are plain names inside their folders;
//! * every array's element count times its item size fits in 2^48 bytes
//!   (no overflow anywhere after), 2-D arrays are exactly the 2-D ones,
//!   static array files have the declared length;
//! * every array a code object, clock, pathway or queue entry names exists,
//!   with the dtype, dimensionality and dynamism the variable declares;
//! * event spaces are int32 and hold the group (`N + 1` for a thresholder,
//!   `_source_stop + 1` for monitors and pathways), groups' per-neuron arrays
//!   hold `N` elements, StateMonitor indices written by the script lie inside
//!   the recorded group when its size is fixed (a NeuronGroup, a subgroup:
//!   [`monitored_group`]), summed-variable targets lie inside their array;
//! * clocks have a finite `dt > 0` (also every `dt` the queue sets), runs a
//!   finite, non-negative duration and a finite step count, every scheduled
//!   code object and clock exists.
//!
//! Checks that need the running simulation (synapse indices made by
//! `connect()`, the number of synapses a StateMonitor of a Synapses records
//! from, values written by generated code) are made by the runtime and
//! reported as run errors.

mod checks;
mod needs;

use crate::diag::{Error, Result};

pub use checks::{monitored_group, queue_entries, validate};

use std::path::Path;

use crate::export::Export;

/// Reads the export in `dir` and validates it: its format and version, its
/// names ([`names`]), its structure and [`validate`]. The way to an `Export`.
pub fn read(dir: &Path) -> Result<Export> {
    let json = Export::read_json(dir)?;
    names(&json)?;
    let export = Export::from_json(dir, json)?;
    validate(&export)?;
    Ok(export)
}

/// The longest name accepted (C compilers accept far longer; this keeps
/// generated identifiers and file names sane).
pub const MAX_NAME: usize = 200;

/// True for a C identifier of at most [`MAX_NAME`] characters.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= MAX_NAME
        && matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Keys whose string values are free text, not names: checked (or
/// sanitised) where they are used. `template_kwds` is checked by its typed
/// form; `index` values may also be `0`.
const FREE_TEXT: &[&str] = &[
    "format",
    "brian_version",
    "abstract_code",
    "expr",
    "op",
    "comment",
    "support_code",
    "hashdefine_code",
    "report",
    "template_kwds",
    "index",
];

/// Checks every name in the manifest's JSON: each object key and each string
/// value (outside [`FREE_TEXT`]) must be a C identifier.
pub fn names(root: &serde_json::Value) -> Result<()> {
    walk(root, "", None, None)
}

/// `key`: the object key this value is under; `parent`: the key of the
/// object holding it (`indices` maps names to index names or `0`).
fn walk(
    value: &serde_json::Value,
    path: &str,
    key: Option<&str>,
    parent: Option<&str>,
) -> Result<()> {
    use serde_json::Value as J;
    if parent == Some("indices") {
        return match value {
            J::String(s) if s != "0" && !is_identifier(s) => Err(bad_name(path, s)),
            J::String(_) => Ok(()),
            _ => Err(Error::export("an index must be a name or 0".to_string()).at_path(path)),
        };
    }
    if key.is_some_and(|k| FREE_TEXT.contains(&k)) {
        return match (key, value) {
            (Some("index"), J::String(s)) if s != "0" && !is_identifier(s) => {
                Err(bad_name(path, s))
            }
            _ => Ok(()),
        };
    }
    match value {
        J::String(s) if !is_identifier(s) => Err(bad_name(path, s)),
        J::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| walk(v, &format!("{path}[{i}]"), key, parent)),
        J::Object(map) => map.iter().try_for_each(|(k, v)| {
            let sub = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if !is_identifier(k) {
                return Err(bad_name(&sub, k));
            }
            walk(v, &sub, Some(k), key)
        }),
        _ => Ok(()),
    }
}

fn bad_name(path: &str, s: &str) -> Error {
    let shown: String = s.chars().take(60).collect();
    Error::export(format!(
        "{shown:?} is not a valid name (names that reach generated code or file paths must be C identifiers of \
         at most {MAX_NAME} characters)"
    ))
    .at_path(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(is_identifier("_array_neurongroup_v"));
        assert!(is_identifier("x1"));
        for bad in [
            "",
            "1x",
            "a b",
            "a;b",
            "../x",
            "a/b",
            "a.b",
            "x\n",
            "v); system(\"rm\"",
            "é",
        ] {
            assert!(!is_identifier(bad), "{bad:?}");
        }
        assert!(!is_identifier(&"a".repeat(MAX_NAME + 1)));
    }

    #[test]
    fn names_give_the_json_path() {
        let json: serde_json::Value = serde_json::json!({
            "arrays": [{"name": "ok", "file": "../../etc/passwd"}],
            "code_objects": [{"blocks": [{"abstract_code": "v = 1 # free text"}], "indices": {"v": "0"}}],
        });
        let err = names(&json).unwrap_err();
        assert_eq!(err.path.as_deref(), Some("arrays[0].file"), "{err}");
        let ok = serde_json::json!({"code_objects": [{"blocks": [{"abstract_code": "v = 1; x"}], "index": "0"}]});
        names(&ok).unwrap();
        let key = serde_json::json!({"code_objects": [{"variables": {"v;": {}}}]});
        assert_eq!(
            names(&key).unwrap_err().path.as_deref(),
            Some("code_objects[0].variables.v;")
        );
    }
}

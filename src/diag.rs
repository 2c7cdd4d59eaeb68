//! Errors: every failure names the Brian object, the code block and the line.
//!
//! In: failures from any stage. Out: [`Error`], printed by `main` as a
//! readable message plus one `brisk-error-json: {...}` line that the Python
//! device turns into an exception (`NotImplementedError` for
//! [`ErrorKind::NotImplemented`]).

use std::fmt;

use serde::Serialize;

/// What went wrong, broadly; decides the Python exception type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The export is missing, malformed or of another version.
    Export,
    /// Abstract code that does not parse.
    Parse,
    /// Unknown name or function, dtype mismatch, bad write.
    Semantic,
    /// A Brian feature Brisk does not support (yet).
    NotImplemented,
    /// The C++ compiler or NVRTC rejected generated code.
    Compile,
    /// A failure while running (device, memory, I/O).
    Runtime,
    /// An index out of range made while running (`connect()` creating a synapse
    /// outside its groups): Brian's `IndexError`.
    Index,
    /// A condition validation rules out was met after it: a bug in Brisk.
    Internal,
}

/// A user-facing error with its provenance.
#[derive(Debug, Clone, Serialize)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// The Brian object (code object owner) the error is about.
    #[serde(rename = "object")]
    pub object: Option<String>,
    /// The code object.
    pub code_object: Option<String>,
    /// The abstract-code block (`main`, `condition`, ...).
    pub block: Option<String>,
    /// The offending statement or line of abstract code.
    pub line: Option<String>,
    /// Compiler log for compile errors.
    pub log: Option<String>,
    /// The JSON path in the export's manifest (`code_objects[3].variables.v.dtype`).
    pub path: Option<String>,
    /// The generated kernel it happened in (a compile error's first): the
    /// plan's kernel table names its code object and Brian object
    /// ([`Error::in_kernel_of`]).
    #[serde(skip)]
    pub kernel: Option<String>,
    /// The copy of a sweep it happened in (`brisk run --sweep`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<u64>,
    /// The device ran out of memory (a batched sweep then runs smaller batches).
    #[serde(skip)]
    pub out_of_memory: bool,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            object: None,
            code_object: None,
            block: None,
            line: None,
            log: None,
            path: None,
            kernel: None,
            copy: None,
            out_of_memory: false,
        }
    }

    /// The error of copy `k` of a sweep.
    pub fn in_copy(mut self, k: u64) -> Error {
        self.copy.get_or_insert(k);
        self
    }
    pub fn export(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Export, message)
    }
    pub fn semantic(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Semantic, message)
    }
    pub fn not_implemented(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotImplemented, message)
    }
    pub fn runtime(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Runtime, message)
    }
    pub fn index(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Index, message)
    }
    /// After validation, a check that validation guarantees failed: a bug in
    /// Brisk, not in the export (the message says so).
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(
            ErrorKind::Internal,
            format!(
                "internal error (a bug in Brisk; please report it): {}",
                message.into()
            ),
        )
    }
    pub fn compile(message: impl Into<String>, log: impl Into<String>) -> Error {
        let mut e = Error::new(ErrorKind::Compile, message);
        e.log = Some(log.into());
        e
    }
    /// Adds the Brian object and code object, keeping what is already set.
    pub fn in_object(mut self, object: &str, code_object: &str) -> Error {
        self.object.get_or_insert_with(|| object.to_string());
        self.code_object
            .get_or_insert_with(|| code_object.to_string());
        self
    }
    /// The code object and Brian object of the error's [`Error::kernel`],
    /// from `table`: (kernel symbol, owner, code object) per plan kernel.
    pub fn in_kernel_of<'a>(
        self,
        table: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Error {
        let Some(kernel) = self.kernel.clone() else {
            return self;
        };
        match table.into_iter().find(|(symbol, _, _)| *symbol == kernel) {
            Some((_, owner, code_object)) => self.in_object(owner, code_object),
            None => self,
        }
    }
    /// Adds the block and line, keeping what is already set.
    pub fn at(mut self, block: &str, line: &str) -> Error {
        self.block.get_or_insert_with(|| block.to_string());
        self.line.get_or_insert_with(|| line.to_string());
        self
    }
    /// Adds the export's JSON path, keeping one already set.
    pub fn at_path(mut self, path: &str) -> Error {
        self.path.get_or_insert_with(|| path.to_string());
        self
    }
    /// The one-line JSON form read by the Python device.
    pub fn to_json_line(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string());
        format!("brisk-error-json: {json}")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(k) = self.copy {
            write!(f, "in copy {k} of the sweep: ")?;
        }
        let mut message = self.message.clone();
        if let Some(obj) = &self.object {
            message = format!("in Brian object '{obj}'");
            if let Some(co) = &self.code_object {
                message.push_str(&format!(" (code object '{co}'"));
                if let Some(block) = &self.block {
                    message.push_str(&format!(", block '{block}'"));
                }
                message.push(')');
            }
            message.push_str(": ");
            message.push_str(&self.message);
        }
        write!(f, "{message}")?;
        if let Some(line) = &self.line {
            write!(f, "\n  in: {line}")?;
        }
        if let Some(path) = &self.path {
            write!(f, "\n  at: {path} (export manifest)")?;
        }
        if let Some(log) = &self.log {
            write!(f, "\n--- compiler log ---\n{log}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::runtime(e.to_string())
    }
}

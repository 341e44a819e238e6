//! The crate's error types: [`ValueError`] says what is wrong with one value, [`Error`] adds
//! where (the source and the field path) so a user can find and fix it.

/// One value broke a rule. The message names the rule (e.g. `GB 32100 check character`);
/// the caller knows the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    message: String,
}

impl ValueError {
    pub fn new(message: impl Into<String>) -> ValueError {
        ValueError {
            message: message.into(),
        }
    }
}

/// Something the caller supplied (a rule pack, a holiday calendar, an inventory) is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {path}: {message}")]
pub struct Error {
    /// What was being read, e.g. ``rule pack `measures-2007` `` or a file name.
    pub origin: String,
    /// Field path inside it, e.g. `systems[2].operator.credit_code`; `(root)` for the whole.
    pub path: String,
    pub message: String,
}

impl Error {
    pub fn new(
        origin: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Error {
        let path = path.into();
        Error {
            origin: origin.into(),
            path: if path.is_empty() || path == "." {
                "(root)".into()
            } else {
                path
            },
            message: message.into(),
        }
    }

    /// Replaces the origin (callers that read files know the file name; the core does not).
    pub fn with_origin(mut self, origin: impl Into<String>) -> Error {
        self.origin = origin.into();
        self
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

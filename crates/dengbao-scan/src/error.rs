//! The crate's error type.

/// What can go wrong before scanning starts (configuration) or when an input cannot be read.
/// Per-file problems during a scan are reported in the file's result, not as errors.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{origin}: {field}: {message}")]
    Config {
        origin: String,
        field: String,
        message: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

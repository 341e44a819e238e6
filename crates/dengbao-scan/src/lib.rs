//! `dengbao-scan`: finds Chinese personal and classified information before data leaves.
//!
//! Detectors validate structure, not just patterns: resident IDs by GB 11643 check
//! character, birth date and province; credit codes by GB 32100; bank cards by Luhn; and
//! state-secret markings (绝密/机密/秘密★…, 密级：…, 内部) that forbid sharing outright.
//! Values are masked before they leave the scanner — the raw value is never printed or
//! logged. The external-sharing gate calls [`Scanner::scan_bytes`] / [`Scanner::scan_path`].
//!
//! ```
//! use dengbao_scan::{Config, Scanner, detect::{Kind, Confidence}};
//! let s = Scanner::new(Config::default())?;
//! let r = s.scan_bytes("note", "联系电话 138-0013-8000，身份证 11010519491231002X".as_bytes());
//! let f: Vec<_> = r.findings.iter().map(|f| (f.kind, f.confidence, f.masked.as_str())).collect();
//! assert_eq!(f, [(Kind::Mobile, Confidence::High, "138****8000"), (Kind::ResidentId, Confidence::High, "1101**********002X")]);
//! # Ok::<(), dengbao_scan::ScanError>(())
//! ```

pub mod config;
pub mod detect;
pub mod error;
pub mod mask;
pub mod office;
pub mod report;
pub mod scanner;

pub use config::Config;
pub use error::ScanError;
pub use scanner::{FileReport, Finding, Scanner};

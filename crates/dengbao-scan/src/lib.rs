//! `dengbao-scan`: finds Chinese personal and classified information before data leaves.
pub mod detect;

//! The server's integration tests, one binary: the JSON API on both backends (`api`), the
//! pages without a browser (`web`) and in Debian's Chromium (`browser`), ledger scopes
//! (`ledger_scope`), the log-in flood (`flood`) and the contract snapshots (`contract`), over
//! one harness (`harness`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

mod api;
mod browser;
mod contract;
mod enforcement;
mod evaluations;
mod flood;
mod fork;
mod grades;
mod harness;
mod idc;
mod ledger_scope;
mod reviews;
mod submissions;
mod supervision;
mod web;

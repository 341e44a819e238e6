//! `dengbao-core`: the pure domain of China's Multi-Level Protection Scheme (等级保护).
//!
//! Given what an operator knows about its grading objects and a date, it answers: the grade
//! (art. 6–7, 10, 27), every obligation with its due date and status (RULES.md §2), what the
//! filing dossier lacks (art. 16), which products and agencies are eligible (art. 21, 22, 37)
//! and which violations of art. 40 the state shows — every answer with its citation.
//!
//! **Architecture invariant:** no I/O, no async, no clock, no database. Time is a parameter
//! (`as_of`); rule parameters come only from a [`pack::RulePack`]; holidays only from a
//! [`date::HolidayCalendar`] supplied as data.

pub mod assess;
pub mod date;
pub mod dossier;
pub mod eligibility;
pub mod error;
pub mod grade;
pub mod grading;
pub mod ids;
pub mod model;
pub mod obligations;
pub mod pack;
pub mod violations;

pub use date::{Date, HolidayCalendar, Period};
pub use error::{Error, ValueError};
pub use grade::{Grade, HarmDegree, HarmObject, SecretDegree};
pub use pack::RulePack;

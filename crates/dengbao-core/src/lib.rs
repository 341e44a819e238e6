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
//!
//! ```
//! use dengbao_core::{Date, HolidayCalendar, RulePack};
//! use dengbao_core::model::Inventory;
//! use dengbao_core::obligations::Status;
//!
//! let pack = RulePack::baseline()?;
//! let mut inv: Inventory = toml::from_str(r#"
//!     [[systems]]
//!     id = "pay"
//!     name = "Payment core"
//!     kind = "information_system"
//!     lifecycle = { operating_since = 2024-01-01 }
//!     assessment.business_information = [{ object = "social_order_public_interest", degree = "serious_damage" }]
//!     assessment.system_service = [{ object = "citizens_legal_persons", degree = "damage" }]
//!     events = [{ date = 2025-03-01, type = "grade_determined" }]
//! "#)?;
//! inv.validate(&pack, "example")?;
//! let as_of: Date = "2025-04-01".parse()?;
//! let calendar = HolidayCalendar::new(); // none: due dates are flagged, not guessed
//! let report = dengbao_core::assess::assess(&inv, &pack, &calendar, as_of);
//! let sys = &report.systems[0];
//! assert_eq!(sys.grade.to_string(), "III");
//! // Filing was due 30 days after the grade was determined (art. 15 ¶1): day 31 is late.
//! let filing = sys.obligations.iter().find(|o| o.kind == "record_filing").unwrap();
//! assert_eq!((filing.status, filing.cite), (Status::Overdue, "Measures art. 15 ¶1; art. 15 ¶2"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod access;
pub mod assess;
pub mod date;
pub mod dossier;
pub mod eligibility;
pub mod error;
pub mod grade;
pub mod grading;
pub mod idc;
pub mod ids;
pub mod model;
pub mod obligations;
pub mod pack;
pub mod violations;

pub use date::{Date, HolidayCalendar, Period};
pub use error::{Error, ValueError};
pub use grade::{Grade, HarmDegree, HarmObject, SecretDegree};
pub use pack::RulePack;

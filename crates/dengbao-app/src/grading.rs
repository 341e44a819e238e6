//! An object's grading as a result value: the core's view made on demand from an owned
//! object (`dto::SystemView` holds one; the wizard's preview answers one).

use std::sync::Arc;

use dengbao_core::Date;
use dengbao_core::assess::{GradingView, assess};
use dengbao_core::model::{GradingObject, Inventory};
use serde::Serialize;

use crate::App;
use crate::error::{AppError, AppResult};

/// An object's grading with its reasoning and citations: holds the object, makes the core's
/// view when asked (or serialized), so the result owns what the view borrows.
pub struct Graded {
    obj: GradingObject,
    pack: &'static dengbao_core::RulePack,
    calendar: Arc<dengbao_core::HolidayCalendar>,
    today: Date,
}

impl Graded {
    pub fn new(app: &App, obj: &GradingObject) -> Graded {
        let mut obj = obj.clone();
        // The grading depends on the facts only; history is not needed for it.
        obj.events.clear();
        Graded {
            obj,
            pack: app.pack,
            calendar: app.calendar.clone(),
            today: app.clock.today(),
        }
    }

    /// The S and G grades, the overall grade, floors, expert review, department approval
    /// and supervision, each with its article.
    pub fn view(&self) -> AppResult<GradingView<'_>> {
        let inv = Inventory {
            systems: vec![self.obj.clone()],
            ..Inventory::default()
        };
        let r = assess(&inv, self.pack, &self.calendar, self.today);
        r.systems
            .into_iter()
            .next()
            .map(|s| rebind(s.grading, self.pack, &self.obj))
            .ok_or_else(|| AppError::internal("no grading"))
    }
}

/// Re-borrows a grading view computed from a temporary inventory from the object it was
/// computed for (the view borrows only the pack, which is `'static`, and the object's
/// domain names).
fn rebind<'o>(
    g: GradingView<'_>,
    pack: &'static dengbao_core::RulePack,
    obj: &'o GradingObject,
) -> GradingView<'o> {
    GradingView {
        s: g.s,
        g: g.g,
        by_harm: g.by_harm,
        cite: g.cite,
        floor: g.floor,
        expert_review_required: g.expert_review_required,
        department_approval_required: g.department_approval_required,
        uniform_grading_by_department: g.uniform_grading_by_department,
        supervision: dengbao_core::assess::Cited {
            value: pack
                .grading
                .supervision
                .iter()
                .find(|x| x.as_str() == g.supervision.value)
                .map_or("", String::as_str),
            cite: g.supervision.cite,
        },
        above_includes_number: &pack.grading.above_cite,
        domains: g
            .domains
            .into_iter()
            .map(|d| dengbao_core::assess::DomainView {
                name: obj
                    .domains
                    .iter()
                    .find(|x| x.name == d.name)
                    .map_or("", |x| x.name.as_str()),
                grade: d.grade,
                s_grade: d.s_grade,
                g_grade: d.g_grade,
            })
            .collect(),
    }
}

impl Serialize for Graded {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.view().map_err(serde::ser::Error::custom)?.serialize(s)
    }
}

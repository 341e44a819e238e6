//! One call that answers everything about an inventory on a date: grade, obligations,
//! dossier gaps, eligibility and violations, each with its citation. The serialized
//! [`Report`] is the stable JSON contract of `dengbao assess --format json`
//! (`docs/assess-format.md`).

use serde::Serialize;

use crate::date::{Date, DueFlags, HolidayCalendar};
use crate::dossier::{DossierFacts, DossierStatus, dossier};
use crate::eligibility::{Eligibility, evaluate};
use crate::grade::{Grade, Harm, HarmDegree, HarmObject};
use crate::grading::{AssessedGrade, Grading, grade_system, supervision};
use crate::model::{Event, EventType, GradingObject, Inventory, ObjectKind, Organisation};
use crate::obligations::{Context, Obligation, Reason, Ref, Source, Status, obligations_into};
use crate::pack::{MaterialKind, RulePack};
use crate::violations::{InUse, Violation, violations};

/// Version of the JSON contract; bumped on any incompatible change.
pub const REPORT_FORMAT: u32 = 2;

#[derive(Serialize)]
pub struct Report<'a> {
    pub format: u32,
    pub rules: RulesRef<'a>,
    pub as_of: Date,
    /// Years the holiday calendar covers; due dates in other years are not adjusted.
    pub holiday_calendar_years: Vec<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<&'a Organisation>,
    pub systems: Vec<SystemReport<'a>>,
    pub registries: Registries<'a>,
}

#[derive(Serialize)]
pub struct RulesRef<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extends: Option<&'a str>,
}

#[derive(Serialize)]
pub struct Registries<'a> {
    pub products: Vec<Eligibility<'a>>,
    pub agencies: Vec<Eligibility<'a>>,
    pub crypto_products: Vec<Eligibility<'a>>,
}

#[derive(Serialize)]
pub struct Cited<T: Serialize> {
    pub value: T,
    pub cite: String,
}

#[derive(Serialize)]
pub struct HarmGrade {
    pub grade: Grade,
    pub object: HarmObject,
    pub degree: HarmDegree,
}

impl HarmGrade {
    fn new(grade: Grade, h: Harm) -> HarmGrade {
        HarmGrade {
            grade,
            object: h.object,
            degree: h.degree,
        }
    }
}

#[derive(Serialize)]
pub struct FloorView {
    pub secret_degree: &'static str,
    pub floor: Grade,
    /// Whether the floor lifted the grade above what the harms gave.
    pub raised: bool,
    pub cite: String,
}

#[derive(Serialize)]
pub struct DomainView<'a> {
    pub name: &'a str,
    pub grade: Grade,
    pub s_grade: Grade,
    pub g_grade: Grade,
}

#[derive(Serialize)]
pub struct GradingView<'a> {
    pub s: HarmGrade,
    pub g: HarmGrade,
    pub by_harm: Grade,
    pub cite: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor: Option<FloorView>,
    pub expert_review_required: Cited<bool>,
    pub department_approval_required: Cited<bool>,
    pub uniform_grading_by_department: Cited<bool>,
    pub supervision: Cited<&'a str>,
    pub above_includes_number: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<DomainView<'a>>,
}

#[derive(Serialize)]
pub struct RefView {
    pub date: Date,
    /// `event`, `operating_since`, `construction_started` or `rules_effective`.
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<&'static str>,
}

#[derive(Serialize)]
pub struct ObligationView<'a> {
    pub kind: &'static str,
    pub title: &'a str,
    pub party: &'static str,
    pub status: Status,
    pub due: Option<Date>,
    /// `adjusted_for_rest_day`, `no_holiday_calendar`, `earliest_possible`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub due_notes: Vec<&'static str>,
    pub cite: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<RefView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfied_by: Option<RefView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub late: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspect: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unconfirmed: bool,
}

#[derive(Serialize)]
pub struct MaterialView<'a> {
    pub kind: &'static str,
    pub title: &'a str,
    pub cite: &'a str,
}

#[derive(Serialize)]
pub struct DossierView<'a> {
    pub applicable: bool,
    pub complete: bool,
    pub cite: &'a str,
    pub required: Vec<&'static str>,
    pub missing: Vec<MaterialView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<&'static str>,
}

#[derive(Serialize)]
pub struct InUseView<'a> {
    pub products: Vec<Eligibility<'a>>,
    pub agencies: Vec<Eligibility<'a>>,
    pub crypto_products: Vec<Eligibility<'a>>,
}

#[derive(Serialize)]
pub struct SystemReport<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub kind: ObjectKind,
    pub grade: Grade,
    pub s_grade: Grade,
    pub g_grade: Grade,
    pub grading: GradingView<'a>,
    /// The grade last recorded as determined (`grade_determined`), when it differs from the
    /// assessed grade: the determination is the legal fact, the assessment advice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub determined_grade_differs: Option<Grade>,
    pub obligations: Vec<ObligationView<'a>>,
    pub dossier: DossierView<'a>,
    pub eligibility: InUseView<'a>,
    pub violations: Vec<Violation>,
}

fn ref_view(r: Ref, events: &[Event]) -> RefView {
    let (source, event) = match r.source {
        Source::Event(i) => ("event", events.get(i as usize).map(|e| e.kind.as_str())),
        Source::OperatingSince => ("operating_since", None),
        Source::ConstructionStarted => ("construction_started", None),
        Source::PackEffective => ("rules_effective", None),
    };
    RefView {
        date: r.date,
        source,
        event,
    }
}

/// How a due date was computed, as the words of the `due_notes` field.
pub fn due_notes(f: DueFlags) -> Vec<&'static str> {
    let mut v = Vec::new();
    if f.contains(DueFlags::ADJUSTED_FOR_REST_DAY) {
        v.push("adjusted_for_rest_day");
    }
    if f.contains(DueFlags::NO_CALENDAR) {
        v.push("no_holiday_calendar");
    }
    if f.contains(DueFlags::EARLIEST_POSSIBLE) {
        v.push("earliest_possible");
    }
    if f.contains(DueFlags::HOLIDAYS_MAY_EXTEND) {
        v.push("holidays_may_extend");
    }
    v
}

pub fn obligation_view<'a>(o: &Obligation<'a>, events: &[Event]) -> ObligationView<'a> {
    ObligationView {
        kind: o.rule.kind.id(),
        title: &o.rule.title,
        party: o.party.as_str(),
        status: o.status,
        due: o.due.map(|d| d.date),
        due_notes: o.due.map(|d| due_notes(d.flags)).unwrap_or_default(),
        cite: &o.rule.cite,
        trigger: o.trigger.map(|r| ref_view(r, events)),
        satisfied_by: o.satisfied_by.map(|r| ref_view(r, events)),
        reason: (o.reason != Reason::None).then(|| o.reason.describe()),
        late: o.late,
        aspect: o.aspect.map(|a| a.as_str()),
        unconfirmed: o.rule.unconfirmed,
    }
}

fn grading_view<'a>(pack: &'a RulePack, g: &Grading, s: &'a GradingObject) -> GradingView<'a> {
    let r = &pack.grading;
    let a: AssessedGrade = g.assessed;
    GradingView {
        s: HarmGrade::new(a.s, a.s_basis),
        g: HarmGrade::new(a.g, a.g_basis),
        by_harm: a.by_harm,
        cite: r.matrix_cite.clone(),
        floor: g.floor.map(|f| FloorView {
            secret_degree: f.secret_degree.as_str(),
            floor: f.floor,
            raised: f.floor > a.by_harm,
            cite: r.secret_floor_cite.clone(),
        }),
        expert_review_required: Cited {
            value: g.expert_review_required,
            cite: r.expert_review_cite.clone(),
        },
        department_approval_required: Cited {
            value: g.department_approval_required,
            cite: r.department_approval_cite.clone(),
        },
        uniform_grading_by_department: Cited {
            value: g.uniform_grading_by_department,
            cite: r.uniform_grading_cite.clone(),
        },
        supervision: Cited {
            value: supervision(r, g.grade),
            cite: r.supervision_cite.clone(),
        },
        above_includes_number: &r.above_cite,
        domains: s
            .domains
            .iter()
            .zip(&g.domains)
            .map(|(d, (_, a))| DomainView {
                name: &d.name,
                grade: a.by_harm,
                s_grade: a.s,
                g_grade: a.g,
            })
            .collect(),
    }
}

fn dossier_view<'a>(d: DossierStatus<'a>) -> DossierView<'a> {
    DossierView {
        applicable: d.applicable,
        complete: d.complete,
        cite: d.cite,
        required: d.required.iter().map(|m| m.kind.as_str()).collect(),
        missing: d
            .missing
            .iter()
            .map(|m| MaterialView {
                kind: m.kind.as_str(),
                title: &m.title,
                cite: &m.cite,
            })
            .collect(),
        extra: d.extra.iter().map(|k: &MaterialKind| k.as_str()).collect(),
    }
}

/// Assesses every system of a validated inventory (see [`Inventory::validate`]).
pub fn assess<'a>(
    inv: &'a Inventory,
    pack: &'a RulePack,
    calendar: &'a HolidayCalendar,
    as_of: Date,
) -> Report<'a> {
    let e = &pack.eligibility;
    let ctx = Context {
        pack,
        calendar,
        as_of,
    };
    let mut systems = Vec::with_capacity(inv.systems.len());
    let mut buf = Vec::with_capacity(24);
    for s in &inv.systems {
        // Validation guarantees non-empty assessments; skip defensively rather than panic.
        let Some(g) = grade_system(&pack.grading, s) else {
            continue;
        };
        buf.clear();
        obligations_into(ctx, s, g.grade, &mut buf);
        let visible = s.events.partition_point(|ev| ev.date <= as_of);
        let events = &s.events[..visible];

        let products: Vec<Eligibility> = s
            .products_in_use
            .iter()
            .filter_map(|id| inv.products.iter().find(|c| &c.id == id))
            .map(|c| evaluate(&e.security_product, c))
            .collect();
        let crypto: Vec<Eligibility> = s
            .crypto_products_in_use
            .iter()
            .filter_map(|id| inv.crypto_products.iter().find(|c| &c.id == id))
            .map(|c| evaluate(&e.crypto_product, c))
            .collect();
        let mut agency_uses: Vec<(Date, Eligibility)> = Vec::new();
        for ev in events.iter().filter(|ev| ev.kind == EventType::Evaluation) {
            if let Some(c) = ev
                .agency
                .as_ref()
                .and_then(|a| inv.agencies.iter().find(|c| &c.id == a))
            {
                agency_uses.retain(|(_, x)| x.id != c.id.as_str());
                agency_uses.push((ev.date, evaluate(&e.evaluation_agency, c)));
            }
        }
        // Art. 21/22 bind Grade III or above; art. 37 binds every grade. Below the threshold
        // a candidate is still shown but cannot make a violation.
        let req_products: Vec<Eligibility> = if g.grade >= e.security_product.min_grade {
            products.clone()
        } else {
            Vec::new()
        };
        let req_agencies: Vec<(Date, Eligibility)> = if g.grade >= e.evaluation_agency.min_grade {
            agency_uses.clone()
        } else {
            Vec::new()
        };
        let req_crypto: Vec<Eligibility> = if g.grade >= e.crypto_product.min_grade {
            crypto.clone()
        } else {
            Vec::new()
        };
        let last_inspection = events
            .iter()
            .rev()
            .find(|ev| ev.kind == EventType::Inspection);
        let v = violations(
            pack,
            g.grade,
            &buf,
            &InUse {
                products: &req_products,
                agencies: &req_agencies,
                crypto_products: &req_crypto,
            },
            last_inspection,
        );

        systems.push(SystemReport {
            id: &s.id,
            name: &s.name,
            kind: s.kind,
            grade: g.grade,
            s_grade: g.assessed.s,
            g_grade: g.assessed.g,
            grading: grading_view(pack, &g, s),
            determined_grade_differs: s
                .events
                .iter()
                .rev()
                .find(|e| e.kind == EventType::GradeDetermined)
                .and_then(|e| e.grade)
                .filter(|d| *d != g.grade),
            obligations: buf.iter().map(|o| obligation_view(o, &s.events)).collect(),
            dossier: dossier_view(dossier(
                pack,
                DossierFacts {
                    grade: g.grade,
                    has_department_in_charge: s.department_in_charge.is_some(),
                    secret_involved: s.is_secret(),
                },
                &s.materials,
            )),
            eligibility: InUseView {
                products,
                agencies: agency_uses.into_iter().map(|(_, e)| e).collect(),
                crypto_products: crypto,
            },
            violations: v,
        });
    }
    Report {
        format: REPORT_FORMAT,
        rules: RulesRef {
            id: &pack.id,
            title: &pack.title,
            source: &pack.source,
            extends: pack.extends.as_deref(),
        },
        as_of,
        holiday_calendar_years: calendar.years().map(|y| y.year).collect(),
        organisation: inv.organisation.as_ref(),
        systems,
        registries: Registries {
            products: inv
                .products
                .iter()
                .map(|c| evaluate(&e.security_product, c))
                .collect(),
            agencies: inv
                .agencies
                .iter()
                .map(|c| evaluate(&e.evaluation_agency, c))
                .collect(),
            crypto_products: inv
                .crypto_products
                .iter()
                .map(|c| evaluate(&e.crypto_product, c))
                .collect(),
        },
    }
}

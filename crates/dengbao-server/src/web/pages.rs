//! Dashboard, grading objects, the grading wizard and the filing dossier.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dengbao_core::assess::{GradingView, SystemReport, assess};
use dengbao_core::grade::Harm;
use dengbao_core::model::{
    Assessment, ChangeAspect, Conformity, EventType, GradingObject, Lifecycle, ObjectKind,
};
use dengbao_core::violations::Basis;
use dengbao_core::{Date, HarmDegree, HarmObject};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use strum::IntoEnumIterator;

use super::{
    Chrome, Errs, Fields, Page, Posted, csrf_ok, local_time, query, render, render_status,
    see_other,
};
use crate::dto::{GradingPreview, GradingRequest, MaterialInput, SystemInput};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use dengbao_app::Action;
use dengbao_app::systems;

/// Where a grading object is in its lifecycle on `today` (catalog suffix of `life.`).
pub fn lifecycle_status(l: &Lifecycle, today: Date) -> &'static str {
    let happened = |d: Option<Date>| d.is_some_and(|d| d <= today);
    if happened(l.retired) {
        "retired"
    } else if happened(l.operating_since) {
        "operating"
    } else if happened(l.construction_started) {
        "construction"
    } else if l.planned.is_some() || l.construction_started.is_some() || l.operating_since.is_some()
    {
        "planned"
    } else {
        "unknown"
    }
}

pub const LIFECYCLE: [&str; 5] = ["planned", "construction", "operating", "retired", "unknown"];

/// One obligation as a table row.
pub struct ObRow {
    pub system_id: String,
    pub system_name: String,
    pub grade: String,
    pub kind: String,
    pub status: String,
    pub status_label: String,
    pub due: String,
    pub cite: String,
    pub party: String,
}

/// One of the organisation's cached obligations as a table row.
pub fn ob_row(c: &Chrome, o: &crate::dto::OrgObligation) -> ObRow {
    ObRow {
        system_id: o.system_id.clone(),
        system_name: o.system_name.clone(),
        grade: c.grade(&o.grade),
        kind: c.tk("ob.kind.", o.kind),
        status_label: c.tk("ob.status.", &o.status),
        status: o.status.clone(),
        due: o.due.clone().unwrap_or_else(|| c.t("ob.no_due").to_owned()),
        cite: c.cite(&o.cite),
        party: c.tk("party.", o.party),
    }
}

/// Rows a dashboard list shows; the rest are a link away.
pub const DASH_ROWS: usize = 50;

pub fn ob_rows<'a>(
    c: &Chrome,
    report: &'a [SystemReport<'a>],
    keep: impl Fn(&dengbao_core::assess::ObligationView<'_>) -> bool,
) -> Vec<ObRow> {
    let mut rows: Vec<(Option<Date>, ObRow)> = Vec::new();
    for s in report {
        for o in s.obligations.iter().filter(|o| keep(o)) {
            rows.push((
                o.due,
                ObRow {
                    system_id: s.id.to_owned(),
                    system_name: s.name.to_owned(),
                    grade: c.grade(s.grade.as_str()),
                    kind: c.tk("ob.kind.", o.kind),
                    status: o.status.as_str().to_owned(),
                    status_label: c.tk("ob.status.", o.status.as_str()),
                    due: o
                        .due
                        .map_or_else(|| c.t("ob.no_due").to_owned(), |d| d.to_string()),
                    cite: c.cite(o.cite),
                    party: c.tk("party.", o.party),
                },
            ));
        }
    }
    rows.sort_by_key(|(d, r)| (d.is_none(), *d, r.system_id.clone()));
    rows.into_iter().map(|(_, r)| r).collect()
}

// ----- dashboard -------------------------------------------------------------------------------

pub struct ViolRow {
    pub system_id: String,
    pub system_name: String,
    pub title: String,
    pub basis: String,
    pub cite: String,
    pub evidence: Vec<(String, String, String)>,
}

fn viol_row(c: &Chrome, id: &str, name: &str, v: &dengbao_core::violations::Violation) -> ViolRow {
    ViolRow {
        system_id: id.to_owned(),
        system_name: name.to_owned(),
        title: match v.basis {
            // Only the records show it: the item's name for that, where it has one.
            Basis::RecordsShow | Basis::Unverified
                if c.cat.has(&format!("viol.{}.records", v.item)) =>
            {
                c.tk("viol.", &format!("{}.records", v.item))
            }
            _ => c.tk("viol.", &v.item.to_string()),
        },
        basis: c.tk("viol.", v.basis.as_str()),
        cite: c.cite(&v.cite),
        evidence: v
            .evidence
            .iter()
            .map(|e| {
                (
                    e.text.clone(),
                    c.cite(&e.cite),
                    e.date.map(|d| d.to_string()).unwrap_or_default(),
                )
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "violations.html")]
struct ViolationsPage {
    c: Chrome,
    rows: Vec<ViolRow>,
    total: usize,
    page: usize,
    pages: usize,
    prev: String,
    next: String,
}

#[derive(Deserialize, Default)]
pub struct PageNo {
    #[serde(default)]
    page: Option<usize>,
}

/// Every art. 40 violation of the organisation, from the cached assessment.
pub async fn violations(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<PageNo>,
) -> Response {
    let run = async {
        page.require(Action::Read)?;
        let c = page.chrome("dashboard", page.cat().get("dash.violations"));
        let computed = systems::organisation(&state, &page.p, state.clock.today()).await?;
        let total = computed.violations.len();
        let pages = total.div_ceil(DASH_ROWS).max(1);
        let pg = q.page.unwrap_or(1).clamp(1, pages);
        let rows = computed
            .violations
            .iter()
            .skip((pg - 1) * DASH_ROWS)
            .take(DASH_ROWS)
            .map(|(id, name, v)| viol_row(&c, id, name, v))
            .collect();
        Ok::<_, ApiError>(render(&ViolationsPage {
            rows,
            total,
            page: pg,
            pages,
            prev: if pg > 1 {
                format!("/violations?page={}", pg - 1)
            } else {
                String::new()
            },
            next: if pg < pages {
                format!("/violations?page={}", pg + 1)
            } else {
                String::new()
            },
            c,
        }))
    };
    run.await.unwrap_or_else(|e| page.fail(e))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    c: Chrome,
    total: usize,
    by_grade: Vec<(String, usize)>,
    by_status: Vec<(String, usize)>,
    overdue: Vec<ObRow>,
    overdue_total: usize,
    due30: Vec<ObRow>,
    due30_total: usize,
    violations: Vec<ViolRow>,
    violations_total: usize,
    awaiting: Vec<ObRow>,
    awaiting_total: usize,
    /// How many rows each list shows at most.
    limit: usize,
}

pub async fn dashboard(State(state): State<AppState>, page: Page) -> Response {
    // A public security organ's start page is its review queue.
    if page.p.principal.org_kind == dengbao_app::guard::OrgKind::PublicSecurity {
        return see_other("/reviews");
    }
    // A department in charge's and an expert committee's is the grade reviews.
    if matches!(
        page.p.principal.org_kind,
        dengbao_app::guard::OrgKind::DepartmentInCharge
            | dengbao_app::guard::OrgKind::ExpertCommittee
    ) {
        return see_other("/grade-reviews");
    }
    if page.p.principal.org_kind == dengbao_app::guard::OrgKind::EvaluationAgency {
        return see_other("/engagements");
    }
    // The secrecy and cryptography authorities' is the objects of their area.
    if matches!(
        page.p.principal.org_kind,
        dengbao_app::guard::OrgKind::SecrecyDepartment
            | dengbao_app::guard::OrgKind::CryptographyAdministration
    ) {
        return see_other("/supervision");
    }
    // An IDC operator's and its customers' work is the customers' data.
    if matches!(
        page.p.principal.org_kind,
        dengbao_app::guard::OrgKind::IdcOperator | dengbao_app::guard::OrgKind::IdcCustomer
    ) && page.p.may(Action::Read)
    {
        return see_other("/idc");
    }
    if !page.p.may(Action::Read) {
        // Administrators have no compliance access; their start page is their own work.
        if page.p.may(Action::ManageAccounts) || page.p.may(Action::AssignRoles) {
            return see_other("/admin");
        }
        if page.p.may(Action::ReadAudit) {
            return see_other("/audit");
        }
    }
    dashboard_inner(&state, &page)
        .await
        .unwrap_or_else(|e| page.fail(e))
}

async fn dashboard_inner(state: &AppState, page: &Page) -> ApiResult<Response> {
    page.require(Action::Read)?;
    let c = page.chrome("dashboard", page.cat().get("dash.title"));
    let today = state.clock.today();
    let data = systems::inventory(state, &page.p).await?;
    // The organisation's assessment for today is computed once per data version and day.
    let computed = systems::organisation(state, &page.p, today).await?;
    let mut by_status = [0usize; 5];
    for o in &data.inventory.systems {
        let st = lifecycle_status(&o.lifecycle, today);
        if let Some(i) = LIFECYCLE.iter().position(|s| *s == st) {
            by_status[i] += 1;
        }
    }
    let of = |status: &str| -> Vec<&crate::dto::OrgObligation> {
        computed
            .by_status
            .get(status)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|i| computed.items.get(*i as usize))
            .collect()
    };
    let overdue = of("overdue");
    let horizon = today.add_days(30).to_string();
    // Items are sorted by status, then due date: merge the two open statuses by date.
    let mut due30: Vec<&crate::dto::OrgObligation> = of("due_soon")
        .into_iter()
        .chain(of("upcoming"))
        .filter(|o| o.due.as_ref().is_some_and(|d| *d <= horizon))
        .collect();
    due30.sort_by(|a, b| (&a.due, &a.system_id).cmp(&(&b.due, &b.system_id)));
    // Filings submitted that the public security organ has still to examine (art. 17): the
    // supervisor's open obligation.
    let awaiting: Vec<&crate::dto::OrgObligation> = computed
        .items
        .iter()
        .filter(|o| o.kind == "filing_review" && o.status != "met")
        .collect();
    let rows = |v: &[&crate::dto::OrgObligation]| -> Vec<ObRow> {
        v.iter().take(DASH_ROWS).map(|o| ob_row(&c, o)).collect()
    };
    let violations = computed
        .violations
        .iter()
        .take(DASH_ROWS)
        .map(|(id, name, v)| viol_row(&c, id, name, v))
        .collect();
    let grades = ["I", "II", "III", "IV", "V"];
    Ok(render(&Dashboard {
        total: data.inventory.systems.len(),
        by_grade: grades
            .iter()
            .zip(computed.grade_counts)
            .map(|(g, n)| (c.grade(g), n))
            .collect(),
        by_status: LIFECYCLE
            .iter()
            .zip(by_status)
            .map(|(s, n)| (c.tk("life.", s), n))
            .collect(),
        overdue_total: overdue.len(),
        overdue: rows(&overdue),
        due30_total: due30.len(),
        due30: rows(&due30),
        violations_total: computed.violations.len(),
        violations,
        awaiting_total: awaiting.len(),
        awaiting: rows(&awaiting),
        limit: DASH_ROWS,
        c,
    }))
}

// ----- grading objects -------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    grade: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<usize>,
}

pub struct SysRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub grade: String,
    pub status: String,
}

/// An option of a `<select>`: value, label, selected.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn opts(c: &Chrome, prefix: &str, values: &[String], selected: &str) -> Vec<Opt> {
    values
        .iter()
        .map(|v| Opt {
            value: v.clone(),
            label: if prefix == "grade." {
                c.grade(v)
            } else {
                c.tk(prefix, v)
            },
            selected: v == selected,
        })
        .collect()
}

pub fn object_kinds() -> Vec<String> {
    ObjectKind::iter().map(|k| k.as_str().to_owned()).collect()
}

const PER_PAGE: usize = 20;

#[derive(Template)]
#[template(path = "systems.html")]
struct SystemsPage {
    c: Chrome,
    rows: Vec<SysRow>,
    total: usize,
    page: usize,
    pages: usize,
    q: String,
    grades: Vec<Opt>,
    kinds: Vec<Opt>,
    statuses: Vec<Opt>,
    prev: String,
    next: String,
}

pub async fn systems(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<ListQuery>,
) -> Response {
    systems_inner(&state, &page, q)
        .await
        .unwrap_or_else(|e| page.fail(e))
}

async fn systems_inner(state: &AppState, page: &Page, q: ListQuery) -> ApiResult<Response> {
    page.require(Action::Read)?;
    let c = page.chrome("systems", page.cat().get("systems.title"));
    let today = state.clock.today();
    let data = systems::inventory(state, &page.p).await?;
    let grade_of = |o: &GradingObject| {
        dengbao_core::grading::final_grade(&state.pack.grading, o).map_or("?", |g| g.as_str())
    };
    let needle = q.q.to_lowercase();
    let matching: Vec<&GradingObject> = data
        .inventory
        .systems
        .iter()
        .filter(|o| q.grade.is_empty() || grade_of(o) == q.grade)
        .filter(|o| q.kind.is_empty() || o.kind.as_str() == q.kind)
        .filter(|o| q.status.is_empty() || lifecycle_status(&o.lifecycle, today) == q.status)
        .filter(|o| {
            needle.is_empty()
                || o.id.to_lowercase().contains(&needle)
                || o.name.to_lowercase().contains(&needle)
        })
        .collect();
    let total = matching.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let pg = q.page.unwrap_or(1).clamp(1, pages);
    let rows = matching
        .iter()
        .skip((pg - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|o| SysRow {
            id: o.id.clone(),
            name: o.name.clone(),
            kind: c.tk("kind.", o.kind.as_str()),
            grade: c.grade(grade_of(o)),
            status: c.tk("life.", lifecycle_status(&o.lifecycle, today)),
        })
        .collect();
    let link = |n: usize| {
        format!(
            "/systems?{}",
            query(&[
                ("q", &q.q),
                ("grade", &q.grade),
                ("kind", &q.kind),
                ("status", &q.status),
                ("page", &n.to_string())
            ])
        )
    };
    let grades: Vec<String> = ["I", "II", "III", "IV", "V"].map(String::from).to_vec();
    let statuses: Vec<String> = LIFECYCLE.map(String::from).to_vec();
    Ok(render(&SystemsPage {
        rows,
        total,
        page: pg,
        pages,
        prev: if pg > 1 { link(pg - 1) } else { String::new() },
        next: if pg < pages {
            link(pg + 1)
        } else {
            String::new()
        },
        grades: opts(&c, "grade.", &grades, &q.grade),
        kinds: opts(&c, "kind.", &object_kinds(), &q.kind),
        statuses: opts(&c, "life.", &statuses, &q.status),
        q: q.q,
        c,
    }))
}

// ----- one grading object ----------------------------------------------------------------------

pub struct EventRow {
    pub date: String,
    pub kind: String,
    pub detail: String,
}

pub struct HistRow {
    pub seq: i64,
    pub time: String,
    pub actor: String,
    pub action: String,
    pub verified: bool,
}

#[derive(Template)]
#[template(path = "system.html")]
struct SystemPage {
    c: Chrome,
    id: String,
    name: String,
    kind: String,
    grade: String,
    status: String,
    facts: Vec<(String, String)>,
    domains: Vec<(String, String)>,
    products: Vec<String>,
    crypto_products: Vec<String>,
    /// Objects filed as branches of this one (art. 15 ¶3).
    branches: Vec<(String, String)>,
    /// The in-use form: every registered product with whether this object uses it.
    product_choices: Vec<Opt>,
    crypto_choices: Vec<Opt>,
    events: Vec<EventRow>,
    obligations: Vec<ObRow>,
    history: Vec<HistRow>,
    checkpoint_size: String,
    grading_cite: String,
    /// The event form: choices, what was sent, its errors.
    event_types: Vec<Opt>,
    conformities: Vec<Opt>,
    agencies: Vec<Opt>,
    aspects: Vec<Opt>,
    ev: Fields,
    errs: Errs,
    today: String,
}

/// Events recorded on this page; grading and filing are recorded by their own pages.
fn recordable_events() -> Vec<String> {
    EventType::ALL
        .iter()
        .filter(|e| !matches!(e, EventType::GradeDetermined | EventType::FilingSubmitted))
        .map(|e| e.as_str().to_owned())
        .collect()
}

pub async fn system(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    system_inner(
        &state,
        &page,
        id,
        Fields::default(),
        Errs::default(),
        StatusCode::OK,
    )
    .await
    .unwrap_or_else(|e| page.fail(e))
}

async fn system_inner(
    state: &AppState,
    page: &Page,
    id: String,
    ev: Fields,
    errs: Errs,
    status: StatusCode,
) -> ApiResult<Response> {
    page.require(Action::Read)?;
    let today = state.clock.today();
    let data = systems::inventory(state, &page.p).await?;
    let inv = &data.inventory;
    let o = inv
        .systems
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(ApiError::not_found)?;
    let c = page.chrome("systems", o.name.clone());
    let one = dengbao_core::model::Inventory {
        systems: vec![o.clone()],
        products: inv.products.clone(),
        agencies: inv.agencies.clone(),
        crypto_products: inv.crypto_products.clone(),
        organisation: None,
    };
    let report = assess(&one, state.pack, &state.calendar, today);
    let r = report.systems.first().ok_or_else(ApiError::not_found)?;
    let date = |d: Option<Date>| {
        d.map(|d| d.to_string())
            .unwrap_or_else(|| c.t("common.unknown").to_owned())
    };
    let mut facts = vec![
        (c.t("system.planned").to_owned(), date(o.lifecycle.planned)),
        (
            c.t("system.construction_started").to_owned(),
            date(o.lifecycle.construction_started),
        ),
        (
            c.t("system.operating_since").to_owned(),
            date(o.lifecycle.operating_since),
        ),
        (c.t("system.retired").to_owned(), date(o.lifecycle.retired)),
    ];
    for (k, v) in [
        ("system.branch_of", o.branch_of.clone()),
        ("system.department", o.department_in_charge.clone()),
        ("system.division", o.division.map(|d| d.to_string())),
    ] {
        facts.push((
            c.t(k).to_owned(),
            v.unwrap_or_else(|| c.t("common.none").to_owned()),
        ));
    }
    let grade_of_domain = |a: &Assessment| {
        let mut tmp = o.clone();
        tmp.assessment = a.clone();
        tmp.domains.clear();
        tmp.secret = None;
        dengbao_core::grading::final_grade(&state.pack.grading, &tmp)
            .map_or_else(String::new, |g| c.grade(g.as_str()))
    };
    let domains = o
        .domains
        .iter()
        .map(|d| (d.name.clone(), grade_of_domain(&d.assessment)))
        .collect();
    let events = o
        .events
        .iter()
        .rev()
        .map(|e| EventRow {
            date: e.date.to_string(),
            kind: c.tk("event.", e.kind.as_str()),
            detail: e.grade.map(|g| c.grade(g.as_str())).unwrap_or_default(),
        })
        .collect();
    let h = dengbao_app::ledger::history(state, &page.p, &id).await?;
    let history = h
        .entries
        .iter()
        .rev()
        .map(|e| HistRow {
            seq: e.seq,
            time: e
                .entry
                .as_ref()
                .map(|f| local_time(f.time))
                .unwrap_or_default(),
            actor: e
                .entry
                .as_ref()
                .map(|f| f.actor.clone())
                .unwrap_or_default(),
            action: e
                .entry
                .as_ref()
                .map(|f| f.action.clone())
                .unwrap_or_default(),
            verified: e.verified,
        })
        .collect();
    let with_blank = |mut v: Vec<Opt>| {
        v.insert(
            0,
            Opt {
                value: String::new(),
                label: String::new(),
                selected: false,
            },
        );
        v
    };
    let agencies = with_blank(
        inv.agencies
            .iter()
            .map(|a| Opt {
                value: a.id.clone(),
                label: a.name.clone(),
                selected: ev.get("agency") == a.id,
            })
            .collect(),
    );
    let conformities: Vec<String> = Conformity::iter().map(|x| x.as_str().to_owned()).collect();
    let aspects: Vec<String> = ChangeAspect::iter()
        .map(|x| x.as_str().to_owned())
        .collect();
    Ok(render_status(
        status,
        &SystemPage {
            event_types: opts(&c, "event.", &recordable_events(), ev.get("type")),
            conformities: with_blank(opts(&c, "conformity.", &conformities, ev.get("conformity"))),
            agencies,
            aspects: with_blank(opts(&c, "aspect.", &aspects, ev.get("aspect"))),
            today: today.to_string(),
            ev,
            errs,
            id: o.id.clone(),
            name: o.name.clone(),
            kind: c.tk("kind.", o.kind.as_str()),
            grade: c.grade(r.grade.as_str()),
            status: c.tk("life.", lifecycle_status(&o.lifecycle, today)),
            facts,
            domains,
            products: o.products_in_use.clone(),
            branches: inv
                .systems
                .iter()
                .filter(|b| b.branch_of.as_deref() == Some(o.id.as_str()))
                .map(|b| (b.id.clone(), b.name.clone()))
                .collect(),
            product_choices: inv
                .products
                .iter()
                .map(|p| Opt {
                    value: p.id.clone(),
                    label: p.name.clone(),
                    selected: o.products_in_use.contains(&p.id),
                })
                .collect(),
            crypto_choices: inv
                .crypto_products
                .iter()
                .map(|p| Opt {
                    value: p.id.clone(),
                    label: p.name.clone(),
                    selected: o.crypto_products_in_use.contains(&p.id),
                })
                .collect(),
            crypto_products: o.crypto_products_in_use.clone(),
            events,
            obligations: ob_rows(&c, &report.systems, |o| {
                o.status.as_str() != "not_applicable"
            }),
            history,
            checkpoint_size: h.checkpoint_size.map(|s| s.to_string()).unwrap_or_default(),
            grading_cite: c.cite(&r.grading.cite),
            c,
        },
    ))
}

// ----- harm matrix (create form and wizard) ----------------------------------------------------

/// One harmed object's row: S and G degree choices.
pub struct MatrixRow {
    pub object: String,
    pub label: String,
    pub s: Vec<Opt>,
    pub g: Vec<Opt>,
}

fn degrees() -> Vec<String> {
    let mut v = vec!["none".to_owned()];
    v.extend(HarmDegree::iter().map(|d| d.as_str().to_owned()));
    v
}

fn matrix(c: &Chrome, a: &Assessment) -> Vec<MatrixRow> {
    let pick = |harms: &[Harm], obj: HarmObject| {
        harms
            .iter()
            .find(|h| h.object == obj)
            .map_or_else(|| "none".to_owned(), |h| h.degree.as_str().to_owned())
    };
    HarmObject::ALL
        .iter()
        .map(|obj| MatrixRow {
            object: obj.as_str().to_owned(),
            label: c.tk("harm.", obj.as_str()),
            s: opts(
                c,
                "degree.",
                &degrees(),
                &pick(&a.business_information, *obj),
            ),
            g: opts(c, "degree.", &degrees(), &pick(&a.system_service, *obj)),
        })
        .collect()
}

/// The assessment chosen in a form's matrix (`s.<object>`, `g.<object>`).
fn assessment_of(form: &Fields) -> Assessment {
    let mut a = Assessment::default();
    for obj in HarmObject::ALL {
        let name = obj.as_str();
        for (prefix, list) in [
            ("s.", &mut a.business_information),
            ("g.", &mut a.system_service),
        ] {
            let v = form.get(&format!("{prefix}{name}"));
            if let Some(degree) = HarmDegree::ALL.into_iter().find(|d| d.as_str() == v) {
                list.push(Harm {
                    object: obj,
                    degree,
                });
            }
        }
    }
    a
}

// ----- new grading object ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "system_new.html")]
struct NewSystemPage {
    c: Chrome,
    errs: Errs,
    v: Fields,
    kinds: Vec<Opt>,
    m: Vec<MatrixRow>,
}

fn new_form(page: &Page, errs: Errs, v: Fields, status: StatusCode) -> Response {
    let c = page.chrome("systems", page.cat().get("system.create_title"));
    let a = assessment_of(&v);
    let kinds = opts(&c, "kind.", &object_kinds(), v.get("kind"));
    render_status(
        status,
        &NewSystemPage {
            m: matrix(&c, &a),
            kinds,
            errs,
            v,
            c,
        },
    )
}

pub async fn new_system(page: Page) -> Response {
    if let Err(e) = page.require(Action::Write) {
        return page.fail(e);
    }
    new_form(&page, Errs::default(), Fields::default(), StatusCode::OK)
}

fn date_field(form: &Fields, name: &str, errs: &mut Errs, cat: &super::Catalog) -> Option<Date> {
    let v = form.get(name);
    if v.is_empty() {
        return None;
    }
    match v.parse::<Date>() {
        Ok(d) => Some(d),
        Err(e) => {
            errs.add(name, format!("{} {e}", cat.get("err.invalid")));
            None
        }
    }
}

pub async fn create_system(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    // Authorize before validating: a read-only caller learns nothing about the input.
    if let Err(e) = page.require(Action::Write) {
        return page.fail(e);
    }
    let cat = page.cat();
    let mut errs = Errs::default();
    for f in ["id", "name", "kind"] {
        if form.get(f).is_empty() {
            errs.add(f, cat.get("err.required"));
        }
    }
    let lifecycle = Lifecycle {
        planned: date_field(&form, "planned", &mut errs, cat),
        construction_started: date_field(&form, "construction_started", &mut errs, cat),
        operating_since: date_field(&form, "operating_since", &mut errs, cat),
        retired: None,
    };
    let assessment = assessment_of(&form);
    if assessment.business_information.is_empty() || assessment.system_service.is_empty() {
        errs.add("assessment", cat.get("system.harm_required"));
    }
    let kind = form.get("kind").parse::<ObjectKind>();
    if errs.any() || kind.is_err() {
        if kind.is_err() && errs.of("kind").is_empty() {
            errs.add("kind", cat.get("err.required"));
        }
        return new_form(&page, errs, form, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let division = match form.opt("division").map(|d| d.parse()) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            errs.add("division", format!("{} {e}", cat.get("err.invalid")));
            return new_form(&page, errs, form, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let input = SystemInput {
        id: form.get("id").to_owned(),
        name: form.get("name").to_owned(),
        kind: kind.unwrap_or(ObjectKind::InformationSystem),
        division,
        network_scope: None,
        branch_of: form.opt("branch_of"),
        department_in_charge: form.opt("department_in_charge"),
        // The page creates local systems; a nationwide one is described over the API.
        central_beijing_entity: false,
        graded_uniformly: false,
        lifecycle: Some(lifecycle),
        assessment,
        secret: None,
        uses_cryptography: form.get("uses_cryptography") == "on",
        domains: Vec::new(),
        version: None,
    };
    let id = input.id.clone();
    match systems::create_system(&state, &page.p, input)
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => see_other(&format!("/systems/{}?ok=system.created", urlpath(&id))),
        Err(e) if e.status == StatusCode::CONFLICT => {
            let mut errs = Errs::default();
            errs.add("id", format!("{} {}", cat.get("err.invalid"), e.detail));
            new_form(&page, errs, form, StatusCode::CONFLICT)
        }
        Err(e) => match Errs::from_api(
            cat,
            e,
            &[
                "id",
                "name",
                "kind",
                "division",
                "branch_of",
                "department_in_charge",
                "lifecycle",
                "assessment",
            ],
        ) {
            Ok(errs) => new_form(&page, errs, form, StatusCode::UNPROCESSABLE_ENTITY),
            Err(e) => page.fail(e),
        },
    }
}

/// Everything but `[A-Za-z0-9._-]` is escaped in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'.').remove(b'_').remove(b'-');

/// RFC 8187 `attr-char`: what may stand unescaped in `filename*=UTF-8''…`.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// An id as one path segment (ids are `[A-Za-z0-9._-]`, so this only guards odd input).
pub fn urlpath(id: &str) -> String {
    utf8_percent_encode(id, SEGMENT).to_string()
}

// ----- grading wizard --------------------------------------------------------------------------

/// The grading result panel (also sent alone to the page's script).
pub struct GradeResult {
    pub ok: bool,
    pub grade: String,
    pub by_harm: String,
    pub s: String,
    pub g: String,
    pub cite: String,
    pub floor: String,
    pub floor_cite: String,
    pub expert: bool,
    pub expert_cite: String,
    pub department: bool,
    pub department_cite: String,
    pub supervision: String,
    pub supervision_cite: String,
    pub error: String,
}

impl GradeResult {
    fn empty(error: String) -> GradeResult {
        GradeResult {
            ok: false,
            grade: String::new(),
            by_harm: String::new(),
            s: String::new(),
            g: String::new(),
            cite: String::new(),
            floor: String::new(),
            floor_cite: String::new(),
            expert: false,
            expert_cite: String::new(),
            department: false,
            department_cite: String::new(),
            supervision: String::new(),
            supervision_cite: String::new(),
            error,
        }
    }

    /// From the grading view (the `grading` object of the assess contract).
    fn of(c: &Chrome, g: &GradingView<'_>) -> GradeResult {
        let raised = g.floor.as_ref().filter(|f| f.raised).map(|f| f.floor);
        GradeResult {
            ok: true,
            grade: c.grade(raised.unwrap_or(g.by_harm).as_str()),
            by_harm: c.grade(g.by_harm.as_str()),
            s: c.grade(g.s.grade.as_str()),
            g: c.grade(g.g.grade.as_str()),
            cite: c.cite(&g.cite),
            floor: g
                .floor
                .as_ref()
                .map(|f| c.grade(f.floor.as_str()))
                .unwrap_or_default(),
            floor_cite: g
                .floor
                .as_ref()
                .map(|f| c.cite(&f.cite))
                .unwrap_or_default(),
            expert: g.expert_review_required.value,
            expert_cite: c.cite(&g.expert_review_required.cite),
            department: g.department_approval_required.value,
            department_cite: c.cite(&g.department_approval_required.cite),
            supervision: c.tk("supervision.", g.supervision.value),
            supervision_cite: c.cite(&g.supervision.cite),
            error: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "wizard.html")]
struct WizardPage {
    c: Chrome,
    id: String,
    name: String,
    version: i64,
    date: String,
    m: Vec<MatrixRow>,
    r: GradeResult,
    errs: Errs,
}

#[derive(Template)]
#[template(path = "grade_result.html")]
struct ResultFragment {
    c: Chrome,
    r: GradeResult,
}

async fn preview_of(
    state: &AppState,
    page: &Page,
    o: &GradingObject,
    a: Assessment,
    c: &Chrome,
) -> GradeResult {
    if a.business_information.is_empty() || a.system_service.is_empty() {
        return GradeResult::empty(c.t("wizard.none_selected").to_owned());
    }
    let req = GradingPreview {
        assessment: a,
        secret_degree: o.secret.map(|s| s.degree),
        has_department_in_charge: o.department_in_charge.is_some(),
        network_scope: Some(o.network_scope),
    };
    match systems::preview(state, &page.p, req)
        .await
        .and_then(|g| g.view().map(|v| GradeResult::of(c, &v)))
    {
        Ok(r) => r,
        Err(e) => GradeResult::empty(format!("{} {}", c.t("err.invalid"), e.detail)),
    }
}

async fn wizard_page(
    state: &AppState,
    page: &Page,
    id: &str,
    form: Option<&Fields>,
    errs: Errs,
    status: StatusCode,
) -> ApiResult<Response> {
    page.require(Action::Read)?;
    let (row, o) = systems::system_object(state, &page.p, id).await?;
    let c = page.chrome(
        "systems",
        format!("{} · {}", page.cat().get("wizard.title"), o.name),
    );
    let a = form.map_or_else(|| o.assessment.clone(), assessment_of);
    let r = preview_of(state, page, &o, a.clone(), &c).await;
    Ok(render_status(
        status,
        &WizardPage {
            id: o.id.clone(),
            name: o.name.clone(),
            version: row.version,
            date: form
                .and_then(|f| f.opt("date"))
                .unwrap_or_else(|| state.clock.today().to_string()),
            m: matrix(&c, &a),
            r,
            errs,
            c,
        },
    ))
}

/// The wizard again with the choices sent and what went wrong (422).
async fn wizard_again(
    state: &AppState,
    page: &Page,
    id: &str,
    form: &Fields,
    errs: Errs,
) -> Response {
    wizard_page(
        state,
        page,
        id,
        Some(form),
        errs,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .unwrap_or_else(|e| page.fail(e))
}

pub async fn wizard(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    wizard_page(&state, &page, &id, None, Errs::default(), StatusCode::OK)
        .await
        .unwrap_or_else(|e| page.fail(e))
}

/// Live result for the page's script: the result panel alone, rendered like the page's.
pub async fn wizard_preview(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let page = &posted.page;
    let run = async {
        page.require(Action::Read)?;
        let (_, o) = systems::system_object(&state, &page.p, &id).await?;
        let c = page.chrome("systems", "");
        let r = preview_of(&state, page, &o, assessment_of(&posted.form), &c).await;
        Ok::<_, ApiError>(render(&ResultFragment { c, r }))
    };
    run.await.unwrap_or_else(|e| page.fail(e))
}

pub async fn wizard_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    if form.get("action") == "preview" {
        return wizard_page(
            &state,
            &page,
            &id,
            Some(&form),
            Errs::default(),
            StatusCode::OK,
        )
        .await
        .unwrap_or_else(|e| page.fail(e));
    }
    if let Err(e) = page.require(Action::Write) {
        return page.fail(e);
    }
    let cat = page.cat();
    let mut errs = Errs::default();
    let assessment = assessment_of(&form);
    if assessment.business_information.is_empty() || assessment.system_service.is_empty() {
        errs.add("assessment", cat.get("system.harm_required"));
    }
    let date = date_field(&form, "date", &mut errs, cat);
    let version = form.get("version").parse::<i64>();
    if version.is_err() {
        errs.add("version", cat.get("err.conflict"));
    }
    if errs.any() {
        return wizard_again(&state, &page, &id, &form, errs).await;
    }
    let req = GradingRequest {
        assessment,
        secret_degree: None,
        date: date.map(|d| d.to_string()),
        version: version.unwrap_or(0),
    };
    match systems::grade(&state, &page.p, &id, req)
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => see_other(&format!("/systems/{}?ok=wizard.saved", urlpath(&id))),
        Err(e) => match Errs::from_api(cat, e, &["assessment", "date"]) {
            Ok(errs) => wizard_again(&state, &page, &id, &form, errs).await,
            Err(e) => page.fail(e),
        },
    }
}

// ----- filing dossier --------------------------------------------------------------------------

pub struct Required {
    pub kind: String,
    pub title: String,
    pub cite: String,
    pub provided: bool,
    pub file_name: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded: String,
}

pub struct FilingRow {
    pub status: String,
    /// The certificate's number, once issued (links to its public check).
    pub certificate: String,
    pub grade: String,
    pub submitted: String,
}

#[derive(Template)]
#[template(path = "dossier.html")]
struct DossierPage {
    c: Chrome,
    id: String,
    name: String,
    grade: String,
    applicable: bool,
    complete: bool,
    cite: String,
    required: Vec<Required>,
    kinds: Vec<Opt>,
    filings: Vec<FilingRow>,
    errs: Errs,
    error: String,
}

async fn dossier_page(
    state: &AppState,
    page: &Page,
    id: &str,
    errs: Errs,
    error: String,
    status: StatusCode,
) -> ApiResult<Response> {
    let d = systems::dossier_view(state, &page.p, id).await?;
    let (row, _) = systems::system_object(state, &page.p, id).await?;
    let c = page.chrome(
        "systems",
        format!("{} · {}", page.cat().get("dossier.title"), row.name),
    );
    let required: Vec<Required> = d
        .dossier
        .required
        .iter()
        .map(|m| {
            let kind = m.kind.to_owned();
            let file = d.materials.iter().find(|x| x.kind == kind);
            Required {
                title: c.tk("material.", &kind),
                cite: c.cite(m.cite),
                provided: m.provided,
                file_name: file.map(|f| f.file_name.clone()).unwrap_or_default(),
                size: file.map_or(0, |f| f.size),
                sha256: file.map(|f| f.sha256.clone()).unwrap_or_default(),
                uploaded: file
                    .map(|f| local_time(f.uploaded_at_ms))
                    .unwrap_or_default(),
                kind,
            }
        })
        .collect();
    // Offer the missing materials first in the upload form.
    let mut kinds: Vec<String> = required
        .iter()
        .filter(|r| !r.provided)
        .map(|r| r.kind.clone())
        .collect();
    kinds.extend(
        required
            .iter()
            .filter(|r| r.provided)
            .map(|r| r.kind.clone()),
    );
    let kinds = opts(&c, "material.", &kinds, "");
    Ok(render_status(
        status,
        &DossierPage {
            id: row.id.clone(),
            name: row.name.clone(),
            grade: c.grade(d.dossier.grade),
            applicable: d.dossier.applicable,
            complete: d.dossier.complete,
            cite: c.cite(d.dossier.cite),
            required,
            kinds,
            filings: d
                .filings
                .iter()
                .map(|f| FilingRow {
                    status: c.tk("reviews.status.", &f.status),
                    certificate: f.certificate.clone().unwrap_or_default(),
                    grade: c.grade(&f.grade),
                    submitted: f.submitted_at_ms.map(local_time).unwrap_or_default(),
                })
                .collect(),
            errs,
            error,
            c,
        },
    ))
}

/// The dossier again, with what went wrong (422).
async fn dossier_again(
    state: &AppState,
    page: &Page,
    id: &str,
    errs: Errs,
    error: String,
) -> Response {
    dossier_page(
        state,
        page,
        id,
        errs,
        error,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .unwrap_or_else(|e| page.fail(e))
}

pub async fn dossier(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    dossier_page(
        &state,
        &page,
        &id,
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
    .unwrap_or_else(|e| page.fail(e))
}

/// The multipart form of an upload: CSRF token, material kind, title, the file.
struct Upload {
    csrf: String,
    kind: String,
    title: String,
    file_name: String,
    media_type: String,
    bytes: Vec<u8>,
    too_large: bool,
}

async fn read_upload(mut mp: Multipart) -> Result<Upload, ApiError> {
    let mut u = Upload {
        csrf: String::new(),
        kind: String::new(),
        title: String::new(),
        file_name: String::new(),
        media_type: String::new(),
        bytes: Vec::new(),
        too_large: false,
    };
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(e.status(), "body", e.body_text())
    };
    while let Some(mut field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            u.file_name = field.file_name().unwrap_or("").to_owned();
            u.media_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if u.bytes.len() + chunk.len() > super::MAX_UPLOAD {
                    u.too_large = true;
                    break;
                }
                u.bytes.extend_from_slice(&chunk);
            }
        } else {
            let text = field.text().await.map_err(bad)?;
            match name.as_str() {
                "_csrf" => u.csrf = text,
                "kind" => u.kind = text.trim().to_owned(),
                "title" => u.title = text.trim().to_owned(),
                _ => {}
            }
        }
    }
    Ok(u)
}

pub async fn upload(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    mp: Multipart,
) -> Response {
    let u = match read_upload(mp).await {
        Ok(u) => u,
        Err(e) => return page.fail(e),
    };
    if !csrf_ok(&page.p, &u.csrf) {
        return page.fail(ApiError::forbidden(page.cat().get("err.csrf")));
    }
    if let Err(e) = page.require(Action::Write) {
        return page.fail(e);
    }
    let cat = page.cat();
    let mut errs = Errs::default();
    if u.too_large {
        errs.add("file", cat.get("dossier.file_too_large"));
    } else if u.file_name.is_empty() {
        errs.add("file", cat.get("dossier.file_required"));
    }
    if u.kind.is_empty() {
        errs.add("kind", cat.get("err.required"));
    }
    if errs.any() {
        return dossier_again(&state, &page, &id, errs, String::new()).await;
    }
    let title = if u.title.is_empty() {
        cat.get(&format!("material.{}", u.kind)).to_owned()
    } else {
        u.title
    };
    let input = MaterialInput {
        title,
        file_name: u.file_name,
        media_type: u.media_type,
        size: u.bytes.len() as i64,
        sha256: dengbao_ledger::to_hex(&Sha256::digest(&u.bytes)),
    };
    match systems::put_material(&state, &page.p, &id, &u.kind, input, Some(&u.bytes))
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => see_other(&format!(
            "/systems/{}/dossier?ok=dossier.uploaded",
            urlpath(&id)
        )),
        Err(e) => match Errs::from_api(
            cat,
            e,
            &["kind", "title", "file_name", "media_type", "size"],
        ) {
            Ok(mut errs) => {
                // Errors about the file's own facts are shown at the file input.
                for (f, _) in &mut errs.0 {
                    if f.starts_with("file_name") || f == "media_type" || f == "size" {
                        *f = "file".to_owned();
                    }
                }
                dossier_again(&state, &page, &id, errs, String::new()).await
            }
            Err(e) => page.fail(e),
        },
    }
}

pub async fn submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let page = posted.page;
    match systems::submit_filing(&state, &page.p, &id)
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => see_other(&format!(
            "/systems/{}/dossier?ok=dossier.submitted",
            urlpath(&id)
        )),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let msg = format!("{} {}", page.cat().get("err.invalid"), e.detail);
            dossier_again(&state, &page, &id, Errs::default(), msg).await
        }
        Err(e) => page.fail(e),
    }
}

/// A stored dossier file, always as a download: uploaded content is never rendered by the
/// browser on this origin.
pub async fn download(
    State(state): State<AppState>,
    page: Page,
    Path((id, kind)): Path<(String, String)>,
) -> Response {
    if let Err(e) = page.require(Action::Read) {
        return page.fail(e);
    }
    match systems::material_file(&state, &page.p, &id, &kind).await {
        Ok((m, bytes)) => attachment(&m.file_name, bytes),
        Err(e) => page.fail(e.into()),
    }
}

/// A stored file as a download, never rendered by the browser on this origin.
pub fn attachment(file_name: &str, bytes: Vec<u8>) -> Response {
    let name: String = file_name
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-') {
                ch
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{name}\"; filename*=UTF-8''{}",
        utf8_percent_encode(file_name, ATTR_CHAR)
    );
    let mut r = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )],
        bytes,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// The object's page again with the event form as sent and what went wrong (422).
async fn system_again(
    state: &AppState,
    page: &Page,
    id: String,
    form: Fields,
    errs: Errs,
) -> Response {
    system_inner(
        state,
        page,
        id,
        form,
        errs,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .unwrap_or_else(|e| page.fail(e))
}

/// Records a regulatory event through the same use case as the API.
pub async fn record_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    if let Err(e) = page.require(Action::Write) {
        return page.fail(e);
    }
    let cat = page.cat();
    let mut errs = Errs::default();
    for f in ["type", "date"] {
        if form.get(f).is_empty() {
            errs.add(f, cat.get("err.required"));
        }
    }
    if !form.get("type").is_empty() && !recordable_events().iter().any(|t| t == form.get("type")) {
        errs.add(
            "type",
            format!("{} {}", cat.get("err.invalid"), form.get("type")),
        );
    }
    if errs.any() {
        return system_again(&state, &page, id, form, errs).await;
    }
    let mut event = serde_json::Map::new();
    for f in [
        "date",
        "type",
        "deadline",
        "conformity",
        "agency",
        "aspect",
        "note",
    ] {
        if let Some(v) = form.opt(f) {
            event.insert(f.to_owned(), Value::String(v));
        }
    }
    match systems::record_event(&state, &page.p, &id, Value::Object(event))
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => see_other(&format!(
            "/systems/{}?ok=event.recorded#events",
            urlpath(&id)
        )),
        Err(e) => match Errs::from_api(
            cat,
            e,
            &[
                "date",
                "type",
                "deadline",
                "conformity",
                "agency",
                "aspect",
                "note",
            ],
        ) {
            Ok(errs) => system_again(&state, &page, id, form, errs).await,
            Err(e) => page.fail(e),
        },
    }
}

/// Replaces which registered products the object uses (the API's use case).
pub async fn set_in_use(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let r = systems::set_in_use(
        &state,
        &page.p,
        &id,
        crate::dto::InUseInput {
            products: form.all("products"),
            crypto_products: form.all("crypto_products"),
        },
    )
    .await;
    page.after(
        r,
        &format!("/systems/{}?ok=system.in_use_saved#in-use", urlpath(&id)),
    )
}

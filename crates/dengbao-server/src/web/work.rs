//! Obligations calendar, registries, administration.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dengbao_core::Date;
use serde::Deserialize;

use super::pages::{ObRow, Opt};
use super::{Chrome, Errs, Page, Posted, query, render, render_status, see_other};
use crate::dto::UserInput;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use dengbao_app::{Action, Role};
use dengbao_app::{admin, calendar, registry, systems};

// ----- obligations -----------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct ObQuery {
    #[serde(default)]
    view: String,
    /// `YYYY-MM`.
    #[serde(default)]
    month: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: Option<usize>,
}

/// Rows per page of the list view.
const LIST_ROWS: usize = 100;

pub struct Day {
    pub day: u32,
    pub date: String,
    pub today: bool,
    pub items: Vec<ObRow>,
}

#[derive(Template)]
#[template(path = "obligations.html")]
struct ObligationsPage {
    c: Chrome,
    month_view: bool,
    month: String,
    prev: String,
    next: String,
    weekdays: Vec<String>,
    /// Weeks of seven cells; `None` pads the month's first and last week.
    weeks: Vec<Vec<Option<Day>>>,
    rows: Vec<ObRow>,
    statuses: Vec<Opt>,
    feed_url: String,
    list_page: usize,
    pages: usize,
    total: usize,
    list_prev: String,
    list_next: String,
    /// Overdue obligations (shown above the month, which holds only what falls due in it).
    overdue: usize,
    /// The next due date after today and the link to its month.
    next_due: String,
    next_due_link: String,
}

fn month_start(s: &str, today: Date) -> Date {
    let parsed = s.split_once('-').and_then(|(y, m)| {
        let y = y.parse::<i32>().ok()?;
        let m = m.parse::<u32>().ok()?;
        Date::from_ymd(y, m, 1).ok()
    });
    parsed.unwrap_or_else(|| {
        let (y, m, _) = today.ymd();
        Date::from_ymd(y, m, 1).unwrap_or(today)
    })
}

fn ym(d: Date) -> String {
    let (y, m, _) = d.ymd();
    format!("{y:04}-{m:02}")
}

async fn obligations_page(
    state: &AppState,
    page: &Page,
    q: ObQuery,
    feed_url: String,
) -> ApiResult<Response> {
    page.require(Action::Read)?;
    let c = page.chrome("obligations", page.cat().get("ob.title"));
    let today = state.clock.today();
    // The organisation's obligations for today, computed once per data version and day.
    let computed = systems::organisation(state, &page.p, today).await?;
    let status = q.status.clone();
    let all: Vec<&crate::dto::OrgObligation> = computed
        .items
        .iter()
        .filter(|o| status.is_empty() || o.status == status)
        .collect();
    let overdue = computed.by_status.get("overdue").map_or(0, Vec::len);
    let today_iso = today.to_string();
    // ISO dates compare as text.
    let next_due = computed
        .items
        .iter()
        .filter(|o| o.status != "met")
        .filter_map(|o| o.due.as_ref())
        .filter(|d| **d > today_iso)
        .min()
        .cloned()
        .unwrap_or_default();
    let first = month_start(&q.month, today);
    let next_month = first.add_months(1);
    let prev_month = {
        let (y, m, _) = first.ymd();
        let (py, pm) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
        Date::from_ymd(py, pm, 1).unwrap_or(first)
    };
    let month_view = q.view != "list";
    let mut weeks = Vec::new();
    let mut rows = Vec::new();
    let (mut pages, mut list_page, mut total) = (1, 1, 0);
    if month_view {
        let mut days: Vec<Day> = Vec::new();
        let mut d = first;
        while d < next_month {
            let iso = d.to_string();
            days.push(Day {
                day: d.ymd().2,
                today: d == today,
                items: Vec::new(),
                date: iso,
            });
            d = d.add_days(1);
        }
        let month = ym(first);
        for o in all
            .iter()
            .filter(|o| o.due.as_ref().is_some_and(|d| d.starts_with(&month)))
        {
            let due = o.due.as_deref().unwrap_or("");
            if let Some(day) = days.iter_mut().find(|x| x.date == due) {
                day.items.push(super::pages::ob_row(&c, o));
            }
        }
        let mut week: Vec<Option<Day>> = (0..first.weekday()).map(|_| None).collect();
        for day in days {
            week.push(Some(day));
            if week.len() == 7 {
                weeks.push(std::mem::take(&mut week));
            }
        }
        if !week.is_empty() {
            while week.len() < 7 {
                week.push(None);
            }
            weeks.push(week);
        }
    } else {
        pages = all.len().div_ceil(LIST_ROWS).max(1);
        list_page = q.page.unwrap_or(1).clamp(1, pages);
        rows = all
            .iter()
            .skip((list_page - 1) * LIST_ROWS)
            .take(LIST_ROWS)
            .map(|o| super::pages::ob_row(&c, o))
            .collect();
        total = all.len();
    }
    let page_link = |n: usize| {
        format!(
            "/obligations?{}",
            query(&[
                ("view", "list"),
                ("status", &q.status),
                ("page", &n.to_string())
            ])
        )
    };
    let link = |m: Date| {
        format!(
            "/obligations?{}",
            query(&[
                ("view", if month_view { "month" } else { "list" }),
                ("month", &ym(m)),
                ("status", &q.status)
            ])
        )
    };
    let statuses: Vec<String> = ["overdue", "due_soon", "upcoming", "met"]
        .map(String::from)
        .to_vec();
    let next_due_link = next_due
        .parse::<Date>()
        .map(|d| {
            format!(
                "/obligations?{}",
                query(&[("view", "month"), ("month", &ym(d))])
            )
        })
        .unwrap_or_default();
    Ok(render(&ObligationsPage {
        list_prev: if list_page > 1 {
            page_link(list_page - 1)
        } else {
            String::new()
        },
        list_next: if list_page < pages {
            page_link(list_page + 1)
        } else {
            String::new()
        },
        list_page,
        pages,
        total,
        overdue,
        next_due,
        next_due_link,
        month_view,
        month: ym(first),
        prev: link(prev_month),
        next: link(next_month),
        weekdays: c.t("ob.weekdays").split(',').map(str::to_owned).collect(),
        weeks,
        rows,
        statuses: statuses
            .iter()
            .map(|s| Opt {
                value: s.clone(),
                label: c.tk("ob.status.", s),
                selected: *s == q.status,
            })
            .collect(),
        feed_url,
        c,
    }))
}

pub async fn obligations(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<ObQuery>,
) -> Response {
    obligations_page(&state, &page, q, String::new())
        .await
        .unwrap_or_else(|e| page.fail(e))
}

/// Creates the organisation's secret feed URL and shows it once, absolute.
pub async fn feed_create(State(state): State<AppState>, posted: Posted) -> Response {
    let page = posted.page;
    match calendar::create_feed(&state, &page.p).await {
        Ok(f) => {
            let host = page
                .headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let url = format!("http://{host}{}", f.path);
            obligations_page(
                &state,
                &page,
                ObQuery {
                    view: "list".into(),
                    ..ObQuery::default()
                },
                url,
            )
            .await
            .unwrap_or_else(|e| page.fail(e))
        }
        Err(e) => page.fail(e.into()),
    }
}

pub async fn feed_revoke(State(state): State<AppState>, posted: Posted) -> Response {
    let page = posted.page;
    let r = calendar::revoke_feed(&state, &page.p).await;
    page.after(r, "/obligations?view=list&ok=ob.feed_revoked")
}

// ----- registries ------------------------------------------------------------------------------

pub struct Criterion {
    pub text: String,
    pub cite: String,
    pub verdict: String,
    pub verdict_label: String,
    pub evidence: String,
}

pub struct CandidateRow {
    pub id: String,
    pub name: String,
    pub eligible: bool,
    pub criteria: Vec<Criterion>,
}

pub struct Registry {
    pub title: String,
    pub slug: String,
    pub rows: Vec<CandidateRow>,
}

#[derive(Template)]
#[template(path = "registry.html")]
struct RegistryPage {
    c: Chrome,
    registries: Vec<Registry>,
}

pub async fn registry(State(state): State<AppState>, page: Page) -> Response {
    let run = async {
        page.require(Action::Read)?;
        let c = page.chrome("registry", page.cat().get("registry.title"));
        let mut registries = Vec::new();
        for cat in dengbao_app::tenant::CATEGORIES {
            let list = registry::list(&state, &page.p, cat).await?;
            let rows = list
                .iter()
                .map(|cv| {
                    let e = cv.eligibility();
                    CandidateRow {
                        id: cv.id.clone(),
                        name: cv.name.clone(),
                        eligible: e.eligible,
                        criteria: e
                            .criteria
                            .iter()
                            .map(|k| {
                                let verdict = k.result.as_str().to_owned();
                                Criterion {
                                    text: c.criterion(cat, k.id, k.text),
                                    cite: c.cite(k.cite),
                                    verdict_label: c.tk("verdict.", &verdict),
                                    verdict,
                                    evidence: k.evidence.unwrap_or("").to_owned(),
                                }
                            })
                            .collect(),
                    }
                })
                .collect();
            registries.push(Registry {
                title: c.tk("registry.", cat),
                slug: cat.to_owned(),
                rows,
            });
        }
        Ok::<_, ApiError>(render(&RegistryPage { c, registries }))
    };
    run.await.unwrap_or_else(|e| page.fail(e))
}

// ----- administration --------------------------------------------------------------------------

pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<(String, String)>,
    pub disabled: bool,
    pub totp: bool,
    pub me: bool,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    c: Chrome,
    users: Vec<UserRow>,
    roles: Vec<Opt>,
    can_manage: bool,
    can_assign: bool,
    errs: Errs,
    username: String,
    display_name: String,
}

const ROLES: [Role; 5] = [
    Role::SystemAdmin,
    Role::SecurityAdmin,
    Role::AuditAdmin,
    Role::SecurityLead,
    Role::Member,
];

async fn admin_page(
    state: &AppState,
    page: &Page,
    errs: Errs,
    form: Option<&super::Fields>,
    status: StatusCode,
) -> ApiResult<Response> {
    let c = page.chrome("admin", page.cat().get("admin.title"));
    let list = admin::list_users(state, &page.p).await?;
    let users = list
        .into_iter()
        .map(|u| UserRow {
            me: u.id == page.p.user_id(),
            roles: u
                .roles
                .iter()
                .map(|r| (r.clone(), c.tk("role.", r)))
                .collect(),
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            disabled: u.disabled,
            totp: u.totp_enabled,
        })
        .collect();
    let roles = ROLES
        .iter()
        .map(|r| Opt {
            value: r.as_str().to_owned(),
            label: c.tk("role.", r.as_str()),
            selected: false,
        })
        .collect();
    Ok(render_status(
        status,
        &AdminPage {
            users,
            roles,
            can_manage: page.p.may(Action::ManageAccounts),
            can_assign: page.p.may(Action::AssignRoles),
            errs,
            username: form
                .map(|f| f.get("username").to_owned())
                .unwrap_or_default(),
            display_name: form
                .map(|f| f.get("display_name").to_owned())
                .unwrap_or_default(),
            c,
        },
    ))
}

pub async fn admin(State(state): State<AppState>, page: Page) -> Response {
    admin_page(&state, &page, Errs::default(), None, StatusCode::OK)
        .await
        .unwrap_or_else(|e| page.fail(e))
}

pub async fn admin_create_user(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    if let Err(e) = page.require(Action::ManageAccounts) {
        return page.fail(e);
    }
    let cat = page.cat();
    let mut errs = Errs::default();
    for f in ["username", "display_name", "password"] {
        if form.get(f).is_empty() {
            errs.add(f, cat.get("err.required"));
        }
    }
    if errs.any() {
        return admin_page(
            &state,
            &page,
            errs,
            Some(&form),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
        .unwrap_or_else(|e| page.fail(e));
    }
    let input = UserInput {
        username: form.get("username").to_owned(),
        display_name: form.get("display_name").to_owned(),
        password: form.raw("password"),
    };
    match admin::create_user(&state, &page.p, input)
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => see_other("/admin?ok=admin.created"),
        Err(e) if e.status == StatusCode::CONFLICT => {
            let mut errs = Errs::default();
            errs.add(
                "username",
                format!("{} {}", cat.get("err.invalid"), e.detail),
            );
            admin_page(&state, &page, errs, Some(&form), StatusCode::CONFLICT)
                .await
                .unwrap_or_else(|e| page.fail(e))
        }
        Err(e) => match Errs::from_api(cat, e, &["username", "display_name", "password"]) {
            Ok(errs) => admin_page(
                &state,
                &page,
                errs,
                Some(&form),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
            .unwrap_or_else(|e| page.fail(e)),
            Err(e) => page.fail(e),
        },
    }
}

pub async fn admin_assign(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let role = form.get("role").to_owned();
    let r = admin::assign_role(&state, &page.p, &id, &role).await;
    page.after(r, "/admin?ok=admin.done")
}

pub async fn admin_revoke(
    State(state): State<AppState>,
    Path((id, role)): Path<(String, String)>,
    posted: Posted,
) -> Response {
    let page = posted.page;
    let r = admin::revoke_role(&state, &page.p, &id, &role).await;
    page.after(r, "/admin?ok=admin.done")
}

pub async fn admin_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let r = admin::set_disabled(&state, &page.p, &id, form.get("disabled") == "true").await;
    page.after(r, "/admin?ok=admin.done")
}

// ----- audit (the audit administrator's page) --------------------------------------------------

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    page: Option<i64>,
}

pub struct AuditRow {
    pub seq: i64,
    pub time: String,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub request_id: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    rows: Vec<AuditRow>,
    page: i64,
    prev: String,
    next: String,
    checkpoint: String,
    public_key: String,
}

const AUDIT_PER_PAGE: i64 = 50;

/// The audit trail, newest first, with the latest signed checkpoint and the public key a
/// verifier needs (`dengbao ledger check-proof`).
pub async fn audit(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<AuditQuery>,
) -> Response {
    let run = async {
        let pg = q.page.unwrap_or(1).max(1);
        let list = admin::audit_trail(&state, &page.p, Some(pg), Some(AUDIT_PER_PAGE)).await?;
        let c = page.chrome("audit", page.cat().get("audit.title"));
        let checkpoint = match dengbao_app::ledger::latest_checkpoint(&state, &page.p).await {
            Ok(note) => note,
            Err(e) if e.kind == dengbao_app::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e.into()),
        };
        let full = list.len() as i64 == AUDIT_PER_PAGE;
        Ok::<_, ApiError>(render(&AuditPage {
            rows: list
                .into_iter()
                .map(|a| AuditRow {
                    seq: a.seq,
                    time: super::local_time(a.at_ms),
                    actor: a.actor,
                    action: a.action,
                    object: a.object,
                    request_id: a.request_id,
                })
                .collect(),
            page: pg,
            prev: if pg > 1 {
                format!("/audit?page={}", pg - 1)
            } else {
                String::new()
            },
            next: if full {
                format!("/audit?page={}", pg + 1)
            } else {
                String::new()
            },
            checkpoint,
            public_key: dengbao_app::ledger::public_key(&state, &page.p)
                .await
                .unwrap_or_default(),
            c,
        }))
    };
    run.await.unwrap_or_else(|e| page.fail(e))
}

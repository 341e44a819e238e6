//! Art. 40 as a tracked workflow (Measures art. 40): for an object with an art. 40
//! violation on record, the authority the rule pack gives the item to (the public security
//! organ, the secrecy department or the cryptography administration, "according to the
//! division of work") orders the operator to correct it within a time limit — the
//! operator's `rectification_notice` event, whose time limit the engine then tracks; once the
//! limit has passed with the violation still on record, it warns the operator and informs
//! the superior department in charge (the supervision relation), which then sees the
//! enforcement; a corrected one is closed. Every step is a ledger entry in the operator's
//! data.

use dengbao_core::Date;
use dengbao_core::model::{Event, EventType};
use dengbao_core::pack::Party;
use dengbao_guard::{Action, OrgKind, Resource};
use dengbao_store::{EnforcementRow, StoreError, new_id};
use serde::{Deserialize, Serialize};

use crate::dto::check_free_text;
use crate::error::{AppError, AppResult};
use crate::{App, Caller};

/// An order to correct.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    /// The art. 40 item, 1–10, on record for the object today.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10))]
    pub item: u8,
    /// The time limit, YYYY-MM-DD, after today.
    pub deadline: String,
    /// What must be corrected (1–2000 characters).
    pub reasons: String,
}

/// One enforcement and where it stands.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnforcementView {
    pub id: String,
    pub operator_id: String,
    pub operator: String,
    pub object_id: String,
    pub object_name: String,
    pub item: i64,
    pub title: String,
    pub cite: String,
    pub authority_id: String,
    pub authority: String,
    /// `ordered`, `warned` or `closed`.
    pub stage: String,
    pub ordered_on: String,
    pub deadline: String,
    /// Ordered, and the time limit has passed.
    pub overdue: bool,
    pub reasons: String,
    pub warned_on: Option<String>,
    /// The departments in charge informed with the warning.
    pub informed: Vec<String>,
    pub closed_on: Option<String>,
    /// The caller may act on it now (warn or close).
    pub may_act: bool,
}

fn informed(e: &EnforcementRow) -> Vec<&str> {
    e.informed.split(',').filter(|s| !s.is_empty()).collect()
}

fn view(app: &App, c: &Caller, e: EnforcementRow) -> EnforcementView {
    let today = app.clock.today();
    let ids = informed(&e);
    let may_act = e.stage != "closed"
        && dengbao_guard::authorize(
            &c.principal,
            Action::Review,
            &Resource::Enforcement {
                operator: &e.tenant_id,
                authority: &e.organ_id,
                informed: &ids,
            },
            &dengbao_guard::Relations::default(),
            app.clock.now_ms(),
        )
        .is_allow();
    let v = &app.pack.violations;
    let item = usize::try_from(e.item - 1).unwrap_or(usize::MAX);
    EnforcementView {
        title: v.titles.get(item).cloned().unwrap_or_default(),
        cite: format!("{}({})", v.cite, e.item),
        overdue: e.stage == "ordered" && e.deadline.parse::<Date>().is_ok_and(|d| today > d),
        informed: ids.iter().map(|s| (*s).to_owned()).collect(),
        may_act,
        id: e.id,
        operator_id: e.tenant_id,
        operator: e.operator_name,
        object_id: e.object_id,
        object_name: e.object_name,
        item: e.item,
        authority_id: e.organ_id,
        authority: e.organ_name,
        stage: e.stage,
        ordered_on: e.ordered_on,
        deadline: e.deadline,
        reasons: e.reasons,
        warned_on: e.warned_on,
        closed_on: e.closed_on,
    }
}

fn party_of(k: OrgKind) -> Option<Party> {
    match k {
        OrgKind::PublicSecurity => Some(Party::PublicSecurity),
        OrgKind::SecrecyDepartment => Some(Party::SecrecyDepartment),
        OrgKind::CryptographyAdministration => Some(Party::CryptographyAdministration),
        _ => None,
    }
}

/// Whether the engine has art. 40 item `item` on record for the object today.
async fn on_record(app: &App, operator: &str, object: &str, item: i64) -> AppResult<bool> {
    let computed = app
        .tenants
        .obligations(app, operator, app.clock.today())
        .await?;
    Ok(computed
        .violations
        .iter()
        .any(|(s, _, v)| s == object && i64::from(v.item) == item))
}

/// Orders the operator to correct an art. 40 violation of one object within a time limit.
pub async fn order(
    app: &App,
    c: &Caller,
    operator: &str,
    id: &str,
    input: OrderInput,
) -> AppResult<EnforcementView> {
    crate::supervision::supervised(app, c, operator, id).await?;
    let v = &app.pack.violations;
    if !(1..=10).contains(&input.item) {
        return Err(AppError::invalid("item", "an art. 40 item, 1–10"));
    }
    let authority = v.authority[usize::from(input.item - 1)];
    if party_of(c.principal.org_kind) != Some(authority) {
        return Err(AppError::forbidden(format!(
            "{}({}) falls to the {} (rule pack, \"according to the division of work\")",
            v.cite,
            input.item,
            authority.as_str().replace('_', " ")
        )));
    }
    let today = app.clock.today();
    let deadline: Date = input
        .deadline
        .parse()
        .map_err(|e: dengbao_core::ValueError| AppError::invalid("deadline", e.to_string()))?;
    if deadline <= today {
        return Err(AppError::invalid("deadline", "must be after today"));
    }
    let reasons = input.reasons.trim();
    if reasons.is_empty() {
        return Err(AppError::invalid(
            "reasons",
            "required: say what must be corrected",
        ));
    }
    check_free_text("reasons", reasons, 2000)?;
    if !on_record(app, operator, id, i64::from(input.item)).await? {
        return Err(AppError::conflict(format!(
            "no {}({}) violation of this object is on record today",
            v.cite, input.item
        )));
    }
    let now = app.clock.now_ms();
    let mut ev = Event::new(today, EventType::RectificationNotice);
    ev.deadline = Some(deadline);
    ev.note = Some(format!(
        "Order to correct within a time limit, {}({}): {reasons}",
        v.cite, input.item
    ));
    let row = EnforcementRow {
        id: new_id(),
        organ_id: c.org().to_owned(),
        tenant_id: operator.to_owned(),
        object_id: id.to_owned(),
        item: i64::from(input.item),
        stage: "ordered".into(),
        ordered_on: today.to_string(),
        deadline: deadline.to_string(),
        reasons: reasons.to_owned(),
        warned_on: None,
        informed: String::new(),
        closed_on: None,
        created_by: c.username().to_owned(),
        created_at: now,
        organ_name: String::new(),
        operator_name: String::new(),
        object_name: String::new(),
    };
    let er = crate::reviews::event_row(c, id, &ev, now)?;
    app.store
        .order_correction(&row, &er, &c.audit("enforcement.order", id, now))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                AppError::conflict("this item is already under an order to correct for this object")
            }
            e => e.into(),
        })?;
    app.tenants.invalidate(operator);
    get(app, c, &row.id).await
}

/// The enforcements the caller's organisation is a party to, open ones first.
pub async fn list(app: &App, c: &Caller) -> AppResult<Vec<EnforcementView>> {
    let org = app.own(c, Action::Read).await?;
    let kind = c.principal.org_kind;
    let mut out: Vec<EnforcementView> = app
        .store
        .enforcements(&org)
        .await?
        .into_iter()
        // The side the caller's organisation is on (the store matched any of the three).
        .filter(|e| match kind {
            OrgKind::DepartmentInCharge => informed(e).contains(&org.as_str()),
            k if party_of(k).is_some() => e.organ_id == org,
            _ => e.tenant_id == org,
        })
        .map(|e| view(app, c, e))
        .collect();
    out.sort_by_key(|e| (e.stage == "closed", !e.overdue));
    Ok(out)
}

async fn party(app: &App, c: &Caller, action: Action, id: &str) -> AppResult<EnforcementRow> {
    let found = if crate::dto::plausible_id(id) {
        app.store.enforcement(c.org(), id).await
    } else {
        Err(StoreError::NotFound)
    };
    let e = match found {
        Ok(e) => e,
        Err(dengbao_store::StoreError::NotFound) => return app.absent(c, action).await,
        Err(e) => return Err(e.into()),
    };
    let ids = informed(&e);
    app.authorize(
        c,
        action,
        Resource::Enforcement {
            operator: &e.tenant_id,
            authority: &e.organ_id,
            informed: &ids,
        },
    )
    .await?;
    Ok(e)
}

pub async fn get(app: &App, c: &Caller, id: &str) -> AppResult<EnforcementView> {
    Ok(view(app, c, party(app, c, Action::Read, id).await?))
}

/// The time limit has passed and the violation is still on record: the warning, with the
/// operator's departments in charge informed.
pub async fn warn(app: &App, c: &Caller, id: &str) -> AppResult<EnforcementView> {
    let e = party(app, c, Action::Review, id).await?;
    if e.stage != "ordered" {
        return Err(AppError::conflict(format!(
            "the enforcement is `{}`: a warning follows an order to correct",
            e.stage
        )));
    }
    let today = app.clock.today();
    let deadline: Date = e
        .deadline
        .parse()
        .map_err(|err: dengbao_core::ValueError| AppError::internal(err))?;
    if today <= deadline {
        return Err(AppError::conflict(format!(
            "the time limit runs until {deadline}: a warning comes only after it (Measures art. 40)"
        )));
    }
    if !on_record(app, &e.tenant_id, &e.object_id, e.item).await? {
        return Err(AppError::conflict(
            "the violation is no longer on record: close the enforcement as corrected",
        ));
    }
    let departments = app.store.departments_of(&e.tenant_id).await?.join(",");
    let now = app.clock.now_ms();
    app.store
        .advance_enforcement(
            &e,
            "ordered",
            "warned",
            &today.to_string(),
            &departments,
            &c.audit("enforcement.warn", &e.object_id, now),
        )
        .await?;
    get(app, c, id).await
}

/// The operator corrected it: the enforcement is closed.
pub async fn close(app: &App, c: &Caller, id: &str) -> AppResult<EnforcementView> {
    let e = party(app, c, Action::Review, id).await?;
    if e.stage == "closed" {
        return Err(AppError::conflict("the enforcement is closed already"));
    }
    let now = app.clock.now_ms();
    let stage = e.stage.clone();
    let informed = e.informed.clone();
    app.store
        .advance_enforcement(
            &e,
            &stage,
            "closed",
            &app.clock.today().to_string(),
            &informed,
            &c.audit("enforcement.close", &e.object_id, now),
        )
        .await?;
    get(app, c, id).await
}

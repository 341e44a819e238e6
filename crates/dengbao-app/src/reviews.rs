//! The public security organ's side of the record filing (Measures art. 15–17): a submitted
//! filing is routed to the organ whose jurisdiction covers the object's division (city level
//! or above); the organ marks it received, which starts the art. 17 clock (the rule pack's
//! `filing_review` period), and decides within it — a filing certificate (备案证明), a notice
//! to correct, or a notice to re-grade. Each act is the operator's event the engine already
//! knows (`filing_received`, `certificate_issued`, `correction_notice`, `regrade_notice`),
//! recorded in the operator's data with its ledger entry.

use dengbao_core::Date;
use dengbao_core::assess::due_notes;
use dengbao_core::model::{Event, EventType};
use dengbao_core::pack::ObligationKind;
use dengbao_guard::{Action, Resource};
use dengbao_store::{CertificateRow, EventRow, ReviewRow, new_id};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::systems::grade_str;
use crate::{App, Caller};

/// One filing in the organ's queue.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewItem {
    pub id: String,
    pub object_id: String,
    pub object_name: String,
    /// The operator's name.
    pub operator: String,
    pub operator_id: String,
    /// I–V.
    pub grade: String,
    /// `submitted`, `received`, `certified`, `correction_requested` or `regrade_requested`.
    pub status: String,
    pub submitted_at_ms: Option<i64>,
    /// When the organ marked it received (the art. 17 clock starts the next day).
    pub received_on: Option<String>,
    /// The last day for the decision (art. 17, from the rule pack), once received.
    pub due: Option<String>,
    /// How `due` was computed (`adjusted_for_rest_day`, `no_holiday_calendar`, …).
    pub due_notes: Vec<&'static str>,
    /// The review is past `due` without a decision.
    pub overdue: bool,
    pub cite: String,
    pub decided_on: Option<String>,
    pub reasons: Option<String>,
    /// The certificate's number, once issued.
    pub certificate: Option<String>,
}

/// The organ's decision on a received filing.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// `certificate`, `correction` or `regrade`.
    pub decision: String,
    /// What is wrong (required for a notice; at most 2000 characters).
    #[serde(default)]
    pub reasons: Option<String>,
    /// A notice to correct: the time limit it sets (YYYY-MM-DD, after today).
    #[serde(default)]
    pub deadline: Option<String>,
}

/// A filing certificate and whether its signature checks out.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateView {
    pub number: String,
    /// The certificate's text, as signed.
    pub body: String,
    /// The C2SP signed note over `body`.
    pub note: String,
    /// The key that signs it (the deployment's, on behalf of the organ).
    pub public_key: String,
    /// The note's signature verifies against `public_key` and covers exactly `body`.
    pub verified: bool,
    pub issued_at_ms: i64,
}

/// The answer to a decision.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionOutcome {
    pub review: ReviewItem,
    /// The certificate, when the decision issued one.
    pub certificate: Option<CertificateView>,
}

fn item(app: &App, r: ReviewRow, today: Date) -> ReviewItem {
    let rule = app.pack.obligation(ObligationKind::FilingReview);
    let due = r
        .filing
        .received_on
        .as_deref()
        .and_then(|d| d.parse::<Date>().ok())
        .zip(rule.once_period())
        .map(|(on, period)| app.calendar.period_end(on, period));
    let open = r.filing.status == "received";
    ReviewItem {
        id: r.filing.id,
        object_id: r.filing.object_id,
        object_name: r.object_name,
        operator: r.operator_name,
        operator_id: r.tenant_id,
        grade: grade_str(r.filing.grade),
        status: r.filing.status,
        submitted_at_ms: r.filing.submitted_at,
        received_on: r.filing.received_on,
        due: due.map(|d| d.date.to_string()),
        due_notes: due.map(|d| due_notes(d.flags)).unwrap_or_default(),
        overdue: open && due.is_some_and(|d| today > d.date),
        cite: rule.cite.clone(),
        decided_on: r.filing.decided_on,
        reasons: r.filing.reasons,
        certificate: r.filing.certificate,
    }
}

/// Open work first: overdue reviews, then received ones by due date, then filings waiting
/// to be received, then decided ones.
fn rank(i: &ReviewItem) -> (u8, Option<String>) {
    let r = match i.status.as_str() {
        "received" if i.overdue => 0,
        "received" => 1,
        "submitted" => 2,
        _ => 3,
    };
    (r, i.due.clone())
}

/// The filings routed to the caller's organisation.
pub async fn queue(app: &App, c: &Caller) -> AppResult<Vec<ReviewItem>> {
    let organ = app.own(c, Action::Read).await?;
    let today = app.clock.today();
    let mut items: Vec<ReviewItem> = app
        .store
        .reviews(&organ)
        .await?
        .into_iter()
        .map(|r| item(app, r, today))
        .collect();
    items.sort_by_key(rank);
    Ok(items)
}

/// One filing routed to the caller's organisation, after the guard allowed `action` on it.
async fn routed(app: &App, c: &Caller, action: Action, id: &str) -> AppResult<ReviewRow> {
    let found = if crate::dto::plausible_id(id) {
        app.store.review(c.org(), id).await
    } else {
        Err(dengbao_store::StoreError::NotFound)
    };
    let row = match found {
        Ok(r) => r,
        Err(dengbao_store::StoreError::NotFound) => return app.absent(c, action).await,
        Err(e) => return Err(e.into()),
    };
    app.authorize(
        c,
        action,
        Resource::Filing {
            operator: &row.tenant_id,
            organ: row.filing.organ_id.as_deref(),
        },
    )
    .await?;
    Ok(row)
}

pub async fn get(app: &App, c: &Caller, id: &str) -> AppResult<ReviewItem> {
    let row = routed(app, c, Action::Read, id).await?;
    Ok(item(app, row, app.clock.today()))
}

pub(crate) fn event_row(c: &Caller, object: &str, ev: &Event, now: i64) -> AppResult<EventRow> {
    Ok(EventRow {
        id: new_id(),
        object_id: object.to_owned(),
        date: ev.date.to_string(),
        kind: ev.kind.as_str().to_owned(),
        payload: serde_json::to_string(ev).map_err(AppError::internal)?,
        recorded_at: now,
        recorded_by: c.username().to_owned(),
    })
}

/// Marks a submitted filing received today: the art. 17 clock starts.
pub async fn receive(app: &App, c: &Caller, id: &str) -> AppResult<ReviewItem> {
    let row = routed(app, c, Action::Review, id).await?;
    if row.filing.status != "submitted" {
        return Err(AppError::conflict(format!(
            "the filing is `{}`, not waiting to be received",
            row.filing.status
        )));
    }
    let today = app.clock.today();
    let now = app.clock.now_ms();
    let ev = Event::new(today, EventType::FilingReceived);
    app.store
        .advance_filing(
            &row.tenant_id,
            c.org(),
            id,
            "submitted",
            "received",
            &today.to_string(),
            None,
            None,
            &event_row(c, &row.filing.object_id, &ev, now)?,
            &c.audit("filing.receive", &row.filing.object_id, now),
        )
        .await?;
    app.tenants.invalidate(&row.tenant_id);
    get(app, c, id).await
}

/// Text fit for a notice: present, at most 2000 characters, no control characters but
/// line breaks.
fn reasons_of(input: &DecisionInput) -> AppResult<String> {
    let r = input.reasons.as_deref().unwrap_or("").trim();
    if r.is_empty() {
        return Err(AppError::invalid(
            "reasons",
            "required for a notice: say what is wrong (Measures art. 17)",
        ));
    }
    crate::dto::check_free_text("reasons", r, 2000)?;
    Ok(r.to_owned())
}

/// Decides a received filing: a certificate, a notice to correct or a notice to re-grade.
pub async fn decide(
    app: &App,
    c: &Caller,
    id: &str,
    input: DecisionInput,
) -> AppResult<DecisionOutcome> {
    let row = routed(app, c, Action::Review, id).await?;
    let (to, kind) = match input.decision.as_str() {
        "certificate" => ("certified", EventType::CertificateIssued),
        "correction" => ("correction_requested", EventType::CorrectionNotice),
        "regrade" => ("regrade_requested", EventType::RegradeNotice),
        _ => {
            return Err(AppError::invalid(
                "decision",
                "`certificate`, `correction` or `regrade` (Measures art. 17)",
            ));
        }
    };
    let today = app.clock.today();
    let reasons = if kind == EventType::CertificateIssued {
        if input.reasons.is_some() || input.deadline.is_some() {
            return Err(AppError::invalid(
                if input.reasons.is_some() {
                    "reasons"
                } else {
                    "deadline"
                },
                "a certificate carries no reasons or deadline",
            ));
        }
        None
    } else {
        Some(reasons_of(&input)?)
    };
    let deadline = match (&input.deadline, kind) {
        (None, _) => None,
        (Some(d), EventType::CorrectionNotice) => {
            let d: Date = d.parse().map_err(|e: dengbao_core::ValueError| {
                AppError::invalid("deadline", e.to_string())
            })?;
            if d <= today {
                return Err(AppError::invalid("deadline", "must be after today"));
            }
            Some(d)
        }
        (Some(_), _) => {
            return Err(AppError::invalid(
                "deadline",
                "only a notice to correct sets a time limit",
            ));
        }
    };
    if row.filing.status != "received" {
        return Err(AppError::conflict(format!(
            "the filing is `{}`: only a received filing is decided (mark it received first)",
            row.filing.status
        )));
    }
    let now = app.clock.now_ms();
    let mut ev = Event::new(today, kind);
    ev.deadline = deadline;
    ev.note = reasons.clone();
    let certificate = if kind == EventType::CertificateIssued {
        Some(issue(app, c, &row, today, now).await?)
    } else {
        None
    };
    app.store
        .advance_filing(
            &row.tenant_id,
            c.org(),
            id,
            "received",
            to,
            &today.to_string(),
            reasons.as_deref(),
            certificate.as_ref(),
            &event_row(c, &row.filing.object_id, &ev, now)?,
            &c.audit("filing.decide", &row.filing.object_id, now),
        )
        .await?;
    app.tenants.invalidate(&row.tenant_id);
    Ok(DecisionOutcome {
        review: get(app, c, id).await?,
        certificate: certificate.map(|cert| view(app, cert)),
    })
}

/// Writes and signs a certificate for `row` (numbered per organ and year).
async fn issue(
    app: &App,
    c: &Caller,
    row: &ReviewRow,
    today: Date,
    now: i64,
) -> AppResult<CertificateRow> {
    let organ = app.store.organisation(c.org()).await?;
    let operator = app.store.organisation(&row.tenant_id).await?;
    // The organ's seat, the year, and 48 random bits: unique without a counter to race on,
    // and not guessable, so the public check cannot be walked.
    let mut r = [0u8; 6];
    getrandom::fill(&mut r).map_err(AppError::internal)?;
    let (year, _, _) = today.ymd();
    let number = format!(
        "{}-{year}-{}",
        organ.division.as_deref().unwrap_or("000000"),
        dengbao_ledger::to_hex(&r).to_ascii_uppercase()
    );
    let body = format!(
        "Dengbao filing certificate 信息系统安全等级保护备案证明\nnumber: {number}\norgan: {}\noperator: {}{}\nobject: {} {}\ngrade: {}\nfiling: {}\nissued: {today}\ncite: Measures art. 17\n",
        organ.name,
        operator.name,
        operator
            .credit_code
            .as_deref()
            .map(|c| format!(" (credit code {c})"))
            .unwrap_or_default(),
        row.filing.object_id,
        row.object_name,
        grade_str(row.filing.grade),
        row.filing.id,
    );
    let signed = app.ledger.sign_note(&body)?;
    Ok(CertificateRow {
        number,
        organ_id: organ.id,
        tenant_id: row.tenant_id.clone(),
        filing_id: row.filing.id.clone(),
        body,
        signed,
        issued_at: now,
    })
}

fn view(app: &App, c: CertificateRow) -> CertificateView {
    CertificateView {
        verified: app.ledger.verifies(&c.signed, &c.body),
        public_key: app.ledger.public_key().unwrap_or_default(),
        number: c.number,
        body: c.body,
        note: c.signed,
        issued_at_ms: c.issued_at,
    }
}

/// A certificate by its number, for anyone who holds one: its text, signature and whether
/// the signature verifies. Numbers that were never issued are absent.
pub async fn certificate(app: &App, number: &str) -> AppResult<CertificateView> {
    if number.len() > 64
        || !number
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(AppError::not_found());
    }
    Ok(view(app, app.store.certificate(number).await?))
}

/// The filed object's dossier (Measures art. 16), for the organ reviewing the filing.
pub async fn dossier(app: &App, c: &Caller, id: &str) -> AppResult<crate::dto::DossierResponse> {
    let row = routed(app, c, Action::Read, id).await?;
    let object = app
        .store
        .system(&row.tenant_id, &row.filing.object_id)
        .await?;
    let obj = crate::tenant::object_of(&object)?;
    crate::systems::dossier_in(app, &row.tenant_id, &row.filing.object_id, &obj).await
}

/// One file of the filed object's dossier, for the organ reviewing the filing.
pub async fn material(
    app: &App,
    c: &Caller,
    id: &str,
    kind: &str,
) -> AppResult<(crate::dto::MaterialView, Vec<u8>)> {
    let row = routed(app, c, Action::Read, id).await?;
    crate::systems::material_file_in(app, &row.tenant_id, &row.filing.object_id, kind).await
}

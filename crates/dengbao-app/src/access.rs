//! The customer's explicit authorization (MIIT's IDC notice): the operator's requests to
//! operate on customer data, the customer's signed decisions, and the grants that alone let
//! the vault open a customer's data for the operator.
//!
//! A decision is a C2SP signed note over a canonical text of the request (its id, version,
//! operation, assets, window, justification) and the decision, signed with the approver's
//! SM2 key: one the approver holds (`custody: customer`; the approver signs the text from
//! `payload` and sends the note) or one the platform keeps sealed under the customer's key
//! and uses only from the approver's own session (`custody: platform`). Either verifies
//! with the approver's public key alone. The note's signature goes into the ledger entry.
//!
//! A grant is used only through [`use_grant`], which records the use (and its ledger entry)
//! in a transaction that succeeds only while the grant is live; the data key is unwrapped
//! after that, never before — so a revocation stops the next use.

use dengbao_core::access::{
    self, Act, Grant, GrantIndex, Justification, Operation, Request, State,
};
use dengbao_guard::policy::{AssetFacts, PolicyEngine, PolicyInput, ProfileParams, Verdict};
use dengbao_guard::{Action, OrgKind};
use dengbao_ledger::{NoteSigner, NoteVerifier};
use dengbao_store::{AccessRequestRow, ApproverKeyRow, DecisionRow, StoreError, new_id};
use dengbao_store::{PolicyRow, ShareRow};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

use crate::dto::{check_free_text, check_text, plausible_id};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::idc::{Cited, pack};
use crate::vault::Purpose;
use crate::{App, Caller};

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAccessRequest {
    pub customer: String,
    /// `read`, `modify`, `migrate`, `restore`, `debug`, `backup` or `export`.
    pub operation: String,
    /// The customer's asset ids the operation touches.
    pub assets: Vec<String>,
    /// `customer_initiated_support`, `operator_initiated_maintenance`, `alert_response`,
    /// `third_party_data_request` or `regulator_data_request`.
    pub justification: String,
    #[serde(default)]
    pub ticket: String,
    #[serde(default)]
    pub detail: String,
    /// When the window opens (epoch ms; default now).
    #[serde(default)]
    pub window_start_ms: Option<i64>,
    /// How long it lasts (default from the rule pack, 8 hours).
    #[serde(default)]
    pub duration_hours: Option<u32>,
    /// An emergency: proceed without approval where the policy allows it; the customer is
    /// told at once and reviews it afterwards.
    #[serde(default)]
    pub break_glass: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AccessDecisionInput {
    /// `approve`, `deny`, `more_info`, `revoke`, `extend` or `review` (a break-glass access
    /// looked at afterwards).
    pub decision: String,
    /// For `extend`: the new end (epoch ms).
    #[serde(default)]
    pub until_ms: Option<i64>,
    /// For an approver holding its own key: the signed note over `GET …/payload`'s text.
    #[serde(default)]
    pub signed_note: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    pub text: String,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApproverKeyInput {
    /// The approver's own SM2 public key (`name+id+base64`, as `dengbao ledger keygen`
    /// writes it); absent: the platform makes one and keeps it sealed for the approver.
    #[serde(default)]
    pub public_key: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApproverKeyView {
    pub public_key: String,
    /// `customer` or `platform`.
    pub custody: String,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionView {
    pub by: String,
    pub decision: String,
    pub custody: String,
    /// The signed note (its body is the canonical text).
    pub note: String,
    pub public_key: String,
    /// The note verifies with `public_key` and its body is this request's text.
    pub verified: bool,
    pub at_ms: i64,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UseView {
    pub asset: String,
    pub what: String,
    pub by: String,
    pub at_ms: i64,
    /// The use's ledger entry (prove its inclusion with `/api/v1/ledger/entries/{seq}/proof`).
    pub ledger_seq: i64,
    /// Outside the scope, the window or the requester (the key release refuses those, so
    /// they mean tampering), or an unusual volume of uses within an hour.
    pub anomaly: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessView {
    pub id: String,
    pub customer: String,
    pub operation: String,
    pub assets: Vec<String>,
    pub justification: String,
    pub ticket: String,
    pub detail: String,
    pub requested_by: String,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    /// The state now (time moves pending to expired, a grant past its window to lapsed).
    pub state: String,
    pub approvals_needed: i64,
    pub approvers: Vec<String>,
    pub break_glass: bool,
    /// A break-glass access the customer has not reviewed yet, and by when it should.
    pub review_due_ms: Option<i64>,
    pub reviewed_at_ms: Option<i64>,
    /// The policy's reasoning, for the approver.
    pub policy: String,
    pub decisions: Vec<DecisionView>,
    pub uses: Vec<UseView>,
    /// Each pass of an export through the sharing gate (without the content).
    pub shares: Vec<ShareView>,
    pub created_at_ms: i64,
    pub version: i64,
    #[serde(flatten)]
    pub cited: Cited,
}

use crate::idc::parse_enum as parse;

fn cited() -> AppResult<Cited> {
    let p = pack()?;
    Ok(Cited {
        cite: p.access_cite.clone(),
        status: p.access_status.clone(),
    })
}

fn assets_of(r: &AccessRequestRow) -> AppResult<Vec<String>> {
    serde_json::from_str(&r.assets).map_err(AppError::internal)
}

fn approvers_of(r: &AccessRequestRow) -> AppResult<Vec<String>> {
    serde_json::from_str(&r.approvers).map_err(AppError::internal)
}

fn core_request(r: &AccessRequestRow) -> AppResult<Request> {
    Ok(Request {
        state: parse("state", &r.state)?,
        requested_by: r.requested_by.clone(),
        created_at: r.created_at,
        window_start: r.window_start,
        window_end: r.window_end,
        approvals_needed: r.approvals_needed.max(0) as u32,
        approvers: approvers_of(r)?,
    })
}

/// The text a decision signs: the request as it stands (its version, so a signature cannot
/// be replayed on a later state) and the decision.
pub fn payload(r: &AccessRequestRow, decision: &str, by: &str) -> AppResult<String> {
    Ok(format!(
        "Dengbao authorization decision 客户授权决定\nrequest: {}\nversion: {}\ndecision: {decision}\nby: {by}\ncustomer: {}\noperation: {}\nassets: {}\nwindow: {} {}\njustification: {}\nticket: {}\nrequested-by: {}\n",
        r.id,
        r.version,
        r.customer_id,
        r.operation,
        assets_of(r)?.join(","),
        r.window_start,
        r.window_end,
        r.justification,
        if r.ticket.is_empty() { "-" } else { &r.ticket },
        r.requested_by,
    ))
}

/// The caller's place: the IDC operator and the customer the request is for.
async fn idc_of(app: &App, c: &Caller) -> AppResult<(String, Option<String>)> {
    match c.principal.org_kind {
        OrgKind::IdcOperator => Ok((c.org().to_owned(), None)),
        OrgKind::IdcCustomer => match app.store.idc_customer(c.org()).await {
            Ok(h) => Ok((h.idc_id, Some(c.org().to_owned()))),
            Err(StoreError::NotFound) => Err(crate::idc::not_idc()),
            Err(e) => Err(e.into()),
        },
        _ => Err(crate::idc::not_idc()),
    }
}

/// A request the caller may see (the guard: the operator's own data, or the customer's own).
async fn visible(app: &App, c: &Caller, action: Action, id: &str) -> AppResult<AccessRequestRow> {
    if !plausible_id(id) {
        return Err(AppError::not_found());
    }
    let (idc, customer) = idc_of(app, c).await?;
    let row = app
        .store
        .access_request(&idc, customer.as_deref(), id)
        .await?;
    crate::idc::authorize_customer(app, c, action, &row.customer_id).await?;
    Ok(row)
}

async fn view(app: &App, r: &AccessRequestRow) -> AppResult<AccessView> {
    let t = &pack()?.access;
    let now = app.clock.now_ms();
    let state = access::state_at(&core_request(r)?, t, now);
    let assets = assets_of(r)?;
    let mut decisions = Vec::new();
    for d in app.store.access_decisions(&r.id).await? {
        let key = app
            .store
            .approver_key(&r.customer_id, &d.user_id)
            .await?
            .map(|k| k.public_key)
            .unwrap_or_default();
        let verified = NoteVerifier::parse(&key)
            .ok()
            .and_then(|v| v.open(&d.signature).ok().map(|b| b == d.payload))
            .unwrap_or(false);
        decisions.push(DecisionView {
            by: d.username,
            decision: d.decision,
            custody: d.custody,
            note: d.signature,
            public_key: key,
            verified,
            at_ms: d.at,
        });
    }
    let uses = app.store.grant_uses(&r.id).await?;
    let flags = access::anomalies(
        &core_request(r)?,
        &assets,
        &uses
            .iter()
            .map(|u| access::Use {
                asset: u.asset_id.clone(),
                by: u.username.clone(),
                at: u.at,
            })
            .collect::<Vec<_>>(),
        t,
    );
    let uses = uses
        .into_iter()
        .zip(flags)
        .map(|(u, flag)| UseView {
            anomaly: flag.map(|a| a.describe(t)),
            asset: u.asset_id,
            what: u.what,
            by: u.username,
            at_ms: u.at,
            ledger_seq: u.ledger_seq,
        })
        .collect();
    Ok(AccessView {
        id: r.id.clone(),
        customer: r.customer_id.clone(),
        operation: r.operation.clone(),
        assets,
        justification: r.justification.clone(),
        ticket: r.ticket.clone(),
        detail: r.detail.clone(),
        requested_by: r.requested_by.clone(),
        window_start_ms: r.window_start,
        window_end_ms: r.window_end,
        state: <&str>::from(state).to_owned(),
        approvals_needed: r.approvals_needed,
        approvers: approvers_of(r)?,
        break_glass: r.break_glass,
        review_due_ms: (r.break_glass && r.reviewed_at.is_none())
            .then(|| r.created_at + i64::from(t.break_glass_review_hours) * 3_600_000),
        reviewed_at_ms: r.reviewed_at,
        policy: r.policy.clone(),
        decisions,
        uses,
        shares: app
            .store
            .shares(&r.idc_id, &r.id)
            .await?
            .into_iter()
            .map(|s| share_view(s, None))
            .collect::<AppResult<_>>()?,
        created_at_ms: r.created_at,
        version: r.version,
        cited: cited()?,
    })
}

/// The operator asks to operate on a customer's assets. The policy from the customer's
/// profile decides: refused, pre-approved, or waiting for N of the customer's approvers.
pub async fn request(app: &App, c: &Caller, i: NewAccessRequest) -> AppResult<AccessView> {
    let idc = crate::idc::own_idc(app, c, Action::Write).await?;
    crate::idc::require_programme(app, &idc).await?;
    let op: Operation = parse("operation", &i.operation)?;
    let why: Justification = parse("justification", &i.justification)?;
    if !i.ticket.is_empty() {
        check_text("ticket", &i.ticket, 100)?;
    }
    check_free_text("detail", &i.detail, 2000)?;
    if i.assets.is_empty() || i.assets.len() > 100 {
        return Err(AppError::invalid(
            "assets",
            "1 to 100 of the customer's asset ids",
        ));
    }
    let rows = app.store.idc_customers(&idc, None).await?;
    let cust = rows
        .iter()
        .find(|r| r.id == i.customer)
        .ok_or_else(|| AppError::invalid("customer", "not a customer of this IDC operator"))?;
    let assets = app.store.assets(&idc, Some(&cust.id)).await?;
    for (n, a) in i.assets.iter().enumerate() {
        if !assets.iter().any(|x| &x.id == a && x.state == "active") {
            return Err(AppError::invalid(
                format!("assets[{n}]"),
                "not a live asset of that customer",
            ));
        }
    }
    let profile = crate::idc::profile_of(cust, &assets)?;
    let p = pack()?;
    let now = app.clock.now_ms();
    let (start, end) = access::window(&p.access, now, i.window_start_ms, i.duration_hours)
        .map_err(|(f, m)| AppError::invalid(f, m))?;
    let category = crate::idc::category_of(cust, &assets)?;
    let (set, _) = policy_set(app, &idc, cust, &profile).await?;
    let (hour, weekday) = beijing_hour_weekday(start);
    let mut verdict: Option<Verdict> = None;
    for a in i
        .assets
        .iter()
        .filter_map(|id| assets.iter().find(|x| &x.id == id))
    {
        let v = engine()?
            .decide(
                &set,
                &PolicyInput {
                    staff: c.username(),
                    operation: op.into(),
                    justification: why.into(),
                    break_glass: i.break_glass,
                    hour,
                    weekday,
                    has_ticket: !i.ticket.is_empty(),
                    asset: AssetFacts {
                        id: &a.id,
                        classification: &a.classification,
                        personal: a.personal,
                        sensitive_personal: a.sensitive_personal,
                        kind: &a.kind,
                        category: &category,
                    },
                },
            )
            .map_err(AppError::internal)?;
        verdict = Some(match verdict {
            None => v,
            Some(prev) => prev.combine(v),
        });
    }
    let (state, needed, policy) = match verdict {
        None => {
            return Err(AppError::invalid(
                "assets",
                "no live asset of that customer",
            ));
        }
        Some(Verdict::Denied { reason, policies }) => {
            return Err(AppError {
                extra: Some(Box::new(
                    serde_json::json!({ "policies": policies, "cite": p.access_cite, "cite_status": p.access_status }),
                )),
                ..AppError::new(ErrorKind::Forbidden, "policy-denied", reason)
            });
        }
        Some(Verdict::PreApproved { policies }) => (
            State::Approved,
            0,
            format!("pre-approved by {}", policies.join(", ")),
        ),
        Some(Verdict::Approvals {
            approvers,
            policies,
        }) => (
            State::Pending,
            i64::from(approvers),
            format!(
                "needs {approvers} of the customer's approvers ({})",
                dedup(policies).join(", ")
            ),
        ),
    };
    let row = AccessRequestRow {
        id: new_id(),
        idc_id: idc.clone(),
        customer_id: cust.id.clone(),
        requester_id: c.user_id().to_owned(),
        requested_by: c.username().to_owned(),
        operation: i.operation,
        assets: serde_json::to_string(&i.assets).map_err(AppError::internal)?,
        justification: i.justification,
        ticket: i.ticket,
        detail: i.detail,
        window_start: start,
        window_end: end,
        approvals_needed: needed,
        approvers: "[]".into(),
        state: <&str>::from(state).to_owned(),
        break_glass: i.break_glass,
        reviewed_at: None,
        policy,
        created_at: now,
        version: 1,
    };
    let action = if row.break_glass {
        "idc.access.break_glass"
    } else {
        "idc.access.request"
    };
    app.store
        .insert_access_request(&row, &c.audit(action, &row.id, now))
        .await?;
    view(app, &row).await
}

pub async fn list(app: &App, c: &Caller) -> AppResult<Vec<AccessView>> {
    let (idc, customer) = idc_of(app, c).await?;
    match &customer {
        Some(cust) => crate::idc::authorize_customer(app, c, Action::Read, cust).await?,
        None => {
            app.own(c, Action::Read).await?;
        }
    }
    let mut out = Vec::new();
    for r in app.store.access_requests(&idc, customer.as_deref()).await? {
        out.push(view(app, &r).await?);
    }
    Ok(out)
}

pub async fn get(app: &App, c: &Caller, id: &str) -> AppResult<AccessView> {
    let r = visible(app, c, Action::Read, id).await?;
    view(app, &r).await
}

/// The text the caller would sign for `decision` on this request now.
pub async fn payload_for(app: &App, c: &Caller, id: &str, decision: &str) -> AppResult<String> {
    let r = visible(app, c, Action::Approve, id).await?;
    decision_kind(decision)?;
    payload(&r, decision, c.username())
}

fn decision_kind(d: &str) -> AppResult<()> {
    if matches!(
        d,
        "approve" | "deny" | "more_info" | "revoke" | "extend" | "review"
    ) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "decision",
            "one of approve, deny, more_info, revoke, extend, review",
        ))
    }
}

/// A customer approver's decision, signed with its SM2 key.
pub async fn decide(
    app: &App,
    c: &Caller,
    id: &str,
    i: AccessDecisionInput,
) -> AppResult<AccessView> {
    let r = visible(app, c, Action::Approve, id).await?;
    decision_kind(&i.decision)?;
    let t = &pack()?.access;
    let now = app.clock.now_ms();
    let who = c.username().to_owned();
    let mut next = r.clone();
    next.version = r.version + 1;
    if i.decision == "review" {
        if !r.break_glass || r.reviewed_at.is_some() {
            return Err(AppError::conflict(
                "only an unreviewed break-glass access is reviewed",
            ));
        }
        next.reviewed_at = Some(now);
    } else {
        let act = match i.decision.as_str() {
            "approve" => Act::Approve { by: who.clone() },
            "deny" => Act::Deny { by: who.clone() },
            "more_info" => Act::AskMoreInfo { by: who.clone() },
            "revoke" => Act::Revoke { by: who.clone() },
            _ => Act::Extend {
                by: who.clone(),
                until: i
                    .until_ms
                    .ok_or_else(|| AppError::invalid("until_ms", "the new end of the grant"))?,
            },
        };
        let after = access::apply(&core_request(&r)?, &act, t, now)
            .map_err(|e| AppError::new(ErrorKind::Conflict, "lifecycle", e.0))?;
        next.state = <&str>::from(after.state).to_owned();
        next.approvers = serde_json::to_string(&after.approvers).map_err(AppError::internal)?;
        next.window_end = after.window_end;
    }
    let text = payload(&r, &i.decision, &who)?;
    let key = app
        .store
        .approver_key(c.org(), c.user_id())
        .await?
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::Conflict,
                "approver-key-required",
                "register your SM2 approver key first (PUT /api/v1/idc/approver-key): every decision is signed",
            )
        })?;
    let note = match (&i.signed_note, key.custody.as_str()) {
        (Some(note), _) => {
            let v = NoteVerifier::parse(&key.public_key).map_err(AppError::internal)?;
            match v.open(note) {
                Ok(body) if body == text => note.clone(),
                Ok(_) => {
                    return Err(AppError::invalid(
                        "signed_note",
                        "signs another text: sign exactly what GET …/payload answers for this decision",
                    ));
                }
                Err(_) => {
                    return Err(AppError::invalid(
                        "signed_note",
                        "does not verify with your registered approver key",
                    ));
                }
            }
        }
        (None, "platform") => {
            let sealed = key
                .secret
                .as_ref()
                .ok_or_else(|| AppError::internal("a platform key without its secret"))?;
            let secret = app
                .vault
                .open(
                    c.org(),
                    Purpose::Secrets,
                    c.org(),
                    approver_aad(c.user_id()).as_bytes(),
                    sealed,
                )
                .await?;
            let s = std::str::from_utf8(&secret).map_err(AppError::internal)?;
            NoteSigner::parse(s)
                .and_then(|k| k.sign(&text))
                .map_err(AppError::internal)?
        }
        (None, _) => {
            return Err(AppError::invalid(
                "signed_note",
                "your approver key is your own: send the signed note over GET …/payload's text",
            ));
        }
    };
    let d = DecisionRow {
        n: 0,
        user_id: c.user_id().to_owned(),
        username: who,
        decision: i.decision.clone(),
        payload: text,
        signature: note,
        custody: key.custody,
        at: now,
    };
    app.store
        .update_access_request(&next, Some(&d), &c.audit("idc.access.decide", &r.id, now))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => AppError::conflict(m),
            e => e.into(),
        })?;
    view(app, &next).await
}

fn approver_aad(user: &str) -> String {
    format!("approver-key/{user}")
}

/// The operator answers a question (`more_info` back to `pending`) or completes a grant.
pub async fn operator_act(
    app: &App,
    c: &Caller,
    id: &str,
    act: &str,
    answer: Option<AnswerInput>,
) -> AppResult<AccessView> {
    let idc = crate::idc::own_idc(app, c, Action::Write).await?;
    if !plausible_id(id) {
        return Err(AppError::not_found());
    }
    let r = app.store.access_request(&idc, None, id).await?;
    let t = &pack()?.access;
    let now = app.clock.now_ms();
    let core_act = match act {
        "answer" => Act::Answer,
        _ => Act::Complete,
    };
    let after = access::apply(&core_request(&r)?, &core_act, t, now)
        .map_err(|e| AppError::new(ErrorKind::Conflict, "lifecycle", e.0))?;
    let mut next = r.clone();
    next.version = r.version + 1;
    next.state = <&str>::from(after.state).to_owned();
    if let Some(a) = answer {
        check_free_text("text", &a.text, 2000)?;
        if a.text.trim().is_empty() {
            return Err(AppError::invalid(
                "text",
                "the answer to the customer's question",
            ));
        }
        // The answer is kept with the request (its detail grows; the change is audited).
        next.detail = format!("{}\n[{}] {}", r.detail, c.username(), a.text);
    }
    app.store
        .update_access_request(
            &next,
            None,
            &c.audit(&format!("idc.access.{act}"), &r.id, now),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => AppError::conflict(m),
            e => e.into(),
        })?;
    view(app, &next).await
}

/// Registers the caller's approver key: its own public key, or one the platform makes and
/// keeps sealed under the customer's key.
pub async fn set_approver_key(
    app: &App,
    c: &Caller,
    i: ApproverKeyInput,
) -> AppResult<ApproverKeyView> {
    if c.principal.org_kind != OrgKind::IdcCustomer {
        return Err(AppError::forbidden(
            "approver keys are for a customer's approvers",
        ));
    }
    crate::idc::authorize_customer(app, c, Action::Approve, c.org()).await?;
    let now = app.clock.now_ms();
    let row = match i.public_key {
        Some(pk) => {
            NoteVerifier::parse(&pk).map_err(|e| AppError::invalid("public_key", e.to_string()))?;
            ApproverKeyRow {
                user_id: c.user_id().to_owned(),
                tenant_id: c.org().to_owned(),
                public_key: pk.trim().to_owned(),
                custody: "customer".into(),
                secret: None,
                created_at: now,
            }
        }
        None => {
            let k = NoteSigner::generate(&format!("dengbao-approver/{}", c.username()))
                .map_err(AppError::internal)?;
            let secret = zeroize::Zeroizing::new(k.to_key_string());
            let sealed = app
                .vault
                .seal(
                    c.org(),
                    Purpose::Secrets,
                    c.org(),
                    approver_aad(c.user_id()).as_bytes(),
                    secret.as_bytes(),
                    now,
                )
                .await?;
            ApproverKeyRow {
                user_id: c.user_id().to_owned(),
                tenant_id: c.org().to_owned(),
                public_key: k.verifier().to_key_string(),
                custody: "platform".into(),
                secret: Some(sealed),
                created_at: now,
            }
        }
    };
    app.store
        .set_approver_key(&row, &c.audit("idc.approver_key.set", c.user_id(), now))
        .await?;
    Ok(ApproverKeyView {
        public_key: row.public_key,
        custody: row.custody,
    })
}

/// One use of a grant: on which customer's asset, for which operation, what was done, and —
/// for a use under a named request — that request only.
pub(crate) struct GrantUse<'a> {
    pub customer: &'a str,
    pub asset: &'a str,
    pub op: Operation,
    pub what: &'a str,
    pub only: Option<&'a str>,
}

/// The live grant letting the operator do `op` on `asset` now; records the use and answers
/// its ledger sequence number. Refused (403 `customer-authorization-required`) without one.
pub(crate) async fn use_grant(app: &App, c: &Caller, idc: &str, u: GrantUse<'_>) -> AppResult<i64> {
    let GrantUse {
        customer,
        asset,
        op,
        what,
        only,
    } = u;
    let t = &pack()?.access;
    let now = app.clock.now_ms();
    let mut rows = app
        .store
        .live_grants(idc, customer, c.user_id(), op.into(), now)
        .await?;
    // A use under a named request (the sharing gate's evidence is that request's) needs
    // that request's own grant, not another one that happens to cover the asset.
    if let Some(id) = only {
        rows.retain(|r| r.id == id);
    }
    // The one decision of core::access (operation, asset, requester, state, window) on the
    // candidates the store found by index.
    let grants = GrantIndex::new(
        rows.iter()
            .map(|r| {
                Ok(Grant {
                    id: r.id.clone(),
                    operation: op,
                    assets: assets_of(r)?,
                    request: core_request(r)?,
                })
            })
            .collect::<AppResult<Vec<_>>>()?,
    );
    for g in grants.covering(c.username(), asset, op, t, now) {
        let Some(r) = rows.iter().find(|r| r.id == g.id) else {
            continue;
        };
        let mac = app
            .vault
            .mac(customer, Purpose::Asset, asset, what.as_bytes(), now)
            .await?;
        match app
            .store
            .use_grant(
                r,
                asset,
                what,
                c.username(),
                now,
                &mac,
                &c.audit("idc.access.use", &r.id, now),
            )
            .await
        {
            Ok(seq) => return Ok(seq),
            // Revoked, ended or changed meanwhile: the next grant, if any.
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::new(
        ErrorKind::Forbidden,
        "customer-authorization-required",
        "opening a customer's data needs the customer's explicit authorization (MIIT IDC notice): request it (POST /api/v1/idc/access) and wait for the approval",
    ))
}

/// The ledger's evidence of everything done under a request — its creation, each signed
/// decision, each use of the grant, the end — with inclusion proofs against a signed
/// checkpoint, for the customer to check without trusting the operator.
pub async fn evidence(app: &App, c: &Caller, id: &str) -> AppResult<crate::ledger::Evidence> {
    let r = visible(app, c, Action::Read, id).await?;
    crate::ledger::evidence_about(app, &r.idc_id, &r.id).await
}

/// The caller's approver key, if registered (never its secret).
pub async fn my_key(app: &App, c: &Caller) -> AppResult<Option<ApproverKeyView>> {
    Ok(app
        .store
        .approver_key(c.org(), c.user_id())
        .await?
        .map(|k| ApproverKeyView {
            public_key: k.public_key,
            custody: k.custody,
        }))
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// The Cedar engine (schema and validator), built once.
fn engine() -> AppResult<&'static PolicyEngine> {
    static E: OnceLock<Result<PolicyEngine, String>> = OnceLock::new();
    E.get_or_init(|| PolicyEngine::new().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| AppError::internal(e.clone()))
}

/// Hour (0–23) and weekday (1 Monday – 7 Sunday) in Beijing time.
fn beijing_hour_weekday(ms: i64) -> (i64, i64) {
    let s = ms.div_euclid(1000) + 8 * 3600;
    let days = s.div_euclid(86_400);
    // 1970-01-01 was a Thursday.
    (s.rem_euclid(86_400) / 3600, (days + 3).rem_euclid(7) + 1)
}

fn params(p: &dengbao_core::idc::Profile) -> ProfileParams {
    ProfileParams {
        approvals_for_high_risk: p.approvals_for_high_risk,
        approvals_for_sharing: p.approvals_for_sharing,
        external_sharing: p.external_sharing,
    }
}

/// The customer's policies in force: the built-in ones from its profile and its own active
/// (or still retiring) ones, as one checked set and its text.
async fn policy_set(
    app: &App,
    idc: &str,
    cust: &dengbao_store::IdcCustomerRow,
    profile: &dengbao_core::idc::Profile,
) -> AppResult<(dengbao_guard::policy::Policies, String)> {
    let mut text = PolicyEngine::builtin_text(params(profile));
    for p in app.store.policies(idc, &cust.id).await? {
        if matches!(p.state.as_str(), "active" | "retiring") {
            text.push('\n');
            text.push_str(&p.text);
        }
    }
    let set = engine()?.check(&text).map_err(AppError::internal)?;
    Ok((set, text))
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    pub name: String,
    /// Cedar policies (each with an `@id`; `@approvers("N")`, `@pre_approved("true")`,
    /// `@reason("…")` as the built-in ones), checked against the schema.
    pub text: String,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyDecisionInput {
    /// `approve` (put a proposal in force, or finish a retirement), `refuse` (a proposal),
    /// `retire` (ask to take an active policy out of force).
    pub decision: String,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyView {
    pub id: String,
    pub name: String,
    pub text: String,
    /// `proposed`, `active`, `refused`, `retiring` or `retired`.
    pub state: String,
    pub proposed_by: String,
    pub decided_by: Option<String>,
    pub created_at_ms: i64,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoliciesView {
    pub customer: String,
    /// The built-in policies from the customer's protection profile (Cedar).
    pub builtin: String,
    /// The schema customer policies are checked against (Cedar schema).
    pub schema: String,
    pub policies: Vec<PolicyView>,
    #[serde(flatten)]
    pub cited: Cited,
}

fn policy_view(p: PolicyRow) -> PolicyView {
    PolicyView {
        id: p.id,
        name: p.name,
        text: p.text,
        state: p.state,
        proposed_by: p.proposed_by,
        decided_by: p.decided_by,
        created_at_ms: p.created_at,
    }
}

/// The caller's customer row and IDC (a customer: itself; the operator: `customer`).
async fn policy_place(
    app: &App,
    c: &Caller,
    customer: Option<&str>,
    action: Action,
) -> AppResult<(String, dengbao_store::IdcCustomerRow)> {
    let (idc, me) = idc_of(app, c).await?;
    let cust = match (&me, customer) {
        (Some(m), Some(x)) if m != x => return Err(AppError::not_found()),
        (Some(m), _) => m.clone(),
        (None, Some(x)) if plausible_id(x) => x.to_owned(),
        (None, _) => {
            return Err(AppError::invalid(
                "customer",
                "the customer whose policies to show",
            ));
        }
    };
    crate::idc::authorize_customer(app, c, action, &cust).await?;
    let row = app
        .store
        .idc_customers(&idc, Some(&cust))
        .await?
        .into_iter()
        .next()
        .ok_or_else(AppError::not_found)?;
    Ok((idc, row))
}

pub async fn policies(app: &App, c: &Caller, customer: Option<&str>) -> AppResult<PoliciesView> {
    let (idc, cust) = policy_place(app, c, customer, Action::Read).await?;
    let assets = app.store.assets(&idc, Some(&cust.id)).await?;
    let profile = crate::idc::profile_of(&cust, &assets)?;
    Ok(PoliciesView {
        customer: cust.id.clone(),
        builtin: PolicyEngine::builtin_text(params(&profile)),
        schema: PolicyEngine::schema_text().to_owned(),
        policies: app
            .store
            .policies(&idc, &cust.id)
            .await?
            .into_iter()
            .map(policy_view)
            .collect(),
        cited: cited()?,
    })
}

/// A customer approver proposes a policy of its own; another puts it in force.
pub async fn propose_policy(app: &App, c: &Caller, i: NewPolicy) -> AppResult<PolicyView> {
    if c.principal.org_kind != OrgKind::IdcCustomer {
        return Err(AppError::forbidden("a customer writes its own policies"));
    }
    let (idc, cust) = policy_place(app, c, None, Action::Approve).await?;
    check_text("name", &i.name, MAX_POLICY_NAME)?;
    if i.text.len() > 20_000 || i.text.contains('\0') {
        return Err(AppError::invalid(
            "text",
            "at most 20,000 bytes of Cedar, no NUL",
        ));
    }
    let assets = app.store.assets(&idc, Some(&cust.id)).await?;
    let profile = crate::idc::profile_of(&cust, &assets)?;
    let (_, in_force) = policy_set(app, &idc, &cust, &profile).await?;
    // Checked alone (its own mistakes) and with what is in force (duplicate ids and the like).
    let e = engine()?;
    e.check(&i.text)
        .and_then(|_| e.check(&format!("{in_force}\n{}", i.text)))
        .map_err(|e| AppError::invalid("text", e.to_string()))?;
    let now = app.clock.now_ms();
    let row = PolicyRow {
        id: new_id(),
        idc_id: idc.clone(),
        customer_id: cust.id.clone(),
        name: i.name,
        text: i.text,
        state: "proposed".into(),
        proposed_by: c.username().to_owned(),
        decided_by: None,
        created_at: now,
        decided_at: None,
        version: 1,
    };
    app.store
        .insert_policy(&row, &c.audit("idc.policy.propose", &row.id, now))
        .await?;
    Ok(policy_view(row))
}

const MAX_POLICY_NAME: usize = 200;

pub async fn decide_policy(
    app: &App,
    c: &Caller,
    id: &str,
    i: PolicyDecisionInput,
) -> AppResult<PolicyView> {
    if !plausible_id(id) {
        return Err(AppError::not_found());
    }
    let (idc, cust) = policy_place(app, c, None, Action::Approve).await?;
    let mut p = app
        .store
        .policies(&idc, &cust.id)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(AppError::not_found)?;
    let me = c.username().to_owned();
    let next = match (p.state.as_str(), i.decision.as_str()) {
        ("proposed" | "retiring", "approve")
            if p.decided_by.as_deref() == Some(&me)
                || (p.state == "proposed" && p.proposed_by == me) =>
        {
            return Err(AppError::conflict(
                "a policy change needs a second approver: not the one who asked for it",
            ));
        }
        ("proposed", "approve") => "active",
        ("proposed", "refuse") => "refused",
        ("active", "retire") => "retiring",
        ("retiring", "approve") => "retired",
        ("retiring", "refuse") => "active",
        (state, d) => {
            return Err(AppError::new(
                ErrorKind::Conflict,
                "lifecycle",
                format!(
                    "a `{state}` policy cannot be `{d}`d: approve or refuse a proposal, retire an active policy"
                ),
            ));
        }
    };
    let now = app.clock.now_ms();
    p.state = next.to_owned();
    p.decided_by = Some(me);
    p.decided_at = Some(now);
    p.version += 1;
    app.store
        .update_policy(&p, &c.audit("idc.policy.decide", &p.id, now))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => AppError::conflict(m),
            e => e.into(),
        })?;
    Ok(policy_view(p))
}

// ----- the external-sharing gate ---------------------------------------------------------

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShareInput {
    /// The asset (of the export request) whose content is to leave.
    pub asset: String,
    /// Who receives it.
    pub recipient: String,
    pub purpose: String,
    /// The legal basis for giving it (a contract clause, a regulator's order, …).
    pub legal_basis: String,
    /// The content was declassified (the MSS warning: no sensitive data out without it).
    #[serde(default)]
    pub declassified: bool,
    /// The recorded risk evaluation; required for important data, sensitive personal
    /// information and content where the scan finds personal identifiers.
    #[serde(default)]
    pub risk_assessment: String,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareView {
    pub id: String,
    pub asset: String,
    pub recipient: String,
    pub purpose: String,
    pub legal_basis: String,
    pub declassified: bool,
    pub classification: String,
    /// Findings per kind and the masked findings, from `dengbao-scan`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub scan: serde_json::Value,
    /// `released` or `blocked`.
    pub verdict: String,
    pub reason: String,
    pub evaluated_by: String,
    pub at_ms: i64,
    /// The content, base64 — only when released.
    pub content_base64: Option<String>,
    #[serde(flatten)]
    pub cited: Cited,
}

fn share_view(r: ShareRow, content: Option<String>) -> AppResult<ShareView> {
    Ok(ShareView {
        scan: serde_json::from_str(&r.findings).map_err(AppError::internal)?,
        id: r.id,
        asset: r.asset_id,
        recipient: r.recipient,
        purpose: r.purpose,
        legal_basis: r.legal_basis,
        declassified: r.declassified,
        classification: r.classification,
        verdict: r.verdict,
        reason: r.reason,
        evaluated_by: r.evaluated_by,
        at_ms: r.at,
        content_base64: content,
        cited: Cited {
            cite: "MIIT IDC notice (2025): explicit authorization before giving customer data to others; MSS warning: no sensitive data shared without declassification and risk evaluation".into(),
            status: "unconfirmed".into(),
        },
    })
}

/// Giving customer data to someone outside: only under an approved `export` grant (its use
/// recorded), and only through the gate — the content is scanned (`dengbao-scan`:
/// identifiers and classification markings), a risk evaluation is recorded, and the result
/// decides: core data and content marked secret without declassification are blocked;
/// important data, sensitive personal information and content with personal identifiers
/// need a written risk assessment. The evaluation, with the masked findings, is kept as
/// evidence either way.
pub async fn share(app: &App, c: &Caller, id: &str, i: ShareInput) -> AppResult<ShareView> {
    let (mut v, content) = share_content(app, c, id, i).await?;
    use base64::Engine;
    v.content_base64 = content.map(|b| base64::engine::general_purpose::STANDARD.encode(&*b));
    Ok(v)
}

/// [`share`], the released content as bytes (for a download) rather than base64.
pub async fn share_content(
    app: &App,
    c: &Caller,
    id: &str,
    i: ShareInput,
) -> AppResult<(ShareView, Option<zeroize::Zeroizing<Vec<u8>>>)> {
    let idc = crate::idc::own_idc(app, c, Action::Write).await?;
    if !plausible_id(id) {
        return Err(AppError::not_found());
    }
    let r = app.store.access_request(&idc, None, id).await?;
    if r.operation != "export" {
        return Err(AppError::conflict(
            "only an export request carries data out: request `export` for these assets",
        ));
    }
    if !assets_of(&r)?.contains(&i.asset) {
        return Err(AppError::invalid("asset", "not an asset of this request"));
    }
    check_text("recipient", &i.recipient, 200)?;
    check_text("purpose", &i.purpose, 500)?;
    check_text("legal_basis", &i.legal_basis, 500)?;
    check_free_text("risk_assessment", &i.risk_assessment, 4000)?;
    let asset = app
        .store
        .asset(&idc, Some(&r.customer_id), &i.asset)
        .await?;
    // The grant first: no live export grant, no content — and the use is on record.
    use_grant(
        app,
        c,
        &idc,
        GrantUse {
            customer: &r.customer_id,
            asset: &asset.id,
            op: Operation::Export,
            what: &format!("export to {}", i.recipient),
            only: Some(&r.id),
        },
    )
    .await?;
    let primary = app
        .store
        .asset_copy(&idc, &asset.id, "primary")
        .await?
        .ok_or_else(|| AppError::conflict("the asset has no stored content to share"))?;
    let content = app
        .vault
        .open(
            &r.customer_id,
            Purpose::Asset,
            &asset.id,
            &crate::idc::copy_aad(&idc, &asset.id, "primary"),
            &primary.sealed,
        )
        .await?;
    let scanner =
        dengbao_scan::Scanner::new(dengbao_scan::Config::default()).map_err(AppError::internal)?;
    let report = scanner.scan_bytes("export", &content);
    use dengbao_scan::detect::Kind;
    let count = |k: Kind| report.counts.get(&k).map_or(0, |c| c.total());
    let personal_ids = [
        Kind::ResidentId,
        Kind::ResidentIdLegacy,
        Kind::BankCard,
        Kind::Mobile,
        Kind::Passport,
    ]
    .iter()
    .map(|k| count(*k))
    .sum::<u64>();
    let marked = count(Kind::Classification) > 0;
    let needs_assessment =
        asset.classification == "important" || asset.sensitive_personal || personal_ids > 0;
    let (verdict, reason) = if asset.classification == "core" {
        ("blocked", "core data is never given to others".to_owned())
    } else if marked && !i.declassified {
        (
            "blocked",
            "the content carries a classification marking (密级): declassify it first (MSS warning)".to_owned(),
        )
    } else if report.unscanned_content
        || report.status != dengbao_scan::scanner::FileStatus::Scanned
    {
        (
            "blocked",
            "the content could not be scanned in full, so it cannot be cleared".to_owned(),
        )
    } else if needs_assessment && i.risk_assessment.trim().chars().count() < 20 {
        (
            "blocked",
            format!(
                "{}: a written risk assessment is required (at least 20 characters)",
                if personal_ids > 0 {
                    format!("{personal_ids} personal identifiers found")
                } else {
                    format!("`{}` data", asset.classification)
                }
            ),
        )
    } else {
        (
            "released",
            "scanned, evaluated and within the customer's grant".to_owned(),
        )
    };
    let findings = serde_json::json!({
        "counts": report.counts.iter().map(|(k, v)| (k.as_str(), v.total())).collect::<std::collections::BTreeMap<_, _>>(),
        "findings": report.findings.iter().take(50).map(|f| serde_json::json!({ "kind": f.kind.as_str(), "line": f.line, "masked": f.masked })).collect::<Vec<_>>(),
        "bytes": report.bytes,
    });
    let now = app.clock.now_ms();
    let row = ShareRow {
        id: new_id(),
        idc_id: idc.clone(),
        customer_id: r.customer_id.clone(),
        request_id: r.id.clone(),
        asset_id: asset.id.clone(),
        recipient: i.recipient,
        purpose: i.purpose,
        legal_basis: i.legal_basis,
        declassified: i.declassified,
        risk_assessment: i.risk_assessment,
        classification: asset.classification.clone(),
        findings: findings.to_string(),
        verdict: verdict.to_owned(),
        reason,
        evaluated_by: c.username().to_owned(),
        at: now,
    };
    let mac = app
        .vault
        .mac(&r.customer_id, Purpose::Asset, &asset.id, &content, now)
        .await?;
    // The evaluation is the request's: its evidence lists it.
    app.store
        .insert_share(
            &row,
            &mac,
            &c.audit(&format!("idc.share.{verdict}"), &r.id, now),
        )
        .await?;
    let released = row.verdict == "released";
    Ok((share_view(row, None)?, released.then_some(content)))
}

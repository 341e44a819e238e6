//! Grading approval between parties (Measures art. 10). The operator proposes a grade for
//! one of its objects; it goes to the operator's department in charge (the supervision
//! relation) and, from the pack's expert-review grade (IV), first to an expert committee.
//! The committee's lead gives its opinion, the department's lead approves or returns the
//! proposal with reasons. Each opinion is signed by the deployment's key as a C2SP note and
//! filed in the operator's dossier as the art. 16 material it is — the committee's as
//! `expert_review` (16(6)), the department's approval as `department_approval` (16(7)) —
//! and an approval is the operator's `grade_determined` event. Every step is a ledger entry
//! in the operator's data.

use dengbao_core::grading::final_grade;
use dengbao_core::model::{Event, EventType};
use dengbao_core::{Date, Grade};
use dengbao_guard::{Action, OrgKind, Resource};
use dengbao_store::{GradeReviewRow, GradeStep, MaterialRow, StoreError, new_id};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::systems::grade_str;
use crate::{App, Caller};

/// The stages of a proposal.
const AWAITING_EXPERT: &str = "awaiting_expert";
const AWAITING_DEPARTMENT: &str = "awaiting_department";

/// A proposal to grade one object.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProposeInput {
    /// The proposed grade, `I`–`V` (default: the grade the harm assessment gives).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = "^(I|II|III|IV|V)$"))]
    pub grade: Option<String>,
    /// The department in charge to approve it (needed only when several supervise you).
    #[serde(default)]
    pub department: Option<String>,
    /// The expert committee to review it (Grade IV and above; needed only when the platform
    /// has several).
    #[serde(default)]
    pub committee: Option<String>,
}

/// The expert committee's review opinion.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpinionInput {
    /// Whether the committee agrees with the proposed grade.
    pub agrees: bool,
    /// The opinion's text (1–4000 characters).
    pub opinion: String,
}

/// The department in charge's decision.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GradeDecisionInput {
    /// `approve` or `return`.
    pub decision: String,
    /// Why (required to return; at most 2000 characters).
    #[serde(default)]
    pub reasons: Option<String>,
}

/// The committee's opinion as given.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExpertOpinion {
    pub agrees: bool,
    pub opinion: String,
    pub at_ms: Option<i64>,
    pub by: Option<String>,
}

/// One proposed grade and where its review stands.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GradeReviewItem {
    pub id: String,
    pub object_id: String,
    pub object_name: String,
    pub operator: String,
    pub operator_id: String,
    /// The proposed grade, I–V.
    pub grade: String,
    /// `awaiting_expert`, `awaiting_department`, `approved` or `returned`.
    pub status: String,
    pub department: String,
    pub department_id: String,
    pub committee: Option<String>,
    pub committee_id: Option<String>,
    /// The grade is at or above the pack's expert-review grade (art. 10 ¶3).
    pub expert_review_required: bool,
    pub proposed_at_ms: i64,
    pub proposed_by: String,
    pub expert: Option<ExpertOpinion>,
    /// The department's reasons (a returned proposal always has them).
    pub reasons: Option<String>,
    pub decided_on: Option<String>,
    pub decided_by: Option<String>,
    /// The articles this review applies, from the rule pack.
    pub cite: String,
    /// The caller may act on it now: give the opinion, or decide.
    pub may_act: bool,
}

fn item(app: &App, c: &Caller, r: GradeReviewRow) -> GradeReviewItem {
    let g = &app.pack.grading;
    // The guard's grade-review rule reads only the resource, so no relations are needed; this
    // asks without recording a denial (it is what a page shows, not an attempt).
    let may_act = dengbao_guard::authorize(
        &c.principal,
        Action::Review,
        &resource(&r),
        &dengbao_guard::Relations::default(),
        app.clock.now_ms(),
    )
    .is_allow();
    let expert_review_required = r.committee_id.is_some();
    let cite = if expert_review_required {
        format!("{}; {}", g.department_approval_cite, g.expert_review_cite)
    } else {
        g.department_approval_cite.clone()
    };
    GradeReviewItem {
        expert: r.expert_agrees.map(|agrees| ExpertOpinion {
            agrees,
            opinion: r.expert_opinion.clone().unwrap_or_default(),
            at_ms: r.expert_at,
            by: r.expert_by.clone(),
        }),
        id: r.id,
        object_id: r.object_id,
        object_name: r.object_name,
        operator: r.operator_name,
        operator_id: r.tenant_id,
        grade: grade_str(r.grade),
        status: r.status,
        department: r.department_name,
        department_id: r.department_id,
        committee: r.committee_name,
        committee_id: r.committee_id,
        expert_review_required,
        proposed_at_ms: r.proposed_at,
        proposed_by: r.proposed_by,
        reasons: r.reasons,
        decided_on: r.decided_on,
        decided_by: r.decided_by,
        cite,
        may_act,
    }
}

fn resource(r: &GradeReviewRow) -> Resource<'_> {
    Resource::GradeReview {
        operator: &r.tenant_id,
        department: &r.department_id,
        committee: r.committee_id.as_deref(),
        expert_stage: r.status == AWAITING_EXPERT,
    }
}

/// Chooses one of `ids` by `given`, or the only one; `what` names the party in errors.
fn choose(
    given: Option<String>,
    ids: Vec<String>,
    field: &str,
    what: &str,
    cite: &str,
) -> AppResult<String> {
    match given {
        Some(g) if ids.contains(&g) => Ok(g),
        Some(_) => Err(AppError::state(
            field,
            format!(
                "not {what} of yours on the platform; one of: {}",
                ids.join(", ")
            ),
        )),
        None if ids.len() == 1 => Ok(ids.into_iter().next().unwrap_or_default()),
        None if ids.is_empty() => Err(AppError::conflict(format!(
            "no {what} on the platform to send the proposal to ({cite})"
        ))),
        None => Err(AppError::invalid(
            field,
            format!("several on the platform; name one of: {}", ids.join(", ")),
        )),
    }
}

/// Proposes a grade for one of the caller's objects (art. 10 ¶1; ¶3 from Grade IV).
pub async fn propose(
    app: &App,
    c: &Caller,
    object: &str,
    input: ProposeInput,
) -> AppResult<GradeReviewItem> {
    let (org, _, obj) = crate::systems::authorized_row(app, c, Action::Write, object).await?;
    let rules = &app.pack.grading;
    let grade = match input.grade.as_deref() {
        Some(g) => g.parse::<Grade>().map_err(|e| AppError::invalid("grade", e.to_string()))?,
        None => final_grade(rules, &obj).ok_or_else(|| {
            AppError::invalid(
                "grade",
                "the harm assessment is incomplete, so there is no grade to propose by default; give one",
            )
        })?,
    };
    let department = choose(
        input.department,
        app.store.departments_of(&org).await?,
        "department",
        "department in charge",
        &rules.department_approval_cite,
    )?;
    let expert = grade >= rules.expert_review_min;
    let committee = if expert {
        let ids = app
            .store
            .organisations_of_kind(OrgKind::ExpertCommittee.as_str())
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        Some(choose(
            input.committee,
            ids,
            "committee",
            "expert committee",
            &rules.expert_review_cite,
        )?)
    } else if input.committee.is_some() {
        return Err(AppError::invalid(
            "committee",
            format!(
                "only a grade of {} or above goes to the expert committee ({})",
                rules.expert_review_min, rules.expert_review_cite
            ),
        ));
    } else {
        None
    };
    let now = app.clock.now_ms();
    let row = GradeReviewRow {
        tenant_id: org.clone(),
        id: new_id(),
        object_id: object.to_owned(),
        grade: i64::from(grade.number()),
        status: if expert {
            AWAITING_EXPERT
        } else {
            AWAITING_DEPARTMENT
        }
        .to_owned(),
        department_id: department,
        committee_id: committee,
        proposed_at: now,
        proposed_by: c.username().to_owned(),
        expert_agrees: None,
        expert_opinion: None,
        expert_at: None,
        expert_by: None,
        reasons: None,
        decided_on: None,
        decided_by: None,
        operator_name: String::new(),
        object_name: String::new(),
        department_name: String::new(),
        committee_name: None,
    };
    app.store
        .propose_grade(&row, &c.audit("grade.propose", object, now))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::conflict(
                "this object already has a grade proposal under review; wait for its decision",
            ),
            e => e.into(),
        })?;
    app.tenants.invalidate(&org);
    get(app, c, &row.id).await
}

/// The proposals the caller's organisation is a party to, open ones first: an operator's
/// own, a department's to decide, a committee's to review.
pub async fn queue(app: &App, c: &Caller) -> AppResult<Vec<GradeReviewItem>> {
    let org = app.own(c, Action::Read).await?;
    let kind = c.principal.org_kind;
    let mut items: Vec<GradeReviewItem> = app
        .store
        .grade_reviews(&org)
        .await?
        .into_iter()
        // The side the caller's organisation is on (the store matched any of the three).
        .filter(|r| match kind {
            OrgKind::DepartmentInCharge => r.department_id == org,
            OrgKind::ExpertCommittee => r.committee_id.as_deref() == Some(org.as_str()),
            _ => r.tenant_id == org,
        })
        .map(|r| item(app, c, r))
        .collect();
    items.sort_by_key(|i| {
        let open = match (kind, i.status.as_str()) {
            (OrgKind::ExpertCommittee, AWAITING_EXPERT) => 0,
            (OrgKind::DepartmentInCharge, AWAITING_DEPARTMENT) => 0,
            (_, AWAITING_EXPERT | AWAITING_DEPARTMENT) => 1,
            _ => 2,
        };
        (open, std::cmp::Reverse(i.proposed_at_ms))
    });
    Ok(items)
}

/// One proposal the caller's organisation is a party to, after the guard allowed `action`.
async fn party(app: &App, c: &Caller, action: Action, id: &str) -> AppResult<GradeReviewRow> {
    let found = if crate::dto::plausible_id(id) {
        app.store.grade_review(c.org(), id).await
    } else {
        Err(StoreError::NotFound)
    };
    let row = match found {
        Ok(r) => r,
        Err(dengbao_store::StoreError::NotFound) => return app.absent(c, action).await,
        Err(e) => return Err(e.into()),
    };
    app.authorize(c, action, resource(&row)).await?;
    Ok(row)
}

pub async fn get(app: &App, c: &Caller, id: &str) -> AppResult<GradeReviewItem> {
    Ok(item(app, c, party(app, c, Action::Read, id).await?))
}

/// Present, within `max` characters, no control characters but line breaks.
fn text(field: &str, s: Option<&str>, max: usize, why: &str) -> AppResult<String> {
    let s = s.unwrap_or("").trim();
    if s.is_empty() {
        return Err(AppError::invalid(field, why.to_owned()));
    }
    crate::dto::check_free_text(field, s, max)?;
    Ok(s.to_owned())
}

/// An opinion's text, signed by the deployment's key as a C2SP note, as the dossier
/// material `kind` of the operator's object (kept sealed like every uploaded file).
async fn signed_material(
    app: &App,
    c: &Caller,
    r: &GradeReviewRow,
    kind: &str,
    title: &str,
    body: String,
    now: i64,
) -> AppResult<(MaterialRow, Vec<u8>)> {
    let note = app.ledger.sign_note(&body)?;
    let sha = dengbao_ledger::to_hex(&Sha256::digest(note.as_bytes()));
    let sealed = crate::systems::seal_file(app, &r.tenant_id, &sha, note.as_bytes(), now).await?;
    let m = MaterialRow {
        object_id: r.object_id.clone(),
        kind: kind.to_owned(),
        title: title.to_owned(),
        file_name: format!("{}-{}.txt", kind.replace('_', "-"), r.id),
        media_type: "text/plain; charset=utf-8".to_owned(),
        size: note.len() as i64,
        sha256: sha,
        uploaded_at: now,
        uploaded_by: c.username().to_owned(),
    };
    Ok((m, sealed))
}

fn heading(r: &GradeReviewRow, today: Date) -> String {
    format!(
        "proposal: {}\noperator: {} ({})\nobject: {} {}\nproposed grade: {}\ndate: {today}\n",
        r.id,
        r.operator_name,
        r.tenant_id,
        r.object_id,
        r.object_name,
        grade_str(r.grade)
    )
}

/// The expert committee's review opinion on a proposal awaiting it (art. 10 ¶3); filed as
/// the object's `expert_review` material (art. 16(6)). The proposal then awaits the
/// department in charge, whatever the opinion says: the department decides with it.
pub async fn opinion(
    app: &App,
    c: &Caller,
    id: &str,
    input: OpinionInput,
) -> AppResult<GradeReviewItem> {
    let r = party(app, c, Action::Review, id).await?;
    let opinion = text(
        "opinion",
        Some(&input.opinion),
        4000,
        "required: the committee's reasoning on the proposed grade",
    )?;
    if r.status != AWAITING_EXPERT {
        return Err(AppError::conflict(format!(
            "the proposal is `{}`, not awaiting the expert committee",
            r.status
        )));
    }
    let today = app.clock.today();
    let now = app.clock.now_ms();
    let rules = &app.pack.grading;
    let body = format!(
        "Dengbao expert review opinion 专家评审意见\n{}committee: {} ({})\nreviewer: {}\nagrees with the proposed grade: {}\ncite: {}; {}\nopinion:\n{}",
        heading(&r, today),
        r.committee_name.as_deref().unwrap_or(""),
        r.committee_id.as_deref().unwrap_or(""),
        c.username(),
        if input.agrees { "yes" } else { "no" },
        rules.expert_review_cite,
        material_cite(app, "expert_review"),
        quoted(&opinion),
    );
    let title = format!(
        "专家评审意见 Expert review opinion (Grade {})",
        grade_str(r.grade)
    );
    let (m, sealed) = signed_material(app, c, &r, "expert_review", &title, body, now).await?;
    let step = GradeStep {
        from: AWAITING_EXPERT,
        to: AWAITING_DEPARTMENT,
        expert: Some((input.agrees, &opinion)),
        reasons: None,
        decided_on: None,
        material: Some((&m, &sealed)),
        event: None,
    };
    app.store
        .advance_grade_review(
            &r.tenant_id,
            id,
            &step,
            &c.audit("grade.opinion", &r.object_id, now),
        )
        .await?;
    app.tenants.invalidate(&r.tenant_id);
    get(app, c, id).await
}

/// Free text inside a signed note, each line quoted with `> ` (a note's text has no blank
/// lines: the blank line is where its signatures begin).
fn quoted(t: &str) -> String {
    t.lines().map(|l| format!("> {l}\n")).collect()
}

/// The citation of a dossier material's rule in the pack.
fn material_cite(app: &App, kind: &str) -> String {
    app.pack
        .dossier
        .materials
        .iter()
        .find(|m| m.kind.as_str() == kind)
        .map(|m| m.cite.clone())
        .unwrap_or_default()
}

/// The department in charge's decision on a proposal awaiting it (art. 10 ¶1): `approve`
/// makes it the operator's determined grade today and files the approval as the object's
/// `department_approval` material (art. 16(7)); `return` sends it back with reasons.
pub async fn decide(
    app: &App,
    c: &Caller,
    id: &str,
    input: GradeDecisionInput,
) -> AppResult<GradeReviewItem> {
    let r = party(app, c, Action::Review, id).await?;
    let approve = match input.decision.as_str() {
        "approve" => true,
        "return" => false,
        _ => {
            return Err(AppError::invalid(
                "decision",
                format!(
                    "`approve` or `return` ({})",
                    app.pack.grading.department_approval_cite
                ),
            ));
        }
    };
    let reasons = match (approve, input.reasons.as_deref()) {
        (true, None) => None,
        (true, Some(s)) => Some(text("reasons", Some(s), 2000, "empty")?),
        (false, s) => Some(text(
            "reasons",
            s,
            2000,
            "required to return a proposal: say what is wrong with the grade",
        )?),
    };
    if r.status != AWAITING_DEPARTMENT {
        return Err(AppError::conflict(format!(
            "the proposal is `{}`, not awaiting the department's decision",
            r.status
        )));
    }
    let today = app.clock.today();
    let now = app.clock.now_ms();
    let rules = &app.pack.grading;
    let grade = Grade::ALL
        .into_iter()
        .find(|g| i64::from(g.number()) == r.grade)
        .ok_or_else(|| AppError::internal(format!("stored grade {} out of range", r.grade)))?;
    let (material, event) = if approve {
        let body = format!(
            "Dengbao department approval of a grade 主管部门定级审批意见\n{}department: {} ({})\napprover: {}\ndecision: approved\n{}cite: {}; {}\n",
            heading(&r, today),
            r.department_name,
            r.department_id,
            c.username(),
            r.expert_agrees
                .map(|a| format!(
                    "expert committee agreed: {}\n",
                    if a { "yes" } else { "no" }
                ))
                .unwrap_or_default(),
            rules.department_approval_cite,
            material_cite(app, "department_approval"),
        );
        let body = match &reasons {
            Some(t) => format!("{body}reasons:\n{}", quoted(t)),
            None => body,
        };
        let title = format!(
            "主管部门审批意见 Department approval (Grade {})",
            grade_str(r.grade)
        );
        let m = signed_material(app, c, &r, "department_approval", &title, body, now).await?;
        let mut ev = Event::new(today, EventType::GradeDetermined);
        ev.grade = Some(grade);
        ev.note = Some(format!(
            "approved by {} ({})",
            r.department_name, rules.department_approval_cite
        ));
        let ev = crate::reviews::event_row(c, &r.object_id, &ev, now)?;
        (Some(m), Some(ev))
    } else {
        (None, None)
    };
    let on = today.to_string();
    let step = GradeStep {
        from: AWAITING_DEPARTMENT,
        to: if approve { "approved" } else { "returned" },
        expert: None,
        reasons: reasons.as_deref(),
        decided_on: Some(&on),
        material: material.as_ref().map(|(m, s)| (m, s.as_slice())),
        event: event.as_ref(),
    };
    app.store
        .advance_grade_review(
            &r.tenant_id,
            id,
            &step,
            &c.audit("grade.decide", &r.object_id, now),
        )
        .await?;
    app.tenants.invalidate(&r.tenant_id);
    get(app, c, id).await
}

/// A uniform grade for a trans-provincial or nationwide system (art. 10 ¶2).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UniformInput {
    /// The system's id, as its branches name it in `branch_of`.
    pub system: String,
    /// `I`–`V`.
    pub grade: String,
    /// The grading's reference or reasons (at most 2000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// One branch given the uniform grade.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BranchGraded {
    pub operator_id: String,
    pub object_id: String,
    pub object_name: String,
}

/// The uniform grading as applied.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UniformView {
    pub system: String,
    pub grade: String,
    pub determined_on: String,
    pub branches: Vec<BranchGraded>,
    pub cite: String,
}

/// The department in charge grades a trans-provincial or nationwide system uniformly; every
/// branch of it at the operators it supervises inherits the grade — each branch's
/// `grade_determined` event, in its operator's data and ledger (art. 10 ¶2).
pub async fn grade_uniformly(app: &App, c: &Caller, input: UniformInput) -> AppResult<UniformView> {
    let org = app.own(c, Action::Read).await?;
    let cite = app.pack.grading.uniform_grading_cite.clone();
    if c.principal.org_kind != OrgKind::DepartmentInCharge {
        return Err(AppError::forbidden(format!(
            "a trans-provincial or nationwide system is graded uniformly by its department in charge ({cite})"
        )));
    }
    crate::dto::check_id("system", &input.system)?;
    let grade = input
        .grade
        .parse::<Grade>()
        .map_err(|e| AppError::invalid("grade", e.to_string()))?;
    let note = match input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(n) => {
            crate::dto::check_free_text("note", n, 2000)?;
            format!("graded uniformly by the department in charge ({cite}): {n}")
        }
        None => format!("graded uniformly by the department in charge ({cite})"),
    };
    let rel = app.relations(&org).await?;
    let today = app.clock.today();
    let now = app.clock.now_ms();
    let mut branches = Vec::new();
    for s in &rel.supervision {
        let data = app.tenants.data(app, &s.operator).await?;
        let found: Vec<(String, String)> = data
            .inventory
            .systems
            .iter()
            .filter(|o| o.branch_of.as_deref() == Some(input.system.as_str()))
            .map(|o| (o.id.clone(), o.name.clone()))
            .collect();
        if found.is_empty() {
            continue;
        }
        app.authorize(
            c,
            Action::Review,
            Resource::Branch {
                operator: &s.operator,
            },
        )
        .await?;
        for (id, name) in found {
            let mut ev = Event::new(today, EventType::GradeDetermined);
            ev.grade = Some(grade);
            ev.note = Some(note.clone());
            let row = crate::reviews::event_row(c, &id, &ev, now)?;
            app.store
                .add_event(&s.operator, &row, None, &c.audit("grade.uniform", &id, now))
                .await?;
            branches.push(BranchGraded {
                operator_id: s.operator.clone(),
                object_id: id,
                object_name: name,
            });
        }
        app.tenants.invalidate(&s.operator);
    }
    if branches.is_empty() {
        return Err(AppError::conflict(format!(
            "no branch of `{}` at the operators you supervise",
            input.system
        )));
    }
    Ok(UniformView {
        system: input.system,
        grade: grade.to_string(),
        determined_on: today.to_string(),
        branches,
        cite,
    })
}

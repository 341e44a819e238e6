//! The organisation's registries of security products, evaluation agencies and cryptographic
//! products, each entry with its eligibility per criterion (Measures art. 21, 22, 37).

use dengbao_core::model::{Candidate, Inventory};
use dengbao_core::pack::CriteriaRules;
use dengbao_guard::Action;
use dengbao_store::CandidateRow;

use crate::dto::{
    CandidateInput, CandidateView, MAX_NAME, check_free_text, check_id, check_text, plausible_id,
};
use crate::error::{AppError, AppResult, from_core};
use crate::tenant::{CATEGORIES, candidate_of};
use crate::{App, Caller};

/// A registry's name from a path segment (an unknown one does not exist).
pub fn category(c: &str) -> AppResult<&'static str> {
    CATEGORIES
        .iter()
        .copied()
        .find(|x| *x == c)
        .ok_or_else(AppError::not_found)
}

fn rules(app: &App, category: &str) -> &'static CriteriaRules {
    let e = &app.pack.eligibility;
    match category {
        "product" => &e.security_product,
        "agency" => &e.evaluation_agency,
        _ => &e.crypto_product,
    }
}

fn view(app: &App, row: &CandidateRow) -> AppResult<CandidateView> {
    Ok(CandidateView {
        category: row.category.clone(),
        id: row.id.clone(),
        name: row.name.clone(),
        version: row.version,
        candidate: candidate_of(row)?,
        rules: rules(app, &row.category),
    })
}

fn check(app: &App, cat: &str, c: &CandidateInput) -> AppResult<CandidateRow> {
    check_id("id", &c.id)?;
    check_text("name", &c.name, MAX_NAME)?;
    for (k, v) in &c.evidence {
        check_free_text(&format!("evidence.{k}"), v, 1000)?;
    }
    for k in c.facts.keys().chain(c.evidence.keys()) {
        if !plausible_id(k) {
            return Err(AppError::invalid(
                "facts",
                "criterion ids are letters, digits, `.`, `_`, `-` (see `dengbao rules show`)",
            ));
        }
    }
    let cand = Candidate {
        id: c.id.clone(),
        name: c.name.clone(),
        facts: c.facts.clone(),
        evidence: c.evidence.clone(),
    };
    let mut inv = Inventory::default();
    let prefix = match cat {
        "product" => {
            inv.products.push(cand);
            "products[0]."
        }
        "agency" => {
            inv.agencies.push(cand);
            "agencies[0]."
        }
        _ => {
            inv.crypto_products.push(cand);
            "crypto_products[0]."
        }
    };
    inv.validate(app.pack, "request")
        .map_err(|e| from_core(e, prefix))?;
    Ok(CandidateRow {
        category: cat.to_owned(),
        id: c.id.clone(),
        name: c.name.clone(),
        facts: serde_json::to_string(&c.facts).map_err(AppError::internal)?,
        evidence: serde_json::to_string(&c.evidence).map_err(AppError::internal)?,
        version: 0,
    })
}

pub async fn list(app: &App, c: &Caller, cat: &str) -> AppResult<Vec<CandidateView>> {
    let org = app.own(c, Action::Read).await?;
    let cat = category(cat)?;
    app.store
        .candidates(&org, Some(cat))
        .await?
        .iter()
        .map(|r| view(app, r))
        .collect()
}

pub async fn get(app: &App, c: &Caller, cat: &str, id: &str) -> AppResult<CandidateView> {
    let org = app.own(c, Action::Read).await?;
    if !plausible_id(id) {
        return Err(AppError::not_found());
    }
    let row = app.store.candidate(&org, category(cat)?, id).await?;
    view(app, &row)
}

pub async fn create(
    app: &App,
    c: &Caller,
    cat: &str,
    input: CandidateInput,
) -> AppResult<CandidateView> {
    let org = app.own(c, Action::Write).await?;
    let cat = category(cat)?;
    if input.version.is_some() {
        return Err(AppError::invalid("version", "not used when creating"));
    }
    let mut row = check(app, cat, &input)?;
    let now = app.clock.now_ms();
    row.version = app
        .store
        .put_candidate(
            &org,
            &row,
            None,
            &c.audit("registry.create", &format!("{cat}/{}", row.id), now),
        )
        .await?;
    app.tenants.invalidate(&org);
    view(app, &row)
}

pub async fn replace(
    app: &App,
    c: &Caller,
    cat: &str,
    id: &str,
    input: CandidateInput,
) -> AppResult<CandidateView> {
    let org = app.own(c, Action::Write).await?;
    let cat = category(cat)?;
    if input.id != id {
        return Err(AppError::invalid("id", "must match the id in the path"));
    }
    let version = input
        .version
        .ok_or_else(|| AppError::invalid("version", "required: the version you read"))?;
    let mut row = check(app, cat, &input)?;
    let now = app.clock.now_ms();
    row.version = app
        .store
        .put_candidate(
            &org,
            &row,
            Some(version),
            &c.audit("registry.update", &format!("{cat}/{id}"), now),
        )
        .await?;
    app.tenants.invalidate(&org);
    view(app, &row)
}

pub async fn delete(app: &App, c: &Caller, cat: &str, id: &str) -> AppResult<()> {
    let org = app.own(c, Action::Write).await?;
    let cat = category(cat)?;
    if !plausible_id(id) {
        return Err(AppError::not_found());
    }
    let now = app.clock.now_ms();
    app.store
        .delete_candidate(
            &org,
            cat,
            id,
            &c.audit("registry.delete", &format!("{cat}/{id}"), now),
        )
        .await?;
    app.tenants.invalidate(&org);
    Ok(())
}

//! A node's view of each organisation's data: the core inventory assembled from rows, and
//! the organisation-wide obligations computed from it — both keyed by the organisation's
//! `data_version`, which every write bumps in its transaction. A node re-reads the version
//! at most every `cache_ttl` (its own writes invalidate at once), so the hot read path does
//! no SQL and several stateless nodes stay consistent within that interval.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use dengbao_core::Date;
use dengbao_core::model::{Candidate, Event, GradingObject, Inventory, ObjectKind};
use dengbao_core::obligations::Status;
use dengbao_core::pack::MaterialKind;

use crate::dto::{OrgObligation, SystemFacts};
use crate::error::{AppError, AppResult};
use crate::{App, TtlCache};

pub const CATEGORIES: [&str; 3] = ["product", "agency", "crypto_product"];

pub struct TenantData {
    pub version: i64,
    pub inventory: Inventory,
}

/// Organisation-wide obligations on one date, sorted most urgent first, with what the
/// dashboard needs from the same assessment (so no page re-assesses every system).
pub struct Computed {
    pub items: Vec<OrgObligation>,
    pub by_status: HashMap<&'static str, Vec<u32>>,
    pub counts: crate::dto::StatusCounts,
    /// Systems per grade, I–V.
    pub grade_counts: [usize; 5],
    /// Art. 40 violations: system id, system name, the violation.
    pub violations: Vec<(String, String, dengbao_core::violations::Violation)>,
}

struct Entry {
    data: Arc<TenantData>,
    computed: Mutex<Option<(Date, Arc<Computed>)>>,
}

pub struct TenantCache {
    /// Organisations' data, least recently used evicted past 1,000 (each holds a whole
    /// inventory) and dropped after an hour unused.
    entries: moka::sync::Cache<String, Arc<Entry>>,
    versions: TtlCache<String, i64>,
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> AppResult<T> {
    serde_json::from_str(s)
        .map_err(|e| AppError::internal(format!("stored {what} is not valid: {e}")))
}

fn object_kind(s: &str) -> AppResult<ObjectKind> {
    s.parse()
        .map_err(|_| AppError::internal(format!("stored kind `{s}` is not an object kind")))
}

pub fn candidate_of(row: &dengbao_store::CandidateRow) -> AppResult<Candidate> {
    Ok(Candidate {
        id: row.id.clone(),
        name: row.name.clone(),
        facts: parse("facts", &row.facts)?,
        evidence: parse("evidence", &row.evidence)?,
    })
}

/// A stored grading object as a core object (no history yet).
pub fn object_of(row: &dengbao_store::SystemRow) -> AppResult<GradingObject> {
    let facts: SystemFacts = parse("facts", &row.facts)?;
    Ok(facts.into_object(row.id.clone(), row.name.clone(), object_kind(&row.kind)?))
}

impl TenantCache {
    pub fn new(ttl: std::time::Duration) -> TenantCache {
        TenantCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(1_000)
                .time_to_idle(std::time::Duration::from_secs(3600))
                .build(),
            versions: TtlCache::new(ttl),
        }
    }

    /// After a write on this node: re-check the version on the next read.
    pub fn invalidate(&self, tenant: &str) {
        self.versions.remove(&tenant.to_owned());
    }

    async fn entry(&self, app: &App, tenant: &str) -> AppResult<Arc<Entry>> {
        let version = match self.versions.get(&tenant.to_owned()) {
            Some(v) => v,
            None => {
                let v = app.store.data_version(tenant).await?;
                self.versions.put(tenant.to_owned(), v);
                v
            }
        };
        if let Some(e) = self.entries.get(tenant) {
            if e.data.version == version {
                return Ok(e);
            }
        }
        let data = Arc::new(load(app, tenant, version).await?);
        let e = Arc::new(Entry {
            data,
            computed: Mutex::new(None),
        });
        self.entries.insert(tenant.to_owned(), e.clone());
        Ok(e)
    }

    pub async fn data(&self, app: &App, tenant: &str) -> AppResult<Arc<TenantData>> {
        Ok(self.entry(app, tenant).await?.data.clone())
    }

    /// All obligations of the organisation on `as_of`.
    pub async fn obligations(
        &self,
        app: &App,
        tenant: &str,
        as_of: Date,
    ) -> AppResult<Arc<Computed>> {
        let e = self.entry(app, tenant).await?;
        if let Some((d, c)) = e.computed.lock().map_err(AppError::internal)?.as_ref() {
            if *d == as_of {
                return Ok(c.clone());
            }
        }
        let c = Arc::new(compute(app, &e.data, as_of));
        *e.computed.lock().map_err(AppError::internal)? = Some((as_of, c.clone()));
        Ok(c)
    }
}

/// Assembles the core inventory of an organisation from its rows.
async fn load(app: &App, tenant: &str, version: i64) -> AppResult<TenantData> {
    let s = &app.store;
    let systems = s.all_systems(tenant).await?;
    let events = s.all_events(tenant).await?;
    let materials = s.all_materials(tenant).await?;
    let in_use = s.all_in_use(tenant).await?;
    let candidates = s.candidates(tenant, None).await?;
    let mut index: HashMap<String, usize> = HashMap::with_capacity(systems.len());
    let mut objects = Vec::with_capacity(systems.len());
    for (i, row) in systems.iter().enumerate() {
        index.insert(row.id.clone(), i);
        objects.push(object_of(row)?);
    }
    for e in &events {
        if let Some(&i) = index.get(&e.object_id) {
            objects[i].events.push(parse::<Event>("event", &e.payload)?);
        }
    }
    for m in &materials {
        if let Some(&i) = index.get(&m.object_id) {
            objects[i]
                .materials
                .push(m.kind.parse::<MaterialKind>().map_err(|_| {
                    AppError::internal(format!(
                        "stored material `{}` is not a material kind",
                        m.kind
                    ))
                })?);
        }
    }
    for (obj, category, id) in in_use {
        if let Some(&i) = index.get(&obj) {
            match category.as_str() {
                "product" => objects[i].products_in_use.push(id),
                "crypto_product" => objects[i].crypto_products_in_use.push(id),
                _ => {}
            }
        }
    }
    for o in &mut objects {
        // Rows come ordered by date; keep that order (stable) for same-day events.
        o.events.sort_by_key(|e| e.date);
    }
    let mut inv = Inventory {
        systems: objects,
        ..Inventory::default()
    };
    for c in &candidates {
        let cand = candidate_of(c)?;
        match c.category.as_str() {
            "product" => inv.products.push(cand),
            "agency" => inv.agencies.push(cand),
            "crypto_product" => inv.crypto_products.push(cand),
            _ => {}
        }
    }
    Ok(TenantData {
        version,
        inventory: inv,
    })
}

const STATUS_ORDER: [Status; 4] = [
    Status::Overdue,
    Status::DueSoon,
    Status::Upcoming,
    Status::Met,
];

fn compute(app: &App, data: &TenantData, as_of: Date) -> Computed {
    let report = dengbao_core::assess::assess(&data.inventory, app.pack, &app.calendar, as_of);
    let mut items = Vec::new();
    let mut grade_counts = [0usize; 5];
    let mut violations = Vec::new();
    for s in &report.systems {
        if let Some(slot) = grade_counts.get_mut(usize::from(s.grade.number()).saturating_sub(1)) {
            *slot += 1;
        }
        for v in &s.violations {
            violations.push((s.id.to_owned(), s.name.to_owned(), v.clone()));
        }
        for o in &s.obligations {
            if o.status == Status::NotApplicable {
                continue;
            }
            items.push((
                o.status,
                OrgObligation {
                    system_id: s.id.to_owned(),
                    system_name: s.name.to_owned(),
                    grade: s.grade.to_string(),
                    kind: o.kind,
                    title: o.title.to_owned(),
                    party: o.party,
                    status: o.status.as_str().to_owned(),
                    due: o.due.map(|d| d.to_string()),
                    cite: o.cite.to_owned(),
                    reason: o.reason.clone(),
                },
            ));
        }
    }
    // Most urgent first: by status, then due date (none last), then system.
    items.sort_by(|(sa, a), (sb, b)| {
        (sa, a.due.is_none(), &a.due, &a.system_id).cmp(&(
            sb,
            b.due.is_none(),
            &b.due,
            &b.system_id,
        ))
    });
    let mut by_status: HashMap<&'static str, Vec<u32>> = HashMap::new();
    let mut counts = BTreeMap::new();
    for st in STATUS_ORDER {
        counts.insert(st.as_str(), 0usize);
    }
    for (i, (st, _)) in items.iter().enumerate() {
        by_status.entry(st.as_str()).or_default().push(i as u32);
        *counts.entry(st.as_str()).or_default() += 1;
    }
    Computed {
        items: items.into_iter().map(|(_, o)| o).collect(),
        by_status,
        counts,
        grade_counts,
        violations,
    }
}

//! Importing an inventory into an organisation, and the demo data: an operator with systems
//! in several grades and states (the example inventory), a second organisation to show
//! isolation, and one user per role.

use dengbao_core::RulePack;
use dengbao_core::grading::final_grade;
use dengbao_core::model::Inventory;
use dengbao_store::{
    Audit, CandidateRow, EventRow, MaterialRow, Organisation, Store, StoreError, SystemRow, User,
    new_id,
};

use crate::auth::{hash_password_blocking, new_totp_secret};
use crate::dto::SystemFacts;
use crate::error::{AppError, AppResult};
use crate::vault::Vault;
use sha2::{Digest, Sha256};

/// A login printed for the person trying the demo.
pub struct DemoLogin {
    pub organisation: String,
    pub username: String,
    pub password: String,
    pub roles: Vec<&'static str>,
    /// Base32 TOTP secret for an authenticator app (administrators).
    pub totp_secret: Option<String>,
}

pub const DEMO_ORG: &str = "Example Payments (Shanghai) Co., Ltd.";
pub const OTHER_ORG: &str = "Example Hospital";

/// Seeds once (idempotent: an existing demo organisation is left alone). `now` is epoch ms.
pub async fn seed(
    vault: &Vault,
    pack: &RulePack,
    inv: &Inventory,
    now: i64,
) -> AppResult<Vec<DemoLogin>> {
    let mut logins = seed_named(vault, pack, inv, now, "").await?;
    if !logins.is_empty() {
        logins.extend(seed_organs(vault.store(), now, "").await?);
    }
    Ok(logins)
}

/// The demo's public security organs: `psb`, Shanghai's city bureau, whose jurisdiction
/// covers the demo operator (Pudong, 310115) and so receives its filings, and `psb-other`,
/// Beijing's, which must see nothing of it. Each has a lead who reviews and a member who
/// reads; passwords are the demo lead's. Jurisdictions are platform-wide data, so tests
/// sharing one database call this only on a database of their own.
pub async fn seed_organs(store: &Store, now: i64, tag: &str) -> AppResult<Vec<DemoLogin>> {
    let mut logins = Vec::new();
    for (name, division, user) in [
        (
            "上海市公安局 Shanghai Municipal Public Security Bureau",
            "310100",
            "psb",
        ),
        (
            "北京市公安局 Beijing Municipal Public Security Bureau",
            "110100",
            "psb-other",
        ),
    ] {
        let org = Organisation {
            id: new_id(),
            name: format!("{tag}{name}"),
            kind: "public_security".into(),
            credit_code: None,
            division: Some(division.into()),
            data_version: 0,
            created_at: now,
        };
        store.create_organisation(&org).await?;
        let audit = Audit {
            actor: "demo-seed",
            action: "demo.seed",
            object: &org.id,
            request_id: "-",
            at: now,
        };
        store
            .add_jurisdiction(&org.id, division, "city", &audit)
            .await?;
        for (suffix, display, roles) in [
            ("", "Filing reviewer 备案审核", &["security_lead"][..]),
            ("-member", "Organ member 公安成员", &["member"][..]),
        ] {
            let username = format!("{tag}{user}{suffix}");
            let password = "Dengbao#2026-1".to_owned();
            crate::auth::check_password(&crate::Config::default(), &username, &password)?;
            let u = User {
                id: new_id(),
                tenant_id: org.id.clone(),
                username: username.clone(),
                display_name: display.into(),
                password_hash: hash_password_blocking(&password).map_err(AppError::internal)?,
                totp_secret: None,
                totp_enabled: false,
                failed_attempts: 0,
                locked_until: 0,
                last_totp_step: 0,
                disabled: false,
                created_at: now,
            };
            store.create_user(&u, roles, &audit).await?;
            logins.push(DemoLogin {
                organisation: org.name.clone(),
                username,
                password,
                roles: roles.to_vec(),
                totp_secret: None,
            });
        }
    }
    Ok(logins)
}

/// [`seed`] with a prefix on organisation names and usernames, so tests sharing one
/// database get organisations of their own.
pub async fn seed_named(
    vault: &Vault,
    pack: &RulePack,
    inv: &Inventory,
    now: i64,
    tag: &str,
) -> AppResult<Vec<DemoLogin>> {
    let store = vault.store();
    let demo_org = format!("{tag}{DEMO_ORG}");
    let other_org = format!("{tag}{OTHER_ORG}");
    if store.organisation_by_name(&demo_org).await.is_ok() {
        return Ok(Vec::new());
    }
    let mut logins = Vec::new();
    for (name, credit, division) in [
        (
            demo_org.as_str(),
            Some("91310115MA1K4XYW1X"),
            Some("310115"),
        ),
        (other_org.as_str(), None, Some("110105")),
    ] {
        let is_demo = name == demo_org;
        let org = Organisation {
            id: new_id(),
            name: name.into(),
            kind: "operator".into(),
            credit_code: credit.map(Into::into),
            division: division.map(Into::into),
            data_version: 0,
            created_at: now,
        };
        store.create_organisation(&org).await?;
        let audit = Audit {
            actor: "demo-seed",
            action: "demo.seed",
            object: &org.id,
            request_id: "-",
            at: now,
        };
        let prefix = if is_demo {
            tag.to_owned()
        } else {
            format!("{tag}hospital-")
        };
        let users: &[(&str, &str, &[&'static str])] = &[
            ("lead", "Security Lead 安全负责人", &["security_lead"]),
            ("member", "Member 成员", &["member"]),
            (
                "sysadmin",
                "System Administrator 系统管理员",
                &["system_admin"],
            ),
            (
                "secadmin",
                "Security Administrator 安全管理员",
                &["security_admin"],
            ),
            (
                "auditor",
                "Audit Administrator 审计管理员",
                &["audit_admin"],
            ),
        ];
        for (user, display, roles) in users {
            let username = format!("{prefix}{user}");
            // Demo passwords follow the same policy as everyone's.
            let password = format!("Dengbao#2026-{}", logins.len() % 5 + 1);
            crate::auth::check_password(&crate::Config::default(), &username, &password)?;
            let admin = roles.iter().any(|r| r.ends_with("_admin"));
            let secret = admin.then(new_totp_secret);
            let id = new_id();
            let sealed = match &secret {
                Some(s) => Some(vault.seal_totp(&org.id, &id, s, now).await?),
                None => None,
            };
            let u = User {
                id,
                tenant_id: org.id.clone(),
                username: username.clone(),
                display_name: (*display).into(),
                password_hash: hash_password_blocking(&password).map_err(AppError::internal)?,
                totp_secret: sealed,
                totp_enabled: admin,
                failed_attempts: 0,
                locked_until: 0,
                last_totp_step: 0,
                disabled: false,
                created_at: now,
            };
            store.create_user(&u, roles, &audit).await?;
            logins.push(DemoLogin {
                organisation: name.into(),
                username,
                password,
                roles: roles.to_vec(),
                totp_secret: secret,
            });
        }
        if is_demo {
            load_inventory(vault, pack, &org.id, inv, now).await?;
        } else {
            // The other organisation's objects have ids of their own, so that asking for the
            // demo organisation's ids can only ever answer 404.
            let other = Inventory {
                systems: inv
                    .systems
                    .iter()
                    .take(1)
                    .cloned()
                    .map(|mut s| {
                        s.id = format!("h-{}", s.id);
                        s.name = format!("Hospital {}", s.name);
                        s.products_in_use.clear();
                        s.crypto_products_in_use.clear();
                        s.events.retain(|e| e.agency.is_none());
                        s
                    })
                    .collect(),
                ..Inventory::default()
            };
            load_inventory(vault, pack, &org.id, &other, now).await?;
        }
    }
    Ok(logins)
}

/// Writes an inventory (registries, systems, events, materials, products in use) into an
/// organisation.
pub async fn load_inventory(
    vault: &Vault,
    pack: &RulePack,
    tenant: &str,
    inv: &Inventory,
    now: i64,
) -> AppResult<()> {
    let store = vault.store();
    let audit = Audit {
        actor: "import",
        action: "import",
        object: tenant,
        request_id: "-",
        at: now,
    };
    for (category, list) in [
        ("product", &inv.products),
        ("agency", &inv.agencies),
        ("crypto_product", &inv.crypto_products),
    ] {
        for c in list {
            let row = CandidateRow {
                category: category.into(),
                id: c.id.clone(),
                name: c.name.clone(),
                facts: serde_json::to_string(&c.facts).map_err(AppError::internal)?,
                evidence: serde_json::to_string(&c.evidence).map_err(AppError::internal)?,
                version: 1,
            };
            store.put_candidate(tenant, &row, None, &audit).await?;
        }
    }
    for s in &inv.systems {
        let grade = final_grade(&pack.grading, s)
            .ok_or_else(|| AppError::invalid(format!("systems.{}", s.id), "cannot be graded"))?;
        let row = SystemRow {
            tenant_id: tenant.into(),
            id: s.id.clone(),
            name: s.name.clone(),
            kind: s.kind.as_str().into(),
            grade: i64::from(grade.number()),
            facts: serde_json::to_string(&SystemFacts::of(s)).map_err(AppError::internal)?,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        match store.insert_system(&row, &audit).await {
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
        for e in &s.events {
            let er = EventRow {
                id: new_id(),
                object_id: s.id.clone(),
                date: e.date.to_string(),
                kind: e.kind.as_str().into(),
                payload: serde_json::to_string(e).map_err(AppError::internal)?,
                recorded_at: now,
                recorded_by: "import".into(),
            };
            store.add_event(tenant, &er, None, &audit).await?;
        }
        for m in &s.materials {
            // The inventory says the material was provided, not what it contains: keep a
            // short record that says so, with its real size and digest, so the dossier's
            // download answers with what was imported.
            let content = format!(
                "Dengbao import record\nSystem: {} ({})\nMaterial: {} (Measures art. 16)\nImported at (epoch ms): {now}\n\nThe inventory recorded this material as provided; the document itself was not part of the import. Upload it on the filing dossier page.\n",
                s.name,
                s.id,
                m.as_str()
            )
            .into_bytes();
            let mr = MaterialRow {
                object_id: s.id.clone(),
                kind: m.as_str().into(),
                title: m.as_str().replace('_', " "),
                file_name: format!("{}.txt", m.as_str()),
                media_type: "text/plain; charset=utf-8".into(),
                size: content.len() as i64,
                sha256: dengbao_ledger::to_hex(&Sha256::digest(&content)),
                uploaded_at: now,
                uploaded_by: "import".into(),
            };
            let sealed =
                crate::systems::seal_file(vault, tenant, &mr.sha256, &content, now).await?;
            store
                .put_material_with_file(tenant, &mr, Some(&sealed), &audit)
                .await?;
        }
        let lists: [(&str, &[String]); 2] = [
            ("product", &s.products_in_use),
            ("crypto_product", &s.crypto_products_in_use),
        ];
        store.set_in_use(tenant, &s.id, &lists, &audit).await?;
    }
    Ok(())
}

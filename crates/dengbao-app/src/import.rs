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
        logins.extend(seed_parties(vault.store(), now, "").await?);
    }
    Ok(logins)
}

/// The demo's other parties: `dept`, the department in charge of the demo operator (the
/// supervision relation, Measures art. 10), `expert`, the expert committee that reviews its
/// grades of IV and above, `evaluator`, an evaluation agency (art. 14), and Shanghai's
/// `secrecy` department (art. 24–33) and `crypto` administration (art. 34–39). Each has a lead who acts and a member who reads;
/// passwords are the demo lead's. Expert committees are platform-wide, so tests sharing one
/// database name theirs when they propose.
pub async fn seed_parties(store: &Store, now: i64, tag: &str) -> AppResult<Vec<DemoLogin>> {
    let operator = store
        .user_by_username(&format!("{tag}lead"))
        .await?
        .tenant_id;
    let mut logins = Vec::new();
    for (name, kind, user, displays) in [
        (
            "中国人民银行 People's Bank of China",
            "department_in_charge",
            "dept",
            ("Grade approver 定级审批", "Department member 主管部门成员"),
        ),
        (
            "国家信息安全等级保护专家评审委员会 National Expert Committee for Graded Protection",
            "expert_committee",
            "expert",
            (
                "Expert reviewer 专家评审",
                "Committee member 专家委员会成员",
            ),
        ),
        (
            "上海市等级保护测评中心 Shanghai Graded Protection Evaluation Centre",
            "evaluation_agency",
            "evaluator",
            ("Evaluator 测评师", "Agency member 测评机构成员"),
        ),
        (
            "上海市国家保密局 Shanghai Municipal State Secrecy Bureau",
            "secrecy_department",
            "secrecy",
            (
                "Secrecy examiner 保密审查",
                "Secrecy bureau member 保密局成员",
            ),
        ),
        (
            "上海市密码管理局 Shanghai Municipal Cryptography Administration",
            "cryptography_administration",
            "crypto",
            (
                "Cryptography examiner 密码审查",
                "Cryptography bureau member 密码局成员",
            ),
        ),
    ] {
        let org = Organisation {
            id: new_id(),
            name: format!("{tag}{name}"),
            kind: kind.into(),
            credit_code: None,
            // The national bodies sit in Beijing, the others are Shanghai's.
            division: Some(
                match kind {
                    "department_in_charge" | "expert_committee" => "110000",
                    _ => "310000",
                }
                .into(),
            ),
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
        match kind {
            "department_in_charge" => store.add_supervision(&org.id, &operator, &audit).await?,
            // Shanghai's authorities: the province-level area of the demo operator.
            "secrecy_department" | "cryptography_administration" => {
                store
                    .add_jurisdiction(&org.id, "310000", "province", &audit)
                    .await?
            }
            _ => {}
        }
        logins.extend(demo_users(store, &org, tag, user, displays, &audit, now).await?);
    }
    Ok(logins)
}

/// A lead (`user`) and a member (`user-member`) for a party's organisation, with the demo
/// lead's password; `displays`: their display names.
async fn demo_users(
    store: &Store,
    org: &Organisation,
    tag: &str,
    user: &str,
    displays: (&str, &str),
    audit: &Audit<'_>,
    now: i64,
) -> AppResult<Vec<DemoLogin>> {
    let mut logins = Vec::new();
    for (suffix, display, roles) in [
        ("", displays.0, &["security_lead"][..]),
        ("-member", displays.1, &["member"][..]),
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
        store.create_user(&u, roles, audit).await?;
        logins.push(DemoLogin {
            organisation: org.name.clone(),
            username,
            password,
            roles: roles.to_vec(),
            totp_secret: None,
        });
    }
    Ok(logins)
}

/// The demo's story between parties, through the use cases: the confidential records
/// archive's Grade IV proposal waits for the expert committee's opinion (then the
/// department's decision), and the payment core system is engaged with the evaluation
/// agency for this year's evaluation (its registry entry `sh-eval` is eligible); pay-core's use of
/// cryptography is filed, and the archive's application waits with the secrecy department.
/// Idempotent.
pub async fn seed_party_story(app: &crate::App, tag: &str) -> AppResult<()> {
    use dengbao_guard::OrgKind;
    let lead = app.store.user_by_username(&format!("{tag}lead")).await?;
    let lead = demo_caller(&lead.id, &lead.username, &lead.tenant_id, OrgKind::Operator);
    if !crate::grades::queue(app, &lead).await?.is_empty() {
        return Ok(());
    }
    let agency = app
        .store
        .user_by_username(&format!("{tag}evaluator"))
        .await?;
    let today = app.clock.today();
    crate::engagements::engage(
        app,
        &lead,
        "pay-core",
        crate::engagements::EngageInput {
            agency: agency.tenant_id,
            registry_id: "sh-eval".into(),
            from: Some(today.to_string()),
            until: today.add_days(90).to_string(),
            override_reason: None,
        },
    )
    .await?;
    let expert = app.store.user_by_username(&format!("{tag}expert")).await?;
    crate::grades::propose(
        app,
        &lead,
        "archive-c",
        crate::grades::ProposeInput {
            grade: Some("IV".into()),
            department: None,
            committee: Some(expert.tenant_id),
        },
    )
    .await?;
    // The payment core's HSM is on the Shanghai administration's approved list (art. 37), and
    // its usage of cryptography is filed there (art. 36): what the administration sees.
    let crypto = app.store.user_by_username(&format!("{tag}crypto")).await?;
    let crypto = demo_caller(
        &crypto.id,
        &crypto.username,
        &crypto.tenant_id,
        OrgKind::CryptographyAdministration,
    );
    crate::submissions::list_product(
        app,
        &crypto,
        crate::submissions::ListProductInput {
            certificate: "GM003-2023-0456".into(),
            name: "SM series hardware security module".into(),
            vendor: "Demo Cipher Co.".into(),
            valid_until: today.add_days(3 * 365).to_string(),
        },
    )
    .await?;
    crate::submissions::file_cryptography(
        app,
        &lead,
        "pay-core",
        crate::submissions::CryptoFilingInput {
            products: vec![crate::submissions::FiledProductInput {
                id: "sm-hsm".into(),
                certificate: None,
            }],
            algorithms: vec!["SM2".into(), "SM3".into(), "SM4".into()],
            purposes: "Payment messages are signed (SM2) and encrypted (SM4) in the HSM; logs are chained with SM3.".into(),
        },
    )
    .await?;
    // The confidential archive applies to the secrecy department for approval before it runs
    // (art. 29 ¶2), with the application materials of art. 30 (their descriptions only).
    for (kind, title) in [
        (
            "design_plan",
            "Design and operation plan, with the argumentation opinions",
        ),
        (
            "integrator_qualification",
            "Integrator's secrecy qualification",
        ),
        (
            "construction_report",
            "Construction and project supervision report",
        ),
        (
            "secrecy_evaluation_report",
            "Secrecy test and evaluation report",
        ),
        (
            "secrecy_organisation",
            "Secrecy organisation and management rules",
        ),
    ] {
        crate::systems::put_material(
            app,
            &lead,
            "archive-c",
            kind,
            crate::dto::MaterialInput {
                title: title.into(),
                file_name: format!("{kind}.pdf"),
                media_type: "application/pdf".into(),
                size: 200_000,
                sha256: "5e".repeat(32),
            },
            None,
        )
        .await?;
    }
    crate::submissions::apply_secrecy(
        app,
        &lead,
        "archive-c",
        crate::submissions::SecrecyApplicationInput {
            purpose: "approval".into(),
            note: Some("Before the archive goes into operation.".into()),
        },
    )
    .await?;
    Ok(())
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
        logins.extend(
            demo_users(
                store,
                &org,
                tag,
                user,
                ("Filing reviewer 备案审核", "Organ member 公安成员"),
                &audit,
                now,
            )
            .await?,
        );
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

pub const DEMO_IDC: &str = "示例云数据中心 Example Cloud IDC (Shanghai)";

/// A demo user with the demo password; answers its login and id.
async fn demo_user(
    store: &Store,
    org: &str,
    organisation: &str,
    username: String,
    display: &str,
    roles: &[&'static str],
    now: i64,
) -> AppResult<(DemoLogin, String)> {
    let password = "Dengbao#2026-1".to_owned();
    crate::auth::check_password(&crate::Config::default(), &username, &password)?;
    let u = User {
        id: new_id(),
        tenant_id: org.to_owned(),
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
    let audit = Audit {
        actor: "demo-seed",
        action: "demo.seed",
        object: org,
        request_id: "-",
        at: now,
    };
    store.create_user(&u, roles, &audit).await?;
    Ok((
        DemoLogin {
            organisation: organisation.to_owned(),
            username,
            password,
            roles: roles.to_vec(),
            totp_secret: None,
        },
        u.id,
    ))
}

/// A caller acting for a demo user (the seed goes through the use cases, so the demo data
/// is validated, sealed and in the ledger like anyone's).
pub fn demo_caller(
    user_id: &str,
    username: &str,
    org: &str,
    kind: dengbao_guard::OrgKind,
) -> crate::Caller {
    crate::Caller {
        principal: dengbao_guard::Principal {
            user_id: user_id.to_owned(),
            username: username.to_owned(),
            org: org.to_owned(),
            org_kind: kind,
            roles: vec![dengbao_guard::Role::SecurityLead],
            credential: dengbao_guard::Credential::Session,
        },
        via: crate::Via::Session {
            id_hash: "-".into(),
            csrf: String::new(),
            created_at: 0,
            last_seen: 0,
            mfa_ok: true,
        },
        request_id: "demo-seed".into(),
    }
}

/// The IDC demo: an IDC operator with its data-security officer and department, two
/// customers of different categories — a bank (finance, important and sensitive personal
/// data: category c3, two approvers) and a games studio (personal information: c2) — their
/// contracts (the studio's with a gap in its responsibility matrix), classified assets (one
/// of the studio's placed in the bank's rack: an isolation breach to find), sealed content,
/// an incident the IDC caused, and a destruction waiting for the studio's approval. Logins
/// `idc-ops`, `idc-officer`, `cust-a` (and `cust-a2`, the bank's second approver), `cust-b`.
pub async fn seed_idc(app: &crate::App, tag: &str) -> AppResult<Vec<DemoLogin>> {
    use crate::idc;
    use dengbao_core::idc::Assignment;
    use dengbao_guard::OrgKind;
    let store = &app.store;
    let name = format!("{tag}{DEMO_IDC}");
    if store.organisation_by_name(&name).await.is_ok() {
        return Ok(Vec::new());
    }
    let now = app.clock.now_ms();
    let org = Organisation {
        id: new_id(),
        name: name.clone(),
        kind: "idc_operator".into(),
        credit_code: None,
        division: Some("310115".into()),
        data_version: 0,
        created_at: now,
    };
    store.create_organisation(&org).await?;
    let mut logins = Vec::new();
    let (l, ops_id) = demo_user(
        store,
        &org.id,
        &name,
        format!("{tag}idc-ops"),
        "IDC operations 运维人员",
        &["security_lead"],
        now,
    )
    .await?;
    logins.push(l);
    let (l, _) = demo_user(
        store,
        &org.id,
        &name,
        format!("{tag}idc-officer"),
        "Data-security officer 数据安全负责人",
        &["security_lead"],
        now,
    )
    .await?;
    logins.push(l);
    let ops = demo_caller(
        &ops_id,
        &format!("{tag}idc-ops"),
        &org.id,
        OrgKind::IdcOperator,
    );
    idc::set_programme(
        app,
        &ops,
        idc::ProgrammeInput {
            officer: format!("{tag}idc-officer"),
            department: "数据安全部 Data Security Department".into(),
        },
    )
    .await?;
    let bank = idc::create_customer(
        app,
        &ops,
        idc::NewCustomer {
            name: format!("{tag}示例银行 Example Bank (Shanghai)"),
            sector: "finance".into(),
            declared_class: "important".into(),
            overrides: Default::default(),
        },
    )
    .await?;
    let studio = idc::create_customer(
        app,
        &ops,
        idc::NewCustomer {
            name: format!("{tag}示例游戏 Example Games Studio"),
            sector: "internet".into(),
            declared_class: "personal".into(),
            overrides: Default::default(),
        },
    )
    .await?;
    for (cust, user, display) in [
        (&bank, "cust-a", "Bank data owner 银行数据负责人"),
        (&bank, "cust-a2", "Bank second approver 银行第二审批人"),
        (&studio, "cust-b", "Studio data owner 游戏公司数据负责人"),
    ] {
        let (l, _) = demo_user(
            store,
            &cust.id,
            &cust.name,
            format!("{tag}{user}"),
            display,
            &["security_lead"],
            now,
        )
        .await?;
        logins.push(l);
    }
    let pack = idc::pack()?;
    let full = |who: &str| -> std::collections::BTreeMap<String, Assignment> {
        pack.duties
            .iter()
            .map(|d| {
                let (responsible, accountable) = match d.id.as_str() {
                    "customer_authorization" => (vec!["customer".to_owned()], "customer"),
                    "backup_redundancy" => {
                        (vec!["operator".to_owned(), who.to_owned()], "operator")
                    }
                    _ => (vec!["operator".to_owned()], "operator"),
                };
                (
                    d.id.clone(),
                    Assignment {
                        responsible,
                        accountable: Some(accountable.to_owned()),
                        consulted: vec!["customer".to_owned()],
                    },
                )
            })
            .collect()
    };
    idc::create_contract(
        app,
        &ops,
        idc::NewContract {
            customer: bank.id.clone(),
            title: "数据中心托管与数据安全三方协议 Hosting and data-security agreement".into(),
            signed_on: "2026-03-01".into(),
            third_parties: vec![idc::ThirdParty {
                id: "backup-co".into(),
                name: "示例灾备 Example Disaster Recovery Ltd.".into(),
            }],
            matrix: full("backup-co"),
        },
    )
    .await?;
    let mut gap = full("operator");
    gap.remove("monitoring");
    if let Some(a) = gap.get_mut("transit_encryption") {
        a.accountable = None;
    }
    idc::create_contract(
        app,
        &ops,
        idc::NewContract {
            customer: studio.id.clone(),
            title: "托管服务协议 Hosting agreement".into(),
            signed_on: "2026-05-12".into(),
            third_parties: Vec::new(),
            matrix: gap,
        },
    )
    .await?;
    let asset = |customer: &str,
                 name: &str,
                 kind: &str,
                 unit: &str,
                 class: &str,
                 personal: bool,
                 sensitive: bool| idc::NewAsset {
        customer: customer.to_owned(),
        name: name.to_owned(),
        description: String::new(),
        kind: kind.to_owned(),
        location: "上海浦东 DC2 B厅 Shanghai Pudong DC2, hall B".to_owned(),
        isolation_unit: unit.to_owned(),
        classification: class.to_owned(),
        personal,
        sensitive_personal: sensitive,
    };
    idc::create_asset(
        app,
        &ops,
        asset(
            &bank.id,
            "核心账务库 Core ledger database",
            "database",
            "rack-B12/vlan-301",
            "important",
            true,
            true,
        ),
    )
    .await?;
    let archive = idc::create_asset(
        app,
        &ops,
        asset(
            &bank.id,
            "对账单归档 Statement archive",
            "bucket",
            "rack-B12/vlan-301",
            "general",
            true,
            false,
        ),
    )
    .await?;
    idc::create_asset(
        app,
        &ops,
        asset(
            &studio.id,
            "玩家资料库 Player profiles",
            "database",
            "vlan-420",
            "general",
            true,
            false,
        ),
    )
    .await?;
    let training = idc::create_asset(
        app,
        &ops,
        asset(
            &studio.id,
            "推荐模型训练集 Recommendation training set",
            "training_dataset",
            "vlan-420",
            "general",
            true,
            false,
        ),
    )
    .await?;
    // Placed in the bank's rack by mistake: the isolation check names it.
    idc::create_asset(
        app,
        &ops,
        asset(
            &studio.id,
            "日志分析卷 Log analytics volume",
            "volume",
            "rack-B12/vlan-301",
            "general",
            false,
            false,
        ),
    )
    .await?;
    idc::put_content(
        app,
        &ops,
        &archive.id,
        "account,period,balance\n6222020000000001,2026-10,1024.00\n".as_bytes(),
    )
    .await?;
    idc::request_destruction(
        app,
        &ops,
        &training.id,
        idc::DestructionInput {
            reason: "合同约定的保留期届满 Retention period under the contract has ended".into(),
        },
    )
    .await?;
    idc::record_incident(
        app,
        &ops,
        idc::NewIncident {
            title: "存储集群误配置导致访问日志外泄风险 Storage misconfiguration exposed access logs".into(),
            description: "A storage ACL change let an internal monitoring account list the studio's volume for 25 minutes; no export was seen.".into(),
            severity: "medium".into(),
            caused_by_idc: true,
            detected_at_ms: now - 40 * 60_000,
            customers: vec![idc::AffectedInput {
                customer: studio.id.clone(),
                assets: Vec::new(),
            }],
        },
    )
    .await?;
    Ok(logins)
}

/// The IDC demo's access story, seeded after [`seed_idc`] (idempotent) and through the use
/// cases, so every step is signed and in the ledger: the customers' approvers hold
/// platform-kept SM2 keys; the bank's regulator asked for the statement archive — requested
/// as an export, approved by both bank approvers (its category needs two) and given out once
/// through the sharing gate, its use and evaluation in the bank's transparency view; and a
/// maintenance read of the core ledger database waits in the bank's approval inbox.
pub async fn seed_idc_access(app: &crate::App, tag: &str) -> AppResult<()> {
    use crate::{access, idc};
    use dengbao_guard::OrgKind;
    let caller =
        |u: dengbao_store::User, kind: OrgKind| demo_caller(&u.id, &u.username, &u.tenant_id, kind);
    let ops = caller(
        app.store.user_by_username(&format!("{tag}idc-ops")).await?,
        OrgKind::IdcOperator,
    );
    if !access::list(app, &ops).await?.is_empty() {
        return Ok(());
    }
    let mut customers = Vec::new();
    for user in ["cust-a", "cust-a2", "cust-b"] {
        let c = caller(
            app.store.user_by_username(&format!("{tag}{user}")).await?,
            OrgKind::IdcCustomer,
        );
        access::set_approver_key(app, &c, access::ApproverKeyInput { public_key: None }).await?;
        customers.push(c);
    }
    let o = idc::overview(app, &ops).await?;
    let asset = |name: &str| {
        o.assets
            .iter()
            .find(|a| a.name.as_deref().is_some_and(|n| n.contains(name)))
            .map(|a| (a.id.clone(), a.customer.clone()))
            .ok_or_else(|| crate::AppError::internal(format!("the demo has no asset `{name}`")))
    };
    let (archive, bank) = asset("Statement archive")?;
    let (ledger_db, _) = asset("Core ledger database")?;
    let ask = |operation: &str, asset: &str, justification: &str, ticket: &str, detail: &str| {
        access::NewAccessRequest {
            customer: bank.clone(),
            operation: operation.to_owned(),
            assets: vec![asset.to_owned()],
            justification: justification.to_owned(),
            ticket: ticket.to_owned(),
            detail: detail.to_owned(),
            window_start_ms: None,
            duration_hours: None,
            break_glass: false,
        }
    };
    let export = access::request(
        app,
        &ops,
        ask(
            "export",
            &archive,
            "regulator_data_request",
            "PBOC-SH-2026-118",
            "中国人民银行上海总部调阅2026年10月对账单 The regulator's order for the October 2026 statements",
        ),
    )
    .await?;
    for approver in customers.iter().filter(|c| c.org() == bank) {
        access::decide(
            app,
            approver,
            &export.id,
            access::AccessDecisionInput {
                decision: "approve".into(),
                until_ms: None,
                signed_note: None,
            },
        )
        .await?;
    }
    access::share(
        app,
        &ops,
        &export.id,
        access::ShareInput {
            asset: archive.clone(),
            recipient: "中国人民银行上海总部 PBOC Shanghai Head Office".into(),
            purpose: "监管调阅 Supervisory review of the October statements".into(),
            legal_basis: "《中国人民银行法》第三十二条及调阅通知 PBOC Law art. 32 and the order PBOC-SH-2026-118".into(),
            declassified: false,
            risk_assessment: "一条对账记录，监管机关依法调阅，经加密专线传送 One statement record, ordered by the regulator under law, sent over the encrypted leased line".into(),
        },
    )
    .await?;
    access::request(
        app,
        &ops,
        ask(
            "read",
            &ledger_db,
            "operator_initiated_maintenance",
            "CHG-2026-1204",
            "存储迁移前的一致性核对 Consistency check before the storage migration",
        ),
    )
    .await?;
    Ok(())
}

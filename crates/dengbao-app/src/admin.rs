//! Administration under the separation of duties (三权分立): the system administrator keeps
//! accounts, the security administrator assigns roles, the audit administrator reads the
//! trail. The guard decides each; the role-combination rule is here, where the roles held
//! are known.

use dengbao_guard::{Action, Resource, Role};
use dengbao_store::new_id;

use crate::auth::{check_password, hash_password};
use crate::dto::{AuditEntry, MAX_NAME, UserInput, UserView, check_text, paging};
use crate::error::{AppError, AppResult};
use crate::{App, Caller};

fn user_view(u: dengbao_store::User, roles: Vec<String>) -> UserView {
    UserView {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        roles,
        disabled: u.disabled,
        totp_enabled: u.totp_enabled,
        locked_until_ms: u.locked_until,
    }
}

/// The organisation's accounts (for the system administrator, and for the security
/// administrator, who must see them to assign roles).
pub async fn list_users(app: &App, c: &Caller) -> AppResult<Vec<UserView>> {
    let org = app.own(c, Action::ListAccounts).await?;
    let mut out = Vec::new();
    for u in app.store.users(&org).await? {
        let roles = app.store.roles(&u.id).await?;
        out.push(user_view(u, roles));
    }
    Ok(out)
}

pub async fn create_user(app: &App, c: &Caller, u: UserInput) -> AppResult<UserView> {
    let org = app.own(c, Action::ManageAccounts).await?;
    if u.username.len() < 3
        || u.username.len() > 64
        || !u.username.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
    {
        return Err(AppError::invalid(
            "username",
            "3–64 characters of a–z, 0–9, `.`, `_`, `-`",
        ));
    }
    check_text("display_name", &u.display_name, MAX_NAME)?;
    check_password(&app.config, &u.username, &u.password)?;
    let now = app.clock.now_ms();
    let user = dengbao_store::User {
        id: new_id(),
        tenant_id: org,
        username: u.username,
        display_name: u.display_name,
        password_hash: hash_password(app, u.password).await?,
        totp_secret: None,
        totp_enabled: false,
        failed_attempts: 0,
        locked_until: 0,
        last_totp_step: 0,
        disabled: false,
        created_at: now,
    };
    app.store
        .create_user(&user, &[], &c.audit("user.create", &user.username, now))
        .await?;
    Ok(user_view(user, Vec::new()))
}

/// Disables or enables an account (never one's own).
pub async fn set_disabled(app: &App, c: &Caller, id: &str, disabled: bool) -> AppResult<()> {
    let org = c.org().to_owned();
    // Whether the account is an administrator's decides who may change it (三员分立); one
    // that is not in the caller's organisation is absent.
    let admin = if crate::dto::plausible_id(id) && app.store.user(&org, id).await.is_ok() {
        app.store
            .roles(id)
            .await?
            .iter()
            .filter_map(|r| Role::parse(r))
            .any(Role::is_admin)
    } else {
        app.own(c, Action::ManageAccounts).await?;
        return Err(AppError::not_found());
    };
    app.authorize(
        c,
        Action::ManageAccounts,
        Resource::Account {
            org: &org,
            user_id: id,
            admin,
        },
    )
    .await?;
    let now = app.clock.now_ms();
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    app.store
        .set_user_disabled(&org, id, disabled, &c.audit(action, id, now))
        .await?;
    app.principals.clear();
    Ok(())
}

fn parse_role(role: &str) -> AppResult<Role> {
    Role::parse(role).ok_or_else(|| {
        AppError::invalid(
            "role",
            format!(
                "one of: {}",
                Role::all().map(Role::as_str).collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

pub async fn assign_role(app: &App, c: &Caller, id: &str, role: &str) -> AppResult<()> {
    let org = c.org().to_owned();
    app.authorize(
        c,
        Action::AssignRoles,
        Resource::Account {
            org: &org,
            user_id: id,
            admin: false,
        },
    )
    .await?;
    let r = parse_role(role)?;
    app.store.user(&org, id).await?;
    let held: Vec<Role> = app
        .store
        .roles(id)
        .await?
        .iter()
        .filter_map(|x| Role::parse(x))
        .collect();
    if held.contains(&r) {
        return Ok(());
    }
    if (r.is_admin() && !held.is_empty()) || held.iter().any(|h| h.is_admin()) {
        return Err(AppError::conflict(
            "an administrator role cannot be combined with any other role (三权分立: system, security and audit administration are separate)",
        ));
    }
    let now = app.clock.now_ms();
    app.store
        .assign_role(
            &org,
            id,
            r.as_str(),
            &c.audit("role.assign", &format!("{id}/{role}"), now),
        )
        .await?;
    app.principals.clear();
    Ok(())
}

pub async fn revoke_role(app: &App, c: &Caller, id: &str, role: &str) -> AppResult<()> {
    let org = c.org().to_owned();
    app.authorize(
        c,
        Action::AssignRoles,
        Resource::Account {
            org: &org,
            user_id: id,
            admin: false,
        },
    )
    .await?;
    parse_role(role)?;
    let now = app.clock.now_ms();
    app.store
        .revoke_role(
            &org,
            id,
            role,
            &c.audit("role.revoke", &format!("{id}/{role}"), now),
        )
        .await?;
    app.principals.clear();
    Ok(())
}

/// The organisation's audit trail, newest first.
pub async fn audit_trail(
    app: &App,
    c: &Caller,
    page: Option<i64>,
    per_page: Option<i64>,
) -> AppResult<Vec<AuditEntry>> {
    let org = app.own(c, Action::ReadAudit).await?;
    let (limit, offset, _, _) = paging(page, per_page, 100, 1000)?;
    let rows = app.store.audit(Some(&org), limit, offset).await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            seq: r.seq,
            actor: r.actor,
            action: r.action,
            object: r.object,
            request_id: r.request_id,
            at_ms: r.at,
        })
        .collect())
}

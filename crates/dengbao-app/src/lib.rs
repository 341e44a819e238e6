//! `dengbao-app`: the platform's use cases as plain async functions over typed inputs and
//! outputs.
//!
//! Every use case takes the [`App`] and an authenticated [`Caller`], asks
//! [`dengbao_guard::authorize`] (through [`App::authorize`]) for the scope it may touch, lets
//! `dengbao-core` decide, lets `dengbao-store` persist — each change in one transaction with
//! its audit row and ledger entry — and returns a typed result. The HTTP server and the CLI
//! are adapters over these functions.
//!
//! **Architecture invariant:** no HTTP here (no status codes, headers or cookies) and no
//! SQL; the clock is [`Clock`], which tests move.

pub mod access;
pub mod admin;
pub mod auth;
pub mod calendar;
mod context;
pub mod dto;
pub mod enforcement;
pub mod engagements;
pub mod error;
pub mod grades;
pub mod grading;
pub mod idc;
pub mod import;
pub mod ledger;
pub mod registry;
pub mod reviews;
pub mod submissions;
pub mod supervision;
pub mod systems;
pub mod tenant;
mod throttle;
pub mod vault;

pub use context::{App, BEIJING_OFFSET_S, Clock, Config, Inner, TtlCache, beijing_day_start_ms};
pub use dengbao_guard as guard;
pub use dengbao_guard::{Action, Principal, Role};
pub use error::{AppError, AppResult, ErrorKind};

use dengbao_guard::{Decision, Denial, Relations, Resource, Scope};
use dengbao_store::Audit;

/// How an interactive session or a token authenticated the caller (secrets stay here).
#[derive(Clone, Debug)]
pub enum Via {
    Session {
        /// SM3 of the cookie value: the session's key in the store.
        id_hash: String,
        csrf: String,
        created_at: i64,
        last_seen: i64,
        mfa_ok: bool,
    },
    Token {
        write: bool,
        expires_at: i64,
    },
}

/// An authenticated caller of a use case.
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub via: Via,
    /// Names the request in audit rows and ledger entries.
    pub request_id: String,
}

impl Caller {
    pub fn org(&self) -> &str {
        &self.principal.org
    }
    pub fn username(&self) -> &str {
        &self.principal.username
    }
    pub fn user_id(&self) -> &str {
        &self.principal.user_id
    }
    pub fn roles(&self) -> &[Role] {
        &self.principal.roles
    }
    /// What a page uses to decide which controls to show (the decision that counts is
    /// [`App::authorize`]'s).
    pub fn may(&self, a: Action) -> bool {
        self.principal.may(a)
    }
    /// The session's CSRF token ("" for a bearer token).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token { .. } => "",
        }
    }
    /// The audit row of a change this caller makes now.
    pub fn audit<'a>(&'a self, action: &'a str, object: &'a str, at: i64) -> Audit<'a> {
        Audit {
            actor: &self.principal.username,
            action,
            object,
            request_id: &self.request_id,
            at,
        }
    }
}

impl App {
    /// The one access decision for this caller, as the scope a store call must use. A denial
    /// of a privileged action is a security event in the ledger; a resource outside every
    /// relation answers exactly like a missing one.
    pub async fn authorize(
        &self,
        c: &Caller,
        action: Action,
        resource: Resource<'_>,
    ) -> AppResult<Scope> {
        let foreign = match &resource {
            Resource::Organisation(o) => *o != c.org(),
            Resource::Object(o) => o.org != c.org(),
            Resource::Account { org, .. } => *org != c.org(),
            Resource::CustomerData { customer, idc } => *customer != c.org() && *idc != c.org(),
            Resource::Filing { operator, .. }
            | Resource::GradeReview { operator, .. }
            | Resource::Engagement { operator, .. }
            | Resource::Enforcement { operator, .. }
            | Resource::Branch { operator }
            | Resource::InfoRequest { operator, .. }
            | Resource::Submission { operator, .. } => *operator != c.org(),
            Resource::Ledger => false,
        };
        // Relations are consulted only for another organisation's data: the operator's own
        // hot path reads nothing.
        let rel = if foreign {
            self.relations(c.org()).await?
        } else {
            Relations::default()
        };
        match dengbao_guard::authorize(&c.principal, action, &resource, &rel, self.clock.now_ms()) {
            Decision::Allow(scope) => Ok(scope),
            Decision::Deny(d) => {
                if action.privileged() {
                    auth::record_security_event(
                        self,
                        c.org(),
                        c.username(),
                        action.as_str(),
                        "authz.denied",
                        &c.request_id,
                    )
                    .await?;
                }
                Err(match d {
                    Denial::Absent => AppError::not_found(),
                    Denial::Forbidden(why) => AppError::forbidden(why),
                })
            }
        }
    }

    /// The answer for what the caller's organisation is not a party to: the guard is still
    /// asked for `action` on the caller's own organisation (a denied privileged action is a
    /// security event), then it is absent.
    pub(crate) async fn absent<T>(&self, c: &Caller, action: Action) -> AppResult<T> {
        self.authorize(c, action, Resource::Organisation(c.org()))
            .await?;
        Err(AppError::not_found())
    }

    /// [`App::authorize`] on the caller's own organisation, answering its id.
    pub async fn own(&self, c: &Caller, action: Action) -> AppResult<String> {
        self.authorize(c, action, Resource::Organisation(c.org()))
            .await
            .map(|s| match s {
                Scope::Org(o) => o,
                Scope::All | Scope::Customer { .. } => c.org().to_owned(),
            })
    }

    /// The relations in which `org` is the supervising or engaged party.
    pub(crate) async fn relations(&self, org: &str) -> AppResult<Relations> {
        use dengbao_guard::{Engagement, Jurisdiction, Supervision};
        let r = self.store.relations_of(org).await?;
        Ok(Relations {
            supervision: r
                .supervised
                .into_iter()
                .map(|operator| Supervision {
                    department: org.to_owned(),
                    operator,
                })
                .collect(),
            // A level the guard does not know grants nothing.
            jurisdictions: r
                .jurisdictions
                .into_iter()
                .filter_map(|(division, level)| {
                    Some(Jurisdiction {
                        organ: org.to_owned(),
                        division,
                        level: level.parse().ok()?,
                    })
                })
                .collect(),
            engagements: r
                .engagements
                .into_iter()
                .map(|e| Engagement {
                    agency: org.to_owned(),
                    operator: e.operator,
                    object: e.object,
                    from_ms: e.starts_at,
                    until_ms: e.ends_at,
                })
                .collect(),
            filed: r.filed,
        })
    }
}

//! The one error type of the use cases. It says what went wrong in the caller's terms
//! ([`ErrorKind`], a stable slug, a detail naming the rule, the field); the server maps the
//! kind to an HTTP status in one place.

use dengbao_store::StoreError;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed request.
    BadRequest,
    /// Not authenticated (or no longer).
    Unauthorized,
    /// Authenticated, visible, not allowed.
    Forbidden,
    /// Absent — or outside every relation of the caller, which must look the same.
    NotFound,
    /// Already exists, in use, or changed since it was read.
    Conflict,
    /// Well-formed but breaks a rule; names the field.
    Invalid,
    /// Throttled; `retry_after_s` says when to try again.
    TooManyRequests,
    /// A dependency (database, signer) is not there.
    Unavailable,
    /// Ours, not the caller's: logged, answered generically.
    Internal,
}

#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct AppError {
    pub kind: ErrorKind,
    /// Short stable name; the problem `type` is `/problems/<slug>`.
    pub slug: &'static str,
    pub detail: String,
    /// The input field the problem is about (`assessment.business_information[0].degree`).
    pub field: Option<String>,
    /// Extra members for the problem body (`missing`, `locked_until_ms`, …).
    pub extra: Option<Box<Value>>,
    /// Seconds until a throttled request may be repeated.
    pub retry_after_s: Option<u64>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: ErrorKind, slug: &'static str, detail: impl Into<String>) -> AppError {
        AppError {
            kind,
            slug,
            detail: detail.into(),
            field: None,
            extra: None,
            retry_after_s: None,
        }
    }
    pub fn not_found() -> AppError {
        AppError::new(ErrorKind::NotFound, "not-found", "no such resource")
    }
    pub fn unauthorized(detail: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Unauthorized, "unauthorized", detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Forbidden, "forbidden", detail)
    }
    pub fn bad_request(detail: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::BadRequest, "bad-request", detail)
    }
    /// Input that parsed but breaks a rule: names the field.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> AppError {
        AppError {
            field: Some(field.into()),
            ..AppError::new(ErrorKind::Invalid, "validation", detail)
        }
    }
    pub fn conflict(detail: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Conflict, "conflict", detail)
    }
    /// A well-formed request that the current state refuses: what `field` names does not
    /// exist on the platform, or the object is not in a state that allows the action. 422 is
    /// kept for input that breaks a rule of its own, which the OpenAPI schemas state; this
    /// is what no schema can state (409, RFC 9110 §15.5.10).
    pub fn state(field: impl Into<String>, detail: impl Into<String>) -> AppError {
        AppError {
            field: Some(field.into()),
            ..AppError::new(ErrorKind::Conflict, "conflict", detail)
        }
    }
    pub fn too_many(detail: impl Into<String>, retry_after_s: u64) -> AppError {
        AppError {
            retry_after_s: Some(retry_after_s.max(1)),
            ..AppError::new(ErrorKind::TooManyRequests, "too-many-requests", detail)
        }
    }
    pub fn with_extra(mut self, extra: Value) -> AppError {
        self.extra = Some(Box::new(extra));
        self
    }
    /// A failure that is ours: logged in full here, answered generically.
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %e, "internal error");
        AppError::new(
            ErrorKind::Internal,
            "internal",
            "the server could not complete the request; it has been logged",
        )
    }
    /// `reason` of an authentication failure (`mfa_required`, `session_expired`).
    pub fn reason(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|x| x["reason"].as_str())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::NotFound => AppError::not_found(),
            StoreError::Conflict(what) => {
                AppError::conflict(format!("already exists or in use: {what}"))
            }
            StoreError::Stale { expected, actual } => AppError::new(
                ErrorKind::Conflict,
                "stale-write",
                format!(
                    "the record changed since it was read: you sent version {expected}, it is now at {actual}; reload and retry"
                ),
            )
            .with_extra(json!({ "current_version": actual })),
            other => AppError::internal(other),
        }
    }
}

/// A core validation error (`systems[0].events[1].date: …`) as an invalid field relative to
/// what the caller sent.
pub fn from_core(e: dengbao_core::Error, strip: &str) -> AppError {
    let field = e.path.strip_prefix(strip).unwrap_or(&e.path).to_owned();
    AppError::invalid(field, e.message)
}

//! The one place that maps errors to HTTP: RFC 9457 problem details for every error.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dengbao_store::StoreError;
use serde_json::{Value, json};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answered to the client as `application/problem+json`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Short slug; the problem `type` is `/problems/<slug>`.
    pub kind: &'static str,
    pub detail: String,
    /// The input field the problem is about (`assessment.business_information[0].degree`).
    pub field: Option<String>,
    pub extra: Option<Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            detail: detail.into(),
            field: None,
            extra: None,
        }
    }
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such resource")
    }
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }
    /// Input that parsed but breaks a rule: names the field.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.into()),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail)
        }
    }
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", detail)
    }
    pub fn with_extra(mut self, extra: Value) -> ApiError {
        self.extra = Some(extra);
        self
    }
    /// A failure that is ours, not the client's: logged in full, answered generically.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request; it has been logged",
        )
    }
}

fn title(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

/// A problem body for `status` (used for errors raised outside handlers too).
pub fn problem_body(status: StatusCode, kind: &str, detail: &str) -> Value {
    json!({ "type": format!("/problems/{kind}"), "title": title(status), "status": status.as_u16(), "detail": detail })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = problem_body(self.status, self.kind, &self.detail);
        if let Some(f) = self.field {
            body["field"] = json!(f);
        }
        if let Some(Value::Object(extra)) = self.extra {
            for (k, v) in extra {
                body[k] = v;
            }
        }
        let mut r = (self.status, body.to_string()).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        r
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Conflict(what) => ApiError::conflict(format!("already exists or in use: {what}")),
            StoreError::Stale { expected, actual } => ApiError::new(StatusCode::CONFLICT, "stale-write", format!("the record changed since it was read: you sent version {expected}, it is now at {actual}; reload and retry")).with_extra(json!({ "current_version": actual })),
            other => ApiError::internal(other),
        }
    }
}

/// Maps a core validation error (`systems[0].events[1].date: …`) to a 422 naming the field
/// relative to what the client sent.
pub fn from_core(e: dengbao_core::Error, strip: &str) -> ApiError {
    let field = e.path.strip_prefix(strip).unwrap_or(&e.path).to_owned();
    ApiError::invalid(field, e.message)
}

//! The one place that maps errors to HTTP: RFC 9457 problem details for every error.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dengbao_app::{AppError, ErrorKind};
use serde_json::{Value, json};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The OpenAPI description of a problem body (RFC 9457 §3, with our extension members).
#[derive(utoipa::ToSchema)]
#[schema(as = Problem)]
#[allow(dead_code)] // documentation only
pub struct ProblemDoc {
    /// `/problems/<slug>`, a page that explains the problem type.
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request path.
    pub instance: Option<String>,
    pub request_id: Option<String>,
    /// The input field at fault (`assessment.business_information[0].degree`).
    pub field: Option<String>,
}

/// An error answered to the client as `application/problem+json`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Short slug; the problem `type` is `/problems/<slug>`.
    pub kind: &'static str,
    pub detail: String,
    /// The input field the problem is about (`assessment.business_information[0].degree`).
    pub field: Option<String>,
    pub extra: Option<Box<Value>>,
    /// `Retry-After` seconds of a 429.
    pub retry_after_s: Option<u64>,
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
            retry_after_s: None,
        }
    }
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such resource")
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
    /// A failure that is ours, not the client's: logged in full, answered generically.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        AppError::internal(e).into()
    }
    /// `reason` of an authentication failure (`mfa_required`, `session_expired`).
    pub fn reason(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|x| x["reason"].as_str())
    }
    /// Until when a locked account stays locked (epoch ms).
    pub fn locked_until(&self) -> Option<i64> {
        self.extra
            .as_ref()
            .and_then(|x| x["locked_until_ms"].as_i64())
    }
}

/// The status of each kind of application error.
fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        ApiError {
            status: status(e.kind),
            kind: e.slug,
            detail: e.detail,
            field: e.field,
            extra: e.extra,
            retry_after_s: e.retry_after_s,
        }
    }
}

impl From<dengbao_store::StoreError> for ApiError {
    fn from(e: dengbao_store::StoreError) -> ApiError {
        AppError::from(e).into()
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
        if let Some(Value::Object(extra)) = self.extra.map(|b| *b) {
            for (k, v) in extra {
                body[k] = v;
            }
        }
        let mut r = (self.status, body.to_string()).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(s) = self.retry_after_s {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

//! The organisation's obligations as an iCalendar (RFC 5545) feed behind a secret, revocable
//! URL, so calendar applications can subscribe. The URL is the credential (calendar clients
//! cannot log in): it is random, stored only as its SM3 hash, and replaced or revoked by a
//! security lead.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Permission, Principal, random_token, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// RFC 5545 §3.3.11 TEXT escaping.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line folded at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character.
fn line(out: &mut String, text: &str) {
    let mut width = 0;
    for c in text.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// Renders obligations (with a due date) as a VCALENDAR of all-day events.
pub fn render(org_name: &str, items: &[crate::dto::OrgObligation], stamp: &str) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Dengbao//Obligations//ZH");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(
        &mut out,
        &format!(
            "X-WR-CALNAME:{}",
            escape(&format!("等级保护 obligations — {org_name}"))
        ),
    );
    for o in items {
        let Some(due) = &o.due else { continue };
        let date = due.replace('-', "");
        line(&mut out, "BEGIN:VEVENT");
        line(
            &mut out,
            &format!("UID:{}-{}-{}@dengbao", o.system_id, o.kind, date),
        );
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(&mut out, &format!("DTSTART;VALUE=DATE:{date}"));
        line(
            &mut out,
            &format!(
                "SUMMARY:{}",
                escape(&format!("[{}] {} — {}", o.status, o.title, o.system_name))
            ),
        );
        let mut desc = format!(
            "{} ({}), Grade {}. Responsible: {}. Status: {}. {}",
            o.title, o.kind, o.grade, o.party, o.status, o.cite
        );
        if let Some(r) = &o.reason {
            desc.push_str(&format!(". {r}"));
        }
        line(&mut out, &format!("DESCRIPTION:{}", escape(&desc)));
        line(&mut out, &format!("CATEGORIES:{}", escape(&o.status)));
        line(&mut out, "TRANSP:TRANSPARENT");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[derive(Serialize, ToSchema)]
pub struct FeedUrl {
    /// Path of the feed (append to the server's address); shown once.
    pub path: String,
}

#[utoipa::path(post, path = "/api/v1/calendar/feed", tag = "obligations", responses((status = 201, body = FeedUrl, description = "A new secret feed URL; the previous one stops working")))]
pub async fn create_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
) -> ApiResult<(StatusCode, Json<FeedUrl>)> {
    p.require(Permission::Write)?;
    let token = random_token()?;
    let now = state.clock.now_ms();
    state
        .store
        .replace_calendar_feed(
            &p.tenant_id,
            &token_hash(&token),
            &crate::audit(&p, &headers, "calendar.feed.create", "calendar", now),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(FeedUrl {
            path: format!("/calendar/{token}.ics"),
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/calendar/feed", tag = "obligations", responses((status = 204, description = "Every feed URL of the organisation stops working")))]
pub async fn revoke_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
) -> ApiResult<StatusCode> {
    p.require(Permission::Write)?;
    let now = state.clock.now_ms();
    state
        .store
        .revoke_calendar_feeds(
            &p.tenant_id,
            &crate::audit(&p, &headers, "calendar.feed.revoke", "calendar", now),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /calendar/{token}.ics` — not under the JSON API and not in its OpenAPI document: a
/// capability URL, authenticated by possession of the token.
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> ApiResult<Response> {
    let token = file.strip_suffix(".ics").ok_or_else(ApiError::not_found)?;
    if token.len() > 100 {
        return Err(ApiError::not_found());
    }
    let tenant = state
        .store
        .calendar_feed_tenant(&token_hash(token))
        .await
        .map_err(|_| ApiError::not_found())?;
    let org = state.store.organisation(&tenant).await?;
    let today = state.clock.today();
    let c = state.tenants.obligations(&state, &tenant, today).await?;
    let now = state.clock.now_ms() / 1000;
    let stamp = {
        let d = dengbao_core::Date::from_unix_seconds(now, 0);
        let s = now.rem_euclid(86_400);
        format!(
            "{}T{:02}{:02}{:02}Z",
            d.to_string().replace('-', ""),
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    };
    let body = render(&org.name, &c.items, &stamp);
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    Ok(r)
}

//! The organisation's obligations as an iCalendar (RFC 5545) feed behind a secret, revocable
//! URL, so calendar applications can subscribe. The URL is the credential (calendar clients
//! cannot log in): it is random, stored only as its SM3 hash, and replaced or revoked by a
//! security lead. The writer is ours: RFC 5545's TEXT escaping and 75-octet folding are a
//! page of code, and a crate would add a dependency for less control over both.

use dengbao_guard::Action;
use serde::Serialize;

use crate::auth::{random_token, token_hash};
use crate::error::{AppError, AppResult};
use crate::{App, Caller};

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

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedUrl {
    /// Path of the feed (append to the server's address); shown once.
    pub path: String,
}

/// A new secret feed URL; the previous one stops working.
pub async fn create_feed(app: &App, c: &Caller) -> AppResult<FeedUrl> {
    let org = app.own(c, Action::Write).await?;
    let token = random_token()?;
    let now = app.clock.now_ms();
    app.store
        .replace_calendar_feed(
            &org,
            &token_hash(&token),
            &c.audit("calendar.feed.create", "calendar", now),
        )
        .await?;
    Ok(FeedUrl {
        path: format!("/calendar/{token}.ics"),
    })
}

/// Every feed URL of the organisation stops working.
pub async fn revoke_feed(app: &App, c: &Caller) -> AppResult<()> {
    let org = app.own(c, Action::Write).await?;
    let now = app.clock.now_ms();
    app.store
        .revoke_calendar_feeds(&org, &c.audit("calendar.feed.revoke", "calendar", now))
        .await?;
    Ok(())
}

/// The feed for a capability token (possession of the token is the authorization; an
/// unknown or revoked one is absent).
pub async fn feed(app: &App, token: &str) -> AppResult<String> {
    if token.len() > 100 {
        return Err(AppError::not_found());
    }
    let tenant = app
        .store
        .calendar_feed_tenant(&token_hash(token))
        .await
        .map_err(|_| AppError::not_found())?;
    let org = app.store.organisation(&tenant).await?;
    let today = app.clock.today();
    let c = app.tenants.obligations(app, &tenant, today).await?;
    let now = app.clock.now_ms() / 1000;
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
    Ok(render(&org.name, &c.items, &stamp))
}

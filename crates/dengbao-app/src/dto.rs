//! Request and response bodies of the JSON API. Core types appear as JSON objects whose
//! schema is documented in `docs/assess-format.md` (`dengbao-core` stays free of HTTP and
//! OpenAPI concerns).

use dengbao_core::grade::SecretDegree;
use dengbao_core::ids::DivisionCode;
use dengbao_core::model::{
    Assessment, Domain, GradingObject, Lifecycle, NetworkScope, ObjectKind, SecretInvolvement,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{AppError, AppResult};

pub const MAX_NAME: usize = 200;
pub const MAX_ID: usize = 64;

/// Ids appear in URLs: letters, digits, `.`, `_`, `-`; not only dots (`.`, `..` are path
/// segments of their own) and not a word the pages use as a path (`new`).
pub fn check_id(field: &str, id: &str) -> AppResult<()> {
    if !plausible_id(id) {
        return Err(AppError::invalid(
            field,
            format!("1–{MAX_ID} characters of A–Z, a–z, 0–9, `.`, `_`, `-`"),
        ));
    }
    if id.bytes().all(|b| b == b'.') || RESERVED_IDS.contains(&id) {
        return Err(AppError::invalid(
            field,
            format!("`{id}` is reserved: only dots, or a word of the site's paths"),
        ));
    }
    Ok(())
}

/// Path words an object id may not take.
pub const RESERVED_IDS: &[&str] = &["new"];

/// Whether `id` could name anything at all (an id from a path is checked with this before it
/// reaches a query: what cannot exist is absent, and never a database error).
pub fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Characters that change how text around them is displayed without being seen: bidi
/// controls (U+202A–202E, U+2066–2069, U+200E, U+200F, U+061C) and zero-width ones
/// (U+200B–200D, U+2060, U+FEFF). They make a name read as another (Trojan-source style).
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// A one-line name or title: 1–`max` characters, no control or invisible characters.
pub fn check_text(field: &str, s: &str, max: usize) -> AppResult<()> {
    if s.trim().is_empty() || s.chars().count() > max {
        return Err(AppError::invalid(field, format!("1–{max} characters")));
    }
    if let Some(c) = s.chars().find(|c| c.is_control() || invisible(*c)) {
        return Err(AppError::invalid(
            field,
            format!(
                "contains U+{:04X}: no control, bidirectional or zero-width characters in names",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

/// Free text (a note, reasons, evidence): at most `max` characters; line breaks and tabs
/// allowed, other control and invisible characters not.
pub fn check_free_text(field: &str, s: &str, max: usize) -> AppResult<()> {
    if s.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || invisible(*c))
    {
        return Err(AppError::invalid(
            field,
            format!(
                "contains U+{:04X}: no control, bidirectional or zero-width characters",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

/// The stored facts of a grading object (everything but identity, history, materials and
/// products in use, which live in their own tables).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SystemFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<DivisionCode>,
    #[serde(default)]
    pub network_scope: NetworkScope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_in_charge: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub central_beijing_entity: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub graded_uniformly: bool,
    #[serde(default)]
    pub lifecycle: Lifecycle,
    pub assessment: Assessment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretInvolvement>,
    #[serde(default)]
    pub uses_cryptography: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<Domain>,
}

impl SystemFacts {
    pub fn into_object(self, id: String, name: String, kind: ObjectKind) -> GradingObject {
        GradingObject {
            id,
            name,
            kind,
            division: self.division,
            network_scope: self.network_scope,
            branch_of: self.branch_of,
            department_in_charge: self.department_in_charge,
            central_beijing_entity: self.central_beijing_entity,
            graded_uniformly: self.graded_uniformly,
            lifecycle: self.lifecycle,
            assessment: self.assessment,
            secret: self.secret,
            uses_cryptography: self.uses_cryptography,
            domains: self.domains,
            products_in_use: Vec::new(),
            crypto_products_in_use: Vec::new(),
            materials: Vec::new(),
            events: Vec::new(),
        }
    }

    pub fn of(o: &GradingObject) -> SystemFacts {
        SystemFacts {
            division: o.division,
            network_scope: o.network_scope,
            branch_of: o.branch_of.clone(),
            department_in_charge: o.department_in_charge.clone(),
            central_beijing_entity: o.central_beijing_entity,
            graded_uniformly: o.graded_uniformly,
            lifecycle: o.lifecycle.clone(),
            assessment: o.assessment.clone(),
            secret: o.secret,
            uses_cryptography: o.uses_cryptography,
            domains: o.domains.clone(),
        }
    }
}

/// A grading object as the client sends it (create, or replace with `version`).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SystemInput {
    /// Stable id, unique in the organisation (URL-safe).
    pub id: String,
    pub name: String,
    /// `information_system`, `network_infrastructure`, `data_resource`, `cloud_platform_provider`,
    /// `cloud_tenant`, `iot`, `industrial_control`, `mobile`, `big_data`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: ObjectKind,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[serde(default)]
    pub division: Option<DivisionCode>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[serde(default)]
    pub network_scope: Option<NetworkScope>,
    #[serde(default)]
    pub branch_of: Option<String>,
    #[serde(default)]
    pub department_in_charge: Option<String>,
    /// A Beijing-located entity subordinated to the Central Government (art. 15 ¶3).
    #[serde(default)]
    pub central_beijing_entity: bool,
    /// The department in charge graded the system uniformly (art. 10 ¶2; art. 15 ¶3): with
    /// the fact above and a trans-provincial or nationwide network, the department files.
    #[serde(default)]
    pub graded_uniformly: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[serde(default)]
    pub lifecycle: Option<Lifecycle>,
    /// `{ business_information: [{object, degree}], system_service: [...] }`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub assessment: Assessment,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[serde(default)]
    pub secret: Option<SecretInvolvement>,
    #[serde(default)]
    pub uses_cryptography: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Object>>))]
    #[serde(default)]
    pub domains: Vec<Domain>,
    /// Required to replace: the version you read (stale → 409).
    #[serde(default)]
    pub version: Option<i64>,
}

impl SystemInput {
    pub fn check(&self) -> AppResult<()> {
        check_id("id", &self.id)?;
        check_text("name", &self.name, MAX_NAME)?;
        for (f, v) in [
            ("branch_of", &self.branch_of),
            ("department_in_charge", &self.department_in_charge),
        ] {
            if let Some(v) = v {
                check_text(f, v, MAX_NAME)?;
            }
        }
        if self.domains.len() > 50 {
            return Err(AppError::invalid("domains", "at most 50"));
        }
        for (i, h) in [
            &self.assessment.business_information,
            &self.assessment.system_service,
        ]
        .iter()
        .enumerate()
        {
            if h.len() > 20 {
                return Err(AppError::invalid(
                    if i == 0 {
                        "assessment.business_information"
                    } else {
                        "assessment.system_service"
                    },
                    "at most 20 harms",
                ));
            }
        }
        Ok(())
    }

    pub fn facts(&self) -> SystemFacts {
        SystemFacts {
            division: self.division,
            network_scope: self.network_scope.unwrap_or_default(),
            branch_of: self.branch_of.clone(),
            department_in_charge: self.department_in_charge.clone(),
            central_beijing_entity: self.central_beijing_entity,
            graded_uniformly: self.graded_uniformly,
            lifecycle: self.lifecycle.clone().unwrap_or_default(),
            assessment: self.assessment.clone(),
            secret: self.secret,
            uses_cryptography: self.uses_cryptography,
            domains: self.domains.clone(),
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemSummary {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// I–V.
    pub grade: String,
    pub version: i64,
    pub updated_at_ms: i64,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemPage {
    pub items: Vec<SystemSummary>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub grade: String,
    pub version: i64,
    /// The stored facts (lifecycle, assessment, secret involvement, domains, …).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub facts: SystemFacts,
    /// Grade with its reasoning and citations (the `grading` object of the assess contract).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub grading: crate::grading::Graded,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GradingRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub assessment: Assessment,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[serde(default)]
    pub secret_degree: Option<SecretDegree>,
    /// Date of the determination (default today, Asia/Shanghai).
    #[serde(default)]
    pub date: Option<String>,
    pub version: i64,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GradingPreview {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub assessment: Assessment,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[serde(default)]
    pub secret_degree: Option<SecretDegree>,
    #[serde(default)]
    pub has_department_in_charge: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[serde(default)]
    pub network_scope: Option<NetworkScope>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventView {
    pub id: String,
    /// The event (`date`, `type`, and the type's fields), as in `docs/assess-format.md`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub event: Value,
    pub recorded_at_ms: i64,
    pub recorded_by: String,
}

#[derive(Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgObligation {
    pub system_id: String,
    pub system_name: String,
    pub grade: String,
    pub kind: &'static str,
    pub title: String,
    pub party: &'static str,
    pub status: String,
    pub due: Option<String>,
    pub cite: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObligationPage {
    pub as_of: String,
    /// Count per status over all systems.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub counts: StatusCounts,
    pub items: Vec<OrgObligation>,
    pub total: usize,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MaterialInput {
    /// A name (`check_text`: no control, bidirectional or zero-width characters).
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff]*[^\\s\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff][^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff]*$"
        )
    )]
    pub title: String,
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 255,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff]*[^\\s\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff][^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff]*$"
        )
    )]
    pub file_name: String,
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 100,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff]*[^\\s\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff][^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff]*$"
        )
    )]
    pub media_type: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 4294967296_i64))]
    pub size: i64,
    /// Hex SHA-256 of the file, for integrity.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-fA-F]{64}$"))]
    pub sha256: String,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaterialView {
    pub kind: String,
    pub title: String,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at_ms: i64,
    pub uploaded_by: String,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FilingView {
    pub id: String,
    /// `submitted`, `received`, `certified`, `correction_requested` or `regrade_requested`.
    pub status: String,
    pub grade: String,
    pub materials: Vec<String>,
    pub created_at_ms: i64,
    pub submitted_at_ms: Option<i64>,
    /// Routed to a public security organ on the platform (whose jurisdiction covers the
    /// object's division); otherwise it was filed outside it.
    pub routed: bool,
    pub received_on: Option<String>,
    pub decided_on: Option<String>,
    /// The organ's reasons, for a notice.
    pub reasons: Option<String>,
    /// The certificate's number (`GET /api/v1/certificates/{number}` verifies it).
    pub certificate: Option<String>,
}

/// One material the dossier needs (Measures art. 16), and whether it is there.
#[derive(Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequiredMaterial {
    pub kind: &'static str,
    pub title: &'static str,
    pub cite: &'static str,
    pub provided: bool,
}

#[derive(Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MissingMaterial {
    pub kind: &'static str,
    pub title: &'static str,
    pub cite: &'static str,
}

/// Completeness of the filing dossier per Measures art. 16.
#[derive(Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DossierSummary {
    /// A record filing is required at all (Grade II and above, not secret-involved).
    pub applicable: bool,
    pub complete: bool,
    pub cite: &'static str,
    /// I–V.
    pub grade: &'static str,
    pub required: Vec<RequiredMaterial>,
    pub missing: Vec<MissingMaterial>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DossierResponse {
    pub dossier: DossierSummary,
    pub materials: Vec<MaterialView>,
    pub filings: Vec<FilingView>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InUseInput {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 500))]
    pub products: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 500))]
    pub crypto_products: Vec<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CandidateInput {
    pub id: String,
    pub name: String,
    /// Criterion id → `true`/`false` or a number (see `dengbao rules show`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[serde(default)]
    pub facts: std::collections::BTreeMap<String, dengbao_core::model::FactValue>,
    /// Criterion id → where the fact comes from.
    #[serde(default)]
    pub evidence: std::collections::BTreeMap<String, String>,
    /// Required to replace: the version you read.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A registry entry with its per-criterion eligibility (met / not_met / unknown, each with
/// its article), made from the rule pack when read or serialized (the server documents its
/// JSON shape).
pub struct CandidateView {
    pub category: String,
    pub id: String,
    pub name: String,
    pub version: i64,
    pub candidate: dengbao_core::model::Candidate,
    pub rules: &'static dengbao_core::pack::CriteriaRules,
}

impl CandidateView {
    pub fn eligibility(&self) -> dengbao_core::eligibility::Eligibility<'_> {
        dengbao_core::eligibility::evaluate(self.rules, &self.candidate)
    }
}

impl Serialize for CandidateView {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            category: &'a str,
            id: &'a str,
            name: &'a str,
            version: i64,
            eligibility: dengbao_core::eligibility::Eligibility<'a>,
        }
        Out {
            category: &self.category,
            id: &self.id,
            name: &self.name,
            version: self.version,
            eligibility: self.eligibility(),
        }
        .serialize(s)
    }
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub disabled: bool,
    pub totp_enabled: bool,
    pub locked_until_ms: i64,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub seq: i64,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub request_id: String,
    pub at_ms: i64,
}

/// Standard base64 with padding (RFC 4648 §4), as the documents' pattern says. Unused bits
/// of the last symbol are ignored (RFC 4648 §3.5 lets decoders do so): `YR==` is `a` to
/// most encoders' readers, and refusing it would refuse what the pattern admits.
pub fn decode_base64(field: &str, s: &str) -> AppResult<Vec<u8>> {
    use base64::Engine;
    use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    LENIENT
        .decode(s.trim())
        .map_err(|e| AppError::invalid(field, format!("not base64: {e}")))
}

/// `(limit, offset, page, per_page)` from 1-based page parameters, clamped.
pub fn paging(
    page: Option<i64>,
    per_page: Option<i64>,
    default: i64,
    max: i64,
) -> AppResult<(i64, i64, i64, i64)> {
    let page = page.unwrap_or(1);
    let per = per_page.unwrap_or(default);
    if !(1..=1_000_000).contains(&page) {
        return Err(AppError::invalid("page", "1 or more"));
    }
    if !(1..=max).contains(&per) {
        return Err(AppError::invalid("per_page", format!("1–{max}")));
    }
    Ok((per, (page - 1) * per, page, per))
}

/// Counts per status over all systems (`overdue`, `due_soon`, `upcoming`, `met`).
pub type StatusCounts = std::collections::BTreeMap<&'static str, usize>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_the_pattern_admits() {
        assert_eq!(decode_base64("f", "YQ==").unwrap(), b"a");
        // Unused bits set in the last symbol: still `a`.
        assert_eq!(decode_base64("f", "YR==").unwrap(), b"a");
        let e = decode_base64("content_base64", "Y").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("content_base64"));
    }
}

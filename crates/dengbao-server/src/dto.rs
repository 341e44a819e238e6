//! The HTTP shapes: query parameters, and the OpenAPI description of bodies whose JSON is
//! made by a custom serializer. Bodies themselves are the application's types
//! (`dengbao_app::dto`, with their schemas under its `openapi` feature).

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

pub use dengbao_app::dto::*;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SystemQuery {
    /// I–V.
    #[param(pattern = "^(I|II|III|IV|V)$")]
    pub grade: Option<String>,
    /// An object kind (`dengbao_core::ObjectKind`).
    #[param(
        pattern = "^(information_system|network_infrastructure|data_resource|cloud_platform_provider|cloud_tenant|iot|industrial_control|mobile|big_data)$"
    )]
    pub kind: Option<String>,
    /// Substring of the id or name.
    #[param(
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff]*$"
    )]
    pub q: Option<String>,
    /// 1-based.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<i64>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// The version you read (stale → 409).
    pub version: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// YYYY-MM-DD; default today in Asia/Shanghai.
    #[param(format = Date, pattern = "^(19|[2-9][0-9])[0-9]{2}-")]
    pub as_of: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObligationQuery {
    /// YYYY-MM-DD; default today in Asia/Shanghai.
    #[param(format = Date, pattern = "^(19|[2-9][0-9])[0-9]{2}-")]
    pub as_of: Option<String>,
    /// `overdue`, `due_soon`, `upcoming`, `met`.
    #[param(pattern = "^(overdue|due_soon|upcoming|met)$")]
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<i64>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<i64>,
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaPageQuery {
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<i64>,
    /// 1–500, default 200.
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<i64>,
}

/// The path pattern of a dossier material (`dengbao_core::MaterialKind`; a contract test
/// holds the two together).
pub const MATERIAL_KINDS: &str = "^(record_filing_form|topology|security_organisation|security_design|product_list|evaluation_report|expert_review|department_approval|design_plan|integrator_qualification|construction_report|secrecy_evaluation_report|secrecy_organisation|other_materials)$";

/// The JSON of a registry entry (`dengbao_app::dto::CandidateView`).
#[derive(ToSchema)]
#[schema(as = CandidateView)]
#[allow(dead_code)] // documentation only
pub struct CandidateDoc {
    pub category: String,
    pub id: String,
    pub name: String,
    pub version: i64,
    /// Per-criterion verdicts (met / not_met / unknown) with citations.
    #[schema(value_type = Object)]
    pub eligibility: (),
}

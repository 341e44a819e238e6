//! IDC customer data (MIIT's notice): adapters over `dengbao_app::idc`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use dengbao_app::idc::{
    self, ApprovalInput, AssetView, ContentInput, ContentView, ContractView, CustomerView,
    DestructionCertificateView, DestructionInput, DestructionView, IncidentView, NewAsset,
    NewContract, NewCustomer, NewIncident, Overview, ProgrammeInput, ProgrammeView,
};

use crate::Body;
use crate::auth::Authed;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/idc", tag = "idc", responses((status = 200, body = Overview, description = "What the caller may see of IDC customer data: for the IDC operator every customer (category, profile), contract (with its responsibility-matrix findings), asset, isolation breach, destruction and incident; for a customer only its own"), (status = 403, description = "Neither an IDC operator nor a customer")))]
pub async fn overview(State(s): State<AppState>, Authed(c): Authed) -> ApiResult<Json<Overview>> {
    Ok(Json(idc::overview(&s, &c).await?))
}

#[utoipa::path(put, path = "/api/v1/idc/programme", tag = "idc", request_body = ProgrammeInput, responses((status = 200, body = ProgrammeView, description = "The data-security officer and responsible department named"), (status = 403), (status = 422)))]
pub async fn set_programme(
    State(s): State<AppState>,
    Authed(c): Authed,
    Body(i): Body<ProgrammeInput>,
) -> ApiResult<Json<ProgrammeView>> {
    Ok(Json(idc::set_programme(&s, &c, i).await?))
}

#[utoipa::path(post, path = "/api/v1/idc/customers", tag = "idc", request_body = NewCustomer, responses((status = 201, body = CustomerView, description = "The customer's organisation (kind idc_customer), its category and profile"), (status = 403), (status = 409), (status = 422)))]
pub async fn create_customer(
    State(s): State<AppState>,
    Authed(c): Authed,
    Body(i): Body<NewCustomer>,
) -> ApiResult<(axum::http::StatusCode, Json<CustomerView>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(idc::create_customer(&s, &c, i).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/idc/contracts", tag = "idc", request_body = NewContract, responses((status = 201, body = ContractView, description = "Recorded, with the completeness check of its responsibility matrix (every duty of the notice)"), (status = 403), (status = 422)))]
pub async fn create_contract(
    State(s): State<AppState>,
    Authed(c): Authed,
    Body(i): Body<NewContract>,
) -> ApiResult<(axum::http::StatusCode, Json<ContractView>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(idc::create_contract(&s, &c, i).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/idc/assets", tag = "idc", request_body = NewAsset, responses((status = 201, body = AssetView, description = "Recorded; its name sealed under a data key of its own"), (status = 403), (status = 409, description = "No data-security officer named yet"), (status = 422)))]
pub async fn create_asset(
    State(s): State<AppState>,
    Authed(c): Authed,
    Body(i): Body<NewAsset>,
) -> ApiResult<(axum::http::StatusCode, Json<AssetView>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(idc::create_asset(&s, &c, i).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/idc/assets/{id}", tag = "idc", params(("id" = String, Path)), responses((status = 200, body = AssetView), (status = 404)))]
pub async fn asset(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<AssetView>> {
    Ok(Json(idc::asset(&s, &c, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/idc/assets/{id}/content", tag = "idc", params(("id" = String, Path)), request_body = ContentInput, responses((status = 200, body = AssetView, description = "Kept as sealed copies: the primary and the backups the customer's profile asks for"), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn put_content(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(i): Body<ContentInput>,
) -> ApiResult<Json<AssetView>> {
    Ok(Json(idc::put_content_base64(&s, &c, &id, i).await?))
}

#[utoipa::path(get, path = "/api/v1/idc/assets/{id}/copies/{copy}", tag = "idc", params(("id" = String, Path), ("copy" = String, Path)), responses((status = 200, body = ContentView, description = "The copy opened — for the customer only"), (status = 403, description = "The operator needs the customer's authorization"), (status = 404), (status = 409, description = "key-destroyed: the asset was crypto-shredded")))]
pub async fn copy(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path((id, copy)): Path<(String, String)>,
) -> ApiResult<Json<ContentView>> {
    Ok(Json(idc::content_base64(&s, &c, &id, &copy).await?))
}

#[utoipa::path(post, path = "/api/v1/idc/assets/{id}/destruction", tag = "idc", params(("id" = String, Path)), request_body = DestructionInput, responses((status = 201, body = DestructionView, description = "Requested; it waits for the customer's approvals (as many as its profile asks)"), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn request_destruction(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(i): Body<DestructionInput>,
) -> ApiResult<(axum::http::StatusCode, Json<DestructionView>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(idc::request_destruction(&s, &c, &id, i).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/idc/destructions/{id}/decision", tag = "idc", params(("id" = String, Path)), request_body = ApprovalInput, responses((status = 200, body = DestructionView, description = "The customer's approval or refusal"), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn decide_destruction(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(i): Body<ApprovalInput>,
) -> ApiResult<Json<DestructionView>> {
    Ok(Json(idc::decide_destruction(&s, &c, &id, i).await?))
}

#[utoipa::path(post, path = "/api/v1/idc/destructions/{id}/execute", tag = "idc", params(("id" = String, Path)), responses((status = 200, body = DestructionCertificateView, description = "Executed by crypto-shredding; the signed destruction certificate"), (status = 403), (status = 404), (status = 409, description = "Not approved")))]
pub async fn execute_destruction(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<DestructionCertificateView>> {
    Ok(Json(idc::execute_destruction(&s, &c, &id).await?))
}

#[utoipa::path(get, path = "/api/v1/idc/certificates/{number}", tag = "idc", params(("number" = String, Path)), responses((status = 200, body = DestructionCertificateView), (status = 404)))]
pub async fn certificate(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(number): Path<String>,
) -> ApiResult<Json<DestructionCertificateView>> {
    Ok(Json(idc::certificate(&s, &c, &number).await?))
}

#[utoipa::path(post, path = "/api/v1/idc/incidents", tag = "idc", request_body = NewIncident, responses((status = 201, body = IncidentView, description = "Recorded; when the IDC caused it, the customers and the telecom regulator are told at once"), (status = 403), (status = 409), (status = 422)))]
pub async fn record_incident(
    State(s): State<AppState>,
    Authed(c): Authed,
    Body(i): Body<NewIncident>,
) -> ApiResult<(axum::http::StatusCode, Json<IncidentView>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(idc::record_incident(&s, &c, i).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/idc/incidents/{id}/report", tag = "idc", params(("id" = String, Path)), responses((status = 200, content_type = "text/plain", body = String, description = "The regulator's report, bilingual text"), (status = 403), (status = 404)))]
pub async fn regulator_report(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let (name, text) = idc::regulator_report(&s, &c, &id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        text,
    ))
}

// ----- the customer's authorization ------------------------------------------------------

use dengbao_app::access::{
    self, AccessDecisionInput, AccessView, AnswerInput, ApproverKeyInput, ApproverKeyView,
    NewAccessRequest,
};

#[utoipa::path(post, path = "/api/v1/idc/access", tag = "idc", request_body = NewAccessRequest, responses((status = 201, body = AccessView, description = "Requested: pending the customer's approvers, or pre-approved (a routine backup; break-glass where the policy allows it, told to the customer at once)"), (status = 403, description = "policy-denied, or not the IDC operator"), (status = 409), (status = 422)))]
pub async fn request_access(
    State(s): State<AppState>,
    Authed(c): Authed,
    Body(i): Body<NewAccessRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<AccessView>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(access::request(&s, &c, i).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/idc/access", tag = "idc", responses((status = 200, body = Vec<AccessView>, description = "Every request with its signed decisions and each use of the grant (the customer's transparency view)"), (status = 403)))]
pub async fn list_access(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Json<Vec<AccessView>>> {
    Ok(Json(access::list(&s, &c).await?))
}

#[utoipa::path(get, path = "/api/v1/idc/access/{id}", tag = "idc", params(("id" = String, Path)), responses((status = 200, body = AccessView), (status = 404)))]
pub async fn get_access(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<AccessView>> {
    Ok(Json(access::get(&s, &c, &id).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct PayloadQuery {
    /// The decision to sign: approve, deny, more_info, revoke, extend or review.
    #[serde(default)]
    pub decision: String,
}

#[utoipa::path(get, path = "/api/v1/idc/access/{id}/payload", tag = "idc", params(("id" = String, Path), PayloadQuery), responses((status = 200, content_type = "text/plain", body = String, description = "The exact text an approver holding its own key signs (a C2SP note body)"), (status = 403), (status = 404), (status = 422)))]
pub async fn access_payload(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Query(q): Query<PayloadQuery>,
) -> ApiResult<impl IntoResponse> {
    let text = access::payload_for(&s, &c, &id, &q.decision).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text))
}

#[utoipa::path(post, path = "/api/v1/idc/access/{id}/decision", tag = "idc", params(("id" = String, Path)), request_body = AccessDecisionInput, responses((status = 200, body = AccessView, description = "The customer approver's decision, signed with its SM2 key"), (status = 403), (status = 404), (status = 409, description = "Not possible in the request's state, or no approver key"), (status = 422)))]
pub async fn decide_access(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(i): Body<AccessDecisionInput>,
) -> ApiResult<Json<AccessView>> {
    Ok(Json(access::decide(&s, &c, &id, i).await?))
}

#[utoipa::path(post, path = "/api/v1/idc/access/{id}/answer", tag = "idc", params(("id" = String, Path)), request_body = AnswerInput, responses((status = 200, body = AccessView, description = "The operator's answer to the customer's question: pending again"), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn answer_access(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(i): Body<AnswerInput>,
) -> ApiResult<Json<AccessView>> {
    Ok(Json(
        access::operator_act(&s, &c, &id, "answer", Some(i)).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/idc/access/{id}/complete", tag = "idc", params(("id" = String, Path)), responses((status = 200, body = AccessView, description = "The operator is done: the grant opens nothing more"), (status = 403), (status = 404), (status = 409)))]
pub async fn complete_access(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<AccessView>> {
    Ok(Json(
        access::operator_act(&s, &c, &id, "complete", None).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/idc/approver-key", tag = "idc", request_body = ApproverKeyInput, responses((status = 200, body = ApproverKeyView, description = "The caller's approver key: its own public key, or one the platform keeps sealed for it"), (status = 403), (status = 422)))]
pub async fn set_approver_key(
    State(s): State<AppState>,
    Authed(c): Authed,
    Body(i): Body<ApproverKeyInput>,
) -> ApiResult<Json<ApproverKeyView>> {
    Ok(Json(access::set_approver_key(&s, &c, i).await?))
}

#[utoipa::path(get, path = "/api/v1/idc/access/{id}/evidence", tag = "idc", params(("id" = String, Path)), responses((status = 200, body = dengbao_app::ledger::Evidence, description = "Every ledger entry of the request (creation, each signed decision, each use, the end) with its inclusion proof against one signed checkpoint: the customer checks it offline with the public key"), (status = 404), (status = 503, description = "No checkpoint signed yet")))]
pub async fn access_evidence(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<dengbao_app::ledger::Evidence>> {
    Ok(Json(access::evidence(&s, &c, &id).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct PolicyQuery {
    /// The customer (the IDC operator names one; a customer sees its own).
    pub customer: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/idc/policies", tag = "idc", params(PolicyQuery), responses((status = 200, body = access::PoliciesView, description = "The customer's policies in Cedar: the built-in ones from its profile, its own, and the schema they are checked against"), (status = 403), (status = 404), (status = 422)))]
pub async fn list_policies(
    State(s): State<AppState>,
    Authed(c): Authed,
    Query(q): Query<PolicyQuery>,
) -> ApiResult<Json<access::PoliciesView>> {
    Ok(Json(access::policies(&s, &c, q.customer.as_deref()).await?))
}

#[utoipa::path(post, path = "/api/v1/idc/policies", tag = "idc", request_body = access::NewPolicy, responses((status = 201, body = access::PolicyView, description = "Proposed (checked against the schema); in force once another of the customer's approvers approves it"), (status = 403), (status = 422, description = "The policy does not parse or fit the schema; the detail names each problem")))]
pub async fn propose_policy(
    State(s): State<AppState>,
    Authed(c): Authed,
    Body(i): Body<access::NewPolicy>,
) -> ApiResult<(axum::http::StatusCode, Json<access::PolicyView>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(access::propose_policy(&s, &c, i).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/idc/policies/{id}/decision", tag = "idc", params(("id" = String, Path)), request_body = access::PolicyDecisionInput, responses((status = 200, body = access::PolicyView), (status = 403), (status = 404), (status = 409, description = "Not possible in the policy's state, or the same person twice")))]
pub async fn decide_policy(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(i): Body<access::PolicyDecisionInput>,
) -> ApiResult<Json<access::PolicyView>> {
    Ok(Json(access::decide_policy(&s, &c, &id, i).await?))
}

#[utoipa::path(post, path = "/api/v1/idc/access/{id}/share", tag = "idc", params(("id" = String, Path)), request_body = access::ShareInput, responses((status = 200, body = access::ShareView, description = "Through the external-sharing gate: scanned, evaluated, released (with the content) or blocked (with the reason), kept as evidence either way"), (status = 403, description = "No live export grant of the customer's"), (status = 404), (status = 409), (status = 422)))]
pub async fn share(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(i): Body<access::ShareInput>,
) -> ApiResult<Json<access::ShareView>> {
    Ok(Json(access::share(&s, &c, &id, i).await?))
}

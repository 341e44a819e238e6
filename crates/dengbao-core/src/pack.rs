//! Rule packs: every parameter the engine applies, with its citation, as data.
//!
//! The baseline pack `measures-2007` is embedded. An overlay (`extends = "measures-2007"`)
//! replaces individual parameters; loading merges it over its base, checks that every table it
//! touches cites its own source, and validates the result into [`RulePack`]. The engine reads
//! parameters only from a `RulePack` — there are no rule constants elsewhere.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::date::{Date, Period};
use crate::error::{Error, Result};
use crate::grade::{Grade, HarmDegree, HarmObject, SecretDegree};

const MEASURES_2007: &str = include_str!("../rules/measures-2007.toml");

/// Built-in packs: `(id, TOML text)`.
pub const BUILTIN: &[(&str, &str)] = &[("measures-2007", MEASURES_2007)];

/// Who must act (责任方).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Party {
    /// 运营使用单位
    Operator,
    /// 主管部门
    DepartmentInCharge,
    /// 公安机关
    PublicSecurity,
    /// 保密工作部门
    SecrecyDepartment,
    /// 国家密码管理部门
    CryptographyAdministration,
}

impl Party {
    pub const ALL: [Party; 5] = [
        Party::Operator,
        Party::DepartmentInCharge,
        Party::PublicSecurity,
        Party::SecrecyDepartment,
        Party::CryptographyAdministration,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Which systems an obligation concerns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    All,
    /// Systems that are not secret-involved (those go through the secrecy track instead).
    NonSecret,
    /// Secret-involved systems only.
    Secret,
}

macro_rules! obligation_kinds {
    ($($variant:ident => $id:literal,)*) => {
        /// Every obligation the engine knows (RULES.md §2). The pack supplies each one's
        /// parameters and citation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ObligationKind { $($variant,)* }

        impl ObligationKind {
            pub const ALL: &'static [ObligationKind] = &[$(ObligationKind::$variant,)*];
            pub fn id(self) -> &'static str {
                match self { $(ObligationKind::$variant => $id,)* }
            }
            pub fn from_id(s: &str) -> Option<ObligationKind> {
                match s { $($id => Some(ObligationKind::$variant),)* _ => None }
            }
        }
    };
}

obligation_kinds! {
    DetermineGrade => "determine_grade",
    RecordFiling => "record_filing",
    BranchFiling => "branch_filing",
    FilingReview => "filing_review",
    FilingCorrection => "filing_correction",
    Regrade => "regrade",
    Refiling => "refiling",
    GradeEvaluation => "grade_evaluation",
    SelfInspection => "self_inspection",
    RectificationPlan => "rectification_plan",
    SupervisoryInspection => "supervisory_inspection",
    RectificationAfterNotice => "rectification_after_notice",
    SecrecyApproval => "secrecy_approval",
    SecretChangeReport => "secret_change_report",
    SecrecyReapproval => "secrecy_reapproval",
    SecrecyExamination => "secrecy_examination",
    CryptographyExamination => "cryptography_examination",
    CryptographyUsageFiling => "cryptography_usage_filing",
}

impl fmt::Display for ObligationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// How often a recurring obligation falls due for one grade or secret degree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cadence {
    Every(Period),
    /// "Per special security demand" (art. 14 ¶1 for Grade V): no period in the Measures.
    Special,
}

/// When an obligation falls due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timing {
    /// Once, a period after its trigger; `None` when the Measures set no time limit.
    Once(Option<Period>),
    /// Recurring, by grade (index `grade - 1`).
    ByGrade([Option<Cadence>; 5]),
    /// Recurring, by secret degree (secret, confidential, top secret).
    BySecretDegree([Option<Cadence>; 3]),
    /// Before an event of the system's lifecycle (going into operation).
    BeforeOperation,
}

/// One obligation's parameters.
#[derive(Clone, Debug)]
pub struct ObligationRule {
    pub kind: ObligationKind,
    pub title: String,
    pub party: Party,
    pub cite: String,
    pub min_grade: Option<Grade>,
    pub scope: Scope,
    pub timing: Timing,
    /// The art. 40 item an overdue operator obligation amounts to.
    pub violation: Option<u8>,
    /// The parameter comes from an unconfirmed source and should be checked by the user.
    pub unconfirmed: bool,
}

impl ObligationRule {
    /// The cadence for a grade (recurring-by-grade rules only).
    pub fn cadence_for_grade(&self, g: Grade) -> Option<Cadence> {
        match &self.timing {
            Timing::ByGrade(c) => c[usize::from(g.number() - 1)],
            _ => None,
        }
    }
    pub fn cadence_for_secret(&self, d: SecretDegree) -> Option<Cadence> {
        match &self.timing {
            Timing::BySecretDegree(c) => c[d as usize],
            _ => None,
        }
    }
    pub fn once_period(&self) -> Option<Period> {
        match &self.timing {
            Timing::Once(p) => *p,
            _ => None,
        }
    }
}

/// A material of the filing dossier (备案材料).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum MaterialKind {
    RecordFilingForm,
    Topology,
    SecurityOrganisation,
    SecurityDesign,
    ProductList,
    EvaluationReport,
    ExpertReview,
    DepartmentApproval,
    /// The application materials of a secret-involved system (art. 30).
    DesignPlan,
    IntegratorQualification,
    ConstructionReport,
    SecrecyEvaluationReport,
    SecrecyOrganisation,
    OtherMaterials,
}

impl MaterialKind {
    pub const ALL: [MaterialKind; 14] = [
        MaterialKind::RecordFilingForm,
        MaterialKind::Topology,
        MaterialKind::SecurityOrganisation,
        MaterialKind::SecurityDesign,
        MaterialKind::ProductList,
        MaterialKind::EvaluationReport,
        MaterialKind::ExpertReview,
        MaterialKind::DepartmentApproval,
        MaterialKind::DesignPlan,
        MaterialKind::IntegratorQualification,
        MaterialKind::ConstructionReport,
        MaterialKind::SecrecyEvaluationReport,
        MaterialKind::SecrecyOrganisation,
        MaterialKind::OtherMaterials,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A condition under which a dossier material is required.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialCondition {
    HasDepartmentInCharge,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialRule {
    pub kind: MaterialKind,
    pub min_grade: Grade,
    pub cite: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_if: Option<MaterialCondition>,
}

#[derive(Clone, Debug)]
pub struct DossierRules {
    pub cite: String,
    pub min_grade: Grade,
    pub scope: Scope,
    pub materials: Vec<MaterialRule>,
}

/// What a criterion requires of its fact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Expectation {
    Bool(bool),
    AtLeast(f64),
}

#[derive(Clone, Debug)]
pub struct CriterionRule {
    pub id: String,
    pub cite: String,
    pub text: String,
    pub expect: Expectation,
    /// A boolean fact that must be true for the criterion to apply.
    pub applies_if: Option<String>,
}

/// The criteria of art. 21, 22 or 37.
#[derive(Clone, Debug)]
pub struct CriteriaRules {
    pub cite: String,
    pub min_grade: Grade,
    /// The art. 40 item that using an ineligible candidate amounts to.
    pub violation: u8,
    pub criteria: Vec<CriterionRule>,
}

impl CriteriaRules {
    /// Whether `fact` is a fact name this set understands.
    pub fn knows_fact(&self, fact: &str) -> bool {
        self.criteria
            .iter()
            .any(|c| c.id == fact || c.applies_if.as_deref() == Some(fact))
    }
}

#[derive(Clone, Debug)]
pub struct EligibilityRules {
    pub security_product: CriteriaRules,
    pub evaluation_agency: CriteriaRules,
    pub crypto_product: CriteriaRules,
}

#[derive(Clone, Debug)]
pub struct ViolationRules {
    pub cite: String,
    /// Art. 40 item for each inspection matter, in [`crate::model::InspectionMatter`] order.
    pub by_inspection_matter: [u8; 8],
    pub inspection_cite: String,
    pub min_grade: Grade,
    /// Titles of art. 40 items 1–10 (index `item - 1`).
    pub titles: [String; 10],
    /// What an item is called when only the records show it (no finding of the competent
    /// party), where the law's words would say more (item 5: "refusing" to rectify).
    pub records_titles: [Option<String>; 10],
    /// Which authority orders the correction of each item, warns and informs the superior
    /// department ("according to the division of work", index `item - 1`).
    pub authority: [Party; 10],
}

#[derive(Clone, Debug)]
pub struct GradingRules {
    pub cite: String,
    pub above_cite: String,
    /// `matrix[object][degree]`.
    pub matrix: [[Grade; 3]; 3],
    pub matrix_cite: String,
    /// Floor by secret degree (secret, confidential, top secret).
    pub secret_floor: [Grade; 3],
    pub secret_floor_cite: String,
    pub expert_review_min: Grade,
    pub expert_review_cite: String,
    pub department_approval_cite: String,
    pub department_approval_text: String,
    pub uniform_grading_cite: String,
    pub uniform_grading_text: String,
    pub supervision: [String; 5],
    pub supervision_cite: String,
}

impl GradingRules {
    pub fn cell(&self, object: HarmObject, degree: HarmDegree) -> Grade {
        self.matrix[object.index()][degree.index()]
    }
    pub fn floor(&self, d: SecretDegree) -> Grade {
        self.secret_floor[d as usize]
    }
}

/// A validated rule pack.
#[derive(Clone, Debug)]
pub struct RulePack {
    pub id: String,
    pub title: String,
    pub source: String,
    pub effective: Date,
    pub extends: Option<String>,
    pub due_soon: Period,
    pub due_soon_cite: String,
    /// How many days unknown holidays could add to a due date computed without a calendar.
    pub holiday_slack: Period,
    pub holiday_slack_cite: String,
    pub grading: GradingRules,
    obligations: Vec<ObligationRule>,
    pub dossier: DossierRules,
    /// The application materials of a secret-involved system for the secrecy department's
    /// approval or record (art. 30), in place of the art. 16 dossier.
    pub secret_dossier: DossierRules,
    pub eligibility: EligibilityRules,
    pub violations: ViolationRules,
    merged: toml::Table,
}

impl RulePack {
    /// Loads a built-in pack by id.
    pub fn builtin(id: &str) -> Result<RulePack> {
        let text = BUILTIN
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                Error::new(
                    "rule pack",
                    "id",
                    format!("no built-in pack `{id}`; built-in: {}", builtin_ids()),
                )
            })?;
        let origin = format!("rule pack `{id}`");
        let table = parse_table(text, &origin)?;
        RulePack::from_table(table, &origin)
    }

    /// The baseline `measures-2007` pack.
    pub fn baseline() -> Result<RulePack> {
        RulePack::builtin("measures-2007")
    }

    /// Loads a pack from TOML text: either a whole pack, or an overlay with
    /// `extends = "<built-in id>"` whose tables replace parameters of its base.
    pub fn from_toml(text: &str, origin: &str) -> Result<RulePack> {
        let overlay = parse_table(text, origin)?;
        let Some(base_id) = overlay.get("extends") else {
            return RulePack::from_table(overlay, origin);
        };
        let base_id = base_id
            .as_str()
            .ok_or_else(|| {
                Error::new(origin, "extends", "must be a string naming a built-in pack")
            })?
            .to_owned();
        let base =
            RulePack::builtin(&base_id).map_err(|e| Error::new(origin, "extends", e.message))?;
        for key in ["id", "title", "source"] {
            if !overlay.contains_key(key) {
                return Err(Error::new(
                    origin,
                    key,
                    format!("an overlay must give its own `{key}`"),
                ));
            }
        }
        if overlay.get("id").and_then(toml::Value::as_str) == Some(base_id.as_str()) {
            return Err(Error::new(
                origin,
                "id",
                "an overlay needs an id different from the pack it extends",
            ));
        }
        check_overlay_cites(&overlay, Some(&base.merged), "", false, origin)?;
        let mut merged = base.merged.clone();
        merge(&mut merged, overlay);
        RulePack::from_table(merged, origin)
    }

    /// The merged pack as TOML, for `dengbao rules show`.
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.merged).unwrap_or_default()
    }

    pub fn obligation(&self, kind: ObligationKind) -> &ObligationRule {
        // Validation guarantees one rule per kind, stored in `ObligationKind::ALL` order.
        &self.obligations[kind as usize]
    }

    pub fn obligations(&self) -> &[ObligationRule] {
        &self.obligations
    }

    fn from_table(table: toml::Table, origin: &str) -> Result<RulePack> {
        // A misspelt obligation would otherwise surface as "missing field" inside it.
        if let Some(toml::Value::Table(obs)) = table.get("obligations") {
            if let Some(unknown) = obs.keys().find(|k| ObligationKind::from_id(k).is_none()) {
                let known: Vec<&str> = ObligationKind::ALL.iter().map(|k| k.id()).collect();
                return Err(Error::new(
                    origin,
                    format!("obligations.{unknown}"),
                    format!("unknown obligation; known: {}", known.join(", ")),
                ));
            }
        }
        let spec: PackSpec = serde_path_to_error::deserialize(toml::Value::Table(table.clone()))
            .map_err(|e| Error::new(origin, e.path().to_string(), e.inner().to_string()))?;
        let mut pack = spec.validate(origin)?;
        pack.merged = table;
        Ok(pack)
    }
}

pub fn builtin_ids() -> String {
    BUILTIN
        .iter()
        .map(|(i, _)| *i)
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_table(text: &str, origin: &str) -> Result<toml::Table> {
    text.parse::<toml::Table>()
        .map_err(|e| Error::new(origin, "(syntax)", e.to_string().trim_end().to_owned()))
}

fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (k, v) in overlay {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Every rule table (one that carries a `cite` in the base) that an overlay touches with a
/// parameter must carry its own `cite`: an inherited citation would be a false statement
/// about where the new value comes from. Sub-tables (e.g. `cadence`) are covered by the
/// citation of the rule table around them.
fn check_overlay_cites(
    t: &toml::Table,
    base: Option<&toml::Table>,
    path: &str,
    covered: bool,
    origin: &str,
) -> Result<()> {
    const META: [&str; 4] = ["cite", "title", "text", "unconfirmed"];
    let rule_table = base.is_none_or(|b| b.contains_key("cite"));
    let covered = if rule_table {
        t.contains_key("cite")
    } else {
        covered
    };
    let sets_param = t
        .iter()
        .any(|(k, v)| !v.is_table() && !META.contains(&k.as_str()));
    if !path.is_empty() && sets_param && !covered {
        return Err(Error::new(
            origin,
            path,
            "this table overrides a parameter but gives no `cite`; every rule parameter must name its source",
        ));
    }
    for (k, v) in t {
        if let toml::Value::Table(child) = v {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            let b = base.and_then(|b| b.get(k)).and_then(toml::Value::as_table);
            check_overlay_cites(child, b, &p, covered, origin)?;
        }
    }
    Ok(())
}

// ----- the TOML schema -----------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackSpec {
    id: String,
    title: String,
    source: String,
    effective: Date,
    #[serde(default)]
    extends: Option<String>,
    engine: EngineSpec,
    grading: GradingSpec,
    obligations: BTreeMap<String, ObligationSpec>,
    dossier: DossierSpec,
    secret_dossier: DossierSpec,
    eligibility: EligibilitySpec,
    inspection: InspectionSpec,
    violations: ViolationsSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InspectionSpec {
    cite: String,
    grade_correctness: u8,
    management_system: u8,
    self_inspection_results: u8,
    evaluations_done: u8,
    products_conform: u8,
    rectification_status: u8,
    filing_matches_reality: u8,
    other: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EngineSpec {
    due_soon: Period,
    cite: String,
    holiday_slack: Period,
    holiday_slack_cite: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GradingSpec {
    cite: String,
    above_cite: String,
    matrix: MatrixSpec,
    secret_floor: SecretFloorSpec,
    expert_review: ExpertReviewSpec,
    department_approval: CitedText,
    uniform_grading: CitedText,
    supervision: SupervisionSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixSpec {
    cite: String,
    citizens_legal_persons: [Grade; 3],
    social_order_public_interest: [Grade; 3],
    national_security: [Grade; 3],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretFloorSpec {
    cite: String,
    secret: Grade,
    confidential: Grade,
    top_secret: Grade,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpertReviewSpec {
    cite: String,
    min_grade: Grade,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CitedText {
    cite: String,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SupervisionSpec {
    cite: String,
    #[serde(rename = "I")]
    i: String,
    #[serde(rename = "II")]
    ii: String,
    #[serde(rename = "III")]
    iii: String,
    #[serde(rename = "IV")]
    iv: String,
    #[serde(rename = "V")]
    v: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObligationSpec {
    title: String,
    party: Party,
    cite: String,
    #[serde(default)]
    min_grade: Option<Grade>,
    #[serde(default)]
    scope: Scope,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    cadence: Option<BTreeMap<String, String>>,
    #[serde(default)]
    violation: Option<u8>,
    #[serde(default)]
    unconfirmed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DossierSpec {
    cite: String,
    min_grade: Grade,
    #[serde(default)]
    scope: Scope,
    materials: Vec<MaterialRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EligibilitySpec {
    security_product: CriteriaSpec,
    evaluation_agency: CriteriaSpec,
    crypto_product: CriteriaSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CriteriaSpec {
    cite: String,
    min_grade: Grade,
    violation: u8,
    criteria: Vec<CriterionSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CriterionSpec {
    id: String,
    cite: String,
    text: String,
    #[serde(default)]
    expect: Option<bool>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    applies_if: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ViolationsSpec {
    cite: String,
    min_grade: Grade,
    items: Vec<ViolationItemSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ViolationItemSpec {
    item: u8,
    title: String,
    #[serde(default)]
    records_title: Option<String>,
    authority: Party,
}

/// The shape of timing each obligation needs; checked when a pack loads.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Once,
    ByGrade,
    BySecret,
    BeforeOperation,
}

fn shape_of(kind: ObligationKind) -> Shape {
    use ObligationKind::*;
    match kind {
        GradeEvaluation | SelfInspection | SupervisoryInspection => Shape::ByGrade,
        SecrecyExamination | CryptographyExamination => Shape::BySecret,
        SecrecyApproval => Shape::BeforeOperation,
        _ => Shape::Once,
    }
}

fn parse_cadence(v: &str, origin: &str, path: &str) -> Result<Cadence> {
    if v == "special" {
        return Ok(Cadence::Special);
    }
    v.parse::<Period>()
        .map(Cadence::Every)
        .map_err(|e| Error::new(origin, path, format!("{e}, or `special`")))
}

impl PackSpec {
    fn validate(self, origin: &str) -> Result<RulePack> {
        let err = |path: &str, msg: String| Error::new(origin, path, msg);
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        {
            return Err(err(
                "id",
                format!(
                    "`{}` must be non-empty ASCII letters, digits, `-`, `_` or `.`",
                    self.id
                ),
            ));
        }

        // Harm matrix: the grading guide's table must be monotone, otherwise a worse harm
        // could produce a lower grade.
        let m = &self.grading.matrix;
        let matrix = [
            m.citizens_legal_persons,
            m.social_order_public_interest,
            m.national_security,
        ];
        for o in 0..3 {
            for d in 0..3 {
                let here = matrix[o][d];
                if d + 1 < 3 && matrix[o][d + 1] < here {
                    return Err(err(
                        &format!("grading.matrix.{}", HarmObject::ALL[o].as_str()),
                        format!(
                            "grade falls from {} to {} as the degree rises; the table must not decrease",
                            here,
                            matrix[o][d + 1]
                        ),
                    ));
                }
                if o + 1 < 3 && matrix[o + 1][d] < here {
                    return Err(err(
                        &format!("grading.matrix.{}", HarmObject::ALL[o + 1].as_str()),
                        format!(
                            "grade for `{}` is below that for `{}`; a graver object harmed must not lower the grade",
                            HarmObject::ALL[o + 1].as_str(),
                            HarmObject::ALL[o].as_str()
                        ),
                    ));
                }
            }
        }
        let f = &self.grading.secret_floor;
        if !(f.secret <= f.confidential && f.confidential <= f.top_secret) {
            return Err(err(
                "grading.secret_floor",
                "floors must not fall as the secret degree rises".into(),
            ));
        }
        let floors = [f.secret, f.confidential, f.top_secret];

        let mut obligations = Vec::with_capacity(ObligationKind::ALL.len());
        let mut specs = self.obligations;
        if let Some(unknown) = specs.keys().find(|k| ObligationKind::from_id(k).is_none()) {
            return Err(err(
                &format!("obligations.{unknown}"),
                format!(
                    "unknown obligation; known: {}",
                    ObligationKind::ALL
                        .iter()
                        .map(|k| k.id())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let item_set: Vec<u8> = self.violations.items.iter().map(|i| i.item).collect();
        for &kind in ObligationKind::ALL {
            let path = format!("obligations.{}", kind.id());
            let s = specs.remove(kind.id()).ok_or_else(|| {
                err(
                    &path,
                    "missing; every obligation needs its parameters".into(),
                )
            })?;
            let shape = shape_of(kind);
            let timing = match shape {
                Shape::Once => {
                    if s.cadence.is_some() {
                        return Err(err(
                            &format!("{path}.cadence"),
                            "this obligation is one-off; use `period`".into(),
                        ));
                    }
                    let p = s.period.as_deref().ok_or_else(|| err(&format!("{path}.period"), "missing; give a period such as `30 days`, or `none` if the rule sets no time limit".into()))?;
                    if p == "none" {
                        Timing::Once(None)
                    } else {
                        Timing::Once(Some(p.parse().map_err(|e| {
                            err(&format!("{path}.period"), format!("{e}, or `none`"))
                        })?))
                    }
                }
                Shape::BeforeOperation => {
                    if s.period.is_some() || s.cadence.is_some() {
                        return Err(err(&path, "due before the system goes into operation; it takes no `period` or `cadence`".into()));
                    }
                    Timing::BeforeOperation
                }
                Shape::ByGrade | Shape::BySecret => {
                    if s.period.is_some() {
                        return Err(err(
                            &format!("{path}.period"),
                            "this obligation recurs; use `cadence`".into(),
                        ));
                    }
                    let c = s
                        .cadence
                        .as_ref()
                        .ok_or_else(|| err(&format!("{path}.cadence"), "missing".into()))?;
                    if shape == Shape::ByGrade {
                        let mut out = [None; 5];
                        for (k, v) in c {
                            let g: Grade = k
                                .parse()
                                .map_err(|e| err(&format!("{path}.cadence.{k}"), format!("{e}")))?;
                            out[usize::from(g.number() - 1)] =
                                Some(parse_cadence(v, origin, &format!("{path}.cadence.{k}"))?);
                        }
                        let min = s.min_grade.unwrap_or(Grade::I);
                        if let Some(g) = Grade::ALL
                            .iter()
                            .find(|g| **g >= min && out[usize::from(g.number() - 1)].is_none())
                        {
                            return Err(err(
                                &format!("{path}.cadence"),
                                format!(
                                    "no cadence for Grade {g}; give a period or `special` for every grade from {min} up"
                                ),
                            ));
                        }
                        Timing::ByGrade(out)
                    } else {
                        let mut out = [None; 3];
                        for (k, v) in c {
                            let i = match k.as_str() {
                                "secret" => 0,
                                "confidential" => 1,
                                "top_secret" => 2,
                                _ => {
                                    return Err(err(
                                        &format!("{path}.cadence.{k}"),
                                        "expected `secret`, `confidential` or `top_secret`".into(),
                                    ));
                                }
                            };
                            out[i] =
                                Some(parse_cadence(v, origin, &format!("{path}.cadence.{k}"))?);
                        }
                        if out.iter().any(Option::is_none) {
                            return Err(err(
                                &format!("{path}.cadence"),
                                "give a cadence for `secret`, `confidential` and `top_secret`"
                                    .into(),
                            ));
                        }
                        Timing::BySecretDegree(out)
                    }
                }
            };
            if let Some(v) = s.violation {
                if !item_set.contains(&v) {
                    return Err(err(
                        &format!("{path}.violation"),
                        format!("{v} is not an art. 40 item (1–10)"),
                    ));
                }
                if s.party != Party::Operator {
                    return Err(err(
                        &format!("{path}.violation"),
                        "only the operator's obligations amount to violations of art. 40".into(),
                    ));
                }
            }
            if s.cite.trim().is_empty() {
                return Err(err(&format!("{path}.cite"), "must not be empty".into()));
            }
            obligations.push(ObligationRule {
                kind,
                title: s.title,
                party: s.party,
                cite: s.cite,
                min_grade: s.min_grade,
                scope: s.scope,
                timing,
                violation: s.violation,
                unconfirmed: s.unconfirmed,
            });
        }

        // Dossiers: no material twice, and none in both.
        let mut seen = Vec::new();
        for (name, d) in [
            ("dossier", &self.dossier),
            ("secret_dossier", &self.secret_dossier),
        ] {
            for (i, m) in d.materials.iter().enumerate() {
                if seen.contains(&m.kind) {
                    return Err(err(
                        &format!("{name}.materials[{i}].kind"),
                        format!("`{}` is listed twice", m.kind.as_str()),
                    ));
                }
                seen.push(m.kind);
            }
        }

        let eligibility = EligibilityRules {
            security_product: self
                .eligibility
                .security_product
                .validate("eligibility.security_product", origin)?,
            evaluation_agency: self
                .eligibility
                .evaluation_agency
                .validate("eligibility.evaluation_agency", origin)?,
            crypto_product: self
                .eligibility
                .crypto_product
                .validate("eligibility.crypto_product", origin)?,
        };

        let mut titles: [String; 10] = Default::default();
        let mut records_titles: [Option<String>; 10] = Default::default();
        let mut authority = [Party::PublicSecurity; 10];
        let mut have = [false; 10];
        for (i, it) in self.violations.items.into_iter().enumerate() {
            if !(1..=10).contains(&it.item) || have[usize::from(it.item - 1)] {
                return Err(err(
                    &format!("violations.items[{i}].item"),
                    format!("{} is not a distinct art. 40 item 1–10", it.item),
                ));
            }
            if !matches!(
                it.authority,
                Party::PublicSecurity
                    | Party::SecrecyDepartment
                    | Party::CryptographyAdministration
            ) {
                return Err(err(
                    &format!("violations.items[{i}].authority"),
                    "art. 40 names the public security organ, the secrecy department and the cryptography administration".to_owned(),
                ));
            }
            have[usize::from(it.item - 1)] = true;
            titles[usize::from(it.item - 1)] = it.title;
            records_titles[usize::from(it.item - 1)] = it.records_title;
            authority[usize::from(it.item - 1)] = it.authority;
        }
        if let Some(missing) = have.iter().position(|h| !h) {
            return Err(err(
                "violations.items",
                format!("item {} is missing; art. 40 has ten", missing + 1),
            ));
        }

        let ins = self.inspection;
        let by_matter = [
            ins.grade_correctness,
            ins.management_system,
            ins.self_inspection_results,
            ins.evaluations_done,
            ins.products_conform,
            ins.rectification_status,
            ins.filing_matches_reality,
            ins.other,
        ];
        if let Some(bad) = by_matter.iter().find(|v| !(1..=10).contains(*v)) {
            return Err(err(
                "inspection",
                format!("{bad} is not an art. 40 item (1–10)"),
            ));
        }
        let g = self.grading;
        let sup = g.supervision;
        Ok(RulePack {
            id: self.id,
            title: self.title,
            source: self.source,
            effective: self.effective,
            extends: self.extends,
            due_soon: self.engine.due_soon,
            due_soon_cite: self.engine.cite,
            holiday_slack: self.engine.holiday_slack,
            holiday_slack_cite: self.engine.holiday_slack_cite,
            grading: GradingRules {
                cite: g.cite,
                above_cite: g.above_cite,
                matrix,
                matrix_cite: g.matrix.cite,
                secret_floor: floors,
                secret_floor_cite: g.secret_floor.cite.clone(),
                expert_review_min: g.expert_review.min_grade,
                expert_review_cite: g.expert_review.cite,
                department_approval_cite: g.department_approval.cite,
                department_approval_text: g.department_approval.text,
                uniform_grading_cite: g.uniform_grading.cite,
                uniform_grading_text: g.uniform_grading.text,
                supervision: [sup.i, sup.ii, sup.iii, sup.iv, sup.v],
                supervision_cite: sup.cite,
            },
            obligations,
            dossier: DossierRules {
                cite: self.dossier.cite,
                min_grade: self.dossier.min_grade,
                scope: self.dossier.scope,
                materials: self.dossier.materials,
            },
            secret_dossier: DossierRules {
                cite: self.secret_dossier.cite,
                min_grade: self.secret_dossier.min_grade,
                scope: self.secret_dossier.scope,
                materials: self.secret_dossier.materials,
            },
            eligibility,
            violations: ViolationRules {
                cite: self.violations.cite,
                by_inspection_matter: by_matter,
                inspection_cite: ins.cite,
                min_grade: self.violations.min_grade,
                titles,
                records_titles,
                authority,
            },
            merged: toml::Table::new(),
        })
    }
}

impl CriteriaSpec {
    fn validate(self, path: &str, origin: &str) -> Result<CriteriaRules> {
        let mut criteria: Vec<CriterionRule> = Vec::with_capacity(self.criteria.len());
        for (i, c) in self.criteria.into_iter().enumerate() {
            let p = format!("{path}.criteria[{i}]");
            let expect = match (c.expect, c.min) {
                (Some(b), None) => Expectation::Bool(b),
                (None, Some(n)) if n.is_finite() => Expectation::AtLeast(n),
                _ => {
                    return Err(Error::new(
                        origin,
                        p,
                        "give exactly one of `expect` (true/false) or `min` (a number)",
                    ));
                }
            };
            if criteria.iter().any(|x| x.id == c.id) {
                return Err(Error::new(
                    origin,
                    format!("{p}.id"),
                    format!("`{}` is listed twice", c.id),
                ));
            }
            criteria.push(CriterionRule {
                id: c.id,
                cite: c.cite,
                text: c.text,
                expect,
                applies_if: c.applies_if,
            });
        }
        if !(1..=10).contains(&self.violation) {
            return Err(Error::new(
                origin,
                format!("{path}.violation"),
                format!("{} is not an art. 40 item (1–10)", self.violation),
            ));
        }
        Ok(CriteriaRules {
            cite: self.cite,
            min_grade: self.min_grade,
            violation: self.violation,
            criteria,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_loads_and_cites_every_obligation() {
        let p = RulePack::baseline().unwrap();
        assert_eq!(p.id, "measures-2007");
        for &k in ObligationKind::ALL {
            let r = p.obligation(k);
            assert_eq!(r.kind, k);
            assert!(r.cite.starts_with("Measures art."), "{k}: {}", r.cite);
        }
        assert_eq!(
            p.obligation(ObligationKind::RecordFiling).once_period(),
            Some(Period::days(30))
        );
        assert_eq!(
            p.obligation(ObligationKind::GradeEvaluation)
                .cadence_for_grade(Grade::IV),
            Some(Cadence::Every(Period::months(6)))
        );
        assert_eq!(
            p.obligation(ObligationKind::GradeEvaluation)
                .cadence_for_grade(Grade::V),
            Some(Cadence::Special)
        );
        assert_eq!(
            p.grading.cell(
                HarmObject::NationalSecurity,
                HarmDegree::ParticularlySeriousDamage
            ),
            Grade::V
        );
    }

    #[test]
    fn overlay_replaces_one_parameter_with_its_own_cite() {
        let o = r#"
            id = "mlps2-filing"
            extends = "measures-2007"
            title = "Filing within 10 working days"
            source = "MPS guidance 2020 (unconfirmed)"
            [obligations.record_filing]
            period = "10 working days"
            cite = "MPS guidance 2020 (unconfirmed)"
            unconfirmed = true
        "#;
        let p = RulePack::from_toml(o, "o.toml").unwrap();
        let r = p.obligation(ObligationKind::RecordFiling);
        assert_eq!(r.once_period().unwrap().to_string(), "10 working days");
        assert!(r.unconfirmed);
        assert_eq!(
            r.title,
            "Record-filing with the city-level public security organ"
        );
        // Untouched parameters keep the baseline.
        assert_eq!(
            p.obligation(ObligationKind::FilingReview)
                .once_period()
                .map(|p| p.to_string()),
            Some("10 working days".to_owned()),
            "art. 17's baseline"
        );
        assert!(p.to_toml().contains("10 working days"));
        // A sub-table merges: changing Grade IV's cadence keeps III and V.
        let o = "id = \"x\"\nextends = \"measures-2007\"\ntitle = \"t\"\nsource = \"s\"\n[obligations.grade_evaluation]\ncite = \"c\"\ncadence = { IV = \"3 months\" }";
        let p = RulePack::from_toml(o, "o.toml").unwrap();
        let r = p.obligation(ObligationKind::GradeEvaluation);
        assert_eq!(
            r.cadence_for_grade(Grade::IV),
            Some(Cadence::Every(Period::months(3)))
        );
        assert_eq!(
            r.cadence_for_grade(Grade::III),
            Some(Cadence::Every(Period::years(1)))
        );
        assert_eq!(r.cite, "c");
    }

    #[test]
    fn overlay_errors_name_the_field_and_rule() {
        let cases = [
            (
                "[obligations.record_filing]\nperiod = \"10 working days\"",
                "obligations.record_filing",
                "no `cite`",
            ),
            (
                "[obligations.record_filing]\nperiod = \"ten days\"\ncite = \"x\"",
                "obligations.record_filing.period",
                "not a period",
            ),
            (
                "[obligations.record_filng]\nperiod = \"1 day\"\ncite = \"x\"",
                "obligations.record_filng",
                "unknown obligation",
            ),
            (
                "[obligations.grade_evaluation]\ncadence = { III = \"fortnightly\" }\ncite = \"x\"",
                "obligations.grade_evaluation.cadence.III",
                "not a period",
            ),
            (
                "[obligations.grade_evaluation.cadence]\nIV = \"3 months\"",
                "obligations.grade_evaluation.cadence",
                "no `cite`",
            ),
            (
                "[grading.matrix]\ncite = \"x\"\nnational_security = [\"V\", \"IV\", \"V\"]",
                "grading.matrix.national_security",
                "must not decrease",
            ),
            (
                "[engine]\ncite = \"x\"\ndue_soon = \"30 days\"\ncolour = 1",
                "engine",
                "unknown field",
            ),
            (
                "[obligations.record_filing]\nviolation = 11\ncite = \"x\"",
                "obligations.record_filing.violation",
                "art. 40",
            ),
        ];
        for (body, path, needle) in cases {
            let text = format!(
                "id = \"x\"\nextends = \"measures-2007\"\ntitle = \"t\"\nsource = \"s\"\n{body}"
            );
            let e = RulePack::from_toml(&text, "o.toml").unwrap_err();
            assert_eq!(e.origin, "o.toml");
            assert!(
                e.path.starts_with(path),
                "{body}: path {} ({})",
                e.path,
                e.message
            );
            assert!(e.message.contains(needle), "{body}: {}", e.message);
        }
        let e = RulePack::from_toml(
            "id = \"x\"\nextends = \"nope\"\ntitle = \"t\"\nsource = \"s\"",
            "o.toml",
        )
        .unwrap_err();
        assert!(e.message.contains("no built-in pack"), "{e}");
        let e = RulePack::from_toml("id = [", "o.toml").unwrap_err();
        assert_eq!(e.path, "(syntax)");
    }
}

//! What an operator knows about its grading objects (定级对象): facts, lifecycle and the
//! history of regulatory events. This is also the `dengbao assess` file format
//! (`docs/assess-format.md`); [`Inventory::validate`] checks everything serde cannot.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::error::{Error, Result};
use crate::grade::{Grade, Harm, SecretDegree};
use crate::ids::{CreditCode, DivisionCode};
use crate::pack::{CriteriaRules, MaterialKind, RulePack};

/// Longest free-text field accepted; longer is a mistake, not a description.
pub const MAX_TEXT: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum ObjectKind {
    InformationSystem,
    NetworkInfrastructure,
    DataResource,
    CloudPlatformProvider,
    CloudTenant,
    Iot,
    IndustrialControl,
    Mobile,
    BigData,
}

impl ObjectKind {
    /// The serde name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Network the system runs over (art. 10 ¶2, art. 15 ¶3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum NetworkScope {
    #[default]
    Local,
    TransProvincial,
    Nationwide,
}

impl NetworkScope {
    /// The serde name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Lifecycle dates; any may be unknown. Dates after `as_of` have not happened yet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub construction_started: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_since: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<Date>,
}

/// Harm assessment: business information (S, 业务信息安全) and system service
/// (G, 系统服务安全), each a list of harmed objects with degrees.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    pub business_information: Vec<Harm>,
    pub system_service: Vec<Harm>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretInvolvement {
    pub degree: SecretDegree,
    /// An "important" secret-involved system gets a cryptography examination (art. 39).
    #[serde(default)]
    pub important: bool,
}

/// A security domain (安全域) graded on its own (art. 25 ¶2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub name: String,
    pub assessment: Assessment,
}

/// The organisation that operates the systems (运营使用单位).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub name: String,
    pub credit_code: CreditCode,
    pub division: DivisionCode,
}

/// Result of an evaluation or self-inspection against the grade's requirements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Conformity {
    Conformant,
    BasicallyConformant,
    NonConformant,
}

impl Conformity {
    /// The serde name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
    pub const ALL: [Conformity; 3] = [
        Conformity::Conformant,
        Conformity::BasicallyConformant,
        Conformity::NonConformant,
    ];

    /// Anything short of full conformity means the status "does not satisfy the requirements
    /// of its grade" and calls for a rectification plan (art. 14 ¶3).
    pub fn needs_rectification(self) -> bool {
        self != Conformity::Conformant
    }
}

/// What a supervisory inspection checks (art. 18 ¶2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum InspectionMatter {
    GradeCorrectness,
    ManagementSystem,
    SelfInspectionResults,
    EvaluationsDone,
    ProductsConform,
    RectificationStatus,
    FilingMatchesReality,
    Other,
}

impl InspectionMatter {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What changed in a secret-involved system (art. 31).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum ChangeAspect {
    SecretDegree,
    ConnectionArea,
    EnvironmentalFacilities,
    PrincipalApplications,
    AccountableEntity,
}

impl ChangeAspect {
    pub const ALL: [ChangeAspect; 5] = [
        ChangeAspect::SecretDegree,
        ChangeAspect::ConnectionArea,
        ChangeAspect::EnvironmentalFacilities,
        ChangeAspect::PrincipalApplications,
        ChangeAspect::AccountableEntity,
    ];
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

macro_rules! event_types {
    ($($variant:ident => $id:literal,)*) => {
        /// Kinds of regulatory event in a system's history.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum EventType { $($variant,)* }
        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$variant => $id,)* }
            }
        }
    };
}

event_types! {
    GradeDetermined => "grade_determined",
    OperationStarted => "operation_started",
    FilingSubmitted => "filing_submitted",
    FilingReceived => "filing_received",
    CertificateIssued => "certificate_issued",
    CorrectionNotice => "correction_notice",
    RegradeNotice => "regrade_notice",
    Evaluation => "evaluation",
    SelfInspection => "self_inspection",
    Inspection => "inspection",
    RectificationNotice => "rectification_notice",
    RectificationPlan => "rectification_plan",
    RectificationReport => "rectification_report",
    SecrecyApproval => "secrecy_approval",
    SecrecyExamination => "secrecy_examination",
    CryptographyExamination => "cryptography_examination",
    CryptographyUsageFiled => "cryptography_usage_filed",
    SecretChange => "secret_change",
    ChangeReported => "change_reported",
    // The secrecy department's decision on a reported change: re-evaluate and re-approve.
    ReapprovalRequired => "reapproval_required",
}

/// One event. Which optional fields are allowed or required depends on `type`; see
/// [`Event::check`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub date: Date,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// `grade_determined`: the grade determined (defaults to the assessed grade).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// Notices: the time limit the notice sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Date>,
    /// `evaluation`, `self_inspection`: result against the grade's requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conformity: Option<Conformity>,
    /// `evaluation`: id of the evaluation agency (from `agencies`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// `inspection`: the matters of art. 18 ¶2 found wanting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<InspectionMatter>,
    /// `secret_change`, `change_reported`: what changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspect: Option<ChangeAspect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Event {
    pub fn new(date: Date, kind: EventType) -> Event {
        Event {
            date,
            kind,
            grade: None,
            deadline: None,
            conformity: None,
            agency: None,
            findings: Vec::new(),
            aspect: None,
            note: None,
        }
    }

    /// Checks the fields that depend on the event type; returns `(field, message)`.
    fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        use EventType::*;
        let t = self.kind.as_str();
        let notice = matches!(
            self.kind,
            CorrectionNotice | RegradeNotice | RectificationNotice | ReapprovalRequired
        );
        let allowed = |field: &'static str, present: bool, ok: bool| {
            if present && !ok {
                Err((field, format!("not used by events of type `{t}`")))
            } else {
                Ok(())
            }
        };
        allowed("grade", self.grade.is_some(), self.kind == GradeDetermined)?;
        allowed("deadline", self.deadline.is_some(), notice)?;
        allowed(
            "conformity",
            self.conformity.is_some(),
            matches!(self.kind, Evaluation | SelfInspection),
        )?;
        allowed("agency", self.agency.is_some(), self.kind == Evaluation)?;
        allowed(
            "findings",
            !self.findings.is_empty(),
            self.kind == Inspection,
        )?;
        allowed(
            "aspect",
            self.aspect.is_some(),
            matches!(self.kind, SecretChange | ChangeReported),
        )?;
        if matches!(self.kind, Evaluation | SelfInspection) && self.conformity.is_none() {
            return Err((
                "conformity",
                format!("required for `{t}`: conformant, basically_conformant or non_conformant"),
            ));
        }
        if matches!(self.kind, SecretChange | ChangeReported) && self.aspect.is_none() {
            return Err((
                "aspect",
                format!("required for `{t}` (art. 31 lists the aspects)"),
            ));
        }
        if let Some(d) = self.deadline {
            if d < self.date {
                return Err((
                    "deadline",
                    format!("{d} is before the notice itself ({})", self.date),
                ));
            }
        }
        if self.note.as_ref().is_some_and(|n| n.len() > MAX_TEXT) {
            return Err(("note", format!("longer than {MAX_TEXT} bytes")));
        }
        Ok(())
    }
}

/// A grading object (定级对象) with everything the engine needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradingObject {
    pub id: String,
    pub name: String,
    pub kind: ObjectKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<DivisionCode>,
    #[serde(default)]
    pub network_scope: NetworkScope,
    /// Id of the trans-provincial/nationwide system this is a branch of (art. 15 ¶3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_of: Option<String>,
    /// Name of the department in charge (主管部门), if any (art. 10 ¶1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_in_charge: Option<String>,
    /// The operator is a Beijing-located entity subordinated to the Central Government
    /// (隶属于中央的在京单位, art. 15 ¶3).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub central_beijing_entity: bool,
    /// The department in charge determined the grade uniformly (统一定级, art. 10 ¶2; art. 15
    /// ¶3). With the two facts above and a trans-provincial or nationwide network, the
    /// department files, with the Ministry of Public Security.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub graded_uniformly: bool,
    #[serde(default)]
    pub lifecycle: Lifecycle,
    pub assessment: Assessment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretInvolvement>,
    /// Uses cryptography to protect the system (art. 36, 37).
    #[serde(default)]
    pub uses_cryptography: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<Domain>,
    /// Ids from `products`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products_in_use: Vec<String>,
    /// Ids from `crypto_products`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crypto_products_in_use: Vec<String>,
    /// Dossier materials already provided (art. 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<MaterialKind>,
    #[serde(default)]
    pub events: Vec<Event>,
}

impl GradingObject {
    /// Whether the system is secret-involved (涉密信息系统).
    pub fn is_secret(&self) -> bool {
        self.secret.is_some()
    }
}

/// A fact about a product or agency: a yes/no or a number.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FactValue {
    Bool(bool),
    Number(f64),
}

/// A security product, evaluation agency or cryptographic product with the facts its
/// eligibility criteria ask about (art. 21, 22, 37).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub facts: BTreeMap<String, FactValue>,
    /// Where each fact comes from (certificate number, declaration, register entry).
    #[serde(default)]
    pub evidence: BTreeMap<String, String>,
}

/// Everything `dengbao assess` reads from one file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<Organisation>,
    #[serde(default)]
    pub products: Vec<Candidate>,
    #[serde(default)]
    pub agencies: Vec<Candidate>,
    #[serde(default)]
    pub crypto_products: Vec<Candidate>,
    #[serde(default)]
    pub systems: Vec<GradingObject>,
}

fn check_text(path: &str, field: &str, s: &str, origin: &str) -> Result<()> {
    if s.trim().is_empty() {
        return Err(Error::new(
            origin,
            format!("{path}{field}"),
            "must not be empty",
        ));
    }
    if s.len() > MAX_TEXT {
        return Err(Error::new(
            origin,
            format!("{path}{field}"),
            format!("longer than {MAX_TEXT} bytes"),
        ));
    }
    Ok(())
}

fn check_candidates(
    list: &[Candidate],
    field: &str,
    rules: &CriteriaRules,
    origin: &str,
) -> Result<()> {
    for (i, c) in list.iter().enumerate() {
        let p = format!("{field}[{i}].");
        check_text(&p, "id", &c.id, origin)?;
        check_text(&p, "name", &c.name, origin)?;
        if list[..i].iter().any(|o| o.id == c.id) {
            return Err(Error::new(
                origin,
                format!("{p}id"),
                format!("`{}` is used twice", c.id),
            ));
        }
        for key in c.facts.keys().chain(c.evidence.keys()) {
            if !rules.knows_fact(key) {
                let known: Vec<&str> = rules.criteria.iter().map(|c| c.id.as_str()).collect();
                return Err(Error::new(
                    origin,
                    format!("{p}facts.{key}"),
                    format!(
                        "not a criterion of {}; known: {}",
                        rules.cite,
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

impl Inventory {
    /// Checks references, dates and per-type event fields, and sorts each history by date
    /// (stable, so same-day events keep their order in the file). `origin` names the file.
    pub fn validate(&mut self, pack: &RulePack, origin: &str) -> Result<()> {
        let e = &pack.eligibility;
        check_candidates(&self.products, "products", &e.security_product, origin)?;
        check_candidates(&self.agencies, "agencies", &e.evaluation_agency, origin)?;
        check_candidates(
            &self.crypto_products,
            "crypto_products",
            &e.crypto_product,
            origin,
        )?;
        let ids: Vec<String> = self.systems.iter().map(|s| s.id.clone()).collect();
        for (i, s) in self.systems.iter_mut().enumerate() {
            let p = format!("systems[{i}].");
            check_text(&p, "id", &s.id, origin)?;
            check_text(&p, "name", &s.name, origin)?;
            if ids[..i].contains(&s.id) {
                return Err(Error::new(
                    origin,
                    format!("{p}id"),
                    format!("`{}` is used twice", s.id),
                ));
            }
            if let Some(b) = &s.branch_of {
                if b == &s.id {
                    return Err(Error::new(
                        origin,
                        format!("{p}branch_of"),
                        "a system cannot be a branch of itself",
                    ));
                }
            }
            for (field, harms) in [
                (
                    "assessment.business_information",
                    &s.assessment.business_information,
                ),
                ("assessment.system_service", &s.assessment.system_service),
            ] {
                if harms.is_empty() {
                    return Err(Error::new(
                        origin,
                        format!("{p}{field}"),
                        "at least one harmed object and degree is needed to grade (Measures art. 7; GB/T 22240)",
                    ));
                }
            }
            for (j, d) in s.domains.iter().enumerate() {
                check_text(&format!("{p}domains[{j}]."), "name", &d.name, origin)?;
                if d.assessment.business_information.is_empty()
                    || d.assessment.system_service.is_empty()
                {
                    return Err(Error::new(
                        origin,
                        format!("{p}domains[{j}].assessment"),
                        "needs both business_information and system_service harms",
                    ));
                }
            }
            // Lifecycle dates must be in order.
            let l = &s.lifecycle;
            let seq = [
                ("planned", l.planned),
                ("construction_started", l.construction_started),
                ("operating_since", l.operating_since),
                ("retired", l.retired),
            ];
            let mut prev: Option<(&str, Date)> = None;
            for (name, d) in seq {
                if let Some(d) = d {
                    if let Some((pn, pd)) = prev {
                        if d < pd {
                            return Err(Error::new(
                                origin,
                                format!("{p}lifecycle.{name}"),
                                format!("{d} is before {pn} ({pd})"),
                            ));
                        }
                    }
                    prev = Some((name, d));
                }
            }
            for (j, id) in s.products_in_use.iter().enumerate() {
                if !self.products.iter().any(|c| &c.id == id) {
                    return Err(Error::new(
                        origin,
                        format!("{p}products_in_use[{j}]"),
                        format!("no product `{id}` in `products`"),
                    ));
                }
            }
            for (j, id) in s.crypto_products_in_use.iter().enumerate() {
                if !self.crypto_products.iter().any(|c| &c.id == id) {
                    return Err(Error::new(
                        origin,
                        format!("{p}crypto_products_in_use[{j}]"),
                        format!("no cryptographic product `{id}` in `crypto_products`"),
                    ));
                }
            }
            for (j, ev) in s.events.iter().enumerate() {
                ev.check()
                    .map_err(|(f, m)| Error::new(origin, format!("{p}events[{j}].{f}"), m))?;
                if let Some(a) = &ev.agency {
                    if !self.agencies.iter().any(|c| &c.id == a) {
                        return Err(Error::new(
                            origin,
                            format!("{p}events[{j}].agency"),
                            format!("no agency `{a}` in `agencies`"),
                        ));
                    }
                }
                if matches!(
                    ev.kind,
                    EventType::SecrecyApproval
                        | EventType::SecrecyExamination
                        | EventType::SecretChange
                        | EventType::ReapprovalRequired
                ) && s.secret.is_none()
                {
                    return Err(Error::new(
                        origin,
                        format!("{p}events[{j}].type"),
                        format!(
                            "`{}` only applies to a secret-involved system; set `secret`",
                            ev.kind.as_str()
                        ),
                    ));
                }
            }
            // An `operation_started` event and `lifecycle.operating_since` are the same fact.
            if let Some(ev) = s
                .events
                .iter()
                .find(|e| e.kind == EventType::OperationStarted)
            {
                match s.lifecycle.operating_since {
                    None => s.lifecycle.operating_since = Some(ev.date),
                    Some(d) if d != ev.date => {
                        return Err(Error::new(
                            origin,
                            format!("{p}lifecycle.operating_since"),
                            format!(
                                "{d} disagrees with the `operation_started` event on {}",
                                ev.date
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
            s.events.sort_by_key(|e| e.date);
        }
        for (i, s) in self.systems.iter().enumerate() {
            if let Some(b) = &s.branch_of {
                // A parent outside this inventory is another operator's (a head office's
                // nationwide system): nothing here to check it against.
                if let Some(parent) = self.systems.iter().find(|o| &o.id == b) {
                    if parent.network_scope == NetworkScope::Local {
                        return Err(Error::new(
                            origin,
                            format!("systems[{i}].branch_of"),
                            format!(
                                "`{b}` runs on a local network; branches belong to trans-provincial or nationwide systems (Measures art. 15 ¶3)"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

//! IDC customer data (RULES.md §7): customer categories and their protection profiles, the
//! duties a three-party contract must assign, and the isolation check — pure rules over data
//! the caller supplies. Parameters come from the IDC rule pack
//! (`rules/idc-notice-2025.toml`); what the notice asks is read from secondary reports, so its
//! citations carry `status = "unconfirmed"`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const IDC_2025: &str = include_str!("../rules/idc-notice-2025.toml");

/// The Data Security Law's classes of data (一般数据, 重要数据, 核心数据).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Classification {
    General,
    Important,
    Core,
}

/// How sensitive what a customer holds is, for its category: the DSL class, raised by PIPL's
/// flags. Ordered.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DataClass {
    General,
    /// Personal information (PIPL art. 4).
    Personal,
    /// Sensitive personal information (PIPL art. 28).
    SensitivePersonal,
    Important,
    Core,
}

impl DataClass {
    /// The class of one asset: its DSL class, or its PIPL flag where that is higher.
    pub fn of(c: Classification, personal: bool, sensitive_personal: bool) -> DataClass {
        let dsl = match c {
            Classification::General => DataClass::General,
            Classification::Important => DataClass::Important,
            Classification::Core => DataClass::Core,
        };
        let pipl = if sensitive_personal {
            DataClass::SensitivePersonal
        } else if personal {
            DataClass::Personal
        } else {
            DataClass::General
        };
        dsl.max(pipl)
    }
}

/// What an asset is.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AssetKind {
    Database,
    Bucket,
    Volume,
    Backup,
    /// An AI training data set (the notice: protect against leakage and poisoning).
    TrainingDataset,
}

/// A party to a contract: the customer, the IDC operator, or a third-party provider by id.
pub type PartyId = String;

/// One duty's assignment (RACI without "informed").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    #[serde(default)]
    pub responsible: Vec<PartyId>,
    #[serde(default)]
    pub accountable: Option<PartyId>,
    #[serde(default)]
    pub consulted: Vec<PartyId>,
}

/// What the protection of a customer's category requires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Customer approvers a destruction needs.
    pub approvals_for_destruction: u32,
    pub approvals_for_sharing: u32,
    pub approvals_for_high_risk: u32,
    /// Days deleted data stays recoverable before it is destroyed.
    pub retention_days: u32,
    pub backup_copies: u32,
    /// Sites the data must be kept in (redundancy).
    pub sites: u32,
    /// May its assets share an isolation unit with another customer's?
    pub shared_isolation_unit: bool,
    /// May its data be given to others at all (with authorization)?
    pub external_sharing: bool,
}

/// A customer's overrides of its category's profile (only the fields given).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals_for_destruction: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals_for_sharing: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals_for_high_risk: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_copies: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sites: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_isolation_unit: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_sharing: Option<bool>,
}

impl Profile {
    /// The profile with `o` applied. An override may only make protection stricter or keep
    /// it: fewer approvals, fewer copies, sharing where the category forbids it — each is an
    /// error naming the field.
    pub fn with(&self, o: &ProfileOverrides) -> Result<Profile, (String, String)> {
        let mut p = self.clone();
        let up = |field: &str, base: u32, v: Option<u32>| match v {
            Some(v) if v < base => Err((
                field.to_owned(),
                format!(
                    "{v} is below the category's {base}: an override may only tighten protection"
                ),
            )),
            Some(v) => Ok(v),
            None => Ok(base),
        };
        p.approvals_for_destruction = up(
            "approvals_for_destruction",
            p.approvals_for_destruction,
            o.approvals_for_destruction,
        )?;
        p.approvals_for_sharing = up(
            "approvals_for_sharing",
            p.approvals_for_sharing,
            o.approvals_for_sharing,
        )?;
        p.approvals_for_high_risk = up(
            "approvals_for_high_risk",
            p.approvals_for_high_risk,
            o.approvals_for_high_risk,
        )?;
        p.backup_copies = up("backup_copies", p.backup_copies, o.backup_copies)?;
        p.sites = up("sites", p.sites, o.sites)?;
        // Retention is the customer's choice either way (shorter is the customer's right).
        if let Some(d) = o.retention_days {
            p.retention_days = d;
        }
        for (field, base, v) in [
            (
                "shared_isolation_unit",
                &mut p.shared_isolation_unit,
                o.shared_isolation_unit,
            ),
            (
                "external_sharing",
                &mut p.external_sharing,
                o.external_sharing,
            ),
        ] {
            match v {
                Some(true) if !*base => {
                    return Err((
                        field.to_owned(),
                        "the category does not allow it: an override may only tighten protection"
                            .to_owned(),
                    ));
                }
                Some(v) => *base = v,
                None => {}
            }
        }
        Ok(p)
    }
}

impl Profile {
    /// The profile with `o` applied as far as it tightens: a stored override meets a
    /// category the customer moved up to since, so a number below the category's or a
    /// permission it withholds is ignored, never an error.
    pub fn tightened(&self, o: &ProfileOverrides) -> Profile {
        let up = |base: u32, v: Option<u32>| v.map_or(base, |v| v.max(base));
        Profile {
            approvals_for_destruction: up(
                self.approvals_for_destruction,
                o.approvals_for_destruction,
            ),
            approvals_for_sharing: up(self.approvals_for_sharing, o.approvals_for_sharing),
            approvals_for_high_risk: up(self.approvals_for_high_risk, o.approvals_for_high_risk),
            retention_days: o.retention_days.unwrap_or(self.retention_days),
            backup_copies: up(self.backup_copies, o.backup_copies),
            sites: up(self.sites, o.sites),
            shared_isolation_unit: self.shared_isolation_unit
                && o.shared_isolation_unit.unwrap_or(true),
            external_sharing: self.external_sharing && o.external_sharing.unwrap_or(true),
        }
    }
}

/// The largest number an override may set (approvers, copies, sites): beyond it a
/// destruction could never be approved or content never stored.
pub const MAX_OVERRIDE: u32 = 10;

impl ProfileOverrides {
    /// Bounds a customer's overrides before they are stored; the field that breaks them.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (f, v) in [
            ("approvals_for_destruction", self.approvals_for_destruction),
            ("approvals_for_sharing", self.approvals_for_sharing),
            ("approvals_for_high_risk", self.approvals_for_high_risk),
            ("backup_copies", self.backup_copies),
            ("sites", self.sites),
        ] {
            if v.is_some_and(|v| v > MAX_OVERRIDE) {
                return Err((f.to_owned(), format!("at most {MAX_OVERRIDE}")));
            }
        }
        if self.retention_days.is_some_and(|d| d > 36_500) {
            return Err(("retention_days".to_owned(), "at most 36500 days".to_owned()));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Duty {
    pub id: String,
    pub title: String,
    pub cite: String,
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Category {
    pub id: String,
    pub title: String,
    pub covers: Vec<DataClass>,
    pub basis: String,
    pub profile: Profile,
}

/// The IDC rules, validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IdcPack {
    pub id: String,
    pub title: String,
    pub duties: Vec<Duty>,
    pub categories: Vec<Category>,
    pub category_cite: String,
    pub category_status: String,
    pub critical_sectors: Vec<String>,
    pub critical_sector_floor: String,
    /// Time limits of authorization requests.
    pub access: crate::access::Timing,
    pub access_cite: String,
    pub access_status: String,
    pub access_basis: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccess {
    cite: String,
    status: String,
    basis: String,
    timing: crate::access::Timing,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    id: String,
    title: String,
    #[allow(dead_code)]
    source: String,
    duty: Vec<RawDuty>,
    categories: RawCategories,
    category: Vec<RawCategory>,
    access: RawAccess,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuty {
    id: String,
    title: String,
    cite: String,
    status: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategories {
    cite: String,
    status: String,
    critical_sectors: Vec<String>,
    critical_sector_floor: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    id: String,
    title: String,
    covers: Vec<DataClass>,
    basis: String,
    profile: Profile,
}

impl IdcPack {
    /// The embedded pack.
    pub fn builtin() -> Result<IdcPack> {
        IdcPack::from_toml(IDC_2025, "rule pack `miit-idc-2025`")
    }

    pub fn from_toml(text: &str, origin: &str) -> Result<IdcPack> {
        let de =
            toml::Deserializer::parse(text).map_err(|e| Error::new(origin, "", e.message()))?;
        let raw: RawPack = serde_path_to_error::deserialize(de)
            .map_err(|e| Error::new(origin, e.path().to_string(), e.inner().message()))?;
        let err = |path: String, m: String| Error::new(origin, path, m);
        let mut seen = BTreeSet::new();
        for (i, d) in raw.duty.iter().enumerate() {
            if !seen.insert(d.id.as_str()) {
                return Err(err(
                    format!("duty[{i}].id"),
                    format!("duty `{}` twice", d.id),
                ));
            }
            if d.cite.trim().is_empty() {
                return Err(err(
                    format!("duty[{i}].cite"),
                    "every duty needs a citation".into(),
                ));
            }
        }
        // Every class is covered exactly once, and categories go up in strictness.
        let mut covered = BTreeMap::new();
        for (i, c) in raw.category.iter().enumerate() {
            for cl in &c.covers {
                if let Some(prev) = covered.insert(*cl, c.id.clone()) {
                    return Err(err(
                        format!("category[{i}].covers"),
                        format!(
                            "class `{}` is covered by `{prev}` already",
                            <&str>::from(cl)
                        ),
                    ));
                }
            }
            if let Some(prev) = i.checked_sub(1).map(|j| &raw.category[j].profile) {
                let p = &c.profile;
                if p.approvals_for_destruction < prev.approvals_for_destruction
                    || p.backup_copies < prev.backup_copies
                    || p.sites < prev.sites
                    || (p.shared_isolation_unit && !prev.shared_isolation_unit)
                    || (p.external_sharing && !prev.external_sharing)
                {
                    return Err(err(
                        format!("category[{i}].profile"),
                        "a higher category must not protect less than the one before it".into(),
                    ));
                }
            }
        }
        use strum::IntoEnumIterator;
        if let Some(missing) = DataClass::iter().find(|c| !covered.contains_key(c)) {
            return Err(err(
                "category".into(),
                format!("no category covers class `{}`", <&str>::from(missing)),
            ));
        }
        let t = &raw.access.timing;
        if t.default_duration_hours == 0
            || t.default_duration_hours > t.max_duration_hours
            || t.pending_expiry_hours == 0
        {
            return Err(err(
                "access.timing".into(),
                "durations must be positive, the default at most the maximum".into(),
            ));
        }
        let floor = &raw.categories.critical_sector_floor;
        if !raw.category.iter().any(|c| &c.id == floor) {
            return Err(err(
                "categories.critical_sector_floor".into(),
                format!("no category `{floor}`"),
            ));
        }
        Ok(IdcPack {
            id: raw.id,
            title: raw.title,
            duties: raw
                .duty
                .into_iter()
                .map(|d| Duty {
                    id: d.id,
                    title: d.title,
                    cite: d.cite,
                    status: d.status,
                })
                .collect(),
            categories: raw
                .category
                .into_iter()
                .map(|c| Category {
                    id: c.id,
                    title: c.title,
                    covers: c.covers,
                    basis: c.basis,
                    profile: c.profile,
                })
                .collect(),
            category_cite: raw.categories.cite,
            category_status: raw.categories.status,
            critical_sectors: raw.categories.critical_sectors,
            critical_sector_floor: raw.categories.critical_sector_floor,
            access: raw.access.timing,
            access_cite: raw.access.cite,
            access_status: raw.access.status,
            access_basis: raw.access.basis,
        })
    }

    pub fn duty(&self, id: &str) -> Option<&Duty> {
        self.duties.iter().find(|d| d.id == id)
    }

    /// The customer's category: the one covering the highest class it holds, raised to the
    /// floor for a critical sector. With the reason, for the customer to read.
    pub fn categorize(&self, sector: &str, highest: DataClass) -> Categorized<'_> {
        let idx = |id: &str| self.categories.iter().position(|c| c.id == id);
        let by_class = self
            .categories
            .iter()
            .position(|c| c.covers.contains(&highest))
            .unwrap_or(self.categories.len().saturating_sub(1));
        let critical = self.critical_sectors.iter().any(|s| s == sector);
        let floor = if critical {
            idx(&self.critical_sector_floor).unwrap_or(0)
        } else {
            0
        };
        let i = by_class.max(floor);
        let category = &self.categories[i];
        let reason = if i > by_class {
            format!(
                "sector `{sector}` is critical: at least `{}` (holds `{}` data)",
                self.critical_sector_floor,
                <&str>::from(highest)
            )
        } else {
            format!("holds `{}` data", <&str>::from(highest))
        };
        Categorized {
            category,
            reason,
            cite: &self.category_cite,
            status: &self.category_status,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Categorized<'p> {
    pub category: &'p Category,
    pub reason: String,
    pub cite: &'p str,
    pub status: &'p str,
}

/// A contract's parties, as the matrix check sees them.
#[derive(Clone, Debug)]
pub struct Parties<'a> {
    pub customer: &'a str,
    pub operator: &'a str,
    pub third_parties: Vec<&'a str>,
}

/// One gap in a responsibility matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatrixFinding {
    pub duty: String,
    pub problem: String,
    pub cite: String,
    pub status: String,
}

/// Checks that every duty of the notice is assigned: at least one party responsible, exactly
/// one accountable, and only parties of the contract named. Unknown duties are findings too.
pub fn check_matrix(
    pack: &IdcPack,
    parties: &Parties<'_>,
    matrix: &BTreeMap<String, Assignment>,
) -> Vec<MatrixFinding> {
    let is_party = |p: &str| {
        p == parties.customer || p == parties.operator || parties.third_parties.contains(&p)
    };
    let mut out = Vec::new();
    for d in &pack.duties {
        let f = |problem: String| MatrixFinding {
            duty: d.id.clone(),
            problem,
            cite: d.cite.clone(),
            status: d.status.clone(),
        };
        match matrix.get(&d.id) {
            None => out.push(f("not assigned to anyone".into())),
            Some(a) => {
                if a.responsible.is_empty() {
                    out.push(f("no party is responsible".into()));
                }
                if a.accountable.is_none() {
                    out.push(f("no party is accountable".into()));
                }
                for p in a
                    .responsible
                    .iter()
                    .chain(a.accountable.iter())
                    .chain(a.consulted.iter())
                {
                    if !is_party(p) {
                        out.push(f(format!("`{p}` is not a party to the contract")));
                    }
                }
            }
        }
    }
    for k in matrix.keys() {
        if pack.duty(k).is_none() {
            out.push(MatrixFinding {
                duty: k.clone(),
                problem: "not a duty of the notice".into(),
                cite: String::new(),
                status: String::new(),
            });
        }
    }
    out
}

/// An asset as the isolation check sees it.
#[derive(Clone, Debug)]
pub struct Placed<'a> {
    pub id: &'a str,
    pub customer: &'a str,
    pub isolation_unit: &'a str,
    /// The customer's profile allows sharing a unit.
    pub may_share: bool,
}

/// Assets that share an isolation unit with another customer's when either customer's
/// profile forbids it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IsolationBreach {
    pub isolation_unit: String,
    /// `(customer, asset)` pairs in the unit.
    pub assets: Vec<(String, String)>,
}

pub fn check_isolation(assets: &[Placed<'_>]) -> Vec<IsolationBreach> {
    let mut by_unit: BTreeMap<&str, Vec<&Placed<'_>>> = BTreeMap::new();
    for a in assets {
        by_unit.entry(a.isolation_unit).or_default().push(a);
    }
    let mut out = Vec::new();
    for (unit, list) in by_unit {
        let customers: BTreeSet<&str> = list.iter().map(|a| a.customer).collect();
        if customers.len() > 1 && list.iter().any(|a| !a.may_share) {
            let mut assets: Vec<(String, String)> = list
                .iter()
                .map(|a| (a.customer.to_owned(), a.id.to_owned()))
                .collect();
            assets.sort();
            out.push(IsolationBreach {
                isolation_unit: unit.to_owned(),
                assets,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack() -> IdcPack {
        IdcPack::builtin().unwrap()
    }

    #[test]
    fn the_builtin_pack_loads_and_marks_the_notice_unconfirmed() {
        let p = pack();
        assert_eq!(p.duties.len(), 10);
        assert!(p.duties.iter().all(|d| d.status == "unconfirmed"));
        assert_eq!(p.category_status, "unconfirmed");
    }

    #[test]
    fn categories_by_class_and_sector() {
        let p = pack();
        let table = [
            ("internet", DataClass::General, "c1"),
            ("internet", DataClass::Personal, "c2"),
            ("internet", DataClass::SensitivePersonal, "c3"),
            ("internet", DataClass::Important, "c3"),
            ("internet", DataClass::Core, "c4"),
            ("finance", DataClass::General, "c3"),
            ("finance", DataClass::Core, "c4"),
        ];
        for (sector, class, want) in table {
            let c = p.categorize(sector, class);
            assert_eq!(c.category.id, want, "{sector} {class:?}: {}", c.reason);
        }
        assert!(
            p.categorize("finance", DataClass::General)
                .reason
                .contains("critical")
        );
    }

    #[test]
    fn asset_class_takes_the_higher_of_dsl_and_pipl() {
        use Classification as C;
        assert_eq!(DataClass::of(C::General, false, false), DataClass::General);
        assert_eq!(DataClass::of(C::General, true, false), DataClass::Personal);
        assert_eq!(
            DataClass::of(C::General, true, true),
            DataClass::SensitivePersonal
        );
        assert_eq!(
            DataClass::of(C::Important, true, false),
            DataClass::Important
        );
        assert_eq!(DataClass::of(C::Core, false, true), DataClass::Core);
    }

    #[test]
    fn overrides_only_tighten() {
        let base = &pack().categories[0].profile;
        let tighter = ProfileOverrides {
            approvals_for_destruction: Some(2),
            shared_isolation_unit: Some(false),
            ..Default::default()
        };
        let p = base.with(&tighter).unwrap();
        assert_eq!(p.approvals_for_destruction, 2);
        assert!(!p.shared_isolation_unit);
        let looser = ProfileOverrides {
            approvals_for_destruction: Some(0),
            ..Default::default()
        };
        assert_eq!(
            base.with(&looser).unwrap_err().0,
            "approvals_for_destruction"
        );
        // A stored override meets a stricter category later: tightened, never an error.
        let c4 = &pack().categories[3].profile;
        let shared = ProfileOverrides {
            shared_isolation_unit: Some(true),
            approvals_for_destruction: Some(2),
            ..Default::default()
        };
        let t = c4.tightened(&shared);
        assert!(!t.shared_isolation_unit);
        assert_eq!(t.approvals_for_destruction, 3);
        assert_eq!(
            ProfileOverrides {
                backup_copies: Some(u32::MAX),
                ..Default::default()
            }
            .check()
            .unwrap_err()
            .0,
            "backup_copies"
        );
        let share = ProfileOverrides {
            external_sharing: Some(true),
            ..Default::default()
        };
        assert_eq!(c4.with(&share).unwrap_err().0, "external_sharing");
    }

    #[test]
    fn the_matrix_check_names_each_gap_with_its_citation() {
        let p = pack();
        let parties = Parties {
            customer: "cust",
            operator: "idc",
            third_parties: vec!["backup-co"],
        };
        let full: BTreeMap<String, Assignment> = p
            .duties
            .iter()
            .map(|d| {
                (
                    d.id.clone(),
                    Assignment {
                        responsible: vec!["idc".into()],
                        accountable: Some("idc".into()),
                        consulted: vec!["cust".into()],
                    },
                )
            })
            .collect();
        assert!(check_matrix(&p, &parties, &full).is_empty());
        let mut gaps = full.clone();
        gaps.remove("destruction");
        gaps.get_mut("isolation").unwrap().accountable = None;
        gaps.get_mut("monitoring").unwrap().responsible = vec!["stranger".into()];
        gaps.insert("coffee".into(), Assignment::default());
        let f = check_matrix(&p, &parties, &gaps);
        let got: Vec<(&str, &str)> = f
            .iter()
            .map(|f| (f.duty.as_str(), f.problem.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("isolation", "no party is accountable"),
                ("destruction", "not assigned to anyone"),
                ("monitoring", "`stranger` is not a party to the contract"),
                ("coffee", "not a duty of the notice"),
            ]
        );
        assert!(f[0].cite.contains("isolation") && f[0].status == "unconfirmed");
    }

    #[test]
    fn isolation_breaches_need_two_customers_and_one_that_may_not_share() {
        let a = |id, customer, unit, may_share| Placed {
            id,
            customer,
            isolation_unit: unit,
            may_share,
        };
        let ok = [
            a("a1", "A", "vlan-1", false),
            a("a2", "A", "vlan-1", false),
            a("b1", "B", "vlan-2", false),
            a("c1", "C", "shared", true),
            a("d1", "D", "shared", true),
        ];
        assert!(check_isolation(&ok).is_empty());
        let bad = [a("a1", "A", "rack-7", false), a("c1", "C", "rack-7", true)];
        assert_eq!(
            check_isolation(&bad),
            [IsolationBreach {
                isolation_unit: "rack-7".into(),
                assets: vec![("A".into(), "a1".into()), ("C".into(), "c1".into())],
            }]
        );
    }

    #[test]
    fn a_pack_with_an_uncovered_class_is_refused() {
        let text = IDC_2025.replace("covers = [\"core\"]", "covers = []");
        let e = IdcPack::from_toml(&text, "test").unwrap_err();
        assert!(e.message.contains("core"), "{e}");
    }
}

//! Eligibility of security products (art. 21), evaluation agencies (art. 22) and
//! cryptographic products (art. 37): per criterion met / not met / unknown. Unknown — a fact
//! nobody supplied — is never eligible (principle: nothing unknown passes).

use serde::Serialize;

use crate::model::{Candidate, FactValue};
use crate::pack::{CriteriaRules, CriterionRule, Expectation};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Verdict {
    Met,
    NotMet,
    Unknown,
}

impl Verdict {
    /// The serde name (`met`, `not_met`, `unknown`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CriterionResult<'a> {
    pub id: &'a str,
    pub cite: &'a str,
    pub text: &'a str,
    pub result: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<FactValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<&'a str>,
    /// Set when the criterion does not apply (its `applies_if` fact is false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Eligibility<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub cite: &'a str,
    /// Every criterion met.
    pub eligible: bool,
    pub criteria: Vec<CriterionResult<'a>>,
}

impl Eligibility<'_> {
    pub fn not_met(&self) -> impl Iterator<Item = &CriterionResult<'_>> {
        self.criteria.iter().filter(|c| c.result == Verdict::NotMet)
    }
    pub fn unknown(&self) -> impl Iterator<Item = &CriterionResult<'_>> {
        self.criteria
            .iter()
            .filter(|c| c.result == Verdict::Unknown)
    }
}

fn judge(rule: &CriterionRule, value: Option<FactValue>) -> Verdict {
    match (rule.expect, value) {
        (_, None) => Verdict::Unknown,
        (Expectation::Bool(want), Some(FactValue::Bool(b))) => {
            if b == want {
                Verdict::Met
            } else {
                Verdict::NotMet
            }
        }
        (Expectation::AtLeast(min), Some(FactValue::Number(n))) => {
            if n >= min {
                Verdict::Met
            } else {
                Verdict::NotMet
            }
        }
        // A fact of the wrong type proves nothing.
        _ => Verdict::Unknown,
    }
}

pub fn evaluate<'a>(rules: &'a CriteriaRules, c: &'a Candidate) -> Eligibility<'a> {
    let criteria: Vec<CriterionResult<'a>> = rules
        .criteria
        .iter()
        .map(|r| {
            let value = c.facts.get(&r.id).copied();
            let evidence = c.evidence.get(&r.id).map(String::as_str);
            let mut res = CriterionResult {
                id: &r.id,
                cite: &r.cite,
                text: &r.text,
                result: judge(r, value),
                value,
                evidence,
                note: None,
            };
            if let Some(cond) = &r.applies_if {
                match c.facts.get(cond) {
                    Some(FactValue::Bool(false)) => {
                        res.result = Verdict::Met;
                        res.note = Some(format!("does not apply: `{cond}` is false"));
                    }
                    Some(FactValue::Bool(true)) => {}
                    _ => {
                        res.result = Verdict::Unknown;
                        res.note =
                            Some(format!("unknown whether it applies: `{cond}` not supplied"));
                    }
                }
            }
            res
        })
        .collect();
    Eligibility {
        id: &c.id,
        name: &c.name,
        cite: &rules.cite,
        eligible: criteria.iter().all(|r| r.result == Verdict::Met),
        criteria,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::RulePack;

    fn cand(facts: &[(&str, FactValue)]) -> Candidate {
        Candidate {
            id: "p".into(),
            name: "P".into(),
            facts: facts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            evidence: Default::default(),
        }
    }
    use FactValue::{Bool as B, Number as N};

    #[test]
    fn security_product_art_21() {
        let p = RulePack::baseline().unwrap();
        let r = &p.eligibility.security_product;
        let all = [
            ("domestic_legal_person", B(true)),
            ("independent_ipr", B(true)),
            ("no_criminal_record", B(true)),
            ("no_backdoor_declaration", B(true)),
            ("no_harm", B(true)),
            ("in_certification_catalogue", B(true)),
            ("certified", B(true)),
        ];
        assert!(evaluate(r, &cand(&all)).eligible);
        // Not in the catalogue: criterion 6 does not apply, still eligible without a certificate.
        let mut v = all.to_vec();
        v[5] = ("in_certification_catalogue", B(false));
        v.pop();
        let c = cand(&v);
        let e = evaluate(r, &c);
        assert!(e.eligible, "{e:?}");
        // Catalogue membership unknown → criterion 6 unknown → not eligible.
        let c = cand(&all[..5]);
        let e = evaluate(r, &c);
        assert!(!e.eligible);
        assert_eq!(e.unknown().map(|c| c.id).collect::<Vec<_>>(), ["certified"]);
        // One false fact → not met, with its citation.
        let mut v = all.to_vec();
        v[3] = ("no_backdoor_declaration", B(false));
        let c = cand(&v);
        let e = evaluate(r, &c);
        let bad: Vec<_> = e.not_met().map(|c| c.cite).collect();
        assert_eq!(bad, ["Measures art. 21(4)"]);
    }

    #[test]
    fn agency_art_22_needs_two_years() {
        let p = RulePack::baseline().unwrap();
        let r = &p.eligibility.evaluation_agency;
        let mut facts: Vec<(&str, FactValue)> = r
            .criteria
            .iter()
            .map(|c| (c.id.as_str(), B(true)))
            .collect();
        for (years, ok) in [(1.9, false), (2.0, true), (5.0, true)] {
            for f in &mut facts {
                if f.0 == "testing_years" {
                    f.1 = N(years);
                }
            }
            assert_eq!(evaluate(r, &cand(&facts)).eligible, ok, "{years}");
        }
        // A boolean where a number is needed is not evidence.
        for f in &mut facts {
            if f.0 == "testing_years" {
                f.1 = B(true);
            }
        }
        assert_eq!(
            evaluate(r, &cand(&facts)).criteria[2].result,
            Verdict::Unknown
        );
        assert!(!evaluate(r, &cand(&[])).eligible);
    }

    #[test]
    fn crypto_product_art_37() {
        let p = RulePack::baseline().unwrap();
        let r = &p.eligibility.crypto_product;
        let ok = [
            ("approved_by_crypto_admin", B(true)),
            ("imported", B(false)),
            ("self_developed_without_permission", B(false)),
            ("imported_it_with_encryption", B(false)),
        ];
        assert!(evaluate(r, &cand(&ok)).eligible);
        let mut bad = ok;
        bad[1].1 = B(true);
        assert!(!evaluate(r, &cand(&bad)).eligible);
    }
}

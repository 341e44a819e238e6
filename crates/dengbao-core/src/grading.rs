//! Grading (定级): S and G from the harm matrix, the overall grade, floors for secret-involved
//! systems, and what the grade requires procedurally (art. 7, 8, 10, 27).

use serde::Serialize;

use crate::grade::{Grade, Harm, SecretDegree};
use crate::model::{Assessment, GradingObject, NetworkScope};
use crate::pack::GradingRules;

/// The grade one list of harms leads to: the highest matrix cell over every harmed object,
/// and the harm that decided it. `None` for an empty list (nothing to grade).
pub fn grade_harms(rules: &GradingRules, harms: &[Harm]) -> Option<(Grade, Harm)> {
    // The first harm reaching the maximum is reported as the basis (stable for users).
    harms
        .iter()
        .map(|h| (rules.cell(h.object, h.degree), *h))
        .fold(None, |best, x| match best {
            Some(b) if b.0 >= x.0 => Some(b),
            _ => Some(x),
        })
}

/// Result of grading one assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssessedGrade {
    /// Business-information security grade (业务信息安全保护等级).
    pub s: Grade,
    pub s_basis: Harm,
    /// System-service security grade (系统服务安全保护等级).
    pub g: Grade,
    pub g_basis: Harm,
    /// `max(S, G)`.
    pub by_harm: Grade,
}

pub fn grade_assessment(rules: &GradingRules, a: &Assessment) -> Option<AssessedGrade> {
    let (s, s_basis) = grade_harms(rules, &a.business_information)?;
    let (g, g_basis) = grade_harms(rules, &a.system_service)?;
    Some(AssessedGrade {
        s,
        s_basis,
        g,
        g_basis,
        by_harm: s.max(g),
    })
}

/// A secret-involved system's floor (art. 27 ¶2) when it lifted the grade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FloorApplied {
    pub secret_degree: SecretDegree,
    pub floor: Grade,
}

/// Full grading of a system, with what follows from the grade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grading {
    pub assessed: AssessedGrade,
    /// Floor in force for the secret degree, whether or not it changed the grade.
    pub floor: Option<FloorApplied>,
    /// Final grade: `max(S, G, floor)`.
    pub grade: Grade,
    pub expert_review_required: bool,
    pub department_approval_required: bool,
    pub uniform_grading_by_department: bool,
    /// Per security domain, when domains are graded separately (art. 25 ¶2).
    pub domains: Vec<(String, AssessedGrade)>,
}

impl Grading {
    pub fn floor_raised_grade(&self) -> bool {
        self.floor.is_some_and(|f| f.floor > self.assessed.by_harm)
    }
}

/// Grades a system. `None` only if an assessment has no harms, which validation rejects.
pub fn grade_system(rules: &GradingRules, s: &GradingObject) -> Option<Grading> {
    let assessed = grade_assessment(rules, &s.assessment)?;
    let floor = s.secret.map(|x| FloorApplied {
        secret_degree: x.degree,
        floor: rules.floor(x.degree),
    });
    let grade = floor.map_or(assessed.by_harm, |f| assessed.by_harm.max(f.floor));
    let mut domains = Vec::with_capacity(s.domains.len());
    for d in &s.domains {
        domains.push((d.name.clone(), grade_assessment(rules, &d.assessment)?));
    }
    Some(Grading {
        assessed,
        floor,
        grade,
        expert_review_required: grade >= rules.expert_review_min,
        department_approval_required: s.department_in_charge.is_some(),
        uniform_grading_by_department: s.network_scope != NetworkScope::Local,
        domains,
    })
}

/// Supervision intensity for a grade (art. 8).
pub fn supervision(rules: &GradingRules, g: Grade) -> &str {
    &rules.supervision[usize::from(g.number() - 1)]
}

/// Just the final grade, without allocating — the engine's hot path.
pub fn final_grade(rules: &GradingRules, s: &GradingObject) -> Option<Grade> {
    let (sg, _) = grade_harms(rules, &s.assessment.business_information)?;
    let (gg, _) = grade_harms(rules, &s.assessment.system_service)?;
    let g = sg.max(gg);
    Some(match s.secret {
        Some(x) => g.max(rules.floor(x.degree)),
        None => g,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::{HarmDegree, HarmObject};
    use crate::pack::RulePack;
    use HarmDegree::*;
    use HarmObject::*;
    use proptest::prelude::*;

    fn h(object: HarmObject, degree: HarmDegree) -> Harm {
        Harm { object, degree }
    }

    /// Every cell of the GB/T 22240 table, for S and for G.
    #[test]
    fn every_cell_of_the_harm_matrix() {
        let p = RulePack::baseline().unwrap();
        let r = &p.grading;
        let table = [
            (CitizensLegalPersons, Damage, Grade::I),
            (CitizensLegalPersons, SeriousDamage, Grade::II),
            (CitizensLegalPersons, ParticularlySeriousDamage, Grade::II),
            (SocialOrderPublicInterest, Damage, Grade::II),
            (SocialOrderPublicInterest, SeriousDamage, Grade::III),
            (
                SocialOrderPublicInterest,
                ParticularlySeriousDamage,
                Grade::IV,
            ),
            (NationalSecurity, Damage, Grade::III),
            (NationalSecurity, SeriousDamage, Grade::IV),
            (NationalSecurity, ParticularlySeriousDamage, Grade::V),
        ];
        let low = h(CitizensLegalPersons, Damage);
        for (o, d, want) in table {
            let s_side = Assessment {
                business_information: vec![h(o, d)],
                system_service: vec![low],
            };
            let a = grade_assessment(r, &s_side).unwrap();
            assert_eq!(
                (a.s, a.g, a.by_harm),
                (want, Grade::I, want),
                "S {o:?} {d:?}"
            );
            let g_side = Assessment {
                business_information: vec![low],
                system_service: vec![h(o, d)],
            };
            let a = grade_assessment(r, &g_side).unwrap();
            assert_eq!(
                (a.s, a.g, a.by_harm),
                (Grade::I, want, want),
                "G {o:?} {d:?}"
            );
        }
    }

    #[test]
    fn several_harms_take_the_maximum() {
        let p = RulePack::baseline().unwrap();
        let harms = [
            h(CitizensLegalPersons, ParticularlySeriousDamage),
            h(SocialOrderPublicInterest, SeriousDamage),
            h(NationalSecurity, Damage),
        ];
        let (g, basis) = grade_harms(&p.grading, &harms).unwrap();
        assert_eq!(g, Grade::III);
        assert_eq!(basis.object, SocialOrderPublicInterest);
        assert_eq!(grade_harms(&p.grading, &[]), None);
    }

    fn system(s: Harm, g: Harm) -> GradingObject {
        let text = r#"id = "x"
name = "x"
kind = "information_system"
assessment = { business_information = [], system_service = [] }"#;
        let mut o: GradingObject = toml::from_str(text).unwrap();
        o.assessment = Assessment {
            business_information: vec![s],
            system_service: vec![g],
        };
        o
    }

    #[test]
    fn secret_floors_lift_but_never_lower() {
        let p = RulePack::baseline().unwrap();
        let r = &p.grading;
        let low = h(CitizensLegalPersons, Damage);
        for (degree, floor) in [
            (SecretDegree::Secret, Grade::III),
            (SecretDegree::Confidential, Grade::IV),
            (SecretDegree::TopSecret, Grade::V),
        ] {
            let mut s = system(low, low);
            s.secret = Some(crate::model::SecretInvolvement {
                degree,
                important: false,
            });
            let g = grade_system(r, &s).unwrap();
            assert_eq!(g.grade, floor, "{degree:?}");
            assert!(g.floor_raised_grade());
            assert_eq!(final_grade(r, &s), Some(floor));
        }
        // A secret system assessed above its floor keeps the higher grade.
        let mut s = system(h(NationalSecurity, ParticularlySeriousDamage), low);
        s.secret = Some(crate::model::SecretInvolvement {
            degree: SecretDegree::Secret,
            important: false,
        });
        let g = grade_system(r, &s).unwrap();
        assert_eq!(g.grade, Grade::V);
        assert!(!g.floor_raised_grade());
    }

    /// Art. 43: "Grade IV or above" includes IV; art. 10 ¶3 expert review.
    #[test]
    fn expert_review_from_grade_iv_inclusive() {
        let p = RulePack::baseline().unwrap();
        let low = h(CitizensLegalPersons, Damage);
        for (harm, want) in [
            (h(SocialOrderPublicInterest, SeriousDamage), false), // III
            (
                h(SocialOrderPublicInterest, ParticularlySeriousDamage),
                true,
            ), // IV
            (h(NationalSecurity, ParticularlySeriousDamage), true), // V
        ] {
            let g = grade_system(&p.grading, &system(harm, low)).unwrap();
            assert_eq!(g.expert_review_required, want, "{:?}", g.grade);
        }
        assert!(Grade::III.is_at_least(Grade::III));
        assert!(!Grade::II.is_at_least(Grade::III));
    }

    #[test]
    fn department_and_uniform_grading() {
        let p = RulePack::baseline().unwrap();
        let low = h(CitizensLegalPersons, Damage);
        let mut s = system(low, low);
        let g = grade_system(&p.grading, &s).unwrap();
        assert!(!g.department_approval_required && !g.uniform_grading_by_department);
        s.department_in_charge = Some("Ministry".into());
        s.network_scope = NetworkScope::Nationwide;
        let g = grade_system(&p.grading, &s).unwrap();
        assert!(g.department_approval_required && g.uniform_grading_by_department);
        assert_eq!(supervision(&p.grading, Grade::IV), "compulsory_supervision");
    }

    fn arb_harm() -> impl Strategy<Value = Harm> {
        (0usize..3, 0usize..3).prop_map(|(o, d)| h(HarmObject::ALL[o], HarmDegree::ALL[d]))
    }

    proptest! {
        /// The grade never decreases when a harm degree rises (or a graver object is harmed).
        #[test]
        fn grade_is_monotone_in_harm(harms in proptest::collection::vec(arb_harm(), 1..6), idx in 0usize..6, raise_object in any::<bool>()) {
            let p = RulePack::baseline().unwrap();
            let (before, _) = grade_harms(&p.grading, &harms).unwrap();
            let mut worse = harms.clone();
            let i = idx % worse.len();
            if raise_object {
                worse[i].object = HarmObject::ALL[(worse[i].object.index() + 1).min(2)];
            } else {
                worse[i].degree = HarmDegree::ALL[(worse[i].degree.index() + 1).min(2)];
            }
            let (after, _) = grade_harms(&p.grading, &worse).unwrap();
            prop_assert!(after >= before);
            // Adding a harm never lowers the grade either.
            let mut more = harms.clone();
            more.push(worse[i]);
            prop_assert!(grade_harms(&p.grading, &more).unwrap().0 >= before);
        }
    }
}

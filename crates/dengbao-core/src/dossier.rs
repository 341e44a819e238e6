//! Dossier completeness: which materials a system requires, which are provided, which are
//! missing — the record-filing dossier (备案材料, art. 16) of a system filed with the public
//! security organ, or the application materials (art. 30) of a secret-involved system for the
//! secrecy department. A supervisor can act only on a complete dossier.

use serde::Serialize;

use crate::grade::Grade;
use crate::pack::{MaterialCondition, MaterialKind, MaterialRule, RulePack, Scope};

#[derive(Clone, Debug, Serialize)]
pub struct DossierStatus<'p> {
    /// Whether a filing is required at all for this grade.
    pub applicable: bool,
    pub cite: &'p str,
    pub required: Vec<&'p MaterialRule>,
    pub missing: Vec<&'p MaterialRule>,
    /// Materials provided that this grade does not ask for (kept, but not counted).
    pub extra: Vec<MaterialKind>,
    pub complete: bool,
}

/// What the dossier depends on besides the materials provided.
#[derive(Clone, Copy, Debug)]
pub struct DossierFacts {
    pub grade: Grade,
    pub has_department_in_charge: bool,
    pub secret_involved: bool,
}

/// Checks `provided` against the pack's list for the system.
pub fn dossier<'p>(
    pack: &'p RulePack,
    f: DossierFacts,
    provided: &[MaterialKind],
) -> DossierStatus<'p> {
    // A secret-involved system applies to the secrecy department instead (art. 26, 29, 30).
    let d = if f.secret_involved {
        &pack.secret_dossier
    } else {
        &pack.dossier
    };
    let (grade, has_department_in_charge) = (f.grade, f.has_department_in_charge);
    let in_scope = match d.scope {
        Scope::All => true,
        Scope::NonSecret => !f.secret_involved,
        Scope::Secret => f.secret_involved,
    };
    let applicable = in_scope && grade >= d.min_grade;
    let required: Vec<&MaterialRule> = if applicable {
        d.materials
            .iter()
            .filter(|m| grade >= m.min_grade)
            .filter(|m| match m.only_if {
                Some(MaterialCondition::HasDepartmentInCharge) => has_department_in_charge,
                None => true,
            })
            .collect()
    } else {
        Vec::new()
    };
    let missing: Vec<&MaterialRule> = required
        .iter()
        .copied()
        .filter(|m| !provided.contains(&m.kind))
        .collect();
    let mut extra: Vec<MaterialKind> = provided
        .iter()
        .copied()
        .filter(|k| !required.iter().any(|m| m.kind == *k))
        .collect();
    extra.sort();
    extra.dedup();
    DossierStatus {
        applicable,
        cite: &d.cite,
        complete: missing.is_empty(),
        required,
        missing,
        extra,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MaterialKind::*;

    fn facts(grade: Grade, has_department_in_charge: bool) -> DossierFacts {
        DossierFacts {
            grade,
            has_department_in_charge,
            secret_involved: false,
        }
    }

    #[test]
    fn secret_involved_systems_apply_with_the_art_30_materials() {
        let p = RulePack::baseline().unwrap();
        let secret = |provided: &[MaterialKind]| {
            dossier(
                &p,
                DossierFacts {
                    grade: Grade::IV,
                    has_department_in_charge: true,
                    secret_involved: true,
                },
                provided,
            )
        };
        let s = secret(&[RecordFilingForm, Topology]);
        assert!(s.applicable && !s.complete);
        assert_eq!(s.cite, "Measures art. 30");
        // Items 1–5 of art. 30; "other relevant materials" (6) are never required, and the
        // art. 16 materials count for nothing here.
        let cites: Vec<&str> = s.missing.iter().map(|m| m.cite.as_str()).collect();
        assert_eq!(
            cites,
            [
                "Measures art. 30(1)",
                "Measures art. 30(2); art. 27 ¶1",
                "Measures art. 30(3)",
                "Measures art. 30(4); art. 29 ¶1",
                "Measures art. 30(5)",
            ]
        );
        assert_eq!(s.extra, [RecordFilingForm, Topology]);
        let all = [
            DesignPlan,
            IntegratorQualification,
            ConstructionReport,
            SecrecyEvaluationReport,
            SecrecyOrganisation,
        ];
        assert!(secret(&all).complete);
        assert!(!secret(&all[1..]).complete);
        // And the art. 30 materials do not complete an art. 16 dossier.
        assert!(!dossier(&p, facts(Grade::III, false), &all).complete);
    }

    #[test]
    fn requirements_by_grade() {
        let p = RulePack::baseline().unwrap();
        // Grade I files nothing; II only the form; III+ the form and attachments 1–6, and 7
        // when there is a department in charge.
        for (grade, dept, want) in [
            (Grade::I, false, 0),
            (Grade::II, true, 1),
            (Grade::III, false, 7),
            (Grade::III, true, 8),
            (Grade::IV, true, 8),
            (Grade::V, false, 7),
        ] {
            let s = dossier(&p, facts(grade, dept), &[]);
            assert_eq!(s.required.len(), want, "{grade} dept={dept}");
            assert_eq!(s.missing.len(), want);
            assert_eq!(s.applicable, grade >= Grade::II);
            let full = dossier(&p, facts(grade, dept), &MaterialKind::ALL);
            assert!(full.complete);
            assert_eq!(full.extra.len(), MaterialKind::ALL.len() - want);
        }
    }

    #[test]
    fn names_each_missing_item_with_its_article() {
        let p = RulePack::baseline().unwrap();
        let s = dossier(
            &p,
            facts(Grade::III, true),
            &[RecordFilingForm, Topology, ExpertReview],
        );
        assert!(!s.complete);
        let cites: Vec<&str> = s.missing.iter().map(|m| m.cite.as_str()).collect();
        assert_eq!(
            cites,
            [
                "Measures art. 16(2)",
                "Measures art. 16(3)",
                "Measures art. 16(4)",
                "Measures art. 16(5)",
                "Measures art. 16(7); art. 10 ¶1"
            ]
        );
    }
}

//! Filing dossier completeness (备案材料, art. 16): which materials a grade requires, which
//! are provided, which are missing. A supervisor can act only on a complete dossier.

use serde::Serialize;

use crate::grade::Grade;
use crate::pack::{MaterialCondition, MaterialKind, MaterialRule, RulePack};

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

/// Checks `provided` against the pack's list for `grade`.
pub fn dossier<'p>(
    pack: &'p RulePack,
    grade: Grade,
    has_department_in_charge: bool,
    provided: &[MaterialKind],
) -> DossierStatus<'p> {
    let d = &pack.dossier;
    let applicable = grade >= d.min_grade;
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

    const ALL8: [MaterialKind; 8] = [
        RecordFilingForm,
        Topology,
        SecurityOrganisation,
        SecurityDesign,
        ProductList,
        EvaluationReport,
        ExpertReview,
        DepartmentApproval,
    ];

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
            let s = dossier(&p, grade, dept, &[]);
            assert_eq!(s.required.len(), want, "{grade} dept={dept}");
            assert_eq!(s.missing.len(), want);
            assert_eq!(s.applicable, grade >= Grade::II);
            let full = dossier(&p, grade, dept, &ALL8);
            assert!(full.complete);
            assert_eq!(full.extra.len(), 8 - want);
        }
    }

    #[test]
    fn names_each_missing_item_with_its_article() {
        let p = RulePack::baseline().unwrap();
        let s = dossier(
            &p,
            Grade::III,
            true,
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

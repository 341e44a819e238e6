//! The names of core enums: `as_str` (strum) is the serde name of every variant, parses back,
//! and the `ALL` lists are complete — so a new variant cannot get a second spelling or be left
//! out of a list.

#![allow(clippy::unwrap_used, clippy::panic)]

use dengbao_core::eligibility::Verdict;
use dengbao_core::grade::SecretDegree;
use dengbao_core::model::{ChangeAspect, Conformity, InspectionMatter, NetworkScope, ObjectKind};
use dengbao_core::obligations::Status;
use dengbao_core::pack::{MaterialKind, Party};
use dengbao_core::violations::Basis;
use dengbao_core::{HarmDegree, HarmObject};
use strum::IntoEnumIterator;

fn check<T>(all: Option<&[T]>)
where
    T: IntoEnumIterator + serde::Serialize + Copy + PartialEq + std::fmt::Debug + std::str::FromStr,
    &'static str: From<T>,
{
    let every: Vec<T> = T::iter().collect();
    assert!(!every.is_empty());
    for v in &every {
        let name: &'static str = (*v).into();
        assert_eq!(
            serde_json::to_value(v).unwrap(),
            serde_json::json!(name),
            "{v:?}"
        );
        assert!(
            name.parse::<T>().is_ok_and(|p| p == *v),
            "{name} parses back"
        );
    }
    if let Some(all) = all {
        assert_eq!(
            all,
            every.as_slice(),
            "the ALL list is every variant, in order"
        );
    }
}

#[test]
fn every_name_is_the_serde_name_and_every_list_is_complete() {
    check::<ObjectKind>(None);
    check::<NetworkScope>(None);
    check(Some(&Conformity::ALL));
    check::<InspectionMatter>(None);
    check(Some(&ChangeAspect::ALL));
    check(Some(&HarmObject::ALL));
    check(Some(&HarmDegree::ALL));
    check::<SecretDegree>(None);
    check(Some(&MaterialKind::ALL));
    check(Some(&Party::ALL));
    check::<Basis>(None);
    check::<Verdict>(None);
    check::<Status>(None);
}

/// Measures art. 7 writes grades as roman numerals; `3` or `"3"` is refused with the rule,
/// not guessed at.
#[test]
fn grades_are_roman_numerals_only_art_7() {
    use dengbao_core::Grade;
    for (text, ok) in [
        ("III", true),
        ("V", true),
        ("3", false),
        ("iii", false),
        ("VI", false),
    ] {
        assert_eq!(text.parse::<Grade>().is_ok(), ok, "{text}");
        let json = serde_json::from_value::<Grade>(serde_json::json!(text));
        assert_eq!(json.is_ok(), ok, "{text}");
    }
    let e = serde_json::from_value::<Grade>(serde_json::json!(3)).unwrap_err();
    assert!(
        e.to_string()
            .contains("I, II, III, IV or V (Measures art. 7)"),
        "{e}"
    );
    let e = "3".parse::<Grade>().unwrap_err();
    assert!(e.to_string().contains("Measures art. 7"), "{e}");
}

//! Property tests for the detectors and masking.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

mod support;

use dengbao_scan::detect::{Confidence, Kind};
use dengbao_scan::{Config, Scanner};
use proptest::prelude::*;
use support::corpus::{
    Rng, credit_code, mobile, resident_id, resident_id_wrong_check, unionpay_card,
};

fn scanner() -> Scanner {
    Scanner::new(Config::default()).unwrap()
}

const FILLERS: [&str; 6] = ["客户资料 ", "see: ", "(", "，", "\n", "id="];
const ENDS: [&str; 6] = [" ", "。", ")", "\n", ",", ""];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Every generated valid identifier is found, with its exact span, at high confidence.
    #[test]
    fn every_valid_identifier_is_found(seed in any::<u64>(), which in 0usize..4, pre in 0usize..6, post in 0usize..6) {
        let mut r = Rng::new(seed);
        let (kind, value) = match which {
            0 => (Kind::ResidentId, resident_id(&mut r)),
            1 => (Kind::CreditCode, credit_code(&mut r)),
            2 => (Kind::BankCard, unionpay_card(&mut r)),
            _ => (Kind::Mobile, format!("+86{}", mobile(&mut r))),
        };
        let text = format!("{}{value}{}", FILLERS[pre], ENDS[post]);
        let f = scanner().scan_bytes("p", text.as_bytes()).findings;
        prop_assert_eq!(f.len(), 1, "{}: {:?}", text, f);
        prop_assert_eq!(f[0].kind, kind);
        // An all-digit credit code passes its check by chance one time in 31: without a
        // label nearby it is medium by design (detect.rs), and no filler here is a label.
        let want = if kind == Kind::CreditCode && value.bytes().all(|b| b.is_ascii_digit()) {
            Confidence::Medium
        } else {
            Confidence::High
        };
        prop_assert_eq!(f[0].confidence, want);
        prop_assert_eq!(f[0].offset as usize, FILLERS[pre].len());
        prop_assert_eq!(f[0].length as usize, value.len());
        // The raw value never appears in the report.
        let json = serde_json::to_string(&f).unwrap();
        prop_assert!(!json.contains(&value));
    }

    /// No resident ID with a wrong check character is reported at high confidence, as any kind.
    #[test]
    fn wrong_check_character_is_never_high(seed in any::<u64>()) {
        let mut r = Rng::new(seed);
        let bad = resident_id_wrong_check(&mut r);
        let f = scanner().scan_bytes("p", format!("身份证 {bad}。").as_bytes()).findings;
        prop_assert!(f.iter().all(|x| x.confidence != Confidence::High), "{bad}: {f:?}");
    }

    /// An identifier inside a longer run of digits or letters is not a match.
    #[test]
    fn embedded_identifiers_do_not_count(seed in any::<u64>(), before in "[0-9A-Za-z]{1,3}", after in "[0-9]{0,3}") {
        let mut r = Rng::new(seed);
        let id = resident_id(&mut r);
        let f = scanner().scan_bytes("p", format!("{before}{id}{after}").as_bytes()).findings;
        prop_assert!(f.iter().all(|x| x.kind != Kind::ResidentId), "{before}{id}{after}: {f:?}");
    }

    /// Arbitrary bytes never crash the scanner, and every finding lies inside the input.
    #[test]
    fn arbitrary_bytes_are_safe(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let r = scanner().scan_bytes("p", &bytes);
        for f in &r.findings {
            prop_assert!((f.offset + f.length) as usize <= bytes.len());
        }
    }
}

/// The case proptest found: an all-digit credit code is medium alone, high after its label.
#[test]
fn an_all_digit_credit_code_needs_its_label_to_be_high() {
    let code = "914201027414186823";
    let alone = scanner()
        .scan_bytes("p", format!("客户资料 {code} ").as_bytes())
        .findings;
    assert_eq!((alone.len(), alone[0].confidence), (1, Confidence::Medium));
    let labelled = scanner()
        .scan_bytes("p", format!("统一社会信用代码：{code}").as_bytes())
        .findings;
    assert_eq!(
        (labelled.len(), labelled[0].confidence),
        (1, Confidence::High)
    );
}

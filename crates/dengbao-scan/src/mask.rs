//! Masking: the raw value of a finding is never printed or logged; only this form leaves
//! the scanner. Each kind reveals at most a fixed number of characters.

use crate::detect::Kind;

/// How many leading and trailing characters a kind may reveal.
pub fn budget(kind: Kind) -> (usize, usize) {
    match kind {
        Kind::ResidentId | Kind::CreditCode | Kind::BankCard => (4, 4),
        Kind::ResidentIdLegacy => (4, 3),
        Kind::Mobile => (3, 4),
        Kind::Passport => (1, 2),
        Kind::Custom => (2, 2),
        Kind::Keyword => (1, 0),
        // Shown in other ways below.
        Kind::Email | Kind::Ipv4 | Kind::Ipv6 | Kind::Classification => (0, 0),
    }
}

fn keep_edges(chars: &[char], head: usize, tail: usize) -> String {
    let n = chars.len();
    // At least four characters stay hidden; a value too short for that shows a third at most.
    let (head, tail) = if n < head + tail + 4 {
        ((n / 3).min(head), 0)
    } else {
        (head, tail)
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

/// The masked form of `raw` (the matched bytes) for `kind`.
pub fn mask(kind: Kind, raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    match kind {
        Kind::Classification => text.into_owned(),
        Kind::Email => {
            let (local, domain) = text.split_once('@').unwrap_or((&text, ""));
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        Kind::Ipv4 => {
            let parts: Vec<&str> = text.split('.').collect();
            format!(
                "{}.{}.*.*",
                parts.first().unwrap_or(&"*"),
                parts.get(1).unwrap_or(&"*")
            )
        }
        Kind::Ipv6 => {
            let first = text.split(':').next().unwrap_or("");
            format!("{first}:****")
        }
        Kind::Mobile | Kind::BankCard => {
            // Separators are dropped; a +86 prefix is kept as context, not as data.
            let plus = text.starts_with('+');
            let mut digits: Vec<char> = text.chars().filter(char::is_ascii_digit).collect();
            let starts = |p: &str| digits.iter().take(p.len()).copied().eq(p.chars());
            let cc = match (kind, digits.len()) {
                (Kind::Mobile, 13) if starts("86") => 2,
                (Kind::Mobile, 15) if starts("0086") => 4,
                _ => 0,
            };
            let prefix: String = if cc > 0 {
                digits.drain(..cc).collect()
            } else {
                String::new()
            };
            let (h, t) = budget(kind);
            let masked = keep_edges(&digits, h, t);
            match (plus, cc > 0) {
                (true, true) => format!("+{prefix} {masked}"),
                (false, true) => format!("{prefix} {masked}"),
                _ => masked,
            }
        }
        _ => {
            let chars: Vec<char> = text.chars().collect();
            let (h, t) = budget(kind);
            if kind == Kind::Custom && chars.len() < 8 {
                return "*".repeat(chars.len());
            }
            keep_edges(&chars, h, t)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(
            mask(Kind::ResidentId, b"11010519491231002X"),
            "1101**********002X"
        );
        assert_eq!(mask(Kind::Mobile, b"13800138000"), "138****8000");
        assert_eq!(mask(Kind::Mobile, b"+86 138 0013 8000"), "+86 138****8000");
        assert_eq!(
            mask(Kind::BankCard, b"6222 0212 3456 7890 128"),
            "6222***********0128"
        );
        assert_eq!(
            mask(Kind::Email, b"zhang.san@example.com"),
            "z***@example.com"
        );
        assert_eq!(mask(Kind::Ipv4, b"10.2.3.40"), "10.2.*.*");
        assert_eq!(mask(Kind::Passport, b"E12345678"), "E******78");
        assert_eq!(mask(Kind::Keyword, "天河计划".as_bytes()), "天***");
        assert_eq!(mask(Kind::Custom, b"EMP-1234"), "EM****34");
        assert_eq!(mask(Kind::Custom, b"ABC12"), "*****");
        assert_eq!(
            mask(Kind::Classification, "机密★10年".as_bytes()),
            "机密★10年"
        );
    }

    proptest! {
        /// The masked form never shows more of the value than the kind's budget, and always
        /// hides at least four characters (or two thirds of a shorter value).
        #[test]
        fn never_reveals_more_than_the_budget(value in "[0-9A-Z]{1,40}", k in 0usize..5) {
            let kind = [Kind::ResidentId, Kind::CreditCode, Kind::Passport, Kind::Custom, Kind::ResidentIdLegacy][k];
            let m = mask(kind, value.as_bytes());
            let shown = m.chars().filter(|c| *c != '*').count();
            let (h, t) = budget(kind);
            prop_assert!(shown <= h + t, "{value} -> {m}");
            let n = value.len();
            prop_assert!(n - shown >= 4.min(n - n / 3), "{value} -> {m}");
            prop_assert_eq!(m.chars().count(), value.len());
            // What is shown is at the edges: every shown char equals the value's char there.
            for (a, b) in m.chars().zip(value.chars()) {
                prop_assert!(a == '*' || a == b);
            }
        }

        #[test]
        fn digits_masked_for_phones_and_cards(d in "[0-9]{11,19}") {
            let m = mask(Kind::BankCard, d.as_bytes());
            prop_assert!(m.chars().filter(char::is_ascii_digit).count() <= 8, "{d} -> {m}");
            // A mobile number shows 7 of its 11 digits at most, plus a country code (86/0086).
            let m = mask(Kind::Mobile, d.as_bytes());
            let cc = if d.len() == 13 && d.starts_with("86") { 2 } else if d.len() == 15 && d.starts_with("0086") { 4 } else { 0 };
            prop_assert!(m.chars().filter(char::is_ascii_digit).count() <= 8 + cc, "{d} -> {m}");
        }
    }
}

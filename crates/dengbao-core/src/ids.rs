//! Validated identifiers: Unified Social Credit Code (统一社会信用代码, GB 32100) and
//! administrative division code (行政区划代码, GB/T 2260).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ValueError;

const CREDIT_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// An 18-character Unified Social Credit Code whose check character is right (GB 32100).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

impl CreditCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The check character for the first 17 characters, or `None` if one is not in the
    /// GB 32100 alphabet.
    pub fn check_char(first17: &[u8]) -> Option<u8> {
        let mut sum = 0u32;
        for (c, w) in first17.iter().zip(CREDIT_WEIGHTS) {
            let v = CREDIT_ALPHABET.iter().position(|a| a == c)? as u32;
            sum += v * w;
        }
        Some(CREDIT_ALPHABET[((31 - sum % 31) % 31) as usize])
    }
}

impl FromStr for CreditCode {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<CreditCode, ValueError> {
        let up = s.to_ascii_uppercase();
        let b = up.as_bytes();
        if b.len() != 18 {
            return Err(ValueError::new(format!(
                "Unified Social Credit Code `{s}` has {} characters; GB 32100 requires 18",
                s.chars().count()
            )));
        }
        if let Some((i, c)) = up
            .char_indices()
            .find(|(_, c)| !CREDIT_ALPHABET.contains(&(*c as u8)) || !c.is_ascii())
        {
            return Err(ValueError::new(format!(
                "Unified Social Credit Code `{s}`: character {} `{c}` is not allowed (GB 32100 uses 0-9 and A-Y without I, O, S, V, Z)",
                i + 1
            )));
        }
        if !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(ValueError::new(format!(
                "Unified Social Credit Code `{s}`: characters 3–8 must be the registering authority's division code (digits), GB 32100"
            )));
        }
        let expected = CreditCode::check_char(&b[..17]).unwrap_or(b'?');
        if b[17] != expected {
            return Err(ValueError::new(format!(
                "Unified Social Credit Code `{s}`: check character is `{}`, expected `{}` (GB 32100 check)",
                b[17] as char, expected as char
            )));
        }
        Ok(CreditCode(up))
    }
}

/// Administrative level of a division code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionLevel {
    Province,
    City,
    County,
}

/// Province-level prefixes of GB/T 2260 (including Taiwan 71, Hong Kong 81, Macau 82).
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// A 6-digit administrative division code: province (2), city (2), county (2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode([u8; 6]);

impl DivisionCode {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??????")
    }

    pub fn level(&self) -> DivisionLevel {
        match (&self.0[2..4], &self.0[4..6]) {
            (b"00", b"00") => DivisionLevel::Province,
            (_, b"00") => DivisionLevel::City,
            _ => DivisionLevel::County,
        }
    }

    /// Whether `self` lies inside `area` (same prefix down to `area`'s level).
    pub fn is_within(&self, area: &DivisionCode) -> bool {
        let n = match area.level() {
            DivisionLevel::Province => 2,
            DivisionLevel::City => 4,
            DivisionLevel::County => 6,
        };
        self.0[..n] == area.0[..n]
    }
}

impl DivisionCode {
    /// Allocation-free check for scanners: `Some` iff `from_str` would accept these bytes.
    pub fn from_bytes(b: &[u8]) -> Option<DivisionCode> {
        if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let prov = (b[0] - b'0') * 10 + (b[1] - b'0');
        if !PROVINCES.contains(&prov) || (&b[2..4] == b"00" && &b[4..6] != b"00") {
            return None;
        }
        let mut a = [0u8; 6];
        a.copy_from_slice(b);
        Some(DivisionCode(a))
    }
}

impl FromStr for DivisionCode {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<DivisionCode, ValueError> {
        let b = s.as_bytes();
        if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
            return Err(ValueError::new(format!(
                "division code `{s}` must be exactly 6 digits (GB/T 2260)"
            )));
        }
        let prov = (b[0] - b'0') * 10 + (b[1] - b'0');
        if !PROVINCES.contains(&prov) {
            return Err(ValueError::new(format!(
                "division code `{s}`: `{prov:02}` is not a province-level code (GB/T 2260)"
            )));
        }
        if &b[2..4] == b"00" && &b[4..6] != b"00" {
            return Err(ValueError::new(format!(
                "division code `{s}`: a county code needs its city digits (3–4) set (GB/T 2260)"
            )));
        }
        let mut a = [0u8; 6];
        a.copy_from_slice(b);
        Ok(DivisionCode(a))
    }
}

macro_rules! string_newtype_serde {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), self.as_str())
            }
        }
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_newtype_serde!(CreditCode);
string_newtype_serde!(DivisionCode);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn credit_code_known_values() {
        // Check characters computed by hand from the GB 32100 weights.
        let first = *b"91110000600037341";
        let c = CreditCode::check_char(&first).unwrap();
        let good = format!("{}{}", std::str::from_utf8(&first).unwrap(), c as char);
        assert!(good.parse::<CreditCode>().is_ok());
        // Any other check character fails and names the expected one.
        let wrong = if c == b'0' { b'1' } else { b'0' };
        let bad = format!("{}{}", std::str::from_utf8(&first).unwrap(), wrong as char);
        let err = bad.parse::<CreditCode>().unwrap_err().to_string();
        assert!(err.contains(&format!("expected `{}`", c as char)), "{err}");
        assert!(err.contains("GB 32100"));
    }

    #[test]
    fn credit_code_rejects_shape_errors() {
        for (s, needle) in [
            ("9111000060003734", "has 16 characters"),
            ("91110000600037341I", "not allowed"),
            ("91AB0000600037341X", "characters 3–8"),
        ] {
            let e = s.parse::<CreditCode>().unwrap_err().to_string();
            assert!(e.contains(needle), "{s}: {e}");
        }
    }

    #[test]
    fn division_codes() {
        let bj: DivisionCode = "110000".parse().unwrap();
        let hd: DivisionCode = "110108".parse().unwrap();
        let sh: DivisionCode = "310100".parse().unwrap();
        assert_eq!(bj.level(), DivisionLevel::Province);
        assert_eq!(sh.level(), DivisionLevel::City);
        assert_eq!(hd.level(), DivisionLevel::County);
        assert!(hd.is_within(&bj));
        assert!(!hd.is_within(&sh));
        for bad in ["11010", "1101089", "99xxxx", "990000", "110008", "abcdef"] {
            assert!(bad.parse::<DivisionCode>().is_err(), "{bad}");
        }
    }

    proptest! {
        /// The scanners' allocation-free check agrees with the parser.
        #[test]
        fn division_from_bytes_agrees_with_from_str(s in "[0-9]{6}") {
            prop_assert_eq!(DivisionCode::from_bytes(s.as_bytes()), s.parse::<DivisionCode>().ok());
        }

        #[test]
        fn every_generated_credit_code_validates_and_one_change_breaks_it(
            body in proptest::collection::vec(0usize..31, 17), pos in 0usize..18, delta in 1usize..31
        ) {
            let mut b: Vec<u8> = body.iter().map(|&i| CREDIT_ALPHABET[i]).collect();
            for c in &mut b[2..8] { if !c.is_ascii_digit() { *c = b'0'; } }
            let check = CreditCode::check_char(&b).unwrap();
            b.push(check);
            let s = String::from_utf8(b.clone()).unwrap();
            prop_assert!(s.parse::<CreditCode>().is_ok());
            // Changing any single character to another alphabet member must be caught
            // (weights are non-zero and 31 is prime).
            let idx = CREDIT_ALPHABET.iter().position(|&a| a == b[pos]).unwrap();
            let mut m = b.clone();
            m[pos] = CREDIT_ALPHABET[(idx + delta) % 31];
            if (2..8).contains(&pos) && !m[pos].is_ascii_digit() { return Ok(()); }
            let ms = String::from_utf8(m).unwrap();
            prop_assert!(ms.parse::<CreditCode>().is_err());
        }
    }
}

//! Grades and the harm vocabulary of art. 6–7 and GB/T 22240.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ValueError;

/// Security protection grade (安全保护等级), I (lowest) to V. Ordered, so "Grade III or
/// above" is `g >= Grade::III` — art. 43: "above" includes the number itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grade {
    I = 1,
    II = 2,
    III = 3,
    IV = 4,
    V = 5,
}

impl Grade {
    pub const ALL: [Grade; 5] = [Grade::I, Grade::II, Grade::III, Grade::IV, Grade::V];

    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::I => "I",
            Grade::II => "II",
            Grade::III => "III",
            Grade::IV => "IV",
            Grade::V => "V",
        }
    }

    /// Art. 43: "X or above" includes X.
    pub fn is_at_least(self, threshold: Grade) -> bool {
        self >= threshold
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Grade {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Grade, ValueError> {
        // Roman numerals only, as the Measures write them: `3` is a mistake to point out, not
        // a spelling to guess at.
        Ok(match s.trim() {
            "I" => Grade::I,
            "II" => Grade::II,
            "III" => Grade::III,
            "IV" => Grade::IV,
            "V" => Grade::V,
            _ => {
                return Err(ValueError::new(format!(
                    "`{s}` is not a grade; use I, II, III, IV or V (Measures art. 7)"
                )));
            }
        })
    }
}

impl Serialize for Grade {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Grade {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Grade, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Grade;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a grade I–V")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Grade, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Grade, E> {
                Err(E::custom(format!(
                    "`{v}` is a number; write the grade as I, II, III, IV or V (Measures art. 7)"
                )))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Grade, E> {
                Err(E::custom(format!(
                    "`{v}` is a number; write the grade as I, II, III, IV or V (Measures art. 7)"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// The object harmed if the system is destroyed (侵害客体), art. 6–7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum HarmObject {
    /// Legitimate rights and interests of citizens, legal persons and other organisations.
    CitizensLegalPersons,
    /// Social order and public interest.
    SocialOrderPublicInterest,
    /// National security.
    NationalSecurity,
}

impl HarmObject {
    pub const ALL: [HarmObject; 3] = [
        HarmObject::CitizensLegalPersons,
        HarmObject::SocialOrderPublicInterest,
        HarmObject::NationalSecurity,
    ];
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How badly it is harmed (侵害程度).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum HarmDegree {
    /// 一般损害
    Damage,
    /// 严重损害
    SeriousDamage,
    /// 特别严重损害
    ParticularlySeriousDamage,
}

impl HarmDegree {
    pub const ALL: [HarmDegree; 3] = [
        HarmDegree::Damage,
        HarmDegree::SeriousDamage,
        HarmDegree::ParticularlySeriousDamage,
    ];
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One harm: which object, how badly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Harm {
    pub object: HarmObject,
    pub degree: HarmDegree,
}

/// Secret degree of a secret-involved system (涉密等级), art. 25, ascending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum SecretDegree {
    /// 秘密
    Secret,
    /// 机密
    Confidential,
    /// 绝密
    TopSecret,
}

impl SecretDegree {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

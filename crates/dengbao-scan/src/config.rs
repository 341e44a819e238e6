//! Scanner configuration: limits, user keyword lists and regular-expression detectors, read
//! from TOML. Loading compiles everything and reports the first problem with its field.

use serde::Deserialize;

use crate::detect::Confidence;
use crate::error::ScanError;

/// Limits that keep hostile input (zip bombs, huge files) from taking the process down.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Files larger than this are reported as skipped, not read.
    pub max_file_bytes: u64,
    /// Total text extracted from one archive (docx/xlsx/pptx).
    pub max_archive_bytes: u64,
    /// One archive entry, uncompressed.
    pub max_entry_bytes: u64,
    /// Uncompressed/compressed ratio above which an entry is treated as a zip bomb.
    pub max_compression_ratio: u64,
    /// Findings kept per file (counts stay exact beyond it).
    pub max_findings_per_file: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 16 << 30,
            max_archive_bytes: 1 << 30,
            max_entry_bytes: 256 << 20,
            max_compression_ratio: 200,
            max_findings_per_file: 10_000,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordList {
    pub name: String,
    pub words: Vec<String>,
    #[serde(default = "medium")]
    pub confidence: Confidence,
    #[serde(default)]
    pub case_insensitive: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegexDetector {
    pub name: String,
    pub pattern: String,
    #[serde(default = "medium")]
    pub confidence: Confidence,
}

fn medium() -> Confidence {
    Confidence::Medium
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub keywords: Vec<KeywordList>,
    #[serde(default)]
    pub regex: Vec<RegexDetector>,
}

impl Config {
    /// Parses and checks a TOML configuration; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Config, ScanError> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ScanError::Config {
                origin: origin.into(),
                field: "(syntax)".into(),
                message: e.to_string().trim_end().into(),
            })?;
        let c: Config = from_table(table).map_err(|(field, message)| ScanError::Config {
            origin: origin.into(),
            field,
            message,
        })?;
        c.check(origin)?;
        Ok(c)
    }

    pub fn check(&self, origin: &str) -> Result<(), ScanError> {
        let err = |field: String, message: String| ScanError::Config {
            origin: origin.into(),
            field,
            message,
        };
        let mut names: Vec<&str> = Vec::new();
        for (i, k) in self.keywords.iter().enumerate() {
            if k.name.trim().is_empty() || names.contains(&k.name.as_str()) {
                return Err(err(
                    format!("keywords[{i}].name"),
                    "must be non-empty and unique".into(),
                ));
            }
            names.push(&k.name);
            if k.words.is_empty() || k.words.iter().any(|w| w.is_empty()) {
                return Err(err(
                    format!("keywords[{i}].words"),
                    "needs at least one non-empty word".into(),
                ));
            }
        }
        for (i, r) in self.regex.iter().enumerate() {
            if r.name.trim().is_empty() || names.contains(&r.name.as_str()) {
                return Err(err(
                    format!("regex[{i}].name"),
                    "must be non-empty and unique".into(),
                ));
            }
            names.push(&r.name);
            if let Err(e) = regex::bytes::Regex::new(&r.pattern) {
                return Err(err(
                    format!("regex[{i}].pattern"),
                    format!("not a valid regular expression: {e}"),
                ));
            }
            if regex::bytes::Regex::new(&r.pattern).is_ok_and(|re| re.is_match(b"")) {
                return Err(err(
                    format!("regex[{i}].pattern"),
                    "matches the empty string, so it would match everywhere".into(),
                ));
            }
        }
        if self.limits.max_compression_ratio == 0 || self.limits.max_entry_bytes == 0 {
            return Err(err("limits".into(), "limits must be positive".into()));
        }
        Ok(())
    }
}

fn from_table(t: toml::Table) -> Result<Config, (String, String)> {
    serde_path_to_error::deserialize(toml::Value::Table(t)).map_err(|e| {
        let msg = e.inner().to_string();
        let msg = msg
            .trim_end()
            .rsplit_once("\nin `")
            .map_or(msg.trim_end(), |(m, _)| m)
            .to_owned();
        (e.path().to_string(), msg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_rejects_precisely() {
        let ok = "[[keywords]]\nname = \"projects\"\nwords = [\"天河\", \"Skyline\"]\n[[regex]]\nname = \"emp\"\npattern = 'EMP-\\d{6}'\nconfidence = \"high\"\n";
        let c = Config::from_toml(ok, "c.toml").unwrap();
        assert_eq!(c.keywords[0].words.len(), 2);
        assert_eq!(c.regex[0].confidence, Confidence::High);
        for (text, field) in [
            (
                "[[regex]]\nname = \"x\"\npattern = \"(\"",
                "regex[0].pattern",
            ),
            (
                "[[regex]]\nname = \"x\"\npattern = \"a*\"",
                "regex[0].pattern",
            ),
            (
                "[[keywords]]\nname = \"x\"\nwords = []",
                "keywords[0].words",
            ),
            (
                "[[keywords]]\nname = \"x\"\nwords = [\"a\"]\nconfidence = \"certain\"",
                "keywords[0].confidence",
            ),
            ("[limits]\nmax_file_byte = 3", "limits"),
        ] {
            let e = Config::from_toml(text, "c.toml").unwrap_err().to_string();
            assert!(e.contains(field), "{text}: {e}");
            assert!(e.starts_with("c.toml: "), "{e}");
        }
    }
}

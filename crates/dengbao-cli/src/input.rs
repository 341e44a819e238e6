//! Reading files: inventories (TOML or JSON), rule packs and holiday calendars. Every error
//! names the file, the field path and the rule that failed.

use std::path::Path;

use anyhow::{Context as _, Result, anyhow};
use dengbao_core::date::HolidayYear;
use dengbao_core::model::{GradingObject, Inventory};
use dengbao_core::{HolidayCalendar, RulePack};
use serde::de::DeserializeOwned;

/// Refuse absurd inputs before parsing them: an inventory is text, not a data dump.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

fn read(path: &Path) -> Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(anyhow!(
            "{}: {} bytes is larger than the {} MiB limit",
            path.display(),
            meta.len(),
            MAX_FILE_BYTES / 1024 / 1024
        ));
    }
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

#[derive(PartialEq)]
enum Syntax {
    Toml,
    Json,
}

fn syntax_of(path: &Path, text: &str) -> Syntax {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("json") => Syntax::Json,
        Some(e) if e.eq_ignore_ascii_case("toml") => Syntax::Toml,
        _ if text.trim_start().starts_with(['{', '[']) && !text.trim_start().starts_with("[[") => {
            Syntax::Json
        }
        _ => Syntax::Toml,
    }
}

/// A document parsed but not yet typed, so we can look at its top-level keys first.
enum Doc {
    Toml(toml::Table),
    Json(serde_json::Value),
}

impl Doc {
    fn parse(path: &Path, text: &str) -> Result<Doc> {
        let p = path.display();
        Ok(match syntax_of(path, text) {
            Syntax::Toml => Doc::Toml(
                text.parse::<toml::Table>()
                    .map_err(|e| anyhow!("{p}: TOML syntax: {}", e.to_string().trim_end()))?,
            ),
            Syntax::Json => {
                Doc::Json(serde_json::from_str(text).map_err(|e| anyhow!("{p}: JSON syntax: {e}"))?)
            }
        })
    }

    fn has_key(&self, k: &str) -> bool {
        match self {
            Doc::Toml(t) => t.contains_key(k),
            Doc::Json(v) => v.get(k).is_some(),
        }
    }

    /// Deserializes with the field path of any error (`systems[2].events[0].date`).
    fn into_typed<T: DeserializeOwned>(self, path: &Path, prefix: &str) -> Result<T> {
        let p = path.display();
        let fail = |at: String, msg: String| {
            let at = if at == "." { String::new() } else { at };
            let full = format!("{prefix}{at}");
            let full = if full.is_empty() {
                "(root)".to_owned()
            } else {
                full
            };
            anyhow!("{p}: {full}: {msg}")
        };
        match self {
            Doc::Toml(t) => serde_path_to_error::deserialize(toml::Value::Table(t)).map_err(|e| {
                // toml appends its own "in `path`" line; ours is already in front.
                let msg = e.inner().to_string();
                let msg = msg
                    .trim_end()
                    .rsplit_once("\nin `")
                    .map_or(msg.trim_end(), |(m, _)| m)
                    .to_owned();
                fail(e.path().to_string(), msg)
            }),
            Doc::Json(v) => serde_path_to_error::deserialize(v)
                .map_err(|e| fail(e.path().to_string(), e.inner().to_string())),
        }
    }
}

/// Reads an inventory, or a single grading object (a file with `id` and `assessment` at the
/// top level), and validates it against the pack.
pub fn load_inventory(path: &Path, pack: &RulePack) -> Result<Inventory> {
    let text = read(path)?;
    let doc = Doc::parse(path, &text)?;
    let single = ![
        "systems",
        "products",
        "agencies",
        "crypto_products",
        "organisation",
    ]
    .iter()
    .any(|k| doc.has_key(k))
        && doc.has_key("assessment");
    let mut inv = if single {
        let s: GradingObject = doc.into_typed(path, "")?;
        Inventory {
            systems: vec![s],
            ..Inventory::default()
        }
    } else {
        doc.into_typed(path, "")?
    };
    let origin = path.display().to_string();
    inv.validate(pack, &origin).map_err(|e| {
        let field = if single {
            e.path
                .strip_prefix("systems[0].")
                .unwrap_or(&e.path)
                .to_owned()
        } else {
            e.path.clone()
        };
        anyhow!("{}: {}: {}", e.origin, field, e.message)
    })?;
    Ok(inv)
}

/// A built-in pack id, or a path to a pack/overlay TOML file.
pub fn load_pack(spec: &str) -> Result<RulePack> {
    let path = Path::new(spec);
    if path.is_file() {
        let text = read(path)?;
        return RulePack::from_toml(&text, &path.display().to_string()).map_err(|e| anyhow!("{e}"));
    }
    RulePack::builtin(spec).map_err(|e| {
        anyhow!(
            "--rules {spec}: {} (or give the path of a pack file)",
            e.message
        )
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    years: Vec<HolidayYear>,
}

/// A holiday file holds one year (`year`, `source`, `holidays`, `working_days`) or several
/// under `[[years]]`.
pub fn load_holidays(path: &Path, cal: &mut HolidayCalendar) -> Result<()> {
    let text = read(path)?;
    let doc = Doc::parse(path, &text)?;
    let years: Vec<HolidayYear> = if doc.has_key("years") {
        doc.into_typed::<HolidayFile>(path, "")?.years
    } else {
        vec![doc.into_typed(path, "")?]
    };
    for (i, y) in years.into_iter().enumerate() {
        let year = y.year;
        cal.add_year(y)
            .map_err(|e| anyhow!("{}: years[{i}] ({year}): {e}", path.display()))?;
    }
    Ok(())
}

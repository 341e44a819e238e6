//! Message catalogs: every string the pages show comes from `locales/<lang>.toml`, compiled
//! into the binary. Simplified Chinese is the default; a test keeps the catalogs' keys equal.

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    ZhCn,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];
    /// The `lang` attribute and cookie value (BCP 47).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(s))
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }
    pub fn source(self) -> &'static str {
        match self {
            Lang::ZhCn => include_str!("../../locales/zh-CN.toml"),
            Lang::En => include_str!("../../locales/en.toml"),
        }
    }
    pub fn catalog(self) -> &'static Catalog {
        static CATALOGS: OnceLock<[Catalog; 2]> = OnceLock::new();
        let all = CATALOGS.get_or_init(|| Lang::ALL.map(|l| Catalog::parse(l.source())));
        match self {
            Lang::ZhCn => &all[0],
            Lang::En => &all[1],
        }
    }
}

pub struct Catalog {
    messages: HashMap<String, String>,
}

impl Catalog {
    /// A catalog that does not parse is a build defect caught by the tests; at run time it
    /// degrades to showing keys rather than failing every page.
    pub fn parse(src: &str) -> Catalog {
        let messages = toml::from_str::<HashMap<String, String>>(src).unwrap_or_else(|e| {
            tracing::error!(error = %e, "message catalog does not parse");
            HashMap::new()
        });
        Catalog { messages }
    }

    /// The message for `key`, or the key itself when missing (tests forbid that).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages.get(key).map_or(key, String::as_str)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.messages.keys().map(String::as_str)
    }

    pub fn has(&self, key: &str) -> bool {
        self.messages.contains_key(key)
    }
}

/// Every catalog key the pages build from data (`ob.kind.` + an obligation kind, …), so a
/// test can require each one in every catalog: a new enum value without words fails it.
pub fn dynamic_keys(pack: &dengbao_core::RulePack) -> Vec<String> {
    use super::pages::id_of as id;
    use dengbao_core::model::EventType;
    use dengbao_core::pack::{MaterialKind, ObligationKind, Party};
    use dengbao_core::{Grade, HarmDegree, HarmObject};
    let mut keys = Vec::new();
    keys.extend(
        ObligationKind::ALL
            .iter()
            .map(|k| format!("ob.kind.{}", k.id())),
    );
    keys.extend(["overdue", "due_soon", "upcoming", "met"].map(|s| format!("ob.status.{s}")));
    keys.extend(MaterialKind::ALL.map(|k| format!("material.{}", k.as_str())));
    keys.extend(
        EventType::ALL
            .iter()
            .map(|e| format!("event.{}", e.as_str())),
    );
    keys.extend(Party::ALL.map(|p| format!("party.{}", p.as_str())));
    keys.extend(HarmObject::ALL.map(|h| format!("harm.{}", id(h))));
    keys.extend(HarmDegree::ALL.map(|d| format!("degree.{}", id(d))));
    keys.push("degree.none".into());
    keys.extend(Grade::ALL.map(|g| format!("grade.{}", g.number())));
    keys.extend(crate::auth::Role::ALL.map(|r| format!("role.{}", r.as_str())));
    keys.extend(
        super::pages::object_kinds()
            .iter()
            .map(|k| format!("kind.{k}")),
    );
    keys.extend(super::pages::LIFECYCLE.map(|l| format!("life.{l}")));
    keys.extend(["met", "not_met", "unknown"].map(|v| format!("verdict.{v}")));
    keys.extend(["established", "unverified"].map(|b| format!("viol.{b}")));
    keys.extend((1..=10).map(|i| format!("viol.{i}")));
    keys.extend(crate::tenant::CATEGORIES.map(|c| format!("registry.{c}")));
    keys.extend(
        pack.grading
            .supervision
            .iter()
            .map(|s| format!("supervision.{s}")),
    );
    keys
}

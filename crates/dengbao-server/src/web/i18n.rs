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
    use dengbao_core::eligibility::Verdict;
    use dengbao_core::model::{EventType, ObjectKind};
    use dengbao_core::obligations::Status;
    use dengbao_core::pack::{MaterialKind, ObligationKind, Party};
    use dengbao_core::violations::Basis;
    use dengbao_core::{Grade, HarmDegree, HarmObject};
    use strum::IntoEnumIterator;
    let mut keys = Vec::new();
    keys.extend(
        ObligationKind::ALL
            .iter()
            .map(|k| format!("ob.kind.{}", k.id())),
    );
    keys.extend(
        Status::iter()
            .filter(|s| *s != Status::NotApplicable)
            .map(|s| format!("ob.status.{}", s.as_str())),
    );
    keys.extend(MaterialKind::ALL.map(|k| format!("material.{}", k.as_str())));
    keys.extend(
        EventType::ALL
            .iter()
            .map(|e| format!("event.{}", e.as_str())),
    );
    keys.extend(Party::ALL.map(|p| format!("party.{}", p.as_str())));
    keys.extend(HarmObject::iter().map(|h| format!("harm.{}", h.as_str())));
    keys.extend(HarmDegree::iter().map(|d| format!("degree.{}", d.as_str())));
    keys.push("degree.none".into());
    keys.extend(Grade::ALL.map(|g| format!("grade.{}", g.number())));
    keys.extend(crate::auth::Role::all().map(|r| format!("role.{}", r.as_str())));
    {
        use dengbao_core::idc::{AssetKind, DataClass};
        keys.extend(DataClass::iter().map(|c| format!("idc.class.{}", <&str>::from(c))));
        keys.extend(AssetKind::iter().map(|k| format!("idc.kind.{}", <&str>::from(k))));
        if let Ok(p) = dengbao_app::idc::pack() {
            keys.extend(p.duties.iter().map(|d| format!("idc.duty.{}", d.id)));
            keys.extend(
                p.categories
                    .iter()
                    .map(|c| format!("idc.category.{}", c.id)),
            );
        }
        for s in ["requested", "approved", "refused", "executed"] {
            keys.push(format!("idc.state.{s}"));
        }
        for s in ["low", "medium", "high", "critical"] {
            keys.push(format!("idc.severity.{s}"));
        }
        use dengbao_core::access::{Justification, Operation, State};
        keys.extend(Operation::iter().map(|o| format!("idc.op.{}", <&str>::from(o))));
        keys.extend(Justification::iter().map(|j| format!("idc.why.{}", <&str>::from(j))));
        keys.extend(State::iter().map(|s| format!("idc.access.{}", <&str>::from(s))));
        for d in ["approve", "deny", "more_info", "revoke", "extend", "review"] {
            keys.push(format!("idc.decision.{d}"));
        }
        for v in ["released", "blocked"] {
            keys.push(format!("idc.share.{v}"));
        }
    }
    keys.extend(ObjectKind::iter().map(|k| format!("kind.{}", k.as_str())));
    keys.extend(super::pages::LIFECYCLE.map(|l| format!("life.{l}")));
    keys.extend(
        [
            "submitted",
            "received",
            "certified",
            "correction_requested",
            "regrade_requested",
        ]
        .map(|s| format!("reviews.status.{s}")),
    );
    keys.extend(
        [
            "awaiting_expert",
            "awaiting_department",
            "approved",
            "returned",
        ]
        .map(|s| format!("grades.status.{s}")),
    );
    keys.extend(["ordered", "warned", "closed"].map(|s| format!("enf.stage.{s}")));
    keys.extend(
        dengbao_app::supervision::ART19
            .iter()
            .map(|k| format!("info.kind.{k}")),
    );
    keys.extend(
        super::supervision::MATTERS
            .iter()
            .map(|m| format!("sup.matter.{m}")),
    );
    keys.extend(Verdict::iter().map(|v| format!("verdict.{}", v.as_str())));
    keys.extend(Basis::iter().map(|b| format!("viol.{}", b.as_str())));
    keys.extend((1..=10).map(|i| format!("viol.{i}")));
    keys.extend(dengbao_app::tenant::CATEGORIES.map(|c| format!("registry.{c}")));
    keys.extend(
        pack.grading
            .supervision
            .iter()
            .map(|s| format!("supervision.{s}")),
    );
    let e = &pack.eligibility;
    for (category, rules) in [
        ("product", &e.security_product),
        ("agency", &e.evaluation_agency),
        ("crypto_product", &e.crypto_product),
    ] {
        keys.extend(
            rules
                .criteria
                .iter()
                .map(|c| format!("criterion.{category}.{}", c.id)),
        );
    }
    keys
}

/// A number as Chinese legal writing writes it (一 … 九十九); larger ones stay in digits.
fn numeral_zh(digits: &str) -> String {
    const D: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match digits.parse::<usize>() {
        Ok(n @ 1..=9) => D[n].to_owned(),
        Ok(10) => "十".to_owned(),
        Ok(n @ 11..=19) => format!("十{}", D[n % 10]),
        Ok(n @ 20..=99) => format!(
            "{}十{}",
            D[n / 10],
            if n % 10 == 0 { "" } else { D[n % 10] }
        ),
        _ => digits.to_owned(),
    }
}

/// The title of the Measures as our users cite them.
const MEASURES_ZH: &str = "《信息安全等级保护管理办法》";

/// A citation as Chinese legal writing puts it: `Measures art. 15 ¶1` →
/// 《信息安全等级保护管理办法》第十五条第一款, `art. 40(3)` → 第四十条第（三）项. The rule
/// packs cite in one small grammar — `Measures art. N`, `¶M` (paragraph, 款), `(k)` (item,
/// 项), lists `art. 6, 7`, several citations joined by `; ` — which is rewritten; any other
/// text (a user overlay's own wording, a standard's number) passes through unchanged.
pub fn cite_zh(s: &str) -> String {
    let s = s
        .replace(
            "Dengbao default (not a legal requirement)",
            "等保通默认值（非法定要求）",
        )
        .replace("Measures art. ", &format!("{MEASURES_ZH}art. "))
        .replace("; ", "；")
        .replace("grading table", "定级表")
        .replace("system grade = ", "系统等级 = ")
        .replace("period per ", "期限依");
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s.as_str();
    while let Some(i) = rest.find("art. ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 5..];
        // `art.` as a word of its own ("part. 3" is not a citation).
        let word = rest[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        if !word || !after.starts_with(|c: char| c.is_ascii_digit()) {
            // Not a citation we know: keep it as written.
            out.push_str("art. ");
            rest = after;
            continue;
        }
        // One article at a time, with its item and paragraph; `, N` continues the list.
        let mut tail = after;
        loop {
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            out.push_str(&format!("第{}条", numeral_zh(&tail[..digits])));
            tail = &tail[digits..];
            if let Some(t) = tail.strip_prefix('(') {
                let digits = t.bytes().take_while(u8::is_ascii_digit).count();
                if digits > 0 && t[digits..].starts_with(')') {
                    out.push_str(&format!("第（{}）项", numeral_zh(&t[..digits])));
                    tail = &t[digits + 1..];
                }
            }
            if let Some(t) = tail.strip_prefix(" ¶") {
                let digits = t.bytes().take_while(u8::is_ascii_digit).count();
                if digits > 0 {
                    out.push_str(&format!("第{}款", numeral_zh(&t[..digits])));
                    tail = &t[digits..];
                }
            }
            match tail.strip_prefix(", ") {
                Some(t) if t.starts_with(|c: char| c.is_ascii_digit()) => {
                    out.push('、');
                    tail = t;
                }
                _ => break,
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::cite_zh;

    #[test]
    fn citations_in_chinese() {
        for (en, zh) in [
            (
                "Measures art. 15 ¶1",
                "《信息安全等级保护管理办法》第十五条第一款",
            ),
            (
                "Measures art. 16(3)",
                "《信息安全等级保护管理办法》第十六条第（三）项",
            ),
            ("Measures art. 16", "《信息安全等级保护管理办法》第十六条"),
            (
                "Measures art. 40(10)",
                "《信息安全等级保护管理办法》第四十条第（十）项",
            ),
            (
                "Measures art. 33(6)",
                "《信息安全等级保护管理办法》第三十三条第（六）项",
            ),
            (
                "Measures art. 16(7); art. 10 ¶1",
                "《信息安全等级保护管理办法》第十六条第（七）项；第十条第一款",
            ),
            (
                "Measures art. 18 ¶2; art. 40",
                "《信息安全等级保护管理办法》第十八条第二款；第四十条",
            ),
            (
                "Measures art. 29 ¶2, 30",
                "《信息安全等级保护管理办法》第二十九条第二款、第三十条",
            ),
            (
                "Measures art. 6, 7; GB/T 22240 (system grade = max(S, G))",
                "《信息安全等级保护管理办法》第六条、第七条；GB/T 22240 (系统等级 = max(S, G))",
            ),
            (
                "Measures art. 17 (period per art. 15 ¶1)",
                "《信息安全等级保护管理办法》第十七条 (期限依第十五条第一款)",
            ),
            (
                "Dengbao default (not a legal requirement)",
                "等保通默认值（非法定要求）",
            ),
            // Text outside the grammar passes through.
            ("Company policy 3.2", "Company policy 3.2"),
            ("see art. x", "see art. x"),
            ("policy part. 3", "policy part. 3"),
            ("ACME Security Measures 3.2", "ACME Security Measures 3.2"),
            ("", ""),
        ] {
            assert_eq!(cite_zh(en), zh, "{en}");
        }
    }

    #[test]
    fn every_citation_of_the_built_in_pack_is_rewritten() {
        let src = include_str!("../../../dengbao-core/rules/measures-2007.toml");
        let mut n = 0;
        for line in src.lines() {
            let Some(i) = line.find("cite = \"") else {
                continue;
            };
            let cite = line[i + 8..].split('"').next().unwrap_or("");
            let zh = cite_zh(cite);
            assert!(
                !zh.contains("art.") && !zh.contains("Measures"),
                "{cite} → {zh}"
            );
            n += 1;
        }
        assert!(n > 40, "{n} citations checked");
    }
}

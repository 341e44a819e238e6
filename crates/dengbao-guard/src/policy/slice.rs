//! Policy slicing: which of a set's policies can match a request, worked out once per set
//! from each policy's action scope and the equality tests its `when` conditions must all
//! pass, so a decision evaluates the few policies that could match instead of all of them
//! (Cedar itself evaluates every policy of the set it is given).
//!
//! Sound because a policy with one conjunct false for the request is not satisfied: the
//! conjunction is false or an error, and Cedar skips a policy in error, so it can neither
//! permit nor forbid. A policy is filed under one key only (the most selective of its
//! tests), and a request has one value per key, so no policy is evaluated twice.

use std::collections::HashMap;

use cedar_policy::{ActionConstraint, Policy, PolicySet};
use serde_json::Value;

/// The attributes a request always carries, so a policy filed under one of them is found
/// for every request that could satisfy it (the keys of [`super::PolicyInput`]).
pub(super) const KEYS: &[&str] = &[
    "action",
    "resource.classification",
    "resource.personal",
    "resource.sensitive_personal",
    "resource.kind",
    "resource.category",
    "context.justification",
    "context.break_glass",
    "context.hour",
    "context.weekday",
    "context.has_ticket",
];

/// A literal as a slice value: typed, because Cedar's `==` is false across types.
pub(super) fn lit_str(s: &str) -> String {
    format!("s:{s}")
}
pub(super) fn lit_long(n: i64) -> String {
    format!("l:{n}")
}
pub(super) fn lit_bool(b: bool) -> String {
    format!("b:{b}")
}

fn lit(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(lit_str(s)),
        Value::Number(n) => n.as_i64().map(lit_long),
        Value::Bool(b) => Some(lit_bool(*b)),
        _ => None,
    }
}

/// `var.attr == literal` (either way round) as `("var.attr", literal)`.
fn equality(e: &Value) -> Option<(&'static str, String)> {
    let eq = e.get("==")?;
    let (l, r) = (eq.get("left")?, eq.get("right")?);
    let side = |a: &Value, v: &Value| -> Option<(&'static str, String)> {
        let dot = a.get(".")?;
        let var = dot.get("left")?.get("Var")?.as_str()?;
        let attr = dot.get("attr")?.as_str()?;
        let key = KEYS.iter().find(|k| **k == format!("{var}.{attr}"))?;
        Some((key, lit(v.get("Value")?)?))
    };
    side(l, r).or_else(|| side(r, l))
}

fn conjuncts<'a>(e: &'a Value, out: &mut Vec<&'a Value>) {
    match e.get("&&") {
        Some(and) => {
            if let (Some(l), Some(r)) = (and.get("left"), and.get("right")) {
                conjuncts(l, out);
                conjuncts(r, out);
            }
        }
        None => out.push(e),
    }
}

/// Keys a policy could be filed under, each with the values that can satisfy it.
type Candidates = Vec<(&'static str, Vec<String>)>;

/// Every key a policy could be filed under.
fn candidates(p: &Policy) -> Candidates {
    let mut out = Vec::new();
    match p.action_constraint() {
        ActionConstraint::Eq(a) => out.push(("action", vec![lit_str(a.id().unescaped())])),
        ActionConstraint::In(v) => out.push((
            "action",
            v.iter().map(|a| lit_str(a.id().unescaped())).collect(),
        )),
        ActionConstraint::Any => {}
    }
    let Ok(json) = p.to_json() else {
        return out;
    };
    let mut terms = Vec::new();
    for c in json
        .get("conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if c.get("kind").and_then(Value::as_str) == Some("when")
            && let Some(body) = c.get("body")
        {
            conjuncts(body, &mut terms);
        }
    }
    out.extend(
        terms
            .into_iter()
            .filter_map(equality)
            .map(|(k, v)| (k, vec![v])),
    );
    out
}

/// A policy set cut into the policies every request evaluates and buckets by key and value.
#[derive(Debug, Default)]
pub(super) struct Sliced {
    always: PolicySet,
    buckets: HashMap<&'static str, HashMap<String, PolicySet>>,
}

impl Sliced {
    pub(super) fn new(set: &PolicySet) -> Sliced {
        let mut s = Sliced::default();
        // Templates would need their links sliced too; a set with any is not cut.
        if set.templates().next().is_some() {
            s.always = set.clone();
            return s;
        }
        let all: Vec<(&Policy, Candidates)> = set.policies().map(|p| (p, candidates(p))).collect();
        // A key is as selective as the number of values the set tests it against.
        let mut values: HashMap<&str, std::collections::HashSet<&str>> = HashMap::new();
        for (_, c) in &all {
            for (k, vs) in c {
                values
                    .entry(k)
                    .or_default()
                    .extend(vs.iter().map(String::as_str));
            }
        }
        for (p, c) in &all {
            let best = c.iter().max_by(|a, b| {
                let score = |(k, vs): &&(&str, Vec<String>)| {
                    values.get(k).map_or(0, |s| s.len()) as f64 / vs.len().max(1) as f64
                };
                score(a).total_cmp(&score(b))
            });
            let added = match best {
                None => s.always.add((*p).clone()).map_err(drop),
                Some((k, vs)) => vs.iter().try_for_each(|v| {
                    s.buckets
                        .entry(k)
                        .or_default()
                        .entry(v.clone())
                        .or_default()
                        .add((*p).clone())
                        .map_err(drop)
                }),
            };
            // Ids are unique in `set`, so adding cannot fail; if it did, evaluate it always.
            if added.is_err() {
                let _ = s.always.add((*p).clone());
            }
        }
        s
    }

    /// The sets a request with `value(key)` for each key evaluates.
    pub(super) fn sets<'a>(
        &'a self,
        value: impl Fn(&str) -> String + 'a,
    ) -> impl Iterator<Item = &'a PolicySet> + 'a {
        std::iter::once(&self.always)
            .chain(
                self.buckets
                    .iter()
                    .filter_map(move |(k, by)| by.get(&value(k))),
            )
            .filter(|s| s.policies().next().is_some())
    }
}

//! IDC policies in Cedar: what an operation on a customer's data asset needs — refused,
//! pre-approved, or N of the customer's approvers. The built-in policies come from the
//! customer's protection profile (`policies/builtin.cedar`); a customer adds its own, which
//! are validated against `policies/schema.cedarschema` before they are saved.
//!
//! Cedar answers allow or deny; the answer's kind comes from the annotations of the policies
//! that decided: a `forbid` refuses with its `@reason`; among the matching `permit`s the
//! largest `@approvers(N)` is what is needed, and `@pre_approved` counts only when no
//! matching permit asks for approvers. So a customer's policy can only tighten.
//!
//! Pure: no I/O, no clock — the window's hour and weekday are context the caller gives.

mod slice;

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

pub use cedar_policy::PolicySet;
use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId,
    Request, RestrictedExpression, Schema, ValidationMode, Validator,
};

const SCHEMA: &str = include_str!("../../policies/schema.cedarschema");
const BUILTIN: &str = include_str!("../../policies/builtin.cedar");

/// The most approvers a policy may ask for.
pub const MAX_APPROVERS: u32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A policy text that does not parse, does not validate against the schema, or carries
    /// an annotation the engine does not understand; each message names the policy.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("the built-in policies or schema are broken: {0}")]
    Builtin(String),
}

/// The numbers of the protection profile the built-in policies use.
#[derive(Clone, Copy, Debug)]
pub struct ProfileParams {
    pub approvals_for_high_risk: u32,
    pub approvals_for_sharing: u32,
    pub external_sharing: bool,
}

/// One asset as policies see it.
#[derive(Clone, Debug)]
pub struct AssetFacts<'a> {
    pub id: &'a str,
    pub classification: &'a str,
    pub personal: bool,
    pub sensitive_personal: bool,
    pub kind: &'a str,
    pub category: &'a str,
}

/// One decision's input.
#[derive(Clone, Debug)]
pub struct PolicyInput<'a> {
    pub staff: &'a str,
    /// `read`, `modify`, `migrate`, `restore`, `debug`, `backup`, `export`.
    pub operation: &'a str,
    pub justification: &'a str,
    pub break_glass: bool,
    /// Beijing time of the window's start.
    pub hour: i64,
    pub weekday: i64,
    pub has_ticket: bool,
    pub asset: AssetFacts<'a>,
}

/// What the policies say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Denied {
        reason: String,
        policies: Vec<String>,
    },
    PreApproved {
        policies: Vec<String>,
    },
    Approvals {
        approvers: u32,
        policies: Vec<String>,
    },
}

impl Verdict {
    /// The verdict for several assets: refused if any is, approvers the most any needs,
    /// pre-approved only when every one is (Oracle's rule: a request is auto-approved only
    /// when every action in it is).
    pub fn combine(self, other: Verdict) -> Verdict {
        use Verdict::*;
        match (self, other) {
            (d @ Denied { .. }, _) | (_, d @ Denied { .. }) => d,
            (
                Approvals {
                    approvers: a,
                    mut policies,
                },
                Approvals {
                    approvers: b,
                    policies: p,
                },
            ) => {
                policies.extend(p);
                Approvals {
                    approvers: a.max(b),
                    policies,
                }
            }
            (a @ Approvals { .. }, PreApproved { .. })
            | (PreApproved { .. }, a @ Approvals { .. }) => a,
            (PreApproved { mut policies }, PreApproved { policies: p }) => {
                policies.extend(p);
                PreApproved { policies }
            }
        }
    }
}

/// A checked policy set, sliced so that a decision evaluates only the policies that could
/// match it (see `slice`).
#[derive(Debug)]
pub struct Policies {
    all: PolicySet,
    sliced: slice::Sliced,
    /// Each policy's annotations, read once: Cedar parses the key on every `annotation`
    /// call, which costs more than evaluating a sliced set.
    meta: HashMap<PolicyId, Meta>,
}

#[derive(Debug)]
struct Meta {
    name: String,
    reason: Option<String>,
    approvers: Option<u32>,
    pre_approved: bool,
}

impl Policies {
    /// How many policies the set holds.
    pub fn len(&self) -> usize {
        self.all.policies().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many of them a decision on `i` evaluates.
    pub fn evaluated(&self, i: &PolicyInput<'_>) -> usize {
        self.sliced
            .sets(move |k| i.slice_value(k))
            .map(|s| s.policies().count())
            .sum()
    }
}

impl PolicyInput<'_> {
    /// The request's value of a slice key (`slice::KEYS`).
    fn slice_value(&self, key: &str) -> String {
        match key {
            "action" => slice::lit_str(self.operation),
            "resource.classification" => slice::lit_str(self.asset.classification),
            "resource.personal" => slice::lit_bool(self.asset.personal),
            "resource.sensitive_personal" => slice::lit_bool(self.asset.sensitive_personal),
            "resource.kind" => slice::lit_str(self.asset.kind),
            "resource.category" => slice::lit_str(self.asset.category),
            "context.justification" => slice::lit_str(self.justification),
            "context.break_glass" => slice::lit_bool(self.break_glass),
            "context.hour" => slice::lit_long(self.hour),
            "context.weekday" => slice::lit_long(self.weekday),
            "context.has_ticket" => slice::lit_bool(self.has_ticket),
            // Not a key (slice::KEYS lists exactly the arms above): matches no bucket.
            _ => String::new(),
        }
    }
}

/// The schema and validator, built once.
pub struct PolicyEngine {
    /// The entity types, parsed once (parsing a uid per request costs more than the
    /// sliced evaluation).
    staff_t: EntityTypeName,
    asset_t: EntityTypeName,
    action_t: EntityTypeName,
    validator: Validator,
    authorizer: Authorizer,
}

impl PolicyEngine {
    pub fn new() -> Result<PolicyEngine, PolicyError> {
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA)
            .map_err(|e| PolicyError::Builtin(e.to_string()))?;
        let t =
            |n: &str| EntityTypeName::from_str(n).map_err(|e| PolicyError::Builtin(e.to_string()));
        Ok(PolicyEngine {
            staff_t: t("Staff")?,
            asset_t: t("Asset")?,
            action_t: t("Action")?,
            validator: Validator::new(schema),
            authorizer: Authorizer::new(),
        })
    }

    /// The schema's text (shown to customers who write policies).
    pub fn schema_text() -> &'static str {
        SCHEMA
    }

    /// The built-in policies for a profile, as text.
    pub fn builtin_text(p: ProfileParams) -> String {
        let no_sharing = if p.external_sharing {
            String::new()
        } else {
            "\n@id(\"category-forbids-sharing\")\n@reason(\"the customer's category does not allow its data to be given to others\")\nforbid (principal, action == Action::\"export\", resource);\n".to_owned()
        };
        BUILTIN
            .replace(
                "{approvals_for_high_risk}",
                &p.approvals_for_high_risk
                    .clamp(1, MAX_APPROVERS)
                    .to_string(),
            )
            .replace(
                "{approvals_for_sharing}",
                &p.approvals_for_sharing.clamp(1, MAX_APPROVERS).to_string(),
            )
            .replace("{no_sharing}", &no_sharing)
    }

    /// Parses and validates policy text against the schema, and checks the annotations the
    /// engine reads (`@approvers` a number 1–10, `@pre_approved("true")`, an `@id`). Every
    /// problem is named.
    pub fn check(&self, text: &str) -> Result<Policies, PolicyError> {
        let set = PolicySet::from_str(text)
            .map_err(|e| PolicyError::Invalid(vec![format!("does not parse: {e}")]))?;
        let result = self.validator.validate(&set, ValidationMode::default());
        let mut problems: Vec<String> = result
            .validation_errors()
            .map(|e| format!("does not fit the schema: {e}"))
            .collect();
        for p in set.policies() {
            let name = p.annotation("id").unwrap_or_else(|| p.id().as_ref());
            if p.annotation("id").is_none() {
                problems.push(format!("policy {name}: give it an @id(\"…\")"));
            }
            if let Some(n) = p.annotation("approvers")
                && !n
                    .parse::<u32>()
                    .is_ok_and(|n| (1..=MAX_APPROVERS).contains(&n))
            {
                problems.push(format!(
                    "policy {name}: @approvers must be a number from 1 to {MAX_APPROVERS}"
                ));
            }
            if p.annotation("pre_approved").is_some_and(|v| v != "true") {
                problems.push(format!("policy {name}: @pre_approved takes \"true\" only"));
            }
        }
        if problems.is_empty() {
            let meta = set
                .policies()
                .map(|p| {
                    let name = p.annotation("id").unwrap_or(p.id().as_ref()).to_owned();
                    let meta = Meta {
                        name,
                        reason: p.annotation("reason").map(str::to_owned),
                        approvers: p.annotation("approvers").and_then(|n| n.parse().ok()),
                        pre_approved: p.annotation("pre_approved") == Some("true"),
                    };
                    (p.id().clone(), meta)
                })
                .collect();
            Ok(Policies {
                sliced: slice::Sliced::new(&set),
                all: set,
                meta,
            })
        } else {
            Err(PolicyError::Invalid(problems))
        }
    }

    /// The verdict of `set` on one operation on one asset. Evaluates the slices that could
    /// match and combines them as Cedar would over the whole set: any satisfied forbid
    /// refuses, else any satisfied permit allows, else nothing allows.
    pub fn decide(&self, set: &Policies, i: &PolicyInput<'_>) -> Result<Verdict, PolicyError> {
        self.decide_over(set, set.sliced.sets(|k| i.slice_value(k)), i)
    }

    /// The verdict of Cedar over the whole set, unsliced: what [`Self::decide`] must equal
    /// (the slicing's property test) and the benchmark's baseline.
    #[doc(hidden)]
    pub fn decide_unsliced(
        &self,
        set: &Policies,
        i: &PolicyInput<'_>,
    ) -> Result<Verdict, PolicyError> {
        self.decide_over(set, std::iter::once(&set.all), i)
    }

    fn decide_over<'s>(
        &self,
        set: &'s Policies,
        parts: impl Iterator<Item = &'s PolicySet>,
        i: &PolicyInput<'_>,
    ) -> Result<Verdict, PolicyError> {
        let (request, entities) = self.request_of(i)?;
        let mut forbids: Vec<&Meta> = Vec::new();
        let mut permits: Vec<&Meta> = Vec::new();
        for part in parts {
            let r = self.authorizer.is_authorized(&request, part, &entities);
            let into = match r.decision() {
                Decision::Deny => &mut forbids,
                Decision::Allow => &mut permits,
            };
            // A policy that fails to evaluate counts as not matching (Cedar's semantics).
            // The schema check before saving makes that rare.
            into.extend(r.diagnostics().reason().filter_map(|id| set.meta.get(id)));
        }
        forbids.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        permits.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let names = |v: &[&Meta]| v.iter().map(|m| m.name.clone()).collect::<Vec<_>>();
        if !forbids.is_empty() {
            let policies = names(&forbids);
            let reason = forbids
                .iter()
                .find_map(|m| m.reason.clone())
                .unwrap_or_else(|| format!("refused by {}", policies.join(", ")));
            return Ok(Verdict::Denied { reason, policies });
        }
        if permits.is_empty() {
            return Ok(Verdict::Denied {
                reason: format!("no policy allows `{}` here", i.operation),
                policies: Vec::new(),
            });
        }
        let approvers = permits
            .iter()
            .filter_map(|m| m.approvers)
            .max()
            .unwrap_or(0);
        let pre = permits.iter().any(|m| m.pre_approved);
        let policies = names(&permits);
        Ok(match (approvers, pre) {
            (0, true) => Verdict::PreApproved { policies },
            // A permit that says neither asks the customer (one approver).
            (n, _) => Verdict::Approvals {
                approvers: n.max(1),
                policies,
            },
        })
    }
}

impl PolicyEngine {
    /// The Cedar request and entities of one decision, built without the schema: their
    /// shape is fixed by this function and checked against the schema by a test
    /// (`requests_fit_the_schema`), and validating each one would cost half the decision.
    /// An unknown operation matches no policy, so it is refused.
    fn request_of(&self, i: &PolicyInput<'_>) -> Result<(Request, Entities), PolicyError> {
        self.request_with(i, None)
    }

    fn request_with(
        &self,
        i: &PolicyInput<'_>,
        schema: Option<&Schema>,
    ) -> Result<(Request, Entities), PolicyError> {
        let bad = |e: String| PolicyError::Invalid(vec![e]);
        let uid = |t: &EntityTypeName, id: &str| {
            EntityUid::from_type_name_and_id(t.clone(), EntityId::new(id))
        };
        let principal = uid(&self.staff_t, i.staff);
        let resource = uid(&self.asset_t, i.asset.id);
        let action = uid(&self.action_t, i.operation);
        let s = |v: &str| RestrictedExpression::new_string(v.to_owned());
        let attrs = HashMap::from([
            ("classification".to_owned(), s(i.asset.classification)),
            (
                "personal".to_owned(),
                RestrictedExpression::new_bool(i.asset.personal),
            ),
            (
                "sensitive_personal".to_owned(),
                RestrictedExpression::new_bool(i.asset.sensitive_personal),
            ),
            ("kind".to_owned(), s(i.asset.kind)),
            ("category".to_owned(), s(i.asset.category)),
        ]);
        let asset =
            Entity::new(resource.clone(), attrs, HashSet::new()).map_err(|e| bad(e.to_string()))?;
        let staff = Entity::new_no_attrs(principal.clone(), HashSet::new());
        let entities =
            Entities::from_entities([asset, staff], schema).map_err(|e| bad(e.to_string()))?;
        let context = Context::from_pairs([
            ("justification".to_owned(), s(i.justification)),
            (
                "break_glass".to_owned(),
                RestrictedExpression::new_bool(i.break_glass),
            ),
            ("hour".to_owned(), RestrictedExpression::new_long(i.hour)),
            (
                "weekday".to_owned(),
                RestrictedExpression::new_long(i.weekday),
            ),
            (
                "has_ticket".to_owned(),
                RestrictedExpression::new_bool(i.has_ticket),
            ),
        ])
        .map_err(|e| bad(e.to_string()))?;
        let request = Request::new(principal, action, resource, context, schema)
            .map_err(|e| bad(format!("operation `{}`: {e}", i.operation)))?;
        Ok((request, entities))
    }

    /// For `bench/guard.sh`: Cedar's own evaluation of `set` on `i`'s request, `n` times,
    /// the request and entities built once; `(p50, p99)` in microseconds.
    #[doc(hidden)]
    pub fn raw_bench(
        &self,
        set: &Policies,
        i: &PolicyInput<'_>,
        n: usize,
    ) -> Result<(f64, f64), PolicyError> {
        let set = &set.all;
        let (request, entities) = self.request_of(i)?;
        let mut lat: Vec<u64> = Vec::with_capacity(n);
        for _ in 0..n {
            let t = std::time::Instant::now();
            std::hint::black_box(self.authorizer.is_authorized(&request, set, &entities));
            lat.push(t.elapsed().as_nanos() as u64);
        }
        lat.sort_unstable();
        let q = |q: f64| {
            lat[((lat.len() as f64 * q) as usize).min(lat.len().saturating_sub(1))] as f64 / 1000.0
        };
        Ok((q(0.5), q(0.99)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C2: ProfileParams = ProfileParams {
        approvals_for_high_risk: 1,
        approvals_for_sharing: 1,
        external_sharing: true,
    };
    const C4: ProfileParams = ProfileParams {
        approvals_for_high_risk: 2,
        approvals_for_sharing: 3,
        external_sharing: false,
    };

    fn input<'a>(op: &'a str, why: &'a str, bg: bool, class: &'a str) -> PolicyInput<'a> {
        PolicyInput {
            staff: "ops",
            operation: op,
            justification: why,
            break_glass: bg,
            hour: 10,
            weekday: 3,
            has_ticket: true,
            asset: AssetFacts {
                id: "a1",
                classification: class,
                personal: true,
                sensitive_personal: false,
                kind: "database",
                category: "c2",
            },
        }
    }

    fn kind(v: &Verdict) -> String {
        match v {
            Verdict::Denied { .. } => "denied".into(),
            Verdict::PreApproved { .. } => "pre".into(),
            Verdict::Approvals { approvers, .. } => format!("{approvers}"),
        }
    }

    #[test]
    fn the_built_in_policies_follow_the_profile() {
        let e = PolicyEngine::new().unwrap();
        let table = [
            (
                C2,
                "backup",
                "operator_initiated_maintenance",
                false,
                "general",
                "pre",
            ),
            (
                C2,
                "read",
                "customer_initiated_support",
                false,
                "general",
                "1",
            ),
            (
                C4,
                "read",
                "customer_initiated_support",
                false,
                "important",
                "2",
            ),
            (
                C2,
                "export",
                "third_party_data_request",
                false,
                "general",
                "1",
            ),
            (
                C4,
                "export",
                "regulator_data_request",
                false,
                "important",
                "denied",
            ),
            (
                C2,
                "export",
                "regulator_data_request",
                false,
                "core",
                "denied",
            ),
            (C4, "debug", "alert_response", true, "important", "pre"),
            (
                C4,
                "debug",
                "operator_initiated_maintenance",
                true,
                "important",
                "denied",
            ),
            (C2, "export", "alert_response", true, "general", "denied"),
            (C2, "backup", "alert_response", true, "general", "denied"),
        ];
        for (p, op, why, bg, class, want) in table {
            let set = e.check(&PolicyEngine::builtin_text(p)).unwrap();
            let v = e.decide(&set, &input(op, why, bg, class)).unwrap();
            assert_eq!(kind(&v), want, "{op} {why} bg={bg} {class}: {v:?}");
        }
        let set = e.check(&PolicyEngine::builtin_text(C4)).unwrap();
        let v = e
            .decide(&set, &input("export", "x", false, "general"))
            .unwrap();
        assert!(
            matches!(v, Verdict::Denied { ref reason, .. } if reason.contains("category")),
            "{v:?}"
        );
    }

    #[test]
    fn a_customer_policy_only_tightens() {
        let e = PolicyEngine::new().unwrap();
        let mine = r#"
@id("three-for-personal-data")
@approvers("3")
permit (principal, action == Action::"read", resource) when { resource.personal };

@id("no-weekend-debugging")
@reason("no debugging at weekends")
forbid (principal, action == Action::"debug", resource) when { context.weekday >= 6 };

@id("try-to-loosen")
@pre_approved("true")
permit (principal, action == Action::"read", resource);
"#;
        let text = format!("{}\n{mine}", PolicyEngine::builtin_text(C2));
        let set = e.check(&text).unwrap();
        let v = e
            .decide(
                &set,
                &input("read", "customer_initiated_support", false, "general"),
            )
            .unwrap();
        assert_eq!(kind(&v), "3", "{v:?}");
        let mut weekend = input("debug", "customer_initiated_support", false, "general");
        weekend.weekday = 7;
        let v = e.decide(&set, &weekend).unwrap();
        assert!(
            matches!(v, Verdict::Denied { ref reason, .. } if reason == "no debugging at weekends"),
            "{v:?}"
        );
    }

    #[test]
    fn bad_policies_are_named() {
        let e = PolicyEngine::new().unwrap();
        let cases = [
            ("permit (principal, action, resource", "does not parse"),
            (
                "@id(\"x\") permit (principal, action == Action::\"read\", resource) when { resource.colour == \"red\" };",
                "schema",
            ),
            (
                "@id(\"x\") @approvers(\"many\") permit (principal, action == Action::\"read\", resource);",
                "@approvers",
            ),
            (
                "@id(\"x\") @approvers(\"11\") permit (principal, action == Action::\"read\", resource);",
                "@approvers",
            ),
            (
                "permit (principal, action == Action::\"read\", resource);",
                "@id",
            ),
            (
                "@id(\"x\") permit (principal, action == Action::\"delete\", resource);",
                "schema",
            ),
        ];
        for (text, want) in cases {
            let err = e.check(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn verdicts_combine_over_assets() {
        use Verdict::*;
        let pre = PreApproved {
            policies: vec!["p".into()],
        };
        let two = Approvals {
            approvers: 2,
            policies: vec![],
        };
        let three = Approvals {
            approvers: 3,
            policies: vec![],
        };
        let no = Denied {
            reason: "r".into(),
            policies: vec![],
        };
        assert_eq!(kind(&pre.clone().combine(pre.clone())), "pre");
        assert_eq!(kind(&pre.clone().combine(two.clone())), "2");
        assert_eq!(kind(&two.clone().combine(three.clone())), "3");
        assert_eq!(kind(&three.combine(no.clone())), "denied");
        assert_eq!(kind(&no.combine(pre)), "denied");
    }

    #[test]
    fn requests_fit_the_schema() {
        let e = PolicyEngine::new().unwrap();
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA).unwrap();
        for op in [
            "read", "modify", "migrate", "restore", "debug", "backup", "export",
        ] {
            for bg in [false, true] {
                let i = input(op, "alert_response", bg, "important");
                e.request_with(&i, Some(&schema)).unwrap();
            }
        }
        assert!(
            e.request_with(&input("delete", "x", false, "general"), Some(&schema))
                .is_err()
        );
        let set = e.check(&PolicyEngine::builtin_text(C2)).unwrap();
        let v = e
            .decide(&set, &input("delete", "x", false, "general"))
            .unwrap();
        assert!(matches!(v, Verdict::Denied { .. }), "{v:?}");
    }

    #[test]
    fn the_schema_has_no_action_groups() {
        // Slicing by action compares the action's id: sound only while no action is in a
        // group (`action in Action::"group"` would match members the slice does not list).
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA).unwrap();
        assert_eq!(schema.action_groups().count(), 0);
    }

    #[test]
    fn slicing_files_a_policy_under_its_most_selective_test() {
        let e = PolicyEngine::new().unwrap();
        let mut text = PolicyEngine::builtin_text(C2);
        for k in 0..50 {
            text.push_str(&format!(
                "\n@id(\"k{k}\") @approvers(\"2\") permit (principal, action == Action::\"read\", resource) when {{ context.hour == {} && resource.kind == \"kind-{k}\" }};",
                k % 24
            ));
        }
        let set = e.check(&text).unwrap();
        let mut i = input("read", "customer_initiated_support", false, "general");
        i.asset.kind = "kind-7";
        i.hour = 7;
        // The two built-in read permits and k7 of the 50; the rest are never looked at.
        assert_eq!(set.evaluated(&i), 3, "{}", set.len());
        assert_eq!(kind(&e.decide(&set, &i).unwrap()), "2");
        i.hour = 8;
        assert_eq!(kind(&e.decide(&set, &i).unwrap()), "1");
    }

    mod sliced_equals_whole {
        use super::*;
        use proptest::prelude::*;

        const OPS: [&str; 7] = [
            "read", "modify", "migrate", "restore", "debug", "backup", "export",
        ];
        const CLASSES: [&str; 3] = ["general", "important", "core"];
        const KINDS: [&str; 3] = ["database", "bucket", "backup"];
        const WHYS: [&str; 3] = ["alert_response", "customer_initiated_support", "x"];

        /// One test of a `when` clause, from a small vocabulary so that tests often hold.
        fn term() -> impl Strategy<Value = String> {
            prop_oneof![
                (0..3usize).prop_map(|c| format!("resource.classification == \"{}\"", CLASSES[c])),
                (0..3usize).prop_map(|c| format!("\"{}\" == resource.kind", KINDS[c])),
                (0..3usize).prop_map(|c| format!("context.justification == \"{}\"", WHYS[c])),
                (0..4i64).prop_map(|h| format!("context.hour == {h}")),
                (1..8i64).prop_map(|d| format!("context.weekday >= {d}")),
                any::<bool>().prop_map(|b| format!("context.break_glass == {b}")),
                any::<bool>().prop_map(|b| if b {
                    "resource.personal".to_owned()
                } else {
                    "!resource.sensitive_personal".to_owned()
                }),
                (0..3usize, 0..3usize).prop_map(|(a, b)| format!(
                    "(resource.kind == \"{}\" || context.justification == \"{}\")",
                    KINDS[a], WHYS[b]
                )),
            ]
        }

        fn policy() -> impl Strategy<Value = String> {
            (
                any::<bool>(),
                prop_oneof![Just(None), (0..7usize).prop_map(Some), Just(Some(99))],
                prop::collection::vec(term(), 0..4),
                0..4u32,
                any::<bool>(),
            )
                .prop_map(|(permit, op, terms, approvers, pre)| {
                    let action = match op {
                        None => "action".to_owned(),
                        Some(99) => "action in [Action::\"read\", Action::\"export\"]".to_owned(),
                        Some(o) => format!("action == Action::\"{}\"", OPS[o]),
                    };
                    let when = if terms.is_empty() {
                        String::new()
                    } else {
                        format!(" when {{ {} }}", terms.join(" && "))
                    };
                    let ann = match (permit, approvers, pre) {
                        (false, _, _) => "@reason(\"no\")".to_owned(),
                        (true, 0, true) => "@pre_approved(\"true\")".to_owned(),
                        (true, 0, false) => String::new(),
                        (true, n, _) => format!("@approvers(\"{n}\")"),
                    };
                    let effect = if permit { "permit" } else { "forbid" };
                    format!("{ann} {effect} (principal, {action}, resource){when};")
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            #[test]
            fn the_sliced_verdict_is_cedars_over_the_whole_set(
                policies in prop::collection::vec(policy(), 1..40),
                requests in prop::collection::vec(
                    (0..7usize, 0..3usize, 0..3usize, 0..3usize, 0..5i64, 1..8i64, any::<bool>(), any::<bool>()),
                    1..12,
                ),
            ) {
                let e = PolicyEngine::new().unwrap();
                let text: String = policies
                    .iter()
                    .enumerate()
                    .map(|(n, p)| format!("@id(\"p{n}\") {p}\n"))
                    .collect();
                let set = e.check(&text).unwrap();
                for (op, class, kind, why, hour, weekday, bg, personal) in requests {
                    let mut i = input(OPS[op], WHYS[why], bg, CLASSES[class]);
                    i.asset.kind = KINDS[kind];
                    i.hour = hour;
                    i.weekday = weekday;
                    i.asset.personal = personal;
                    prop_assert_eq!(e.decide(&set, &i).unwrap(), e.decide_unsliced(&set, &i).unwrap());
                    prop_assert!(set.evaluated(&i) <= set.len());
                }
            }
        }
    }
}

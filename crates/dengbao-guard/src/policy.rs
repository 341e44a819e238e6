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

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

pub use cedar_policy::PolicySet;
use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityUid, Request, RestrictedExpression,
    Schema, ValidationMode, Validator,
};

const SCHEMA: &str = include_str!("../policies/schema.cedarschema");
const BUILTIN: &str = include_str!("../policies/builtin.cedar");

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

/// The schema and validator, built once.
pub struct PolicyEngine {
    schema: Schema,
    validator: Validator,
    authorizer: Authorizer,
}

fn uid(kind: &str, id: &str) -> Result<EntityUid, PolicyError> {
    let quoted = serde_json_escape(id);
    EntityUid::from_str(&format!("{kind}::{quoted}"))
        .map_err(|e| PolicyError::Invalid(vec![format!("id `{id}`: {e}")]))
}

/// A Cedar string literal (the same escapes as JSON for what ids and names contain).
fn serde_json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl PolicyEngine {
    pub fn new() -> Result<PolicyEngine, PolicyError> {
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA)
            .map_err(|e| PolicyError::Builtin(e.to_string()))?;
        Ok(PolicyEngine {
            validator: Validator::new(schema.clone()),
            schema,
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
    pub fn check(&self, text: &str) -> Result<PolicySet, PolicyError> {
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
            Ok(set)
        } else {
            Err(PolicyError::Invalid(problems))
        }
    }

    /// The verdict of `set` on one operation on one asset.
    pub fn decide(&self, set: &PolicySet, i: &PolicyInput<'_>) -> Result<Verdict, PolicyError> {
        let (request, entities) = self.request_of(i)?;
        let r = self.authorizer.is_authorized(&request, set, &entities);
        let names: Vec<String> = r
            .diagnostics()
            .reason()
            .map(|id| {
                set.policy(id)
                    .and_then(|p| p.annotation("id"))
                    .unwrap_or(id.as_ref())
                    .to_owned()
            })
            .collect();
        // A policy that fails to evaluate counts as not matching (Cedar's semantics). The
        // schema check before saving makes that rare (an attribute test on a missing value).
        Ok(match r.decision() {
            Decision::Deny => {
                let reason = r
                    .diagnostics()
                    .reason()
                    .filter_map(|id| set.policy(id).and_then(|p| p.annotation("reason")))
                    .next()
                    .map(str::to_owned)
                    .unwrap_or_else(|| {
                        if names.is_empty() {
                            format!("no policy allows `{}` here", i.operation)
                        } else {
                            format!("refused by {}", names.join(", "))
                        }
                    });
                Verdict::Denied {
                    reason,
                    policies: names,
                }
            }
            Decision::Allow => {
                let approvers = r
                    .diagnostics()
                    .reason()
                    .filter_map(|id| set.policy(id).and_then(|p| p.annotation("approvers")))
                    .filter_map(|n| n.parse::<u32>().ok())
                    .max()
                    .unwrap_or(0);
                let pre = r.diagnostics().reason().any(|id| {
                    set.policy(id)
                        .and_then(|p| p.annotation("pre_approved"))
                        .is_some_and(|v| v == "true")
                });
                match (approvers, pre) {
                    (0, true) => Verdict::PreApproved { policies: names },
                    // A permit that says neither asks the customer (one approver).
                    (n, _) => Verdict::Approvals {
                        approvers: n.max(1),
                        policies: names,
                    },
                }
            }
        })
    }
}

impl PolicyEngine {
    /// The Cedar request and entities of one decision.
    fn request_of(&self, i: &PolicyInput<'_>) -> Result<(Request, Entities), PolicyError> {
        let bad = |e: String| PolicyError::Invalid(vec![e]);
        let principal = uid("Staff", i.staff)?;
        let resource = uid("Asset", i.asset.id)?;
        let action = uid("Action", i.operation)?;
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
        let entities = Entities::from_entities([asset, staff], Some(&self.schema))
            .map_err(|e| bad(e.to_string()))?;
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
        let request = Request::new(principal, action, resource, context, Some(&self.schema))
            .map_err(|e| bad(format!("operation `{}`: {e}", i.operation)))?;
        Ok((request, entities))
    }

    /// For `bench/guard.sh`: Cedar's own evaluation of `set` on `i`'s request, `n` times,
    /// the request and entities built once; `(p50, p99)` in microseconds.
    #[doc(hidden)]
    pub fn raw_bench(
        &self,
        set: &PolicySet,
        i: &PolicyInput<'_>,
        n: usize,
    ) -> Result<(f64, f64), PolicyError> {
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
}

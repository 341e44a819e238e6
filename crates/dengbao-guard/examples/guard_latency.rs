//! `bench/guard.sh`: latency of the access decisions, p50/p99 on one core — the role and
//! relation decision (`authorize`) and the IDC policy decision in Cedar over a customer's
//! policy set of 1,000 policies (the built-in ones and 995 of its own), next to Cedar's raw
//! evaluation of the same set (`Authorizer::is_authorized`, no verdict reading).

use std::time::Instant;

use dengbao_guard::policy::{AssetFacts, PolicyEngine, PolicyInput, ProfileParams};
use dengbao_guard::{Action, Credential, OrgKind, Principal, Relations, Resource, Role, authorize};

fn pct(v: &mut [u64], q: f64) -> f64 {
    v.sort_unstable();
    v[((v.len() as f64 * q) as usize).min(v.len() - 1)] as f64 / 1000.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    // The role decision.
    let p = Principal {
        user_id: "u".into(),
        username: "lead".into(),
        org: "op".into(),
        org_kind: OrgKind::Operator,
        roles: vec![Role::SecurityLead],
        credential: Credential::Session,
    };
    let rel = Relations::default();
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let d = authorize(
            &p,
            Action::Read,
            &Resource::Organisation("op"),
            &rel,
            i as i64,
        );
        std::hint::black_box(d);
        lat.push(t.elapsed().as_nanos() as u64);
    }
    println!(
        "authorize (roles, own organisation): p50 {:.3} us, p99 {:.3} us over {n}",
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );

    // 1,000 policies: the built-in ones and the customer's own, each on a different hour.
    let mut text = PolicyEngine::builtin_text(ProfileParams {
        approvals_for_high_risk: 2,
        approvals_for_sharing: 2,
        external_sharing: true,
    });
    let builtin = text.matches("@id(").count();
    for i in 0..(1000 - builtin) {
        text.push_str(&format!(
            "\n@id(\"own-{i}\")\n@approvers(\"3\")\npermit (principal, action == Action::\"read\", resource) when {{ resource.kind == \"kind-{i}\" && context.hour == {} }};\n",
            i % 24
        ));
    }
    let engine = PolicyEngine::new()?;
    let set = engine.check(&text)?;
    let input = PolicyInput {
        staff: "ops",
        operation: "read",
        justification: "customer_initiated_support",
        break_glass: false,
        hour: 10,
        weekday: 3,
        has_ticket: true,
        asset: AssetFacts {
            id: "asset-1",
            classification: "important",
            personal: true,
            sensitive_personal: false,
            kind: "database",
            category: "c3",
        },
    };
    let m = (n / 100).max(1000);
    let mut lat = Vec::with_capacity(m);
    for _ in 0..m {
        let t = Instant::now();
        std::hint::black_box(engine.decide(&set, &input)?);
        lat.push(t.elapsed().as_nanos() as u64);
    }
    let (p50, p99) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
    // Cedar alone on the same request, entities built once.
    let raw = engine.raw_bench(&set, &input, m)?;
    println!("policies in the set: {}", set.policies().count());
    println!(
        "Cedar raw is_authorized:          p50 {:.1} us, p99 {:.1} us over {m}",
        raw.0, raw.1
    );
    println!(
        "policy verdict (entities + Cedar + annotations): p50 {p50:.1} us, p99 {p99:.1} us ({:.2}x raw at p99)",
        p99 / raw.1
    );
    Ok(())
}

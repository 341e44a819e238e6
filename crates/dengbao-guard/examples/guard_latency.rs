//! `bench/guard.sh`: latency of the access decisions on one core.
//!
//! 1. The role and relation decision (`authorize`).
//! 2. The IDC key-release decision as the app makes it: the grant lookup in core's
//!    `GrantIndex` over 10,000 active grants, then the Cedar verdict of the customer's policy
//!    set — 1,000 policies (the built-in ones and 995 of its own) — sliced; p50/p99 over the
//!    decisions asked for, on varied requests.
//! 3. In the same run, the baselines: Cedar's raw `is_authorized` over the whole set (no
//!    slicing, request built once), and the unsliced verdict.

use std::time::Instant;

use dengbao_core::access::{Grant, GrantIndex, Operation, Request, State, Timing};
use dengbao_guard::policy::{AssetFacts, PolicyEngine, PolicyInput, ProfileParams};
use dengbao_guard::{Action, Credential, OrgKind, Principal, Relations, Resource, Role, authorize};

fn pct(v: &mut [u64], q: f64) -> f64 {
    v.sort_unstable();
    v[((v.len() as f64 * q) as usize).min(v.len() - 1)] as f64 / 1000.0
}

const KINDS: usize = 1000;
const ASSETS: usize = 5000;
const GRANTS: usize = 10_000;
const STAFF: usize = 50;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    // 1. The role decision.
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

    // 2. 1,000 policies of four shapes a customer writes: by asset kind and hour, by
    // justification, by weekday and kind, by ticket.
    let mut text = PolicyEngine::builtin_text(ProfileParams {
        approvals_for_high_risk: 2,
        approvals_for_sharing: 2,
        external_sharing: true,
    });
    let builtin = text.matches("@id(").count();
    for i in 0..(1000 - builtin) {
        let k = i % KINDS;
        text.push_str(&match i % 4 {
            0 => format!(
                "\n@id(\"own-{i}\") @approvers(\"3\")\npermit (principal, action == Action::\"read\", resource) when {{ resource.kind == \"kind-{k}\" && context.hour == {} }};\n",
                i % 24
            ),
            1 => format!(
                "\n@id(\"own-{i}\") @reason(\"not for this justification\")\nforbid (principal, action == Action::\"debug\", resource) when {{ context.justification == \"just-{i}\" }};\n"
            ),
            2 => format!(
                "\n@id(\"own-{i}\") @reason(\"no weekend work on this kind\")\nforbid (principal, action, resource) when {{ context.weekday == 7 && resource.kind == \"kind-{k}\" }};\n"
            ),
            _ => format!(
                "\n@id(\"own-{i}\") @approvers(\"2\")\npermit (principal, action in [Action::\"modify\", Action::\"restore\"], resource) when {{ resource.kind == \"kind-{k}\" && context.has_ticket }};\n"
            ),
        });
    }
    let engine = PolicyEngine::new()?;
    let set = engine.check(&text)?;

    // 10,000 active grants over 5,000 assets and 50 staff.
    let timing = Timing {
        pending_expiry_hours: 96,
        default_duration_hours: 8,
        max_duration_hours: 72,
        break_glass_review_hours: 24,
        unusual_uses_per_hour: 30,
    };
    let now = 1_800_000_000_000i64;
    let ops = [Operation::Read, Operation::Modify, Operation::Restore];
    let staff: Vec<String> = (0..STAFF).map(|s| format!("staff-{s}")).collect();
    let assets: Vec<String> = (0..ASSETS).map(|a| format!("asset-{a}")).collect();
    let kinds: Vec<String> = (0..KINDS).map(|k| format!("kind-{k}")).collect();
    let grants = GrantIndex::new((0..GRANTS).map(|g| Grant {
        id: format!("grant-{g}"),
        operation: ops[g % ops.len()],
        assets: vec![
            assets[g % ASSETS].clone(),
            assets[(g * 7 + 1) % ASSETS].clone(),
        ],
        request: Request {
            state: if g % 2 == 0 {
                State::Active
            } else {
                State::Approved
            },
            requested_by: staff[g % STAFF].clone(),
            created_at: now - 3_600_000,
            window_start: now - 3_600_000,
            window_end: now + 7 * 3_600_000,
            approvals_needed: 2,
            approvers: vec!["a".into(), "b".into()],
        },
    }));
    // Varied requests: who, which asset (of which kind), which operation, when.
    let classes = ["general", "important", "core"];
    let whys = [
        "customer_initiated_support",
        "operator_initiated_maintenance",
        "alert_response",
    ];
    let requests: Vec<(usize, usize, usize, i64)> = (0..4096)
        .map(|r| (r % STAFF, (r * 31) % ASSETS, r % ops.len(), (r % 24) as i64))
        .collect();
    let input = |&(s, a, o, h): &(usize, usize, usize, i64)| PolicyInput {
        staff: &staff[s],
        operation: ops[o].into(),
        justification: whys[a % whys.len()],
        break_glass: false,
        hour: h,
        weekday: (a % 7) as i64 + 1,
        has_ticket: a % 2 == 0,
        asset: AssetFacts {
            id: &assets[a],
            classification: classes[a % classes.len()],
            personal: a % 3 == 0,
            sensitive_personal: false,
            kind: &kinds[a % KINDS],
            category: "c3",
        },
    };
    let mut lat = Vec::with_capacity(n);
    let (mut granted, mut evaluated) = (0usize, 0usize);
    for i in 0..n {
        let r = &requests[i % requests.len()];
        let (s, a, o, _) = *r;
        let t = Instant::now();
        let covered = grants
            .covering(&staff[s], &assets[a], ops[o], &timing, now)
            .next()
            .is_some();
        let verdict = engine.decide(&set, &input(r))?;
        lat.push(t.elapsed().as_nanos() as u64);
        granted += usize::from(covered);
        std::hint::black_box(verdict);
        if i < requests.len() {
            evaluated += set.evaluated(&input(r));
        }
    }
    let (p50, p99) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
    println!(
        "policy set: {} policies; a decision evaluates {:.1} of them on average (sliced)",
        set.len(),
        evaluated as f64 / requests.len().min(n) as f64
    );
    println!(
        "grant index: {} active grants; {:.1} % of the requests had a covering grant",
        grants.len(),
        100.0 * granted as f64 / n as f64
    );
    println!(
        "key-release decision (grant lookup + sliced Cedar verdict): p50 {p50:.1} us, p99 {p99:.1} us over {n}"
    );

    // 3. Baselines in the same run, on the same requests.
    let m = (n / 500).max(1000);
    let mut whole = Vec::with_capacity(m);
    for i in 0..m {
        let t = Instant::now();
        std::hint::black_box(engine.decide_unsliced(&set, &input(&requests[i % requests.len()]))?);
        whole.push(t.elapsed().as_nanos() as u64);
    }
    let raw = engine.raw_bench(&set, &input(&requests[0]), m)?;
    println!(
        "baseline, Cedar raw is_authorized over all {} policies: p50 {:.1} us, p99 {:.1} us over {m}",
        set.len(),
        raw.0,
        raw.1
    );
    println!(
        "baseline, unsliced verdict: p50 {:.1} us, p99 {:.1} us over {m}",
        pct(&mut whole, 0.5),
        pct(&mut whole, 0.99)
    );
    println!(
        "the decision's p99 is {:.3}x raw Cedar's; target p99 <= 20 us: {}",
        p99 / raw.1,
        if p99 <= 20.0 { "met" } else { "NOT met" }
    );
    Ok(())
}

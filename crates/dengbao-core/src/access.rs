//! The customer's explicit authorization (MIIT's IDC notice; RULES.md §7): what an operation
//! on customer data needs under a customer's protection profile, and the lifecycle of an
//! authorization request — pure, with time as a parameter.
//!
//! The lifecycle takes the union of what Azure Customer Lockbox, Google Access Approval and
//! Oracle Operator Access Control do: `pending` → (`more_info` ⇄ `pending`) → `approved`
//! (possibly for a future window) | `denied` | `expired`; `approved` → `active` on first use
//! inside the window → `extended` → `completed` | `revoked` | `lapsed` (the window ended).
//! Break-glass starts `active` without approval where the policy allows it, and must be
//! reviewed by the customer afterwards. What a request needs is decided by the IDC policies
//! in Cedar (`dengbao_guard::policy`), not here.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// What the operator wants to do with customer data.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Operation {
    /// Open (decrypt) the data.
    Read,
    Modify,
    Migrate,
    Restore,
    Debug,
    /// A routine backup: pre-approved by the built-in policy.
    Backup,
    /// Give the data to someone outside (the sharing gate's operation).
    Export,
}

impl Operation {
    /// High-risk operations in the notice's sense: they touch the content.
    pub fn high_risk(self) -> bool {
        !matches!(self, Operation::Backup | Operation::Export)
    }
}

/// Why the operator asks (after Google's Key Access Justifications).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Justification {
    /// The customer opened a support case.
    CustomerInitiatedSupport,
    /// Maintenance the operator planned.
    OperatorInitiatedMaintenance,
    /// Responding to an alert on the customer's service.
    AlertResponse,
    /// A third party asks for the data (lawfully).
    ThirdPartyDataRequest,
    /// A regulator or public security organ asks for the data.
    RegulatorDataRequest,
}

/// Where a request stands.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum State {
    Pending,
    MoreInfo,
    Approved,
    Denied,
    Expired,
    Active,
    Extended,
    Revoked,
    Completed,
    Lapsed,
}

impl State {
    /// Nothing more happens to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            State::Denied | State::Expired | State::Revoked | State::Completed | State::Lapsed
        )
    }
    /// A grant that opens data now (inside its window).
    pub fn grants(self) -> bool {
        matches!(self, State::Approved | State::Active | State::Extended)
    }
}

/// The time limits (rule-pack data, `[access]` of the IDC pack).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// A request nobody decided expires (Azure Customer Lockbox: 4 days).
    pub pending_expiry_hours: u32,
    /// How long a grant lasts when the request names no duration (Lockbox: 8 hours).
    pub default_duration_hours: u32,
    pub max_duration_hours: u32,
    /// Within how long the customer reviews a break-glass access.
    pub break_glass_review_hours: u32,
    /// More uses of one grant than this within an hour are flagged to the customer as an
    /// unusual volume.
    pub unusual_uses_per_hour: u32,
}

const HOUR: i64 = 3_600_000;

/// A request as the lifecycle sees it (times in epoch ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub state: State,
    pub requested_by: String,
    pub created_at: i64,
    pub window_start: i64,
    pub window_end: i64,
    pub approvals_needed: u32,
    pub approvers: Vec<String>,
}

/// What somebody does to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Act {
    Approve {
        by: String,
    },
    Deny {
        by: String,
    },
    AskMoreInfo {
        by: String,
    },
    /// The operator answers a question.
    Answer,
    /// The operator uses the grant (opens data).
    Use,
    /// The customer extends an active grant to a new end.
    Extend {
        by: String,
        until: i64,
    },
    Revoke {
        by: String,
    },
    Complete,
}

/// Why an act is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// The state at `now`: time moves a pending request to `expired` and a grant past its window
/// to `lapsed`, whatever was stored.
pub fn state_at(r: &Request, t: &Timing, now: i64) -> State {
    match r.state {
        State::Pending | State::MoreInfo
            if now >= r.created_at + i64::from(t.pending_expiry_hours) * HOUR =>
        {
            State::Expired
        }
        State::Approved | State::Active | State::Extended if now >= r.window_end => State::Lapsed,
        s => s,
    }
}

/// The state after `act` at `now`, or why not. Approvals are counted by distinct people; the
/// requester never approves its own request.
pub fn apply(r: &Request, act: &Act, t: &Timing, now: i64) -> Result<Request, Refusal> {
    let state = state_at(r, t, now);
    let no = |why: &str| {
        Err(Refusal(format!(
            "the request is `{}`: {why}",
            <&str>::from(state)
        )))
    };
    let mut next = r.clone();
    next.state = state;
    match (state, act) {
        (s, _) if s.is_final() => return no("nothing more can be done with it"),
        (State::Pending, Act::Approve { by }) => {
            if *by == r.requested_by {
                return Err(Refusal("nobody approves their own request".into()));
            }
            if r.approvers.contains(by) {
                return Err(Refusal(
                    "you approved this already: it needs approvals from different people".into(),
                ));
            }
            next.approvers.push(by.clone());
            if next.approvers.len() as u32 >= r.approvals_needed {
                next.state = State::Approved;
            }
        }
        (State::Pending | State::MoreInfo, Act::Deny { .. }) => next.state = State::Denied,
        (State::Pending, Act::AskMoreInfo { .. }) => next.state = State::MoreInfo,
        (State::MoreInfo, Act::Answer) => next.state = State::Pending,
        (State::Approved, Act::Use) if now < r.window_start => {
            return Err(Refusal(
                "the approved window has not begun: the grant opens nothing yet".into(),
            ));
        }
        (State::Approved, Act::Use) => next.state = State::Active,
        (State::Active | State::Extended, Act::Use) => {}
        (State::Active | State::Extended, Act::Extend { by, until }) => {
            if *by == r.requested_by {
                return Err(Refusal("nobody extends their own grant".into()));
            }
            let max = r.window_start + i64::from(t.max_duration_hours) * HOUR;
            if *until <= r.window_end || *until > max {
                return Err(Refusal(format!(
                    "an extension ends after the current end and at most {} hours after the start",
                    t.max_duration_hours
                )));
            }
            next.window_end = *until;
            next.state = State::Extended;
        }
        (
            State::Pending | State::MoreInfo | State::Approved | State::Active | State::Extended,
            Act::Revoke { .. },
        ) => next.state = State::Revoked,
        (State::Active | State::Extended, Act::Complete) => next.state = State::Completed,
        (_, Act::Approve { .. }) => return no("only a pending request is approved"),
        (_, Act::Use) => return no("only an approved, active or extended grant is used"),
        (_, Act::Answer) => return no("nobody asked for more information"),
        (_, Act::Complete) => return no("only a grant in use is completed"),
        (_, Act::Extend { .. }) => return no("only a grant in use is extended"),
        (_, Act::AskMoreInfo { .. }) => return no("only a pending request can be questioned"),
        (_, Act::Deny { .. }) => return no("only an undecided request is denied"),
        (_, Act::Revoke { .. }) => return no("it cannot be revoked"),
    }
    Ok(next)
}

/// A request's window: from `start` (now if absent) for `hours` (the default if absent),
/// bounded by the maximum; the error names the field.
pub fn window(
    t: &Timing,
    now: i64,
    start: Option<i64>,
    hours: Option<u32>,
) -> Result<(i64, i64), (&'static str, String)> {
    let start = start.unwrap_or(now);
    if start < now - 60_000 {
        return Err(("window_start_ms", "not in the past".into()));
    }
    let h = hours.unwrap_or(t.default_duration_hours);
    if h == 0 || h > t.max_duration_hours {
        return Err((
            "duration_hours",
            format!("1 to {} hours", t.max_duration_hours),
        ));
    }
    Ok((start, start + i64::from(h) * HOUR))
}

/// A grant as the key-release decision sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub operation: Operation,
    pub assets: Vec<String>,
    pub request: Request,
}

/// Grants by asset: the decision "may `staff` do `op` on `asset` now?" looks at the grants
/// naming that asset only.
#[derive(Clone, Debug, Default)]
pub struct GrantIndex {
    grants: Vec<Grant>,
    by_asset: HashMap<String, Vec<usize>>,
}

impl GrantIndex {
    pub fn new(grants: impl IntoIterator<Item = Grant>) -> GrantIndex {
        let mut ix = GrantIndex::default();
        for g in grants {
            let n = ix.grants.len();
            for a in &g.assets {
                let v = ix.by_asset.entry(a.clone()).or_default();
                // An asset named twice in one request is one entry.
                if v.last() != Some(&n) {
                    v.push(n);
                }
            }
            ix.grants.push(g);
        }
        ix
    }

    pub fn len(&self) -> usize {
        self.grants.len()
    }

    pub fn is_empty(&self) -> bool {
        self.grants.is_empty()
    }

    /// The grants that let `staff` do `op` on `asset` at `now`: for that operation and
    /// asset, asked by `staff` (a grant is the requester's, as Lockbox's is the requesting
    /// engineer's), live at `now` and inside its window. Oldest first.
    pub fn covering<'a>(
        &'a self,
        staff: &'a str,
        asset: &str,
        op: Operation,
        t: &'a Timing,
        now: i64,
    ) -> impl Iterator<Item = &'a Grant> + 'a {
        self.by_asset
            .get(asset)
            .into_iter()
            .flatten()
            .map(|&n| &self.grants[n])
            .filter(move |g| {
                g.operation == op
                    && g.request.requested_by == staff
                    && now >= g.request.window_start
                    && state_at(&g.request, t, now).grants()
            })
    }
}

/// One recorded use of a grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Use {
    pub asset: String,
    pub by: String,
    pub at: i64,
}

/// What is wrong with a use, for the customer's transparency view. The key release refuses
/// all but volume, so the first three mean the record or the code was tampered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Anomaly {
    OutsideScope,
    OutsideWindow,
    NotTheRequester,
    /// More uses within an hour than the pack's `unusual_uses_per_hour`.
    UnusualVolume,
}

impl Anomaly {
    pub fn describe(self, t: &Timing) -> String {
        match self {
            Anomaly::OutsideScope => "an asset outside the request's scope".into(),
            Anomaly::OutsideWindow => "a use outside the window".into(),
            Anomaly::NotTheRequester => "used by someone other than the requester".into(),
            Anomaly::UnusualVolume => format!(
                "an unusual volume: more than {} uses within an hour",
                t.unusual_uses_per_hour
            ),
        }
    }
}

/// The anomaly of each use of a grant (in the order given, which is the order recorded).
/// Volume: a use is flagged when it is past the `unusual_uses_per_hour`-th use of the hour
/// that ends with it.
pub fn anomalies(r: &Request, assets: &[String], uses: &[Use], t: &Timing) -> Vec<Option<Anomaly>> {
    let limit = t.unusual_uses_per_hour as usize;
    let mut at: Vec<i64> = uses.iter().map(|u| u.at).collect();
    at.sort_unstable();
    uses.iter()
        .map(|u| {
            if !assets.contains(&u.asset) {
                Some(Anomaly::OutsideScope)
            } else if u.at < r.window_start || u.at >= r.window_end {
                Some(Anomaly::OutsideWindow)
            } else if u.by != r.requested_by {
                Some(Anomaly::NotTheRequester)
            } else {
                // Uses in (at − 1 h, at].
                let lo = at.partition_point(|&x| x <= u.at - HOUR);
                let hi = at.partition_point(|&x| x <= u.at);
                (hi - lo > limit).then_some(Anomaly::UnusualVolume)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T: Timing = Timing {
        pending_expiry_hours: 96,
        default_duration_hours: 8,
        max_duration_hours: 72,
        break_glass_review_hours: 24,
        unusual_uses_per_hour: 3,
    };
    const NOW: i64 = 1_800_000_000_000;

    fn req(needed: u32) -> Request {
        Request {
            state: State::Pending,
            requested_by: "ops".into(),
            created_at: NOW,
            window_start: NOW,
            window_end: NOW + 8 * HOUR,
            approvals_needed: needed,
            approvers: vec![],
        }
    }

    fn run(r: &Request, acts: &[Act], at: i64) -> Result<Request, Refusal> {
        acts.iter().try_fold(r.clone(), |r, a| apply(&r, a, &T, at))
    }

    fn approve(by: &str) -> Act {
        Act::Approve { by: by.into() }
    }

    #[test]
    fn n_of_m_with_distinct_people_and_no_self_approval() {
        let r = req(2);
        let one = apply(&r, &approve("a"), &T, NOW).unwrap();
        assert_eq!(one.state, State::Pending);
        assert!(
            apply(&one, &approve("a"), &T, NOW)
                .unwrap_err()
                .0
                .contains("different people")
        );
        assert!(
            apply(&r, &approve("ops"), &T, NOW)
                .unwrap_err()
                .0
                .contains("own request")
        );
        let two = apply(&one, &approve("b"), &T, NOW).unwrap();
        assert_eq!((two.state, two.approvers.len()), (State::Approved, 2));
    }

    #[test]
    fn lifecycle_table() {
        use Act::*;
        let a = |s: &str| s.to_owned();
        let table: Vec<(Vec<Act>, i64, Result<State, &str>)> = vec![
            (vec![approve("a"), Use], NOW, Ok(State::Active)),
            (
                vec![approve("a"), Use, Use, Complete],
                NOW,
                Ok(State::Completed),
            ),
            (
                vec![AskMoreInfo { by: a("a") }, Answer, approve("a")],
                NOW,
                Ok(State::Approved),
            ),
            (
                vec![AskMoreInfo { by: a("a") }, Deny { by: a("a") }],
                NOW,
                Ok(State::Denied),
            ),
            (
                vec![approve("a"), Use, Revoke { by: a("a") }],
                NOW,
                Ok(State::Revoked),
            ),
            (
                vec![approve("a"), Use, Revoke { by: a("a") }, Use],
                NOW,
                Err("revoked"),
            ),
            (vec![Deny { by: a("a") }, approve("b")], NOW, Err("denied")),
            (vec![Answer], NOW, Err("nobody asked")),
            (vec![Use], NOW, Err("only an approved")),
            (
                vec![
                    approve("a"),
                    Use,
                    Extend {
                        by: a("a"),
                        until: NOW + 24 * HOUR,
                    },
                ],
                NOW,
                Ok(State::Extended),
            ),
            (
                vec![
                    approve("a"),
                    Use,
                    Extend {
                        by: a("a"),
                        until: NOW + 100 * HOUR,
                    },
                ],
                NOW,
                Err("at most 72"),
            ),
            (
                vec![
                    approve("a"),
                    Use,
                    Extend {
                        by: a("ops"),
                        until: NOW + 24 * HOUR,
                    },
                ],
                NOW,
                Err("own grant"),
            ),
            // Expiry: undecided for 4 days.
            (vec![approve("a")], NOW + 96 * HOUR, Err("expired")),
            // Lapse: the window ended.
            (vec![approve("a"), Use], NOW + 8 * HOUR, Err("lapsed")),
        ];
        for (acts, at, want) in table {
            let got = run(&req(1), &acts, at);
            match (got, want) {
                (Ok(r), Ok(s)) => assert_eq!(r.state, s, "{acts:?}"),
                (Err(e), Err(w)) => assert!(e.0.contains(w), "{acts:?}: {e}"),
                (got, want) => panic!("{acts:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn a_future_window_opens_nothing_before_it_begins() {
        let mut r = req(1);
        r.window_start = NOW + 2 * HOUR;
        r.window_end = NOW + 10 * HOUR;
        let ok = apply(&r, &approve("a"), &T, NOW).unwrap();
        assert!(
            apply(&ok, &Act::Use, &T, NOW + HOUR)
                .unwrap_err()
                .0
                .contains("not begun")
        );
        assert_eq!(
            apply(&ok, &Act::Use, &T, NOW + 2 * HOUR).unwrap().state,
            State::Active
        );
    }

    #[test]
    fn windows_are_bounded() {
        assert_eq!(window(&T, NOW, None, None).unwrap(), (NOW, NOW + 8 * HOUR));
        assert_eq!(
            window(&T, NOW, None, Some(0)).unwrap_err().0,
            "duration_hours"
        );
        assert_eq!(
            window(&T, NOW, None, Some(73)).unwrap_err().0,
            "duration_hours"
        );
        assert_eq!(
            window(&T, NOW, Some(NOW - HOUR), None).unwrap_err().0,
            "window_start_ms"
        );
    }

    fn grant(id: &str, op: Operation, assets: &[&str], state: State, by: &str) -> Grant {
        Grant {
            id: id.into(),
            operation: op,
            assets: assets.iter().map(|a| (*a).to_owned()).collect(),
            request: Request {
                state,
                requested_by: by.into(),
                ..req(1)
            },
        }
    }

    #[test]
    fn a_grant_covers_its_requester_operation_assets_and_window_only() {
        let ix = GrantIndex::new([
            grant("g1", Operation::Read, &["a", "b"], State::Approved, "ops"),
            grant("g2", Operation::Read, &["a"], State::Revoked, "ops"),
            grant("g3", Operation::Modify, &["a"], State::Active, "ops"),
            grant("g4", Operation::Read, &["a"], State::Active, "other"),
            grant("g5", Operation::Read, &["c", "c"], State::Pending, "ops"),
        ]);
        let ids = |staff: &str, asset: &str, op, now| -> Vec<String> {
            ix.covering(staff, asset, op, &T, now)
                .map(|g| g.id.clone())
                .collect()
        };
        // (staff, asset, operation, at, grants covering)
        let table: [(&str, &str, Operation, i64, &[&str]); 9] = [
            ("ops", "a", Operation::Read, NOW, &["g1"]),
            ("ops", "b", Operation::Read, NOW + HOUR, &["g1"]),
            ("ops", "a", Operation::Modify, NOW, &["g3"]),
            ("other", "a", Operation::Read, NOW, &["g4"]),
            ("other", "b", Operation::Read, NOW, &[]),
            ("ops", "c", Operation::Read, NOW, &[]),
            ("ops", "z", Operation::Read, NOW, &[]),
            // Before the window opens and once it has closed.
            ("ops", "a", Operation::Read, NOW - 1, &[]),
            ("ops", "a", Operation::Read, NOW + 8 * HOUR, &[]),
        ];
        for (staff, asset, op, at, want) in table {
            assert_eq!(
                ids(staff, asset, op, at),
                want,
                "{staff} {asset} {op:?} {at}"
            );
        }
        assert_eq!(ix.len(), 5);
    }

    #[test]
    fn anomalies_name_scope_window_person_and_volume() {
        let r = req(1);
        let assets = vec!["a".to_owned()];
        let u = |asset: &str, by: &str, at: i64| Use {
            asset: asset.into(),
            by: by.into(),
            at,
        };
        let uses = [
            u("a", "ops", NOW),
            u("b", "ops", NOW + 1),
            u("a", "ops", NOW + 9 * HOUR),
            u("a", "eve", NOW + 2),
            // Three more in the same hour: the 4th and 5th within an hour are too many (T: 3).
            u("a", "ops", NOW + 3),
            u("a", "ops", NOW + 4),
            u("a", "ops", NOW + 5),
            // An hour after the burst: quiet again.
            u("a", "ops", NOW + 5 + HOUR),
        ];
        let got: Vec<Option<&str>> = anomalies(&r, &assets, &uses, &T)
            .into_iter()
            .map(|a| a.map(<&str>::from))
            .collect();
        assert_eq!(
            got,
            [
                None,
                Some("outside_scope"),
                Some("outside_window"),
                Some("not_the_requester"),
                Some("unusual_volume"),
                Some("unusual_volume"),
                Some("unusual_volume"),
                None,
            ]
        );
        assert!(Anomaly::UnusualVolume.describe(&T).contains("more than 3"));
    }

    proptest! {
        /// Whatever is done, a final state stays final and time never revives a grant.
        #[test]
        fn final_states_stay_final(acts in proptest::collection::vec(0u8..8, 0..12), dt in 0i64..200) {
            let mut r = req(2);
            let mut seen_final = false;
            for (i, a) in acts.iter().enumerate() {
                let act = match a {
                    0 => approve("a"), 1 => approve("b"), 2 => Act::Use, 3 => Act::Complete,
                    4 => Act::Revoke { by: "a".into() }, 5 => Act::AskMoreInfo { by: "a".into() },
                    6 => Act::Answer, _ => Act::Deny { by: "b".into() },
                };
                let at = NOW + (i as i64) * dt * HOUR / 10;
                if let Ok(n) = apply(&r, &act, &T, at) {
                    prop_assert!(!seen_final, "{:?} after a final state", act);
                    r = n;
                }
                if state_at(&r, &T, at).is_final() { seen_final = true; }
                if state_at(&r, &T, at).grants() { prop_assert!(at < r.window_end); }
            }
        }
    }
}

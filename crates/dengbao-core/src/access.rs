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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T: Timing = Timing {
        pending_expiry_hours: 96,
        default_duration_hours: 8,
        max_duration_hours: 72,
        break_glass_review_hours: 24,
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

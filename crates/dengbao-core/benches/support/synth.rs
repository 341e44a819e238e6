//! Deterministic synthetic systems for benchmarks: varied grades, secret degrees,
//! lifecycles and histories of 0–12 events, like a province's worth of filings.

use dengbao_core::Date;
use dengbao_core::grade::{Harm, HarmDegree, HarmObject, SecretDegree};
use dengbao_core::model::{
    Assessment, Conformity, Event, EventType, GradingObject, Lifecycle, ObjectKind,
    SecretInvolvement,
};

/// xorshift64*: small, fast, reproducible; no dependency needed for synthetic data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

const TYPES: [EventType; 10] = [
    EventType::FilingReceived,
    EventType::CertificateIssued,
    EventType::Evaluation,
    EventType::SelfInspection,
    EventType::Inspection,
    EventType::Evaluation,
    EventType::SelfInspection,
    EventType::RectificationNotice,
    EventType::RectificationReport,
    EventType::RectificationPlan,
];

pub fn system(rng: &mut Rng, i: usize) -> GradingObject {
    let base = Date::from_days_since_epoch(16_000); // 2013-10-22
    let harm = |r: &mut Rng| Harm {
        object: HarmObject::ALL[r.below(3) as usize],
        degree: HarmDegree::ALL[r.below(3) as usize],
    };
    let op = base.add_days(rng.below(3000) as i32);
    let mut events = Vec::with_capacity(12);
    let mut t = op.add_days(-(rng.below(200) as i32));
    events.push(Event::new(t, EventType::GradeDetermined));
    if rng.below(10) < 8 {
        t = t.add_days(rng.below(60) as i32 + 1);
        events.push(Event::new(t.max(op), EventType::FilingSubmitted));
    }
    let n = rng.below(11) as usize;
    for _ in 0..n {
        t = t.add_days(rng.below(200) as i32);
        let mut e = Event::new(t, TYPES[rng.below(TYPES.len() as u64) as usize]);
        if matches!(e.kind, EventType::Evaluation | EventType::SelfInspection) {
            e.conformity = Some(if rng.below(4) == 0 {
                Conformity::NonConformant
            } else {
                Conformity::Conformant
            });
        }
        events.push(e);
    }
    events.sort_by_key(|e| e.date);
    let secret = (rng.below(20) == 0).then(|| SecretInvolvement {
        degree: [
            SecretDegree::Secret,
            SecretDegree::Confidential,
            SecretDegree::TopSecret,
        ][rng.below(3) as usize],
        important: rng.below(2) == 0,
    });
    GradingObject {
        id: format!("sys-{i}"),
        name: format!("System {i}"),
        kind: ObjectKind::InformationSystem,
        division: None,
        network_scope: Default::default(),
        branch_of: None,
        department_in_charge: None,
        central_beijing_entity: false,
        graded_uniformly: false,
        lifecycle: Lifecycle {
            planned: None,
            construction_started: None,
            operating_since: Some(op),
            retired: None,
        },
        assessment: Assessment {
            business_information: vec![harm(rng), harm(rng)],
            system_service: vec![harm(rng)],
        },
        secret,
        uses_cryptography: rng.below(3) == 0,
        domains: Vec::new(),
        products_in_use: Vec::new(),
        crypto_products_in_use: Vec::new(),
        materials: Vec::new(),
        events,
    }
}

pub fn systems(n: usize, seed: u64) -> Vec<GradingObject> {
    let mut rng = Rng::new(seed);
    (0..n).map(|i| system(&mut rng, i)).collect()
}

//! `cargo bench -p dengbao-core`: grading and obligations per system.

#![allow(clippy::unwrap_used)] // a benchmark with a broken fixture should stop loudly

#[path = "support/synth.rs"]
mod synth;

use dengbao_core::grading::final_grade;
use dengbao_core::obligations::{Context, obligations_into};
use dengbao_core::{Date, HolidayCalendar, RulePack};

fn main() {
    divan::main();
}

const N: usize = 10_000;

#[divan::bench]
fn grade_only(b: divan::Bencher) {
    let pack = RulePack::baseline().unwrap();
    let systems = synth::systems(N, 7);
    b.counter(divan::counter::ItemsCount::new(N)).bench(|| {
        systems
            .iter()
            .filter_map(|s| final_grade(&pack.grading, s))
            .map(|g| g.number() as u64)
            .sum::<u64>()
    });
}

#[divan::bench]
fn obligations(b: divan::Bencher) {
    let pack = RulePack::baseline().unwrap();
    let cal = HolidayCalendar::new();
    let systems = synth::systems(N, 7);
    let ctx = Context {
        pack: &pack,
        calendar: &cal,
        as_of: "2025-11-21".parse::<Date>().unwrap(),
    };
    let mut buf = Vec::with_capacity(24);
    b.counter(divan::counter::ItemsCount::new(N))
        .bench_local(|| {
            let mut acc = 0u64;
            for s in &systems {
                let Some(g) = final_grade(&pack.grading, s) else {
                    continue;
                };
                buf.clear();
                obligations_into(ctx, s, g, &mut buf);
                acc += buf.iter().map(|o| o.status as u64).sum::<u64>();
            }
            acc
        });
}

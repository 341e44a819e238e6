//! Throughput of the obligation engine on one core, printed for `bench/obligations.sh`.
//!
//! Usage: `obligations_throughput [SYSTEMS] [--calendar]`. Builds SYSTEMS synthetic systems
//! (default 1,000,000), then times, single-threaded and in the same run:
//!   1. a baseline that only grades each system (reads its harms), and
//!   2. the full engine: grade + every obligation with due date and status.
//!
//! Prints systems per second for each and the ratio.

#[path = "../benches/support/synth.rs"]
mod synth;

use std::hint::black_box;
use std::time::Instant;

use dengbao_core::date::HolidayYear;
use dengbao_core::grading::final_grade;
use dengbao_core::obligations::{Context, obligations_into};
use dengbao_core::{Date, HolidayCalendar, RulePack};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut n = 1_000_000usize;
    let mut with_calendar = false;
    for a in std::env::args().skip(1) {
        if a == "--calendar" {
            with_calendar = true;
        } else {
            n = a.replace('_', "").parse()?;
        }
    }
    let pack = RulePack::baseline()?;
    let mut cal = HolidayCalendar::new();
    if with_calendar {
        // Weekends only, for every year the data touches: measures the cost of rolling due
        // dates off rest days (a real calendar adds holidays, which costs the same lookups).
        for year in 2013..=2035 {
            cal.add_year(HolidayYear {
                year,
                source: "synthetic".into(),
                holidays: vec![],
                working_days: vec![],
            })?;
        }
    }
    let t = Instant::now();
    let systems = synth::systems(n, 42);
    let events: usize = systems.iter().map(|s| s.events.len()).sum();
    eprintln!(
        "generated {n} systems with {events} events in {:.2?}",
        t.elapsed()
    );
    let ctx = Context {
        pack: &pack,
        calendar: &cal,
        as_of: "2025-11-21".parse::<Date>()?,
    };

    let run_baseline = || {
        let t = Instant::now();
        let sum: u64 = systems
            .iter()
            .filter_map(|s| final_grade(&pack.grading, s))
            .map(|g| u64::from(g.number()))
            .sum();
        black_box(sum);
        t.elapsed().as_secs_f64()
    };
    let mut buf = Vec::with_capacity(24);
    let mut obligations_total = 0usize;
    let mut run_engine = || {
        let t = Instant::now();
        let mut acc = 0u64;
        let mut count = 0usize;
        for s in &systems {
            let Some(g) = final_grade(&pack.grading, s) else {
                continue;
            };
            buf.clear();
            obligations_into(ctx, s, g, &mut buf);
            count += buf.len();
            acc += buf
                .iter()
                .map(|o| o.status as u64 + o.due.map_or(0, |d| d.date.days_since_epoch() as u64))
                .sum::<u64>();
        }
        black_box(acc);
        obligations_total = count;
        t.elapsed().as_secs_f64()
    };
    // Warm up, then take the best of three of each (least disturbed by the other core's load).
    run_baseline();
    run_engine();
    let base = (0..3).map(|_| run_baseline()).fold(f64::MAX, f64::min);
    let full = (0..3).map(|_| run_engine()).fold(f64::MAX, f64::min);
    let rate = |secs: f64| n as f64 / secs;
    println!("systems:                  {n}");
    println!("events:                   {events}");
    println!("obligations per pass:     {obligations_total}");
    println!(
        "holiday calendar:         {}",
        if with_calendar {
            "weekends 2013–2035"
        } else {
            "none"
        }
    );
    println!("baseline (grade only):    {:>12.0} systems/s", rate(base));
    println!(
        "engine (all obligations): {:>12.0} systems/s  ({:.0} ns/system)",
        rate(full),
        full / n as f64 * 1e9
    );
    println!("engine / baseline time:   {:.1}x", full / base);
    println!(
        "target:                   1000000 systems/s on one core — {}",
        if rate(full) >= 1e6 { "MET" } else { "NOT MET" }
    );
    Ok(())
}

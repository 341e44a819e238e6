//! Calendar dates, periods and the statutory way of counting them.
//!
//! The Measures count calendar days. Periods are computed as the Civil Code (art. 201–203)
//! computes them: the day of the triggering event is not counted; a period in months or years
//! ends on the corresponding day of the last month, or that month's last day where there is
//! none; a period whose last day is a statutory rest day ends on the next working day. Which
//! days are rest days comes only from a [`HolidayCalendar`] supplied as data — without one for
//! the year in question the result says so instead of guessing.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ValueError;

/// A calendar date (no time, no zone), stored as days since 1970-01-01.
///
/// Only years 1900–9999 are accepted: anything else in a compliance record is a typo.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    pub const MIN_YEAR: i32 = 1900;
    pub const MAX_YEAR: i32 = 9999;

    /// Builds a date, rejecting impossible days (30 February) and out-of-range years.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Date, ValueError> {
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) {
            return Err(ValueError::new(format!(
                "year {year} is outside {}–{}",
                Self::MIN_YEAR,
                Self::MAX_YEAR
            )));
        }
        if !(1..=12).contains(&month) {
            return Err(ValueError::new(format!("month {month} is not 1–12")));
        }
        let last = days_in_month(year, month);
        if day < 1 || day > last {
            return Err(ValueError::new(format!(
                "day {day} does not exist in {year}-{month:02} (it has {last} days)"
            )));
        }
        Ok(Date(days_from_civil(year, month, day)))
    }

    /// The calendar date at `utc_offset_secs` east of UTC for a Unix time — the caller reads
    /// the clock (Asia/Shanghai is UTC+8 all year: `8 * 3600`).
    pub fn from_unix_seconds(secs: i64, utc_offset_secs: i64) -> Date {
        Date(((secs + utc_offset_secs).div_euclid(86_400)) as i32)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn from_days_since_epoch(days: i32) -> Date {
        Date(days)
    }

    pub fn days_since_epoch(self) -> i32 {
        self.0
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    pub fn year(self) -> i32 {
        self.ymd().0
    }

    /// 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday.
        (self.0 + 3).rem_euclid(7) as u32
    }

    pub fn is_weekend(self) -> bool {
        self.weekday() >= 5
    }

    pub fn add_days(self, days: i32) -> Date {
        Date(self.0 + days)
    }

    /// Number of days from `self` to `later` (negative if `later` is earlier).
    pub fn days_until(self, later: Date) -> i32 {
        later.0 - self.0
    }

    /// The corresponding day `months` later; the month's last day where there is none
    /// (31 Aug + 6 months → 28/29 Feb) — Civil Code art. 202.
    pub fn add_months(self, months: u32) -> Date {
        let (y, m, d) = self.ymd();
        let total = (m - 1) + months;
        let year = y + (total / 12) as i32;
        let month = total % 12 + 1;
        let day = d.min(days_in_month(year, month));
        Date(days_from_civil(year, month, day))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Date {
    type Err = ValueError;

    /// Accepts exactly ISO 8601 `YYYY-MM-DD`.
    fn from_str(s: &str) -> Result<Date, ValueError> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) {
            return Err(ValueError::new(format!(
                "`{s}` is not a date in the form YYYY-MM-DD"
            )));
        }
        if !digits(8..10) {
            return Err(ValueError::new(format!(
                "`{s}` is not a date in the form YYYY-MM-DD"
            )));
        }
        let num = |r: std::ops::Range<usize>| {
            b[r].iter()
                .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'))
        };
        Date::from_ymd(num(0..4) as i32, num(5..7), num(8..10))
            .map_err(|e| ValueError::new(format!("`{s}`: {e}")))
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        d.deserialize_any(DateVisitor)
    }
}

/// JSON carries dates as strings; TOML has a native date that serde sees as a one-entry map
/// (`$__toml_private_datetime` → text). Both end in the same strict parser.
struct DateVisitor;

impl<'de> serde::de::Visitor<'de> for DateVisitor {
    type Value = Date;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date YYYY-MM-DD")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Date, E> {
        v.parse().map_err(E::custom)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Date, A::Error> {
        let Some((_key, value)) = map.next_entry::<String, String>()? else {
            return Err(serde::de::Error::custom("expected a date YYYY-MM-DD"));
        };
        value.parse().map_err(serde::de::Error::custom)
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

// Proleptic Gregorian day numbering in 400-year eras (the era repeats exactly every
// 146,097 days), counted from 1 March so that the leap day falls at the end of a year.
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = (z - era * 146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe as i32 + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Unit of a [`Period`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodUnit {
    Days,
    /// Working days per the holiday calendar (needs the calendar for every year crossed).
    WorkingDays,
    Months,
    Years,
}

/// A legal period such as "30 days", "10 working days", "6 months" or "1 year".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub amount: u16,
    pub unit: PeriodUnit,
}

impl Period {
    pub const fn days(amount: u16) -> Period {
        Period {
            amount,
            unit: PeriodUnit::Days,
        }
    }
    pub const fn months(amount: u16) -> Period {
        Period {
            amount,
            unit: PeriodUnit::Months,
        }
    }
    pub const fn years(amount: u16) -> Period {
        Period {
            amount,
            unit: PeriodUnit::Years,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one = self.amount == 1;
        let unit = match (self.unit, one) {
            (PeriodUnit::Days, true) => "day",
            (PeriodUnit::Days, false) => "days",
            (PeriodUnit::WorkingDays, true) => "working day",
            (PeriodUnit::WorkingDays, false) => "working days",
            (PeriodUnit::Months, true) => "month",
            (PeriodUnit::Months, false) => "months",
            (PeriodUnit::Years, true) => "year",
            (PeriodUnit::Years, false) => "years",
        };
        write!(f, "{} {unit}", self.amount)
    }
}

impl FromStr for Period {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Period, ValueError> {
        let bad = || {
            ValueError::new(format!(
                "`{s}` is not a period; write e.g. `30 days`, `10 working days`, `6 months`, `1 year`"
            ))
        };
        let (num, unit) = s.trim().split_once(' ').ok_or_else(bad)?;
        let amount: u16 = num.parse().map_err(|_| bad())?;
        if amount == 0 {
            return Err(ValueError::new(format!(
                "`{s}`: a period must be at least 1"
            )));
        }
        let unit = match unit.trim() {
            "day" | "days" => PeriodUnit::Days,
            "working day" | "working days" => PeriodUnit::WorkingDays,
            "month" | "months" => PeriodUnit::Months,
            "year" | "years" => PeriodUnit::Years,
            _ => return Err(bad()),
        };
        Ok(Period { amount, unit })
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Period, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Notes attached to a computed due date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DueFlags(u8);

impl DueFlags {
    /// The last day fell on a rest day and was moved to the next working day (Civil Code art. 203).
    pub const ADJUSTED_FOR_REST_DAY: DueFlags = DueFlags(1);
    /// No holiday calendar for the due date's year: Saturdays and Sundays are taken as rest
    /// days; statutory holidays (which would move the date later) and adjusted working days
    /// (调休, which would keep a weekend date) are unknown.
    pub const NO_CALENDAR: DueFlags = DueFlags(2);
    /// Working days were counted without a calendar (every weekday as a working day); the
    /// date shown is the earliest the period could end.
    pub const EARLIEST_POSSIBLE: DueFlags = DueFlags(4);
    /// Past the date shown, but by less than unknown holidays could add: whether it is
    /// overdue at all depends on the holiday calendar.
    pub const HOLIDAYS_MAY_EXTEND: DueFlags = DueFlags(8);

    pub const fn empty() -> DueFlags {
        DueFlags(0)
    }
    pub fn contains(self, other: DueFlags) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }
    pub fn insert(&mut self, other: DueFlags) {
        self.0 |= other.0;
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// A due date with how it was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub date: Date,
    pub flags: DueFlags,
}

/// One year of the State Council's holiday arrangement.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayYear {
    pub year: i32,
    /// Where the arrangement comes from (e.g. the State Council notice number).
    pub source: String,
    /// Statutory holidays, including the weekend days folded into them.
    #[serde(default)]
    pub holidays: Vec<Date>,
    /// Weekend days that are working days by adjustment (调休上班).
    #[serde(default)]
    pub working_days: Vec<Date>,
}

/// Holiday calendar supplied as data; years not supplied are unknown, never guessed.
#[derive(Clone, Debug, Default)]
pub struct HolidayCalendar {
    years: BTreeMap<i32, HolidayYear>,
    /// Each supplied year's rest days as bits by day of the year, sorted by first day: the
    /// engine asks about many days per system, and a bit test is what it can afford.
    rest: Vec<RestDays>,
}

#[derive(Clone, Debug)]
struct RestDays {
    /// Days since the epoch of 1 January.
    first: i32,
    days: i32,
    bits: [u64; 6],
}

impl HolidayCalendar {
    pub fn new() -> HolidayCalendar {
        HolidayCalendar::default()
    }

    /// Adds a year, checking that every date lies in it, that no date is both a holiday and a
    /// working day, and that adjusted working days are weekend days.
    pub fn add_year(&mut self, mut y: HolidayYear) -> Result<(), ValueError> {
        if self.years.contains_key(&y.year) {
            return Err(ValueError::new(format!(
                "year {} is supplied twice",
                y.year
            )));
        }
        for (field, dates) in [("holidays", &y.holidays), ("working_days", &y.working_days)] {
            if let Some(d) = dates.iter().find(|d| d.year() != y.year) {
                return Err(ValueError::new(format!(
                    "{field}: {d} is not in year {}",
                    y.year
                )));
            }
        }
        if let Some(d) = y.working_days.iter().find(|d| !d.is_weekend()) {
            return Err(ValueError::new(format!(
                "working_days: {d} is a weekday already; only weekend days can be adjusted working days"
            )));
        }
        if let Some(d) = y.holidays.iter().find(|d| y.working_days.contains(d)) {
            return Err(ValueError::new(format!(
                "{d} is listed both as a holiday and as a working day"
            )));
        }
        y.holidays.sort_unstable();
        y.holidays.dedup();
        y.working_days.sort_unstable();
        y.working_days.dedup();
        let first = Date::from_ymd(y.year, 1, 1)?.days_since_epoch();
        let next = Date::from_ymd(y.year, 12, 31)?.days_since_epoch() + 1;
        let mut r = RestDays {
            first,
            days: next - first,
            bits: [0; 6],
        };
        for n in 0..r.days {
            let d = Date::from_days_since_epoch(first + n);
            let rest = y.holidays.binary_search(&d).is_ok()
                || (d.is_weekend() && y.working_days.binary_search(&d).is_err());
            if rest {
                r.bits[(n / 64) as usize] |= 1 << (n % 64);
            }
        }
        let at = self.rest.partition_point(|x| x.first < first);
        self.rest.insert(at, r);
        self.years.insert(y.year, y);
        Ok(())
    }

    pub fn covers(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    pub fn years(&self) -> impl Iterator<Item = &HolidayYear> {
        self.years.values()
    }

    /// `Some(true)` for a working day, `Some(false)` for a rest day, `None` if the year is
    /// not in the calendar.
    pub fn is_working_day(&self, d: Date) -> Option<bool> {
        let day = d.days_since_epoch();
        let i = self
            .rest
            .partition_point(|r| r.first <= day)
            .checked_sub(1)?;
        let r = &self.rest[i];
        let n = day - r.first;
        if n >= r.days {
            return None;
        }
        Some(r.bits[(n / 64) as usize] & (1 << (n % 64)) == 0)
    }

    /// Whether `d` is a working day, as far as known: a year in the calendar answers
    /// exactly; without it Saturdays and Sundays are rest days (weekly rest days need no
    /// calendar) and any other day is taken as working, flagged `NO_CALENDAR`.
    fn working(&self, d: Date, flags: &mut DueFlags) -> bool {
        match self.is_working_day(d) {
            Some(w) => w,
            None if d.is_weekend() => false,
            None => {
                // A weekday of an unknown year may be a holiday: a period ending on it ends
                // there at the earliest.
                flags.insert(DueFlags::NO_CALENDAR);
                true
            }
        }
    }

    /// Moves `d` to the next working day if it is a rest day (Civil Code art. 203).
    fn roll_forward(&self, mut d: Date, flags: &mut DueFlags) -> Date {
        while !self.working(d, flags) {
            flags.insert(DueFlags::ADJUSTED_FOR_REST_DAY);
            d = d.add_days(1);
        }
        d
    }

    /// The last day of `period` counted from an event on `from` (the event day not counted).
    pub fn period_end(&self, from: Date, period: Period) -> Due {
        let mut flags = DueFlags::empty();
        let n = period.amount;
        let date = match period.unit {
            PeriodUnit::Days => self.roll_forward(from.add_days(i32::from(n)), &mut flags),
            PeriodUnit::Months => self.roll_forward(from.add_months(u32::from(n)), &mut flags),
            PeriodUnit::Years => self.roll_forward(from.add_months(u32::from(n) * 12), &mut flags),
            PeriodUnit::WorkingDays => {
                let mut d = from;
                let mut left = n;
                loop {
                    d = d.add_days(1);
                    if self.working(d, &mut flags) {
                        left -= 1;
                        if left == 0 {
                            if flags.contains(DueFlags::NO_CALENDAR) {
                                flags.insert(DueFlags::EARLIEST_POSSIBLE);
                            }
                            break d;
                        }
                    }
                }
            }
        };
        Due { date, flags }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn round_trips_known_dates() {
        assert_eq!(d("1970-01-01").days_since_epoch(), 0);
        assert_eq!(d("2000-03-01").days_since_epoch(), 11_017);
        assert_eq!(d("1969-12-31").days_since_epoch(), -1);
        assert_eq!(d("2024-02-29").to_string(), "2024-02-29");
        // 2007-06-22 (the Measures) was a Friday.
        assert_eq!(d("2007-06-22").weekday(), 4);
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "24-01-01",
            "2024/01/01",
            "1899-12-31",
            "2024-1-01",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn months_clamp_to_last_day() {
        assert_eq!(d("2023-08-31").add_months(6), d("2024-02-29"));
        assert_eq!(d("2022-08-31").add_months(6), d("2023-02-28"));
        assert_eq!(d("2024-01-31").add_months(1), d("2024-02-29"));
        assert_eq!(d("2024-02-29").add_months(12), d("2025-02-28"));
        assert_eq!(d("2024-03-15").add_months(12), d("2025-03-15"));
    }

    #[test]
    fn periods_parse_and_print() {
        for (s, p) in [
            ("30 days", Period::days(30)),
            ("1 year", Period::years(1)),
            ("6 months", Period::months(6)),
            (
                "10 working days",
                Period {
                    amount: 10,
                    unit: PeriodUnit::WorkingDays,
                },
            ),
        ] {
            assert_eq!(s.parse::<Period>().unwrap(), p);
            assert_eq!(p.to_string(), s);
        }
        for bad in ["0 days", "thirty days", "30", "30 fortnights", "-1 days"] {
            assert!(bad.parse::<Period>().is_err(), "{bad} accepted");
        }
    }

    fn cal_2025() -> HolidayCalendar {
        let mut c = HolidayCalendar::new();
        c.add_year(HolidayYear {
            year: 2025,
            source: "test".into(),
            holidays: vec![
                d("2025-10-01"),
                d("2025-10-02"),
                d("2025-10-03"),
                d("2025-10-04"),
                d("2025-10-05"),
                d("2025-10-06"),
                d("2025-10-07"),
                d("2025-10-08"),
            ],
            working_days: vec![d("2025-09-28"), d("2025-10-11")],
        })
        .unwrap();
        c
    }

    #[test]
    fn day_periods_exclude_the_event_day_and_roll_over_rest_days() {
        let empty = HolidayCalendar::new();
        let due = empty.period_end(d("2025-01-01"), Period::days(30));
        assert_eq!(due.date, d("2025-01-31"));
        assert!(due.flags.contains(DueFlags::NO_CALENDAR));

        let cal = cal_2025();
        // 2025-09-01 + 30 days = 2025-10-01, a holiday: ends on 2025-10-09.
        let due = cal.period_end(d("2025-09-01"), Period::days(30));
        assert_eq!(due.date, d("2025-10-09"));
        assert!(due.flags.contains(DueFlags::ADJUSTED_FOR_REST_DAY));
        // 2025-08-29 + 30 days = 2025-09-28, a Sunday made a working day: no roll.
        let due = cal.period_end(d("2025-08-29"), Period::days(30));
        assert_eq!(due.date, d("2025-09-28"));
        assert!(due.flags.is_empty());
        // A plain Saturday rolls to Monday.
        let due = cal.period_end(d("2025-05-17"), Period::days(7));
        assert_eq!(due.date, d("2025-05-26"));
    }

    #[test]
    fn working_days_need_the_calendar() {
        let cal = cal_2025();
        // From Tue 2025-09-30: Oct 1–8 holidays, Oct 9 Thu, 10 Fri, 11 Sat (working), 13 Mon.
        let due = cal.period_end(
            d("2025-09-30"),
            Period {
                amount: 4,
                unit: PeriodUnit::WorkingDays,
            },
        );
        assert_eq!(due.date, d("2025-10-13"));
        assert!(due.flags.is_empty());
        let due = cal.period_end(
            d("2025-12-30"),
            Period {
                amount: 3,
                unit: PeriodUnit::WorkingDays,
            },
        );
        // Dec 31 counts; 2026 is unknown, so two more days at the earliest.
        assert_eq!(due.date, d("2026-01-02"));
        assert!(due.flags.contains(DueFlags::EARLIEST_POSSIBLE));
    }

    #[test]
    fn calendar_rejects_inconsistent_years() {
        let mut c = HolidayCalendar::new();
        let err = c.add_year(HolidayYear {
            year: 2025,
            source: "x".into(),
            holidays: vec![d("2024-10-01")],
            working_days: vec![],
        });
        assert!(err.unwrap_err().to_string().contains("not in year 2025"));
        let err = c.add_year(HolidayYear {
            year: 2025,
            source: "x".into(),
            holidays: vec![],
            working_days: vec![d("2025-10-09")],
        });
        assert!(err.unwrap_err().to_string().contains("weekday already"));
    }
}

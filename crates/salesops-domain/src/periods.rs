//! Periods: half-open date ranges `[from, to)` in the organisation's time
//! zone (METRICS.md), the calendar periods goals use (a week starts on
//! Monday, ISO 8601), report buckets, and the previous period of equal
//! length for comparisons.

use crate::validation::Invalid;
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The longest range a report covers.
pub const MAX_YEARS: i32 = 10;

/// A half-open range of days `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// A checked range: `to` after `from`, at most [`MAX_YEARS`] long.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, Invalid> {
        if to <= from {
            return Err(Invalid::one(
                "to",
                "must be after from (the range is [from, to))",
            ));
        }
        if from
            .checked_add_months(Months::new(12 * MAX_YEARS as u32))
            .is_none_or(|m| to > m)
        {
            return Err(Invalid::one(
                "to",
                format!("a range covers at most {MAX_YEARS} years"),
            ));
        }
        Ok(Period { from, to })
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days()
    }

    /// The period of equal length just before this one; calendar periods
    /// (a whole month, quarter, ...) step back by the calendar.
    pub fn previous(&self) -> Period {
        for kind in [
            PeriodKind::Year,
            PeriodKind::HalfYear,
            PeriodKind::Quarter,
            PeriodKind::Month,
        ] {
            if kind.containing(self.from) == *self {
                return kind.containing(self.from.pred_opt().unwrap_or(self.from));
            }
        }
        let len = Duration::days(self.days());
        Period {
            from: self.from - len,
            to: self.from,
        }
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d < self.to
    }

    /// The instants bounding the period in a time zone: local midnight of
    /// `from` and of `to` (a day skipped by a clock change starts at the
    /// first instant that exists).
    pub fn instants(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (start_of(self.from, tz), start_of(self.to, tz))
    }

    /// Monday to Friday days in the period.
    pub fn working_days(&self) -> i64 {
        let mut n = 0;
        let mut d = self.from;
        while d < self.to {
            if d.weekday().number_from_monday() <= 5 {
                n += 1;
            }
            d = d.succ_opt().expect("a next day");
        }
        n
    }

    /// Splits the period into buckets (the first and last may be partial).
    pub fn buckets(&self, kind: PeriodKind) -> Vec<Period> {
        let mut out = vec![];
        let mut d = self.from;
        while d < self.to {
            let b = kind.containing(d);
            let to = b.to.min(self.to);
            out.push(Period { from: d, to });
            d = to;
        }
        out
    }
}

/// Local midnight of a day in a time zone, as an instant.
pub fn start_of(d: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    match tz.from_local_datetime(&midnight).earliest() {
        Some(t) => t.with_timezone(&Utc),
        // Midnight skipped by a clock change: the day starts an hour later.
        None => tz
            .from_local_datetime(&(midnight + Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&midnight)),
    }
}

/// The calendar periods of goals and the buckets of reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Day,
    Week,
    Month,
    Quarter,
    HalfYear,
    Year,
}

impl PeriodKind {
    pub const ALL: [PeriodKind; 6] = [
        PeriodKind::Day,
        PeriodKind::Week,
        PeriodKind::Month,
        PeriodKind::Quarter,
        PeriodKind::HalfYear,
        PeriodKind::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Day => "day",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::HalfYear => "half_year",
            PeriodKind::Year => "year",
        }
    }

    /// The period of this kind that contains the day.
    pub fn containing(self, d: NaiveDate) -> Period {
        let month_start = |m: u32| NaiveDate::from_ymd_opt(d.year(), m, 1).expect("a month");
        let (from, months) = match self {
            PeriodKind::Day => {
                return Period {
                    from: d,
                    to: d.succ_opt().expect("a next day"),
                };
            }
            PeriodKind::Week => {
                let from = d - Duration::days(d.weekday().num_days_from_monday() as i64);
                return Period {
                    from,
                    to: from + Duration::days(7),
                };
            }
            PeriodKind::Month => (month_start(d.month()), 1),
            PeriodKind::Quarter => (month_start((d.month() - 1) / 3 * 3 + 1), 3),
            PeriodKind::HalfYear => (month_start((d.month() - 1) / 6 * 6 + 1), 6),
            PeriodKind::Year => (month_start(1), 12),
        };
        Period {
            from,
            to: from + Months::new(months),
        }
    }
}

impl fmt::Display for PeriodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for PeriodKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PeriodKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| "must be day, week, month, quarter, half_year or year".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn calendar_periods() {
        let day = d("2026-11-23"); // a Monday
        assert_eq!(
            PeriodKind::Week.containing(d("2026-11-29")),
            Period {
                from: day,
                to: d("2026-11-30")
            }
        );
        assert_eq!(
            PeriodKind::Month.containing(day),
            Period {
                from: d("2026-11-01"),
                to: d("2026-12-01")
            }
        );
        assert_eq!(
            PeriodKind::Quarter.containing(day),
            Period {
                from: d("2026-10-01"),
                to: d("2027-01-01")
            }
        );
        assert_eq!(
            PeriodKind::HalfYear.containing(day),
            Period {
                from: d("2026-07-01"),
                to: d("2027-01-01")
            }
        );
        assert_eq!(
            PeriodKind::Year.containing(day),
            Period {
                from: d("2026-01-01"),
                to: d("2027-01-01")
            }
        );
        assert_eq!("half_year".parse::<PeriodKind>(), Ok(PeriodKind::HalfYear));
        assert!("fortnight".parse::<PeriodKind>().is_err());
    }

    #[test]
    fn previous_periods_follow_the_calendar() {
        let q = PeriodKind::Quarter.containing(d("2026-05-10"));
        assert_eq!(
            q.previous(),
            Period {
                from: d("2026-01-01"),
                to: d("2026-04-01")
            }
        );
        let feb = PeriodKind::Month.containing(d("2026-03-03")).previous();
        assert_eq!(
            feb,
            Period {
                from: d("2026-02-01"),
                to: d("2026-03-01")
            }
        );
        let custom = Period::new(d("2026-03-10"), d("2026-03-20")).unwrap();
        assert_eq!(
            custom.previous(),
            Period {
                from: d("2026-02-28"),
                to: d("2026-03-10")
            }
        );
    }

    #[test]
    fn bad_ranges_name_the_field() {
        let e = Period::new(d("2026-03-10"), d("2026-03-10")).unwrap_err();
        assert_eq!(e.0[0].field, "to");
        assert!(
            Period::new(d("2000-01-01"), d("2020-01-01")).is_err(),
            "20 years"
        );
        assert!(
            Period::new(d("2016-01-01"), d("2026-01-01")).is_ok(),
            "10 years"
        );
    }

    #[test]
    fn working_days_and_clock_changes() {
        let nov = PeriodKind::Month.containing(d("2026-11-01"));
        assert_eq!(nov.working_days(), 21);
        // Berlin: 2026-03-29 has 23 hours.
        let p = Period::new(d("2026-03-29"), d("2026-03-30")).unwrap();
        let (a, b) = p.instants(chrono_tz::Europe::Berlin);
        assert_eq!((b - a).num_hours(), 23);
        assert_eq!(a.to_rfc3339(), "2026-03-28T23:00:00+00:00");
    }

    proptest! {
        #[test]
        fn buckets_cover_the_period_exactly(start in 0i64..4000, len in 1i64..800, k in 0usize..6) {
            let from = d("2020-01-01") + Duration::days(start);
            let p = Period::new(from, from + Duration::days(len)).unwrap();
            let b = p.buckets(PeriodKind::ALL[k]);
            prop_assert_eq!(b.first().unwrap().from, p.from);
            prop_assert_eq!(b.last().unwrap().to, p.to);
            prop_assert!(b.windows(2).all(|w| w[0].to == w[1].from));
            prop_assert_eq!(b.iter().map(|x| x.days()).sum::<i64>(), p.days());
        }
    }
}

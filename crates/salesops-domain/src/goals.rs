//! Goals: progress and pace (METRICS.md "goal progress").
//!
//! A goal's period is the calendar period of its kind that contains the day
//! asked (a weekly goal on a Wednesday is measured Monday to Sunday). Pace
//! compares the actual with the share of the target that the days already
//! gone should have brought: days are Monday to Friday when the period has
//! any (selling happens on working days), calendar days otherwise, and the
//! day asked counts as still to come, so nobody is behind in the morning of
//! the first day.

use crate::metrics::ratio;
use crate::periods::Period;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

/// Where a goal stands against the time gone in its period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaceStatus {
    /// The target is reached.
    Achieved,
    /// At or above the share of the target the days gone should have brought.
    OnTrack,
    /// Below it (`behind_by` says how far).
    Behind,
    /// The period is over and the target was not reached.
    Missed,
    /// The period has not begun.
    NotStarted,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pace {
    pub status: PaceStatus,
    /// actual / target (a share; 1 is 100 %).
    pub progress: Option<Decimal>,
    /// What the days gone should have brought, rounded up.
    pub expected: i64,
    /// expected − actual when behind, else 0.
    pub behind_by: i64,
    /// The days (working days where the period has any) gone and in all.
    pub days_gone: i64,
    pub days_total: i64,
    /// What is still missing per day left (including the day asked), when
    /// the period is running and the target not yet reached.
    pub needed_per_day: Option<Decimal>,
}

fn is_working(d: NaiveDate) -> bool {
    d.weekday().number_from_monday() <= 5
}

/// Counts the days of `[from, to)` that count for pace.
fn days(from: NaiveDate, to: NaiveDate, working_only: bool) -> i64 {
    let mut n = 0;
    let mut d = from;
    while d < to {
        if !working_only || is_working(d) {
            n += 1;
        }
        d = d.succ_opt().expect("a next day");
    }
    n
}

/// Pace of a goal with `target` (> 0) and `actual` in `period` on `today`.
pub fn pace(target: i64, actual: i64, period: Period, today: NaiveDate) -> Pace {
    let working_only = period.working_days() > 0;
    let days_total = days(period.from, period.to, working_only);
    let progress = ratio(actual, target);
    let gone_until = today.clamp(period.from, period.to);
    let days_gone = days(period.from, gone_until, working_only);
    // ceil(target × gone / total) in integers.
    let expected = if days_total == 0 {
        0
    } else {
        let num = target as i128 * days_gone as i128;
        ((num + days_total as i128 - 1) / days_total as i128) as i64
    };
    let reached = actual >= target;
    let (status, behind_by) = if reached {
        (PaceStatus::Achieved, 0)
    } else if today >= period.to {
        (PaceStatus::Missed, target - actual)
    } else if today < period.from {
        (PaceStatus::NotStarted, 0)
    } else if actual >= expected {
        (PaceStatus::OnTrack, 0)
    } else {
        (PaceStatus::Behind, expected - actual)
    };
    let days_left = days_total - days_gone;
    let needed_per_day = match status {
        PaceStatus::OnTrack | PaceStatus::Behind | PaceStatus::NotStarted if days_left > 0 => {
            ratio(target - actual, days_left).map(|r| r.round_dp(2))
        }
        _ => None,
    };
    Pace {
        status,
        progress,
        expected,
        behind_by,
        days_gone,
        days_total,
        needed_per_day,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::periods::PeriodKind;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_month_of_working_days() {
        // November 2026: 21 working days (Mon 2 ... Mon 30).
        let m = PeriodKind::Month.containing(d("2026-11-18"));
        assert_eq!(m.working_days(), 21);
        // Wednesday 18th: 12 working days are gone (2-6, 9-13, 16, 17).
        // 100 calls × 12 / 21 = 57.14 -> 58 expected.
        let p = pace(100, 50, m, d("2026-11-18"));
        assert_eq!(p.days_gone, 12);
        assert_eq!(p.days_total, 21);
        assert_eq!(p.expected, 58);
        assert_eq!(p.status, PaceStatus::Behind);
        assert_eq!(p.behind_by, 8);
        // 50 still missing over 9 days left (18 ... 30).
        assert_eq!(p.needed_per_day, Some(Decimal::new(556, 2)));
        assert_eq!(p.progress, Some(Decimal::new(5, 1)));

        let p = pace(100, 58, m, d("2026-11-18"));
        assert_eq!(p.status, PaceStatus::OnTrack);
        assert_eq!(p.behind_by, 0);
    }

    #[test]
    fn before_during_and_after() {
        let w = PeriodKind::Week.containing(d("2026-11-23"));
        // The morning of the first day: nothing is expected yet.
        let p = pace(10, 0, w, d("2026-11-23"));
        assert_eq!((p.status, p.expected), (PaceStatus::OnTrack, 0));
        assert_eq!(p.needed_per_day, Some(Decimal::from(2)));
        // Before the week.
        assert_eq!(
            pace(10, 0, w, d("2026-11-20")).status,
            PaceStatus::NotStarted
        );
        // Weekend days do not count: on Saturday all five days are gone.
        let p = pace(10, 9, w, d("2026-11-28"));
        assert_eq!((p.status, p.behind_by), (PaceStatus::Behind, 1));
        assert_eq!(p.needed_per_day, None);
        // After it.
        let p = pace(10, 9, w, d("2026-11-30"));
        assert_eq!((p.status, p.behind_by), (PaceStatus::Missed, 1));
        assert_eq!(
            pace(10, 12, w, d("2026-11-30")).status,
            PaceStatus::Achieved
        );
    }

    #[test]
    fn a_goal_for_a_sunday_counts_calendar_days() {
        let day = PeriodKind::Day.containing(d("2026-11-22"));
        let p = pace(4, 1, day, d("2026-11-22"));
        assert_eq!((p.days_gone, p.days_total), (0, 1));
        assert_eq!(p.status, PaceStatus::OnTrack);
        assert_eq!(p.needed_per_day, Some(Decimal::from(3)));
    }
}

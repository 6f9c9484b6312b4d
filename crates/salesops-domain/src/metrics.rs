//! Metric formulas of METRICS.md that do not need the database: ratios
//! that are `None` ("n/a") on a zero denominator, and stage conversion over
//! lead histories.

use rust_decimal::Decimal;
use serde::Serialize;

/// `numerator / denominator`, `None` when the denominator is zero.
pub fn ratio(numerator: impl Into<Decimal>, denominator: impl Into<Decimal>) -> Option<Decimal> {
    let d = denominator.into();
    if d.is_zero() {
        None
    } else {
        numerator.into().checked_div(d)
    }
}

/// A ratio as a percentage rounded to one decimal (for display).
pub fn percent(r: Option<Decimal>) -> Option<Decimal> {
    r.map(|x| (x * Decimal::from(100)).round_dp(1))
}

/// How a lead ended, for stage conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Open,
    Won,
    Lost,
    Cancelled,
}

/// One lead's path through a pipeline: the stages it entered (index in the
/// pipeline's order) with the day it entered them, in time order; how it
/// stands now.
#[derive(Clone, Debug)]
pub struct LeadPath {
    pub entered: Vec<(usize, chrono::NaiveDate)>,
    pub outcome: Outcome,
}

/// One row of the pipeline performance report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StageRow {
    /// Leads that entered the stage in the period.
    pub entered: i64,
    /// ... that reached a later stage afterwards, or were won (last stage: won).
    pub moved_on: i64,
    /// ... still open and not past the stage.
    pub still: i64,
    /// ... lost (cancelled) without moving on.
    pub lost: i64,
    pub cancelled: i64,
}

impl StageRow {
    /// Adds the counts of `o` (another part of the same stage's leads).
    pub fn add(&mut self, o: &StageRow) {
        self.entered += o.entered;
        self.moved_on += o.moved_on;
        self.still += o.still;
        self.lost += o.lost;
        self.cancelled += o.cancelled;
    }

    /// The four shares of `entered`, to a tenth of a per cent, summing to
    /// exactly 100 %: each is rounded down and the tenths left over go to
    /// the largest remainders (the earlier column on a tie). `None` when no
    /// lead entered.
    pub fn shares(&self) -> [Option<Decimal>; 4] {
        const UNITS: i64 = 1000;
        let parts = [self.moved_on, self.still, self.lost, self.cancelled];
        if self.entered <= 0
            || parts.iter().any(|n| *n < 0)
            || parts.iter().sum::<i64>() != self.entered
        {
            return parts.map(|n| ratio(n, self.entered));
        }
        let e = i128::from(self.entered);
        let scaled = parts.map(|n| i128::from(n) * i128::from(UNITS));
        let mut q = scaled.map(|x| x / e);
        let rem = scaled.map(|x| x % e);
        let mut order = [0usize, 1, 2, 3];
        order.sort_by(|a, b| rem[*b].cmp(&rem[*a]).then(a.cmp(b)));
        let left = i128::from(UNITS) - q.iter().sum::<i128>();
        for i in order.iter().take(left as usize) {
            q[*i] += 1;
        }
        q.map(|x| Some(Decimal::from_i128_with_scale(x, 3).normalize()))
    }
}

/// Stage conversion (METRICS.md): for each of `stages` stages, the leads
/// that entered it within `[from, to)`, counted once per stage even if they
/// entered it twice, and split into moved on / still there / lost /
/// cancelled. A lead that skipped a stage does not count for it.
pub fn stage_conversion(
    stages: usize,
    paths: &[LeadPath],
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Vec<StageRow> {
    let mut rows = vec![StageRow::default(); stages];
    for p in paths {
        add_path(&mut rows, p, from, to);
    }
    rows
}

/// Adds one lead's path to the rows of [`stage_conversion`].
pub fn add_path(
    rows: &mut [StageRow],
    p: &LeadPath,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) {
    let stages = rows.len();
    for (s, row) in rows.iter_mut().enumerate() {
        // The first entry into s within the period.
        let Some(i) = p
            .entered
            .iter()
            .position(|(st, d)| *st == s && from <= *d && *d < to)
        else {
            continue;
        };
        row.entered += 1;
        let later = p.entered[i + 1..].iter().any(|(st, _)| *st > s);
        let last = s + 1 == stages;
        if (later && !last) || p.outcome == Outcome::Won {
            row.moved_on += 1;
        } else {
            match p.outcome {
                Outcome::Lost => row.lost += 1,
                Outcome::Cancelled => row.cancelled += 1,
                Outcome::Open | Outcome::Won => row.still += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn ratios_with_a_zero_denominator_are_none() {
        assert_eq!(ratio(3, 0), None);
        assert_eq!(ratio(1, 4), Some(Decimal::new(25, 2)));
        assert_eq!(percent(ratio(1, 3)), Some(Decimal::new(333, 1)));
        assert_eq!(percent(None), None);
    }

    #[test]
    fn stage_shares_add_up_to_exactly_one_hundred_per_cent() {
        let row = |entered, moved_on, still, lost, cancelled| StageRow {
            entered,
            moved_on,
            still,
            lost,
            cancelled,
        };
        let d = |s: &str| Some(s.parse::<Decimal>().unwrap());
        // Thirds: 33.4 + 33.3 + 33.3.
        assert_eq!(
            row(3, 1, 1, 1, 0).shares(),
            [d("0.334"), d("0.333"), d("0.333"), d("0")]
        );
        // Sevenths: 142.857…, 285.714…, 571.428… tenths; the two largest
        // remainders get the two tenths left over.
        assert_eq!(
            row(7, 1, 2, 4, 0).shares(),
            [d("0.143"), d("0.286"), d("0.571"), d("0")]
        );
        // Exact shares stay as they are.
        assert_eq!(
            row(4, 2, 1, 1, 0).shares(),
            [d("0.5"), d("0.25"), d("0.25"), d("0")]
        );
        assert_eq!(row(0, 0, 0, 0, 0).shares(), [None, None, None, None]);
    }

    #[test]
    fn stage_conversion_by_hand() {
        // Three stages; period: March.
        let (from, to) = (d("2026-03-01"), d("2026-04-01"));
        let path = |e: &[(usize, &str)], outcome| LeadPath {
            entered: e.iter().map(|(s, x)| (*s, d(x))).collect(),
            outcome,
        };
        let paths = vec![
            // A: 0 → 1 → 2, won: moved on everywhere.
            path(
                &[(0, "2026-03-02"), (1, "2026-03-05"), (2, "2026-03-09")],
                Outcome::Won,
            ),
            // B: 0 → 2 (skips 1), lost in 2.
            path(&[(0, "2026-03-03"), (2, "2026-03-04")], Outcome::Lost),
            // C: 0, still there.
            path(&[(0, "2026-03-20")], Outcome::Open),
            // D: 0 → 1, cancelled in 1.
            path(&[(0, "2026-03-21"), (1, "2026-03-22")], Outcome::Cancelled),
            // E: entered 0 in February (not counted for 0), 1 in March, open in 2.
            path(
                &[(0, "2026-02-10"), (1, "2026-03-01"), (2, "2026-03-02")],
                Outcome::Open,
            ),
            // F: 0 → 1 → back to 0 → 1 again in March: counted once for 0 and 1.
            path(
                &[
                    (0, "2026-03-01"),
                    (1, "2026-03-02"),
                    (0, "2026-03-03"),
                    (1, "2026-03-04"),
                ],
                Outcome::Open,
            ),
        ];
        let rows = stage_conversion(3, &paths, from, to);
        // Stage 0: A B C D F entered; A B D F moved on (B skipped 1 but reached 2); C still.
        assert_eq!(
            rows[0],
            StageRow {
                entered: 5,
                moved_on: 4,
                still: 1,
                lost: 0,
                cancelled: 0
            }
        );
        // Stage 1: A D E F; A E moved on; D cancelled; F still (its later entries are not past 1).
        assert_eq!(
            rows[1],
            StageRow {
                entered: 4,
                moved_on: 2,
                still: 1,
                lost: 0,
                cancelled: 1
            }
        );
        // Stage 2 (last: moved on = won): A won, B lost, E still.
        assert_eq!(
            rows[2],
            StageRow {
                entered: 3,
                moved_on: 1,
                still: 1,
                lost: 1,
                cancelled: 0
            }
        );
    }

    proptest! {
        #[test]
        fn the_shares_of_a_stage_sum_to_the_leads_that_entered_it(
            leads in proptest::collection::vec((proptest::collection::vec((0usize..5, 0i64..60), 1..8), 0u8..4), 0..50)
        ) {
            let from = d("2026-01-01");
            let paths: Vec<LeadPath> = leads.iter().map(|(e, o)| {
                let mut entered: Vec<(usize, NaiveDate)> = e.iter().map(|(s, k)| (*s, from + chrono::Duration::days(*k))).collect();
                entered.sort_by_key(|x| x.1);
                LeadPath { entered, outcome: [Outcome::Open, Outcome::Won, Outcome::Lost, Outcome::Cancelled][*o as usize] }
            }).collect();
            for r in stage_conversion(5, &paths, from, from + chrono::Duration::days(30)) {
                prop_assert_eq!(r.moved_on + r.still + r.lost + r.cancelled, r.entered);
                if r.entered > 0 {
                    let sum: Decimal = r.shares().iter().map(|x| x.unwrap()).sum();
                    prop_assert_eq!(sum, Decimal::ONE);
                    // Each within a tenth of a per cent of the exact share.
                    let parts = [r.moved_on, r.still, r.lost, r.cancelled];
                    for (sh, n) in r.shares().iter().zip(parts) {
                        let exact = Decimal::from(n) / Decimal::from(r.entered);
                        prop_assert!((sh.unwrap() - exact).abs() < Decimal::new(1, 3));
                    }
                }
            }
        }
    }
}

//! The backwards planner: from a revenue target to the deals, leads,
//! prospects and activities it takes (SPEC "Activity-based selling", step 2).
//!
//! Every step rounds up: half a deal is not closed, so 2.4 deals needed
//! means 3. The split across team members preserves totals exactly
//! (largest remainder), so the members' goals add up to the team's.

use crate::money::Money;
use crate::validation::Invalid;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

/// The ratios a plan is computed from (per won deal, per lead, per prospect).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ratios {
    /// Average revenue of a won deal, in the target's currency.
    pub deal_size: Money,
    /// Leads it takes to win one deal (1 / win rate).
    pub leads_per_deal: Decimal,
    /// Cold prospects it takes to create one lead.
    pub prospects_per_lead: Decimal,
    /// Cold calls per prospect (prospecting team).
    pub calls_per_prospect: Decimal,
    /// Calls per lead (sales team).
    pub calls_per_lead: Decimal,
    /// Meetings per lead (sales team).
    pub meetings_per_lead: Decimal,
    /// Proposals per lead (sales team).
    pub proposals_per_lead: Decimal,
}

/// What a revenue target takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub deals: i64,
    pub leads: i64,
    /// Prospects marketing must deliver (and the prospecting team works).
    pub prospects: i64,
    /// Cold calls of the prospecting team.
    pub cold_calls: i64,
    /// Calls of the sales team on leads.
    pub calls: i64,
    pub meetings: i64,
    pub proposals: i64,
}

/// `ceil(n × r)` for a whole count and a non-negative ratio; `None` on
/// overflow.
fn times_up(n: i64, r: Decimal) -> Option<i64> {
    Decimal::from(n).checked_mul(r)?.ceil().to_i64()
}

/// Checks the ratios: a deal size above zero in the target's currency, and
/// ratios above zero (a zero ratio would plan nothing, or divide by zero).
pub fn check(target: &Money, r: &Ratios) -> Result<(), Invalid> {
    let mut errs = Invalid::default();
    if target.minor <= 0 {
        errs.push("target", "must be more than zero");
    }
    if r.deal_size.minor <= 0 {
        errs.push("deal_size", "must be more than zero");
    }
    if r.deal_size.currency != target.currency {
        errs.push("deal_size", "must be in the target's currency");
    }
    let limit = Decimal::from(100_000);
    for (field, v, zero_ok) in [
        ("leads_per_deal", r.leads_per_deal, false),
        ("prospects_per_lead", r.prospects_per_lead, false),
        ("calls_per_prospect", r.calls_per_prospect, false),
        ("calls_per_lead", r.calls_per_lead, true),
        ("meetings_per_lead", r.meetings_per_lead, true),
        ("proposals_per_lead", r.proposals_per_lead, true),
    ] {
        if v < Decimal::ZERO || (!zero_ok && v.is_zero()) {
            errs.push(
                field,
                if zero_ok {
                    "must not be negative"
                } else {
                    "must be more than zero"
                },
            );
        } else if v > limit {
            errs.push(field, "must be at most 100000");
        }
    }
    errs.into_result()
}

/// Plans backwards from a revenue target.
pub fn plan(target: &Money, r: &Ratios) -> Result<Plan, Invalid> {
    check(target, r)?;
    let too_big = || Invalid::one("target", "the plan is too large to compute");
    // Deals: the target over the deal size, rounded up (exact integers).
    let deals = (target.minor + r.deal_size.minor - 1) / r.deal_size.minor;
    let leads = times_up(deals, r.leads_per_deal).ok_or_else(too_big)?;
    let prospects = times_up(leads, r.prospects_per_lead).ok_or_else(too_big)?;
    Ok(Plan {
        deals,
        leads,
        prospects,
        cold_calls: times_up(prospects, r.calls_per_prospect).ok_or_else(too_big)?,
        calls: times_up(leads, r.calls_per_lead).ok_or_else(too_big)?,
        meetings: times_up(leads, r.meetings_per_lead).ok_or_else(too_big)?,
        proposals: times_up(leads, r.proposals_per_lead).ok_or_else(too_big)?,
    })
}

/// Splits a whole `total` across shares by weight (capacity), exactly: each
/// gets the floor of its share, and what is left goes one by one to the
/// largest remainders (ties: the earlier one). Zero or missing weights
/// everywhere split evenly.
pub fn split(total: i64, weights: &[Decimal]) -> Vec<i64> {
    if weights.is_empty() {
        return vec![];
    }
    let even = weights.iter().all(|w| *w <= Decimal::ZERO);
    let w: Vec<Decimal> = weights
        .iter()
        .map(|x| {
            if even {
                Decimal::ONE
            } else {
                (*x).max(Decimal::ZERO)
            }
        })
        .collect();
    let sum: Decimal = w.iter().copied().sum();
    let t = Decimal::from(total);
    let exact: Vec<Decimal> = w.iter().map(|x| t * *x / sum).collect();
    let mut out: Vec<i64> = exact
        .iter()
        .map(|e| e.floor().to_i64().unwrap_or(0))
        .collect();
    let mut left = total - out.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..w.len()).collect();
    order.sort_by(|a, b| {
        let ra = exact[*a] - exact[*a].floor();
        let rb = exact[*b] - exact[*b].floor();
        rb.cmp(&ra).then(a.cmp(b))
    });
    for i in order.iter().cycle() {
        if left <= 0 {
            break;
        }
        out[*i] += 1;
        left -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn eur(units: i64) -> Money {
        Money::new(units * 100, Currency::parse("EUR").unwrap())
    }

    fn seed_ratios() -> Ratios {
        Ratios {
            deal_size: eur(30_000),
            leads_per_deal: d("4"),
            prospects_per_lead: d("20"),
            calls_per_prospect: d("3"),
            calls_per_lead: d("8"),
            meetings_per_lead: d("1"),
            proposals_per_lead: d("2"),
        }
    }

    #[test]
    fn the_seeds_worked_example_comes_out_exactly() {
        // Target 90,000 with an average deal of 30,000 → 3 deals; 4 leads
        // per deal → 12 leads; 20 prospects per lead → 240 prospects; 3
        // calls per prospect → 720 cold calls; per lead 8 calls, 1 meeting,
        // 2 proposals → 96 calls, 12 meetings, 24 proposals.
        let p = plan(&eur(90_000), &seed_ratios()).unwrap();
        assert_eq!(
            p,
            Plan {
                deals: 3,
                leads: 12,
                prospects: 240,
                cold_calls: 720,
                calls: 96,
                meetings: 12,
                proposals: 24,
            }
        );
    }

    #[test]
    fn every_step_rounds_up() {
        let mut r = seed_ratios();
        r.leads_per_deal = d("2.5");
        r.prospects_per_lead = d("7.3");
        // 100,000.01 / 30,000 → 4 deals; 10 leads; 73 prospects.
        let target = Money::new(10_000_001, Currency::parse("EUR").unwrap());
        let p = plan(&target, &r).unwrap();
        assert_eq!(
            (p.deals, p.leads, p.prospects, p.cold_calls),
            (4, 10, 73, 219)
        );
    }

    #[test]
    fn zero_ratios_and_deal_sizes_are_refused_with_the_field() {
        let mut r = seed_ratios();
        r.leads_per_deal = Decimal::ZERO;
        r.deal_size = eur(0);
        let e = plan(&eur(90_000), &r).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["deal_size", "leads_per_deal"]);
        let mut r = seed_ratios();
        r.meetings_per_lead = Decimal::ZERO;
        assert_eq!(
            plan(&eur(90_000), &r).unwrap().meetings,
            0,
            "no meetings is a plan"
        );
        r.deal_size = Money::new(100, Currency::parse("CHF").unwrap());
        assert!(plan(&eur(90_000), &r).is_err(), "currencies must match");
        assert!(plan(&eur(-5), &seed_ratios()).is_err());
    }

    #[test]
    fn splits_follow_capacity_and_keep_totals() {
        assert_eq!(split(720, &[d("1"), d("1"), d("1")]), [240, 240, 240]);
        assert_eq!(split(10, &[d("1"), d("1"), d("1")]), [4, 3, 3]);
        assert_eq!(split(96, &[d("1"), d("0.5")]), [64, 32]);
        assert_eq!(split(5, &[Decimal::ZERO, Decimal::ZERO]), [3, 2], "even");
        assert_eq!(split(7, &[]), Vec::<i64>::new());
    }

    proptest! {
        #[test]
        fn a_split_always_adds_up(total in 0i64..1_000_000, ws in proptest::collection::vec(0u32..1000, 1..40)) {
            let w: Vec<Decimal> = ws.iter().map(|x| Decimal::from(*x)).collect();
            let s = split(total, &w);
            prop_assert_eq!(s.iter().sum::<i64>(), total);
            prop_assert!(s.iter().all(|x| *x >= 0));
        }

        #[test]
        fn plans_grow_with_the_target(units in 1i64..10_000_000) {
            let a = plan(&eur(units), &seed_ratios()).unwrap();
            let b = plan(&eur(units + 30_000), &seed_ratios()).unwrap();
            prop_assert!(b.deals == a.deals + 1);
            prop_assert!(b.cold_calls >= a.cold_calls && b.proposals >= a.proposals);
        }
    }
}

//! The exchange-rate table: amounts in other currencies are shown, summed
//! and reported in the organisation's base currency at the rate valid on
//! the day that matters (METRICS.md).

use crate::permissions::{Action, Actor, Resource, require};
use crate::{App, AppError, Result};
use chrono::NaiveDate;
use salesops_domain::{Currency, Invalid, Money, Rate};
use salesops_store::{now, rates};
use std::str::FromStr;

/// The organisation's rates, ready to convert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateTable {
    pub base: Currency,
    /// (currency, valid from, rate), sorted by currency and date.
    pub rates: Vec<(Currency, NaiveDate, Rate)>,
}

impl RateTable {
    /// The amount in the base currency at the rate valid on `day`; `None`
    /// when there is no rate for it yet.
    pub fn to_base(&self, m: Money, day: NaiveDate) -> Option<Money> {
        match self.rate_on(m.currency, day)? {
            None => Some(m),
            Some(r) => r.convert(m),
        }
    }

    /// How amounts in `currency` convert on `day`: `Some(None)` for the
    /// base currency (as they are), `Some(Some(rate))` at the rate valid
    /// then, `None` without one. To convert many amounts of one day.
    pub fn rate_on(&self, currency: Currency, day: NaiveDate) -> Option<Option<Rate>> {
        if currency == self.base {
            return Some(None);
        }
        self.rates
            .iter()
            .filter(|(c, from, _)| *c == currency && *from <= day)
            .max_by_key(|(_, from, _)| *from)
            .map(|(_, _, r)| Some(*r))
    }

    /// The sum in the base currency; `None` if any amount has no rate.
    pub fn sum_to_base(&self, amounts: &[Money], day: NaiveDate) -> Option<Money> {
        let mut total = Money::new(0, self.base);
        for m in amounts {
            total = total.checked_add(&self.to_base(*m, day)?)?;
        }
        Some(total)
    }
}

impl App {
    pub async fn rate_table(&self, actor: &Actor) -> Result<RateTable> {
        require(actor, Resource::Settings, Action::Read, None)?;
        self.org_rate_table(actor.org_id).await
    }

    /// The rates of an organisation (no permission check: for the analytic
    /// index, which serves only checked requests).
    pub async fn org_rate_table(&self, org_id: salesops_domain::OrgId) -> Result<RateTable> {
        let org = self.org(org_id).await?;
        let base = Currency::parse(&org.base_currency).map_err(|e| AppError::Internal(e.0))?;
        let mut v = vec![];
        for r in rates::list(&mut self.conn(), org_id).await? {
            let (Ok(c), Ok(d)) = (
                Currency::parse(&r.currency),
                rust_decimal::Decimal::from_str(&r.rate),
            ) else {
                continue;
            };
            v.push((
                c,
                r.valid_from,
                Rate {
                    from: c,
                    to: base,
                    rate: d,
                },
            ));
        }
        Ok(RateTable { base, rates: v })
    }

    /// Sets the rate of `currency` from `valid_from` on (ops and admins).
    pub async fn set_rate(
        &self,
        actor: &Actor,
        currency: &str,
        valid_from: NaiveDate,
        rate: &str,
    ) -> Result<RateTable> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let base = self.rate_table(actor).await?.base;
        let mut errs = Invalid::default();
        let c = errs.check("currency", Currency::parse(currency));
        let r = c.and_then(|c| errs.check("rate", Rate::parse(rate, c, base)));
        errs.into_result()?;
        let (Some(c), Some(r)) = (c, r) else {
            unreachable!("parsed when no error was recorded")
        };
        rates::upsert(
            &mut self.conn(),
            actor.org_id,
            c.code(),
            valid_from,
            &r.rate.to_string(),
            now(),
        )
        .await?;
        self.rate_table(actor).await
    }

    pub async fn delete_rate(
        &self,
        actor: &Actor,
        currency: &str,
        valid_from: NaiveDate,
    ) -> Result<()> {
        require(actor, Resource::Settings, Action::Delete, None)?;
        match rates::delete(&mut self.conn(), actor.org_id, currency, valid_from).await? {
            0 => Err(AppError::NotFound),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_valid_on_the_day_is_used() {
        let eur = Currency::EUR;
        let chf = Currency::parse("CHF").unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let t = RateTable {
            base: eur,
            rates: vec![
                (chf, d("2026-01-01"), Rate::parse("1.05", chf, eur).unwrap()),
                (chf, d("2026-07-01"), Rate::parse("1.10", chf, eur).unwrap()),
            ],
        };
        let hundred = Money::parse("100", chf).unwrap();
        assert_eq!(t.to_base(hundred, d("2025-12-31")), None, "no rate yet");
        assert_eq!(
            t.to_base(hundred, d("2026-03-01")).unwrap().amount_string(),
            "105.00"
        );
        assert_eq!(
            t.to_base(hundred, d("2026-07-01")).unwrap().amount_string(),
            "110.00"
        );
        let euros = Money::parse("5.55", eur).unwrap();
        assert_eq!(
            t.sum_to_base(&[hundred, euros], d("2026-08-01"))
                .unwrap()
                .amount_string(),
            "115.55"
        );
        let usd = Money::parse("1", Currency::parse("USD").unwrap()).unwrap();
        assert_eq!(
            t.sum_to_base(&[usd, euros], d("2026-08-01")),
            None,
            "a currency without a rate cannot be summed"
        );
    }
}

//! Money: integer minor units and an ISO 4217 currency. Decimals appear only
//! at the edges (parsing input, printing output); there is no floating point.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::people::ParseError;

/// The largest amount accepted, in whole currency units (a hundred billion):
/// sums over many leads stay far inside 64-bit integers.
pub const MAX_WHOLE_UNITS: i64 = 100_000_000_000;

/// An ISO 4217 currency that has minor units (EUR, USD, JPY, CHF, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");

    pub fn parse(code: &str) -> Result<Currency, ParseError> {
        let c = code.trim();
        let err = || {
            ParseError(format!(
                "{c:?} is not an ISO 4217 currency code such as EUR"
            ))
        };
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(err());
        }
        let iso = iso_currency::Currency::from_code(c).ok_or_else(err)?;
        iso.exponent().ok_or_else(err)?;
        let b = c.as_bytes();
        Ok(Currency([b[0], b[1], b[2]]))
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII by construction")
    }

    /// Digits after the decimal point (2 for EUR, 0 for JPY, 3 for KWD).
    pub fn exponent(&self) -> u32 {
        // The usual ones without a look-up (reports format many amounts).
        if matches!(
            &self.0,
            b"EUR" | b"USD" | b"GBP" | b"CHF" | b"SEK" | b"NOK" | b"DKK" | b"PLN" | b"CZK"
        ) {
            return 2;
        }
        iso_currency::Currency::from_code(self.code())
            .and_then(|c| c.exponent())
            .map(u32::from)
            .unwrap_or(2)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

impl FromStr for Currency {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Currency::parse(s)
    }
}

impl TryFrom<String> for Currency {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Currency::parse(&s)
    }
}

/// An exact amount: `minor` units of `currency` (cents for EUR).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

/// Room for any amount [`Money::amount_str`] writes: 20 digits, a sign
/// and a point.
pub const AMOUNT_BUF: usize = 24;

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Parses a decimal amount ("30000", "30000.5", "-12.30"). More decimal
    /// places than the currency has, or an amount out of range, is an error.
    pub fn parse(amount: &str, currency: Currency) -> Result<Money, ParseError> {
        let t = amount.trim();
        let digits = t.strip_prefix('-').unwrap_or(t);
        let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
        let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !plain(int) || !plain(frac) {
            return Err(ParseError(format!(
                "{t:?} is not a decimal amount such as 1250.00"
            )));
        }
        let d = Decimal::from_str(t)
            .map_err(|_| ParseError(format!("{t:?} is not a decimal amount such as 1250.00")))?;
        Money::from_decimal(d, currency)
    }

    /// Parses an amount the way a reader of that language writes it:
    /// German "12.500,00" / "12500,5", English "12,500.00" / "12500.5".
    /// Grouping separators are accepted only in groups of three digits; a
    /// lone separator followed by one or two digits is the decimal point.
    /// Anything else (such as "1.2.3" or "12.50,00") is refused rather than
    /// guessed, so an amount is never stored a thousand times too small.
    pub fn parse_localized(
        amount: &str,
        currency: Currency,
        german: bool,
    ) -> Result<Money, ParseError> {
        let t = amount.trim();
        let (group, point) = if german { ('.', ',') } else { (',', '.') };
        let err = || {
            let example = if german { "12.500,00" } else { "12,500.00" };
            ParseError(format!("{t:?} is not an amount such as {example}"))
        };
        let (sign, body) = match t.strip_prefix('-') {
            Some(b) => ("-", b),
            None => ("", t),
        };
        let grouped = |int: &str| -> Option<String> {
            let parts: Vec<&str> = int.split(group).collect();
            let ok = parts.len() == 1
                || (!parts[0].is_empty()
                    && parts[0].len() <= 3
                    && parts[1..].iter().all(|p| p.len() == 3));
            ok.then(|| parts.concat())
        };
        let normal = match body.rsplit_once(point) {
            Some((int, frac)) => format!("{}.{frac}", grouped(int).ok_or_else(err)?),
            None => match body.split_once(group) {
                // One separator followed by one or two digits: a decimal point after all.
                Some((int, frac)) if !frac.contains(group) && (1..=2).contains(&frac.len()) => {
                    format!("{int}.{frac}")
                }
                Some(_) => grouped(body).ok_or_else(err)?,
                None => body.to_string(),
            },
        };
        Money::parse(&format!("{sign}{normal}"), currency).map_err(|_| err())
    }

    pub fn from_decimal(d: Decimal, currency: Currency) -> Result<Money, ParseError> {
        let exp = currency.exponent();
        if d.abs() > Decimal::from(MAX_WHOLE_UNITS) {
            return Err(ParseError(format!(
                "must be at most {MAX_WHOLE_UNITS} {}",
                currency.code()
            )));
        }
        let d = d.normalize();
        if d.scale() > exp {
            return Err(ParseError(format!(
                "{} allows at most {exp} decimal places",
                currency.code()
            )));
        }
        let scaled = d
            .checked_mul(Decimal::from(10i64.pow(exp)))
            .ok_or_else(|| ParseError("amount is too large".into()))?;
        let minor = i64::try_from(scaled).map_err(|_| ParseError("amount is too large".into()))?;
        Ok(Money { minor, currency })
    }

    pub fn to_decimal(&self) -> Decimal {
        Decimal::new(self.minor, self.currency.exponent())
    }

    /// The amount as a decimal string with the currency's decimal places ("30000.00").
    pub fn amount_string(&self) -> String {
        self.amount_str(&mut [0; AMOUNT_BUF]).to_owned()
    }

    /// [`Money::amount_string`] written into `buf`, for writing many
    /// amounts without allocating.
    pub fn amount_str<'b>(&self, buf: &'b mut [u8; AMOUNT_BUF]) -> &'b str {
        // What `to_decimal().to_string()` writes, without the decimal:
        // digits from the right, the point after `exponent` of them.
        let e = self.currency.exponent() as usize;
        let mut a = self.minor.unsigned_abs();
        let mut i = AMOUNT_BUF;
        let mut n = 0;
        while a > 0 || n <= e {
            if n == e && e > 0 {
                i -= 1;
                buf[i] = b'.';
            }
            i -= 1;
            buf[i] = b'0' + (a % 10) as u8;
            a /= 10;
            n += 1;
        }
        if self.minor < 0 {
            i -= 1;
            buf[i] = b'-';
        }
        std::str::from_utf8(&buf[i..]).unwrap_or("0")
    }

    /// The amount as people read it: German "12.500,00", English "12,500.00"
    /// (with `grouping`), or "12500,00" / "12500.00" for form fields.
    pub fn amount_localized(&self, german: bool, grouping: bool) -> String {
        let plain = self.amount_string();
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(d) => ("-", d),
            None => ("", plain.as_str()),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let (group, point) = if german { ('.', ',') } else { (',', '.') };
        let mut grouped = String::new();
        for (i, ch) in int.chars().enumerate() {
            if grouping && i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(group);
            }
            grouped.push(ch);
        }
        if frac.is_empty() {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped}{point}{frac}")
        }
    }

    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }

    pub fn checked_add(&self, other: &Money) -> Option<Money> {
        (self.currency == other.currency).then_some(())?;
        Some(Money {
            minor: self.minor.checked_add(other.minor)?,
            currency: self.currency,
        })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_string(), self.currency)
    }
}

/// An exchange rate: `rate` units of the base currency buy one unit of `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub from: Currency,
    pub to: Currency,
    pub rate: Decimal,
}

impl Rate {
    /// Parses a rate as ops type it ("0.9375" or "0,9375"): positive, at most 10 decimal places.
    pub fn parse(text: &str, from: Currency, to: Currency) -> Result<Rate, ParseError> {
        let t = text.trim().replace(',', ".");
        let plain = !t.is_empty()
            && t.chars().all(|c| c.is_ascii_digit() || c == '.')
            && t.matches('.').count() <= 1;
        let rate = if plain {
            Decimal::from_str(&t).ok()
        } else {
            None
        }
        .ok_or_else(|| ParseError(format!("{text:?} is not a rate such as 0.9375")))?;
        if rate <= Decimal::ZERO {
            return Err(ParseError("must be greater than zero".into()));
        }
        if rate > Decimal::from(1_000_000) {
            return Err(ParseError("must be at most 1000000".into()));
        }
        if rate.normalize().scale() > 10 {
            return Err(ParseError("must have at most 10 decimal places".into()));
        }
        if from == to {
            return Err(ParseError(format!("{} is the base currency", from.code())));
        }
        Ok(Rate {
            from,
            to,
            rate: rate.normalize(),
        })
    }

    /// Converts an amount, rounding half away from zero to the target's minor unit.
    pub fn convert(&self, m: Money) -> Option<Money> {
        if m.currency != self.from {
            return None;
        }
        let v = m
            .to_decimal()
            .checked_mul(self.rate)?
            .round_dp_with_strategy(
                self.to.exponent(),
                rust_decimal::RoundingStrategy::MidpointAwayFromZero,
            );
        Money::from_decimal(v, self.to).ok()
    }
}

/// The JSON form: `{"amount": "30000.00", "currency": "EUR"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyJson {
    pub amount: String,
    pub currency: String,
}

impl From<Money> for MoneyJson {
    fn from(m: Money) -> Self {
        MoneyJson {
            amount: m.amount_string(),
            currency: m.currency.code().to_string(),
        }
    }
}

impl MoneyJson {
    pub fn parse(&self) -> Result<Money, ParseError> {
        let c = Currency::parse(&self.currency)?;
        Money::parse(&self.amount, c)
    }
}

#[cfg(test)]
mod tests {

    proptest::proptest! {
        #[test]
        fn amount_strings_are_what_the_decimal_writes(minor in proptest::prelude::any::<i64>(), code in proptest::sample::select(vec!["EUR", "JPY", "KWD", "CHF", "USD"])) {
            let m = Money::new(minor, Currency::parse(code).unwrap());
            proptest::prop_assert_eq!(m.amount_string(), m.to_decimal().to_string());
            proptest::prop_assert_eq!(m.currency.exponent(), iso_currency::Currency::from_code(code).unwrap().exponent().unwrap() as u32);
        }
    }
    use super::*;
    use proptest::prelude::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn currencies_are_iso_codes_with_their_exponents() {
        assert_eq!(Currency::parse("EUR").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().exponent(), 3);
        for bad in ["eur", "EURO", "XYZ", "", "XAU"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(Money::parse("30000", eur()).unwrap().minor, 3_000_000);
        assert_eq!(Money::parse("30000.5", eur()).unwrap().minor, 3_000_050);
        assert_eq!(Money::parse("0.10", eur()).unwrap().minor, 10);
        assert_eq!(Money::parse("-12.30", eur()).unwrap().minor, -1230);
        assert_eq!(
            Money::parse("1.50", Currency::parse("JPY").unwrap())
                .unwrap_err()
                .0,
            "JPY allows at most 0 decimal places"
        );
        assert!(Money::parse("1.005", eur()).is_err());
        assert!(Money::parse("1e3", eur()).is_err());
        assert!(Money::parse("abc", eur()).is_err());
        assert!(Money::parse("99999999999999999999", eur()).is_err());
        assert_eq!(
            Money::parse_localized("30.000,50", eur(), true)
                .unwrap()
                .minor,
            3_000_050
        );
        assert_eq!(
            Money::parse_localized("1250,5", eur(), true).unwrap().minor,
            125_050
        );
        assert_eq!(
            Money::parse_localized("1250.5", eur(), false)
                .unwrap()
                .minor,
            125_050
        );
    }

    #[test]
    fn amounts_print_with_the_currencys_places() {
        let m = Money::new(3_000_000, eur());
        assert_eq!(m.amount_string(), "30000.00");
        assert_eq!(m.to_string(), "30000.00 EUR");
        assert_eq!(Money::new(-5, eur()).amount_string(), "-0.05");
        let j: MoneyJson = m.into();
        assert_eq!(
            serde_json::to_string(&j).unwrap(),
            r#"{"amount":"30000.00","currency":"EUR"}"#
        );
        assert_eq!(j.parse().unwrap(), m);
        assert!(
            Money::new(1, eur())
                .checked_add(&Money::new(1, Currency::parse("USD").unwrap()))
                .is_none()
        );
    }

    #[test]
    fn amounts_are_read_the_way_each_language_writes_them() {
        let p = |s: &str, german: bool| {
            Money::parse_localized(s, eur(), german).map(|m| m.amount_string())
        };
        // German
        assert_eq!(
            p("25.000", true).unwrap(),
            "25000.00",
            "a thousands dot, not a decimal point"
        );
        assert_eq!(p("25.000,00", true).unwrap(), "25000.00");
        assert_eq!(p("1.250.000,5", true).unwrap(), "1250000.50");
        assert_eq!(p("12,5", true).unwrap(), "12.50");
        assert_eq!(
            p("12.50", true).unwrap(),
            "12.50",
            "a lone dot before two digits is a decimal point"
        );
        assert_eq!(p("-1.000", true).unwrap(), "-1000.00");
        // English
        assert_eq!(p("12,500.00", false).unwrap(), "12500.00");
        assert_eq!(p("12,500", false).unwrap(), "12500.00");
        assert_eq!(p("12500.5", false).unwrap(), "12500.50");
        assert_eq!(p("12,5", false).unwrap(), "12.50");
        // Never guessed
        for (bad, german) in [
            ("1.2.3", true),
            ("12.50,00", false),
            ("1.25.000", true),
            ("12,500.00", true),
            (",5", true),
            ("1..0", true),
            ("abc", false),
        ] {
            assert!(p(bad, german).is_err(), "{bad:?} (german: {german})");
        }
    }

    #[test]
    fn amounts_are_written_the_way_each_language_reads_them() {
        let m = Money::new(125_000_050, eur());
        assert_eq!(m.amount_localized(true, true), "1.250.000,50");
        assert_eq!(m.amount_localized(false, true), "1,250,000.50");
        assert_eq!(m.amount_localized(true, false), "1250000,50");
        assert_eq!(Money::new(-99, eur()).amount_localized(true, true), "-0,99");
        let yen = Money::new(1234567, Currency::parse("JPY").unwrap());
        assert_eq!(yen.amount_localized(true, true), "1.234.567");
        // What a German form shows, it reads back.
        assert_eq!(
            Money::parse_localized(&m.amount_localized(true, false), eur(), true).unwrap(),
            m
        );
        assert_eq!(
            Money::parse_localized(&m.amount_localized(true, true), eur(), true).unwrap(),
            m
        );
    }

    #[test]
    fn rates_convert_exactly_and_round_half_away_from_zero() {
        let chf = Currency::parse("CHF").unwrap();
        let r = Rate::parse("1,0625", chf, eur()).unwrap();
        assert_eq!(
            r.convert(Money::parse("100.00", chf).unwrap())
                .unwrap()
                .amount_string(),
            "106.25"
        );
        // 0.10 CHF × 1.0625 = 0.10625 EUR → 0.11 EUR
        assert_eq!(
            r.convert(Money::parse("0.10", chf).unwrap())
                .unwrap()
                .amount_string(),
            "0.11"
        );
        assert!(
            r.convert(Money::parse("1", eur()).unwrap()).is_none(),
            "only from its own currency"
        );
        let jpy = Currency::parse("JPY").unwrap();
        let r = Rate::parse("0.0061", jpy, eur()).unwrap();
        assert_eq!(
            r.convert(Money::parse("1000000", jpy).unwrap())
                .unwrap()
                .amount_string(),
            "6100.00"
        );
        for bad in ["0", "-1", "abc", "1e3", "0.00000000001", "", "99999999"] {
            assert!(Rate::parse(bad, chf, eur()).is_err(), "{bad:?}");
        }
        assert!(Rate::parse("1", eur(), eur()).is_err(), "no rate to itself");
    }

    proptest! {
        #[test]
        fn a_rate_of_one_between_equal_exponents_keeps_the_amount(minor in -10_i64.pow(12)..10_i64.pow(12)) {
            let usd = Currency::parse("USD").unwrap();
            let r = Rate::parse("1", usd, Currency::EUR).unwrap();
            prop_assert_eq!(r.convert(Money::new(minor, usd)).unwrap().minor, minor);
        }
    }

    proptest! {
        #[test]
        fn printing_and_parsing_round_trip(
            // Within the cap for every currency here (JPY has no minor unit).
            minor in -MAX_WHOLE_UNITS..MAX_WHOLE_UNITS, code in prop::sample::select(vec!["EUR", "JPY", "KWD", "USD", "CHF"])) {
            let m = Money::new(minor, Currency::parse(code).unwrap());
            prop_assert_eq!(Money::parse(&m.amount_string(), m.currency).unwrap(), m);
        }
    }
}

//! The salesops domain: identifiers, roles, team segments, locales and the
//! value types every other crate parses once and then trusts. No I/O here.

pub mod goals;
pub mod ids;
pub mod metrics;
pub mod money;
pub mod people;
pub mod periods;
pub mod planner;
pub mod validation;

pub use ids::*;
pub use money::{Currency, Money, MoneyJson, Rate};
pub use people::*;
pub use validation::{FieldError, Invalid};

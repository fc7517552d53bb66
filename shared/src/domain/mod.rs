//! Domain types every contract version shares: money, currencies, ids, quantities, rates.
//!
//! Every type here is parsed once, at the edge, by a constructor that rejects bad input with a
//! [`ParseError`]; after that the value is known to be valid and no code checks it again.
//! Amounts are integers in a currency's minor unit (cents for EUR), never floating point, and
//! every arithmetic operation is checked: overflow is an [`ArithmeticError`], never a wrap.

mod error;
mod ids;
mod money;
mod quantity;

pub use error::{ArithmeticError, InvoiceError, ParseError};
pub(crate) use ids::check;
pub use ids::{CustomerId, Description, IdempotencyKey, InvoiceId};
pub use money::{Amount, Currency, Money, MoneyError};
pub use quantity::{Discount, Quantity, Rate};

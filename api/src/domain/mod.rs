//! Newtypes that parse input once, at the edge, so the rest of the code can trust them.

mod area_code;
mod phone;

pub use area_code::{AreaCode, AreaCodeError, AreaCodePrefix};
pub use phone::{Phone, PhoneError};

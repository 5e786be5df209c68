//! Newtypes that parse input once, at the edge, so the rest of the code can trust them.

mod area_code;
pub mod county_time;
mod id_number;
mod phone;
pub mod region;
pub mod text;

pub use area_code::{AreaCode, AreaCodeError, AreaCodePrefix};
pub use id_number::{IdNumber, IdNumberError, Sex};
pub use phone::{Phone, PhoneError};

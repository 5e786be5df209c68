//! The contract between shanhuo and its mobile clients, as committed files:
//!
//! - `openapi.json`: the OpenAPI document the server generates;
//! - `error-codes.json`: every error code the server can answer with, its HTTP status and its
//!   Chinese and English messages.
//!
//! The tests in `tests/` fail when the server and these files drift apart; regenerate both with
//! `UPDATE_CONTRACT=1 cargo test -p mobile-contract` and review the diff.

use serde::{Deserialize, Serialize};

/// The committed OpenAPI document.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// The committed error-code catalogue, as JSON.
pub const ERROR_CODES_JSON: &str = include_str!("../error-codes.json");

/// One entry of the error-code catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCodeEntry {
    /// Stable dotted code, e.g. `area.not_found`.
    pub code: String,
    /// HTTP status the code is answered with.
    pub status: u16,
    pub message_zh: String,
    pub message_en: String,
}

/// The committed catalogue, parsed.
pub fn error_catalogue() -> Vec<ErrorCodeEntry> {
    serde_json::from_str(ERROR_CODES_JSON).expect("error-codes.json is a list of entries")
}

/// The catalogue entry for a code, if the code is catalogued.
pub fn catalogued(code: &str) -> Option<ErrorCodeEntry> {
    error_catalogue().into_iter().find(|e| e.code == code)
}

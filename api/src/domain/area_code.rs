//! National administrative division codes (统计用区划代码), 12 digits:
//! `PPCCDD` county, then `TTT` township, then `VVV` village.
//! A county is `xxxxxx000000`, a township `xxxxxxxxx000`, anything else a village.

use std::fmt;

use entities::area::AreaLevel;

/// A full 12-digit area code. Shorter forms of a county (6 digits) or township (9 digits) are
/// accepted and padded with zeros, so `500235` and `500235000000` name the same county.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AreaCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaCodeError {
    #[error("an area code has only digits")]
    NotDigits,
    #[error("an area code has 6, 9 or 12 digits")]
    WrongLength,
    /// Province codes run from 11 to 82: no area code starts with 0.
    #[error("an area code starts with its province's digits, never with 0")]
    Zero,
}

impl AreaCode {
    pub fn parse(input: &str) -> Result<Self, AreaCodeError> {
        let input = input.trim();
        if !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AreaCodeError::NotDigits);
        }
        let padded = match input.len() {
            6 => format!("{input}000000"),
            9 => format!("{input}000"),
            12 => input.to_owned(),
            _ => return Err(AreaCodeError::WrongLength),
        };
        if padded.starts_with('0') {
            return Err(AreaCodeError::Zero);
        }
        Ok(Self(padded))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level the code's shape implies.
    pub fn level(&self) -> AreaLevel {
        if self.0[6..] == *"000000" {
            AreaLevel::County
        } else if self.0[9..] == *"000" {
            AreaLevel::Township
        } else {
            AreaLevel::Village
        }
    }

    /// The digits every area below this one shares: 6 for a county, 9 for a township, all 12 for
    /// a village.
    pub fn descendant_prefix(&self) -> &str {
        match self.level() {
            AreaLevel::County => &self.0[..6],
            AreaLevel::Township => &self.0[..9],
            AreaLevel::Village => &self.0,
        }
    }

    /// The area directly above, by the shape of the code; a county has none in this tree.
    pub fn parent(&self) -> Option<AreaCode> {
        match self.level() {
            AreaLevel::County => None,
            AreaLevel::Township => Some(Self(format!("{}000000", &self.0[..6]))),
            AreaLevel::Village => Some(Self(format!("{}000", &self.0[..9]))),
        }
    }

    /// The county this area lies in.
    pub fn county(&self) -> AreaCode {
        Self(format!("{}000000", &self.0[..6]))
    }

    /// Whether `other` lies strictly below this area.
    pub fn contains(&self, other: &AreaCode) -> bool {
        self != other && other.0.starts_with(self.descendant_prefix())
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The leading digits of area codes, for "everything under" searches: 1 to 12 digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaCodePrefix(String);

impl AreaCodePrefix {
    pub fn parse(input: &str) -> Result<Self, AreaCodeError> {
        let input = input.trim();
        if input.is_empty() || input.len() > 12 {
            return Err(AreaCodeError::WrongLength);
        }
        if !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AreaCodeError::NotDigits);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_and_nine_digit_forms_name_the_same_area_as_twelve() {
        assert_eq!(AreaCode::parse("500235").unwrap().as_str(), "500235000000");
        assert_eq!(
            AreaCode::parse("500235101").unwrap().as_str(),
            "500235101000"
        );
        assert_eq!(
            AreaCode::parse("500235101201").unwrap().as_str(),
            "500235101201"
        );
    }

    #[test]
    fn the_shape_of_a_code_gives_its_level_and_parent() {
        let county = AreaCode::parse("500235000000").unwrap();
        let township = AreaCode::parse("500235101000").unwrap();
        let village = AreaCode::parse("500235101201").unwrap();
        assert_eq!(county.level(), AreaLevel::County);
        assert_eq!(township.level(), AreaLevel::Township);
        assert_eq!(village.level(), AreaLevel::Village);
        assert_eq!(county.parent(), None);
        assert_eq!(township.parent(), Some(county.clone()));
        assert_eq!(village.parent(), Some(township.clone()));
        assert_eq!(village.county(), county);
        assert!(county.contains(&village));
        assert!(township.contains(&village));
        assert!(!village.contains(&village));
        assert!(!township.contains(&AreaCode::parse("500235102201").unwrap()));
    }

    #[test]
    fn malformed_codes_are_refused_with_the_reason() {
        assert_eq!(AreaCode::parse("50023"), Err(AreaCodeError::WrongLength));
        assert_eq!(
            AreaCode::parse("5002350000000"),
            Err(AreaCodeError::WrongLength)
        );
        assert_eq!(AreaCode::parse("50023x"), Err(AreaCodeError::NotDigits));
        assert_eq!(
            AreaCode::parse("５００２３５"),
            Err(AreaCodeError::NotDigits)
        );
        assert_eq!(AreaCode::parse("000000"), Err(AreaCodeError::Zero));
        assert_eq!(AreaCode::parse("050023"), Err(AreaCodeError::Zero));
        assert_eq!(AreaCodePrefix::parse(""), Err(AreaCodeError::WrongLength));
        assert!(AreaCodePrefix::parse("5002351").is_ok());
    }
}

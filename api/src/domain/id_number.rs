//! National resident ID numbers (居民身份证号码, GB 11643-1999): 18 characters — a 6-digit region
//! code, the birth date `YYYYMMDD`, a 3-digit sequence (odd for men, even for women) and an
//! ISO 7064 MOD 11-2 check character (`0`–`9` or `X`).
//!
//! These are personal data: `Debug` and `masked()` never show the middle digits.

use std::fmt;

use chrono::{Datelike, NaiveDate, Utc};

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("an ID number has 18 characters")]
    Length,
    #[error("an ID number has 17 digits and ends with a digit or X")]
    Characters,
    #[error("the ID number's region code names no province")]
    Region,
    #[error("the ID number's birth date is not a real past date")]
    BirthDate,
    #[error("the ID number's check digit does not match; a digit is probably mistyped")]
    CheckDigit,
}

/// Weights of positions 1–17: 2^(17-i) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Province-level codes (GB/T 2260), the first two digits of every region code.
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

impl IdNumber {
    /// Reads an ID number as typed: NFKC first, so full-width digits and `Ｘ` count as what they
    /// look like; an invisible or control character makes it wrong.
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let normalized = crate::domain::text::identifier(input)
            .map_err(|_| IdNumberError::Characters)?
            .trim()
            .to_ascii_uppercase();
        let bytes = normalized.as_bytes();
        if bytes.len() != 18 || normalized.chars().count() != 18 {
            return Err(IdNumberError::Length);
        }
        let body_is_digits = bytes[..17].iter().all(u8::is_ascii_digit);
        let last_ok = bytes[17].is_ascii_digit() || bytes[17] == b'X';
        if !body_is_digits || !last_ok {
            return Err(IdNumberError::Characters);
        }
        let province = (bytes[0] - b'0') * 10 + (bytes[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(IdNumberError::Region);
        }
        let birth = NaiveDate::parse_from_str(&normalized[6..14], "%Y%m%d")
            .map_err(|_| IdNumberError::BirthDate)?;
        if birth.year() < 1900 || birth > Utc::now().date_naive() {
            return Err(IdNumberError::BirthDate);
        }
        if check_char(&bytes[..17]) != bytes[17] {
            return Err(IdNumberError::CheckDigit);
        }
        Ok(Self(normalized))
    }

    /// Builds the full number from its first 17 digits, adding the check character. For
    /// synthetic demo data and tests.
    pub fn from_body(body: &str) -> Result<Self, IdNumberError> {
        if body.len() != 17 || !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdNumberError::Characters);
        }
        let check = check_char(body.as_bytes()) as char;
        Self::parse(&format!("{body}{check}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked when parsed")
    }

    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// `500235********123X`: region and last four only.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

fn check_char(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The example number published with GB 11643.
    const STANDARD_EXAMPLE: &str = "11010519491231002X";

    #[test]
    fn the_standards_example_parses_with_its_facts() {
        let id = IdNumber::parse(STANDARD_EXAMPLE).unwrap();
        assert_eq!(id.region_code(), "110105");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(110105********002X)");
        assert_eq!(
            IdNumber::parse("11010519491231002x").unwrap(),
            id,
            "lower-case x"
        );
    }

    #[test]
    fn each_kind_of_bad_number_is_named() {
        assert_eq!(
            IdNumber::parse("1101051949123100"),
            Err(IdNumberError::Length)
        );
        assert_eq!(
            IdNumber::parse("11010519491231002Y"),
            Err(IdNumberError::Characters)
        );
        assert_eq!(
            IdNumber::parse("99010519491231002X"),
            Err(IdNumberError::Region)
        );
        assert_eq!(
            IdNumber::parse("110105194913310023"),
            Err(IdNumberError::BirthDate)
        );
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::CheckDigit)
        );
        let future = IdNumber::from_body("50023529991231001");
        assert_eq!(future, Err(IdNumberError::BirthDate));
    }

    #[test]
    fn full_width_characters_count_as_what_they_look_like() {
        assert_eq!(
            IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ").unwrap(),
            IdNumber::parse(STANDARD_EXAMPLE).unwrap()
        );
        assert_eq!(
            IdNumber::parse("11010519491231002\u{200b}X"),
            Err(IdNumberError::Characters)
        );
    }

    fn valid_body() -> impl Strategy<Value = String> {
        (
            prop::sample::select(PROVINCES.to_vec()),
            0u32..10_000,
            1900i32..2020,
            1u32..=12,
            1u32..=28,
            0u32..1000,
        )
            .prop_map(|(province, county, year, month, day, seq)| {
                format!("{province:02}{county:04}{year:04}{month:02}{day:02}{seq:03}")
            })
    }

    proptest! {
        #[test]
        fn every_number_built_with_its_check_digit_parses(body in valid_body()) {
            let id = IdNumber::from_body(&body).unwrap();
            prop_assert_eq!(&id.as_str()[..17], body.as_str());
            prop_assert_eq!(IdNumber::parse(id.as_str()).unwrap(), id.clone());
            let sequence_odd = (body.as_bytes()[16] - b'0') % 2 == 1;
            prop_assert_eq!(id.sex() == Sex::Male, sequence_odd);
        }

        #[test]
        fn any_single_mistyped_digit_is_caught(body in valid_body(), position in 0usize..17, delta in 1u8..10) {
            let id = IdNumber::from_body(&body).unwrap();
            let mut bytes = id.as_str().as_bytes().to_vec();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            let typo = String::from_utf8(bytes).unwrap();
            prop_assert!(IdNumber::parse(&typo).is_err(), "{} accepted", typo);
        }

        #[test]
        fn swapping_two_neighbouring_digits_is_caught(body in valid_body(), position in 0usize..16) {
            let id = IdNumber::from_body(&body).unwrap();
            let mut bytes = id.as_str().as_bytes().to_vec();
            prop_assume!(bytes[position] != bytes[position + 1]);
            bytes.swap(position, position + 1);
            let swapped = String::from_utf8(bytes).unwrap();
            prop_assert!(IdNumber::parse(&swapped).is_err(), "{} accepted", swapped);
        }
    }
}

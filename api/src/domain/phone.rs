//! Mainland China mobile numbers: 11 digits starting 1[3-9]. People type them with spaces,
//! dashes or a +86 prefix; all of those parse to the same number.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a mobile number has 11 digits and starts with 13 to 19")]
pub struct PhoneError;

impl Phone {
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let digits: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .or_else(|| {
                (digits.len() == 13)
                    .then(|| digits.strip_prefix("86"))
                    .flatten()
            })
            .unwrap_or(&digits);
        let bytes = digits.as_bytes();
        let valid = bytes.len() == 11
            && bytes.iter().all(u8::is_ascii_digit)
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1]);
        if valid {
            Ok(Self(digits.to_owned()))
        } else {
            Err(PhoneError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`, for logs and for people other than the owner.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

/// Debug output masks the number, so a stray `{:?}` cannot put it in a log.
impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_ways_of_writing_a_number_parse_to_eleven_digits() {
        for input in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "8613812345678",
            "008613812345678",
        ] {
            assert_eq!(
                Phone::parse(input).unwrap().as_str(),
                "13812345678",
                "{input}"
            );
        }
    }

    #[test]
    fn numbers_that_cannot_be_mainland_mobiles_are_refused() {
        for input in [
            "",
            "1381234567",
            "138123456789",
            "12812345678",
            "23812345678",
            "1381234567x",
            "+1 415 555 0100",
        ] {
            assert_eq!(Phone::parse(input), Err(PhoneError), "{input}");
        }
    }

    #[test]
    fn debug_output_masks_the_middle_digits() {
        let phone = Phone::parse("13812345678").unwrap();
        assert_eq!(phone.masked(), "138****5678");
        assert_eq!(format!("{phone:?}"), "Phone(138****5678)");
    }
}

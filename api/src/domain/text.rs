//! Text as it crosses the edge. Identifiers (household and ID numbers, phones, codes) are
//! NFKC-normalised, so full-width digits are digits, and may not carry invisible or control
//! characters. Free text (titles, names, addresses, descriptions) keeps its characters (NFC),
//! loses format characters, which are invisible (zero-width spaces, direction overrides), and
//! may not carry control characters other than line breaks and tabs.

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

/// Whether the character is invisible or controls the text rather than being part of it.
pub fn is_invisible(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::Surrogate
    )
}

/// An identifier as it is compared and stored: NFKC, so `５００２３５` is `500235`; refused
/// when it carries an invisible or control character.
pub fn identifier(text: &str) -> Result<String, &'static str> {
    let normal: String = text.nfkc().collect();
    if normal.chars().any(is_invisible) {
        return Err("an identifier may not contain invisible or control characters");
    }
    Ok(normal)
}

/// Free text as it is stored: NFC, format characters removed; refused when it carries control
/// characters other than line breaks and tabs.
pub fn free_text(text: &str) -> Result<String, &'static str> {
    let mut clean = String::with_capacity(text.len());
    for c in text.nfc() {
        match get_general_category(c) {
            GeneralCategory::Format => {}
            GeneralCategory::Control if matches!(c, '\n' | '\r' | '\t') => clean.push(c),
            GeneralCategory::Control
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::Surrogate => {
                return Err("text may not contain control characters");
            }
            _ => clean.push(c),
        }
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_are_digits_in_identifiers_and_kept_in_text() {
        assert_eq!(identifier("５００２３５").unwrap(), "500235");
        assert!(identifier("5002351032129999\u{200b}").is_err());
        assert!(identifier("\u{202d}5002351032129999").is_err());
        assert_eq!(free_text("红苕粉\u{200b}，十元").unwrap(), "红苕粉，十元");
        assert_eq!(free_text("第一行\n第二行").unwrap(), "第一行\n第二行");
        assert!(free_text("红苕粉\u{0}").is_err());
    }
}

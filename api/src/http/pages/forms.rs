//! Reading the pages' forms the way people fill them in on a phone: full-width digits, a `¥`
//! or `元` typed with a price, a photo straight from the camera. The unit select the forms
//! share is the `unit_select` macro of `templates/partials/units.html`.

use std::collections::HashMap;

use entities::listing::Unit;
use poem::{FromRequest, Request, RequestBody, web::Multipart};

use super::{error::PageError, session::form_is_ours};

/// A submitted form: its text fields and, if one was chosen, its file.
#[derive(Debug, Default)]
pub struct Submitted {
    fields: HashMap<String, String>,
    pub file: Option<SubmittedFile>,
}

#[derive(Debug)]
pub struct SubmittedFile {
    pub bytes: Vec<u8>,
    pub declared: crate::infra::imaging::Declared,
}

impl Submitted {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// A field as typed, or empty.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Reads a `multipart/form-data` form whose one file field is `file_field`. A file input
    /// left empty arrives as a part without bytes, which counts as no file.
    pub async fn read(mut multipart: Multipart, file_field: &str) -> Result<Self, FormError> {
        let mut form = Submitted::default();
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|_| FormError::Unreadable)?
        {
            let Some(name) = field.name().map(str::to_owned) else {
                continue;
            };
            if name == file_field {
                let declared =
                    crate::infra::imaging::declared_format(field.content_type(), field.file_name());
                let bytes = field.bytes().await.map_err(|_| FormError::Unreadable)?;
                if !bytes.is_empty() {
                    form.file = Some(SubmittedFile { bytes, declared });
                }
            } else {
                let value = field.text().await.map_err(|_| FormError::Unreadable)?;
                form.fields.insert(name, value);
            }
        }
        Ok(form)
    }
}

/// The file field of the pages' uploads: a photo from the phone's camera.
pub const PHOTO_FIELD: &str = "photo";

/// A posted `multipart/form-data` form from one of our pages of this sign-in, its file in its
/// [`PHOTO_FIELD`]: read whole, and its token and origin checked before the handler runs. A
/// form that did not arrive whole, or does not pass the checks, changes nothing.
pub struct PageUpload(pub Submitted);

impl<'a> FromRequest<'a> for PageUpload {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let multipart = Multipart::from_request(req, body)
            .await
            .map_err(|_| PageError::BadForm)?;
        let form = Submitted::read(multipart, PHOTO_FIELD)
            .await
            .map_err(|_| PageError::BadForm)?;
        if !form_is_ours(req, form.get("csrf"))? {
            return Err(PageError::Forged.into());
        }
        Ok(Self(form))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("the form could not be read")]
    Unreadable,
}

/// Full-width digits and punctuation as their ASCII forms.
fn half_width(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        '．' | '。' => '.',
        '，' => ',',
        c => c,
    }
}

/// A price in yuan as typed (`12.5`, `¥12.50`, `１２元`) in fen; `None` if it is not one.
pub fn parse_yuan(typed: &str) -> Option<i64> {
    let cleaned: String = typed
        .chars()
        .map(half_width)
        .filter(|c| !matches!(c, '¥' | '￥' | '元' | ',' | ' ' | '\u{3000}'))
        .collect();
    let (whole, fraction) = match cleaned.split_once('.') {
        Some((w, f)) => (w, f),
        None => (cleaned.as_str(), ""),
    };
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 2
        || whole.len() > 9
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fen: i64 = format!("{fraction:0<2}").parse().ok()?;
    Some(whole * 100 + fen)
}

/// A whole number as typed (`1,000`, `１０００`); `None` if it is not one.
pub fn parse_count(typed: &str) -> Option<i64> {
    let cleaned: String = typed
        .chars()
        .map(half_width)
        .filter(|c| !matches!(c, ',' | ' ' | '\u{3000}'))
        .collect();
    if cleaned.is_empty() || cleaned.len() > 12 || !cleaned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    cleaned.parse().ok()
}

/// The units goods are sold by, as forms spell them, in the order a unit select offers them.
pub const UNITS: [(Unit, &str); 4] = [
    (Unit::Jin, "jin"),
    (Unit::Kg, "kg"),
    (Unit::Piece, "piece"),
    (Unit::Box, "box"),
];

/// The unit a form's field names; none for the usual one (or anything else).
pub fn unit_of(value: &str) -> Option<Unit> {
    UNITS.iter().find(|(_, v)| *v == value).map(|(u, _)| *u)
}

/// Yuan for a form field: `12.5` for 1250 fen.
pub fn yuan(fen: i64) -> String {
    if fen % 100 == 0 {
        (fen / 100).to_string()
    } else {
        format!("{}.{:02}", fen / 100, fen % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_read_as_typed() {
        assert_eq!(parse_yuan("12"), Some(1200));
        assert_eq!(parse_yuan("12.5"), Some(1250));
        assert_eq!(parse_yuan("¥12.05"), Some(1205));
        assert_eq!(parse_yuan("１２．５元"), Some(1250));
        assert_eq!(parse_yuan(" 1,200 "), Some(120_000));
        assert_eq!(parse_yuan(".5"), Some(50));
        assert_eq!(parse_yuan("12.345"), None);
        assert_eq!(parse_yuan("abc"), None);
        assert_eq!(parse_yuan(""), None);
        assert_eq!(parse_yuan("-3"), None);
        assert_eq!(parse_yuan("9999999999"), None);
    }

    #[test]
    fn counts_are_read_as_typed() {
        assert_eq!(parse_count("1,000"), Some(1000));
        assert_eq!(parse_count("１０"), Some(10));
        assert_eq!(parse_count("1.5"), None);
        assert_eq!(parse_count(""), None);
    }

    #[test]
    fn yuan_round_trips() {
        assert_eq!(yuan(1200), "12");
        assert_eq!(yuan(1250), "12.50");
        assert_eq!(parse_yuan(&yuan(1205)), Some(1205));
    }
}

//! Reading the pages' forms the way people fill them in on a phone: full-width digits, a `¥`
//! or `元` typed with a price, a photo straight from the camera. The unit select the forms
//! share is the `unit_select` macro of `templates/partials/units.html`.

use std::collections::HashMap;

use entities::listing::Unit;
use poem::{FromRequest, Request, RequestBody, http::StatusCode, web::Multipart};

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

/// A new key for a form that creates something, sent back in its hidden `key` field: the
/// same form sent twice (a double tap, a retry on a slow network, the phone's queue sending it
/// when the signal returns) creates once.
pub fn fresh_key() -> String {
    use rand::RngCore;
    let mut key = [0u8; 12];
    rand::rng().fill_bytes(&mut key);
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// What was wrong with a refused form, and the field it concerns (empty: the form as a whole),
/// so the page says it beside that field.
#[derive(Clone, Debug, Default)]
pub struct Problem {
    message: Option<String>,
    field: &'static str,
}

impl Problem {
    /// No problem: a fresh form.
    pub fn none() -> Self {
        Self::default()
    }

    /// A refusal of a form with `fields`: the field its reason concerns, if the form has it.
    /// Anything else is no refusal, and stays what it was.
    pub fn of(
        refused: PageError,
        fields: &[&'static str],
    ) -> Result<(Self, StatusCode), PageError> {
        let PageError::Refused {
            message,
            status,
            code,
        } = refused
        else {
            return Err(refused);
        };
        let field = field_of(code);
        // A form whose two reasons are told apart (`recall_reason`) takes a reason's field too.
        let field = fields
            .iter()
            .copied()
            .find(|f| {
                *f == field
                    || f.strip_suffix(field)
                        .is_some_and(|prefix| prefix.ends_with('_'))
            })
            .unwrap_or("");
        Ok((
            Self {
                message: Some(message),
                field,
            },
            status,
        ))
    }

    /// The problem if it concerns the form as a whole (said above it).
    pub fn overall(&self) -> Option<&str> {
        self.message.as_deref().filter(|_| self.field.is_empty())
    }

    /// The problem if it concerns `field` (said beside it).
    pub fn at(&self, field: &str) -> Option<&str> {
        self.message.as_deref().filter(|_| self.field == field)
    }

    pub fn is_some(&self) -> bool {
        self.message.is_some()
    }
}

/// A form as its page shows it: fresh, or refused with what was typed and why.
#[derive(Debug, Default)]
pub struct Kept<T> {
    pub problem: Problem,
    pub typed: T,
}

impl<T: Default> Kept<T> {
    /// A form not sent yet: empty, or as its page fills it in.
    pub fn fresh() -> Self {
        Self::default()
    }

    /// A refused form: what was typed, and why it was refused.
    pub fn refused(problem: Problem, typed: T) -> Self {
        Self { problem, typed }
    }
}

/// A refused form of one item of a list — an order's step, an exit case's step, an answer to a
/// buyer's report: which item, what was typed and why, so the page says the reason beside the
/// field in that item's own form and keeps what was typed there.
#[derive(Clone, Debug, Default)]
pub struct ItemForm {
    item: Option<i64>,
    problem: Problem,
    typed: Vec<(&'static str, String)>,
}

impl ItemForm {
    /// No item's form was refused.
    pub fn none() -> Self {
        Self::default()
    }

    /// Item `item`'s form with `typed` (field, value) pairs, refused for `problem`.
    pub fn refused(item: i64, problem: Problem, typed: Vec<(&'static str, String)>) -> Self {
        Self {
            item: Some(item),
            problem,
            typed,
        }
    }

    fn of(&self, item: &i64) -> Option<&Problem> {
        (self.item == Some(*item)).then_some(&self.problem)
    }

    /// The reason if it concerns `field` of item `item`'s form.
    pub fn at(&self, item: &i64, field: &str) -> Option<&str> {
        self.of(item).and_then(|p| p.at(field))
    }

    /// The reason if it concerns item `item`'s form as a whole.
    pub fn overall(&self, item: &i64) -> Option<&str> {
        self.of(item).and_then(Problem::overall)
    }

    /// What was typed into `field` of item `item`'s refused form; empty otherwise.
    pub fn typed(&self, item: &i64, field: &str) -> &str {
        self.of(item)
            .and_then(|_| self.typed.iter().find(|(f, _)| *f == field))
            .map_or("", |(_, v)| v.as_str())
    }

    /// The reason, when its item is not among `shown` (it has no form on the page to sit by).
    pub fn stray(&self, shown: impl IntoIterator<Item = i64>) -> Option<&str> {
        let item = self.item?;
        if shown.into_iter().any(|id| id == item) {
            None
        } else {
            self.problem.message.as_deref()
        }
    }
}

/// The form field a refusal's reason (or a form's own mistake, named by its field) concerns.
fn field_of(code: &'static str) -> &'static str {
    match code {
        "listing.title_length" => "title",
        "listing.description_length" => "description",
        "listing.price_range" => "price",
        "listing.stock_range" | "listing.on_sale_needs_stock" | "listing.min_order_above_stock" => {
            "stock"
        }
        "listing.category_unknown" | "listing.needs_category" | "category.unknown" => "category",
        c if c.starts_with("photo.") => "photo",
        "listing.too_many_photos" => "photo",
        "batch.quantity_range" => "quantity",
        "batch.in_future" => "produced_on",
        "batch.not_plot_crop" | "plot.not_own" => "plot",
        "event.in_future" => "day",
        "input.needs_place" | "input.flock_length" => "place",
        "input.product_name" => "product_name",
        "input.pesticide_registration_no" | "input.vet_approval_no" => "registration_no",
        "input.ingredient" => "active_ingredient",
        "input.dose" => "dose",
        "input.method" => "method",
        "input.interval" => "interval_days",
        "input.in_future" => "applied_on",
        "certificate.issuer_name" => "issuer_name",
        "certificate.phone" => "issuer_phone",
        "certificate.needs_report" | "certificate.report_file" => "photo",
        "certificate.basis" => "basis",
        "certificate.withdraw_reason" => "reason",
        "event.inspection_result" => "result",
        "event.place_length" => "place",
        "codes.count_range" | "codes.exhausted" => "count",
        "codes.item_not_issued" | "codes.not_of_batch" => "item",
        "recall.reason_length" | "order.cancel_reason_length" | "order.cancel_needs_reason" => {
            "reason"
        }
        "plot.name_length" => "name",
        "order.carrier_unknown" => "carrier",
        "order.waybill_required" | "order.waybill_digits" | "order.waybill_letters_and_digits" => {
            "waybill"
        }
        "order.quantity"
        | "order.out_of_stock"
        | "order.below_min_order"
        | "order.amount_too_large" => "quantity",
        "order.recipient_length" => "name",
        "order.address_length" => "address",
        "order.invalid_destination" => "city",
        "order.payment_instructions_length" => "instructions",
        "exit.reason_length" | "exit.step_needs_reason" | "exit.return_reason_length" => "reason",
        "report.text_length" => "answer",
        "help.kind_needed" => "kind",
        "help.day" | "help.day_needed" => "day",
        "help.amount_range" => "amount",
        "help.note_length" => "note",
        "help.cadre_outside" => "cadre",
        "visit.findings_length" => "findings",
        "plot.area_range" => "area",
        "plot.crop_length" | "plot.needs_crop" | "plot.crop_unknown" | "plot.too_many_crops" => {
            "crops"
        }
        other => other,
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

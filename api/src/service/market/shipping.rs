//! How goods travel to the buyer: the carriers a seller may ship with, each with the loose shape
//! of its waybill numbers and the page where a buyer follows the parcel, and a shipment as the
//! seller enters it (carrier and waybill number), checked against the carrier's shape.
//!
//! The shapes are loose on purpose: they catch a phone number or a half-typed number, not every
//! number a carrier could never have issued, because carriers change their series and a seller
//! refused a true number has no way around it.

use super::MarketError;
use crate::service::reasons;

/// What a carrier's waybill numbers are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Characters {
    Digits,
    /// Latin letters and digits (a prefix like `SF`, `YT`, `JT`, `JD`).
    LettersAndDigits,
}

/// A carrier of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Carrier {
    /// Stable, stored on the order and used by the API (`sf`).
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    characters: Characters,
    min_len: usize,
    max_len: usize,
    /// The buyer's tracking page, `{no}` standing for the waybill number.
    tracking: &'static str,
}

/// kuaidi100's query page, which recognises the carrier from the number: for carriers without a
/// stable tracking address of their own that opens on a phone.
const KUAIDI100: &str = "https://m.kuaidi100.com/result.jsp?nu={no}";

/// Every carrier a seller may choose, in the order a form lists them.
pub const CARRIERS: &[Carrier] = &[
    Carrier {
        code: "ems",
        name_zh: "中国邮政/EMS",
        name_en: "China Post / EMS",
        characters: Characters::LettersAndDigits,
        min_len: 10,
        max_len: 20,
        tracking: KUAIDI100,
    },
    Carrier {
        code: "sf",
        name_zh: "顺丰速运",
        name_en: "SF Express",
        characters: Characters::LettersAndDigits,
        min_len: 12,
        max_len: 15,
        tracking: KUAIDI100,
    },
    Carrier {
        code: "zto",
        name_zh: "中通快递",
        name_en: "ZTO Express",
        characters: Characters::Digits,
        min_len: 12,
        max_len: 15,
        tracking: KUAIDI100,
    },
    Carrier {
        code: "yto",
        name_zh: "圆通速递",
        name_en: "YTO Express",
        characters: Characters::LettersAndDigits,
        min_len: 10,
        max_len: 15,
        tracking: KUAIDI100,
    },
    Carrier {
        code: "sto",
        name_zh: "申通快递",
        name_en: "STO Express",
        characters: Characters::Digits,
        min_len: 12,
        max_len: 15,
        tracking: KUAIDI100,
    },
    Carrier {
        code: "yunda",
        name_zh: "韵达快递",
        name_en: "Yunda Express",
        characters: Characters::Digits,
        min_len: 13,
        max_len: 15,
        tracking: KUAIDI100,
    },
    Carrier {
        code: "jt",
        name_zh: "极兔速递",
        name_en: "J&T Express",
        characters: Characters::LettersAndDigits,
        min_len: 13,
        max_len: 15,
        tracking: KUAIDI100,
    },
    Carrier {
        code: "jd",
        name_zh: "京东物流",
        name_en: "JD Logistics",
        characters: Characters::LettersAndDigits,
        min_len: 12,
        max_len: 18,
        tracking: KUAIDI100,
    },
    Carrier {
        code: "other",
        name_zh: "其他快递",
        name_en: "Another carrier",
        characters: Characters::LettersAndDigits,
        min_len: 6,
        max_len: 30,
        tracking: KUAIDI100,
    },
];

impl Carrier {
    /// The carrier of the catalogue with this code.
    pub fn of(code: &str) -> Option<&'static Carrier> {
        CARRIERS.iter().find(|c| c.code == code)
    }

    /// The tracking page of a waybill of this carrier.
    pub fn tracking_url(&self, waybill: &str) -> String {
        // The number is letters and digits only, so it goes into the address as it is.
        self.tracking.replace("{no}", waybill)
    }

    /// The shape of its waybill numbers, in English, for the API: `12-15 letters and digits`.
    pub fn shape(&self) -> String {
        let what = match self.characters {
            Characters::Digits => "digits",
            Characters::LettersAndDigits => "letters and digits",
        };
        format!("{}-{} {what}", self.min_len, self.max_len)
    }

    /// The waybill number in its plain spelling (spaces and dashes gone, letters upper-case,
    /// full-width characters narrowed), if it has this carrier's shape.
    fn waybill(&self, typed: &str) -> Option<String> {
        let plain: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '－' | '—'))
            .map(|c| match c {
                // Full-width ASCII (a Chinese keyboard's digits and letters).
                '！'..='～' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                c => c,
            })
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let shaped = match self.characters {
            Characters::Digits => plain.bytes().all(|b| b.is_ascii_digit()),
            Characters::LettersAndDigits => plain.bytes().all(|b| b.is_ascii_alphanumeric()),
        };
        let digits = plain.bytes().filter(u8::is_ascii_digit).count();
        // A waybill number is mostly digits: a word is not a number.
        (shaped && digits * 2 > plain.len() && (self.min_len..=self.max_len).contains(&plain.len()))
            .then_some(plain)
    }
}

/// How the seller sent an order: which carrier, and its waybill number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shipment {
    pub carrier: &'static Carrier,
    pub waybill: String,
}

impl Shipment {
    /// The shipment as a seller entered it: a carrier of the catalogue and a number of its shape.
    pub fn parse(carrier: &str, waybill: &str) -> Result<Self, MarketError> {
        if waybill.trim().is_empty() && carrier.trim().is_empty() {
            return Err(MarketError::Invalid(reasons::waybill_required()));
        }
        let carrier = Carrier::of(carrier.trim())
            .ok_or_else(|| MarketError::Invalid(reasons::carrier_unknown()))?;
        if waybill.trim().is_empty() {
            return Err(MarketError::Invalid(reasons::waybill_required()));
        }
        let waybill = carrier.waybill(waybill).ok_or_else(|| {
            MarketError::Invalid(match carrier.characters {
                Characters::Digits => reasons::waybill_digits(
                    carrier.name_zh,
                    carrier.name_en,
                    carrier.min_len,
                    carrier.max_len,
                ),
                Characters::LettersAndDigits => reasons::waybill_letters_and_digits(
                    carrier.name_zh,
                    carrier.name_en,
                    carrier.min_len,
                    carrier.max_len,
                ),
            })
        })?;
        Ok(Self { carrier, waybill })
    }

    /// The shipment recorded on an order, if it was shipped with one.
    pub fn of_order(order: &entities::order::Model) -> Option<Self> {
        let carrier = Carrier::of(order.carrier.as_deref()?)?;
        Some(Self {
            carrier,
            waybill: order.waybill_number.clone()?,
        })
    }

    pub fn tracking_url(&self) -> String {
        self.carrier.tracking_url(&self.waybill)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waybill_numbers_are_read_in_their_plain_spelling() {
        let sf = Shipment::parse("sf", " sf 1234 5678 9012 ").unwrap();
        assert_eq!(sf.waybill, "SF123456789012");
        assert_eq!(
            sf.tracking_url(),
            "https://m.kuaidi100.com/result.jsp?nu=SF123456789012"
        );
        let zto = Shipment::parse("zto", "７８３１-２３４５-６７８９").unwrap();
        assert_eq!(zto.waybill, "783123456789");
    }

    #[test]
    fn a_number_of_another_shape_is_refused_with_the_carriers_shape() {
        for (carrier, waybill, code) in [
            ("zto", "ZT1234567890", "order.waybill_digits"),
            ("yunda", "123456789", "order.waybill_digits"),
            ("sf", "SF12", "order.waybill_letters_and_digits"),
            ("jd", "JDVABCDEFGHIJ", "order.waybill_letters_and_digits"),
            ("other", "中通12345678", "order.waybill_letters_and_digits"),
            ("sf", "  ", "order.waybill_required"),
            ("dhl", "1234567890", "order.carrier_unknown"),
        ] {
            match Shipment::parse(carrier, waybill) {
                Err(MarketError::Invalid(reason)) => assert_eq!(reason.code, code, "{waybill}"),
                other => panic!("{carrier} {waybill}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_carrier_has_a_tracking_page_for_its_numbers() {
        for carrier in CARRIERS {
            let url = carrier.tracking_url("1234567890123");
            assert!(url.starts_with("https://"), "{url}");
            assert!(url.contains("1234567890123"), "{url}");
        }
    }
}

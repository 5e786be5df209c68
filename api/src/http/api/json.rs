//! A JSON request body that tells malformed JSON (`request.invalid_json`, 400) apart from
//! well-formed JSON of the wrong shape (`request.invalid_body`, 422), and says where.
//!
//! Before the body is parsed it is held against the document's schema, strictly: a string
//! field takes only a JSON string (not `123` or `true`), `null` only where the document says
//! the field is nullable (an optional field is: `null` is the same as leaving it out, or, where
//! its description says so, clears it; a required field never is), and every string is
//! cleaned at the edge. Identifiers (household and
//! ID numbers, phones, area and region codes, category and trace codes) are NFKC-normalised, so
//! full-width digits are digits, and refused if they carry control or format characters
//! (zero-width spaces, direction overrides, NUL). Free text (titles, names, addresses,
//! descriptions) keeps its own characters (NFC), loses format characters, which are invisible,
//! and is refused if it carries control characters other than line breaks and tabs.

use poem::{FromRequest, Request, RequestBody, Result};
use poem_openapi::{
    impl_apirequest_for_payload,
    payload::{Json, ParsePayload, Payload},
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ParseFromJSON, Type},
};
use serde_json::{Value, json};

use crate::{
    domain::text::{free_text, identifier as identifier_text},
    http::error::{ApiError, ErrorCode},
};

/// Use in place of `poem_openapi::payload::Json` for request bodies.
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = <Json<T> as Payload>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        <Json<T> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        <Json<T> as Payload>::schema_ref()
    }

    fn register(registry: &mut Registry) {
        <Json<T> as Payload>::register(registry);
    }
}

impl<T: ParseFromJSON> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> Result<Self> {
        let bytes = Vec::<u8>::from_request(request, body).await?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(ErrorCode::RequestInvalidJson)
                .with_details(json!({ "line": e.line(), "column": e.column() }))
        })?;
        let value = strict::<T>(value).map_err(|reason| {
            ApiError::new(ErrorCode::RequestInvalidBody).with_details(json!({ "reason": reason }))
        })?;
        let parsed = T::parse_from_json(Some(value)).map_err(|e| {
            ApiError::new(ErrorCode::RequestInvalidBody)
                .with_details(json!({ "reason": e.into_message() }))
        })?;
        Ok(Self(parsed))
    }
}

impl_apirequest_for_payload!(JsonBody<T>, T: ParseFromJSON);

/// Fields whose strings are identifiers, by name.
const IDENTIFIERS: &[&str] = &[
    "household_number",
    "id_number",
    "phone",
    "recipient_phone",
    "village_code",
    "area_code",
    "province_code",
    "city_code",
    "code",
    "codes",
];

/// Holds a body against `T`'s schema and cleans its strings (see the module's comment).
pub fn strict<T: Type>(mut value: Value) -> Result<Value, String> {
    let mut registry = Registry::new();
    T::register(&mut registry);
    let root = T::schema_ref();
    walk(&registry, &root, &mut value, "", false, false)?;
    Ok(value)
}

fn resolve<'a>(registry: &'a Registry, schema: &'a MetaSchemaRef) -> Option<&'a MetaSchema> {
    match schema {
        MetaSchemaRef::Reference(name) => registry.schemas.get(name),
        MetaSchemaRef::Inline(schema) => match schema.all_of.as_slice() {
            // A reference with a description of its own.
            [only] if schema.properties.is_empty() => resolve(registry, only),
            _ => Some(schema),
        },
    }
}

fn walk(
    registry: &Registry,
    schema: &MetaSchemaRef,
    value: &mut Value,
    path: &str,
    optional: bool,
    identifier: bool,
) -> Result<(), String> {
    let Some(meta) = resolve(registry, schema) else {
        return Ok(());
    };
    let at = if path.is_empty() { "the body" } else { path };
    match value {
        Value::Null => {
            if meta.nullable || optional {
                Ok(())
            } else {
                Err(format!("{at} may not be null"))
            }
        }
        Value::String(text) => match meta.ty {
            "string" => {
                *text = if identifier {
                    identifier_text(text).map_err(|e| format!("{at}: {e}"))?
                } else {
                    free_text(text).map_err(|e| format!("{at}: {e}"))?
                };
                Ok(())
            }
            "" => Ok(()),
            _ => Err(format!("{at}: a {} is expected, not text", meta.ty)),
        },
        Value::Number(_) | Value::Bool(_) if meta.ty == "string" => {
            Err(format!("{at}: text is expected (in quotes)"))
        }
        Value::Object(map) if meta.ty == "object" => {
            for (name, property) in &meta.properties {
                if let Some(inner) = map.get_mut(*name) {
                    let inner_path = if path.is_empty() {
                        (*name).to_owned()
                    } else {
                        format!("{path}.{name}")
                    };
                    walk(
                        registry,
                        property,
                        inner,
                        &inner_path,
                        !meta.required.contains(name),
                        IDENTIFIERS.contains(name),
                    )?;
                }
            }
            Ok(())
        }
        Value::Array(items) if meta.ty == "array" => {
            if let Some(item) = &meta.items {
                for (i, inner) in items.iter_mut().enumerate() {
                    walk(
                        registry,
                        item,
                        inner,
                        &format!("{at}[{i}]"),
                        false,
                        identifier,
                    )?;
                }
            }
            Ok(())
        }
        // Numbers, booleans and mismatched shapes: the parser says what is wrong.
        _ => Ok(()),
    }
}

/// A JSON answer already written out (kept rendered in the cache), sent as it is; documented
/// as `T`, the type it was written from.
pub struct StoredJson<T> {
    bytes: bytes::Bytes,
    of: std::marker::PhantomData<fn() -> T>,
}

impl<T: poem_openapi::types::ToJSON> StoredJson<T> {
    /// Writes `value` as `Json<T>` would answer it.
    pub fn render(value: &T) -> Vec<u8> {
        serde_json::to_vec(&value.to_json()).unwrap_or_else(|_| b"null".to_vec())
    }
}

impl<T> From<Vec<u8>> for StoredJson<T> {
    fn from(bytes: Vec<u8>) -> Self {
        bytes::Bytes::from(bytes).into()
    }
}

impl<T> From<bytes::Bytes> for StoredJson<T> {
    fn from(bytes: bytes::Bytes) -> Self {
        Self {
            bytes,
            of: std::marker::PhantomData,
        }
    }
}

impl<T: Type> Payload for StoredJson<T> {
    const CONTENT_TYPE: &'static str = <Json<T> as Payload>::CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        <Json<T> as Payload>::schema_ref()
    }

    fn register(registry: &mut Registry) {
        <Json<T> as Payload>::register(registry);
    }
}

impl<T: Send> poem::IntoResponse for StoredJson<T> {
    fn into_response(self) -> poem::Response {
        poem::Response::builder()
            .content_type(<Json<serde_json::Value> as Payload>::CONTENT_TYPE)
            .body(self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::http::api::{
        exit::VillageIndicatorsInput,
        households::{RegisterHouseholdRequest, UpdateHouseholdRequest},
        market::{CategoryInput, ListingInput, UpdateCategoryRequest},
        orders::OrderInput,
    };

    fn no_control(text: &str, allowed: &[char]) -> bool {
        text.chars()
            .all(|c| allowed.contains(&c) || !crate::domain::text::is_invisible(c))
    }

    /// Any character at all, with the troublesome ones often.
    fn any_text() -> impl Strategy<Value = String> {
        let troublesome = prop_oneof![
            Just('\u{0}'),
            Just('\u{200b}'),
            Just('\u{202d}'),
            Just('\u{202e}'),
            Just('\u{feff}'),
            Just('\u{2028}'),
            Just('\n'),
            Just('５'),
            Just('Ａ'),
            Just('，'),
            any::<char>(),
        ];
        proptest::collection::vec(troublesome, 0..24).prop_map(|c| c.into_iter().collect())
    }

    fn listing(title: Value) -> Value {
        json!({ "category_id": 1, "title": title, "price_fen": 100, "stock": 5 })
    }

    fn order(phone: Value, address: Value) -> Value {
        json!({ "listing_id": 1, "quantity": 1, "province_code": "440000",
                "city_code": "440300", "address": address, "recipient_name": "李四",
                "recipient_phone": phone })
    }

    proptest! {
        /// Free text comes out without format or control characters (line breaks and tabs
        /// aside), or is refused; identifiers come out in NFKC without any, or are refused.
        #[test]
        fn strings_leave_the_edge_clean_or_not_at_all(text in any_text()) {
            if let Ok(body) = strict::<ListingInput>(listing(json!(text))) {
                let title = body["title"].as_str().unwrap();
                prop_assert!(no_control(title, &['\n', '\r', '\t']), "{title:?}");
                prop_assert!(!text.contains('\0'));
            }
            if let Ok(body) = strict::<OrderInput>(order(json!(text), json!(text))) {
                let phone = body["recipient_phone"].as_str().unwrap();
                prop_assert!(no_control(phone, &[]), "{phone:?}");
                let again = identifier_text(phone).unwrap();
                prop_assert_eq!(again.as_str(), phone);
                let address = body["address"].as_str().unwrap();
                prop_assert!(no_control(address, &['\n', '\r', '\t']), "{address:?}");
            }
            let household = json!({ "household_number": text, "village_code": "500235101201",
                                    "poverty_cause": "illness", "registered_year": 2016,
                                    "members": [] });
            if let Ok(body) = strict::<RegisterHouseholdRequest>(household) {
                let number = body["household_number"].as_str().unwrap();
                prop_assert!(no_control(number, &[]), "{number:?}");
            }
        }

        /// A number or a boolean where the document says text is refused, on every request
        /// type, whatever the number.
        #[test]
        fn numbers_and_booleans_are_not_text(n in any::<i64>(), b in any::<bool>()) {
            for wrong in [json!(n), json!(b)] {
                prop_assert!(strict::<ListingInput>(listing(wrong.clone())).is_err());
                prop_assert!(strict::<OrderInput>(order(wrong.clone(), json!("路 1 号"))).is_err());
                let category = json!({ "code": wrong, "name_zh": "菌", "name_en": "Fungus",
                                       "default_unit": "jin" });
                prop_assert!(strict::<CategoryInput>(category).is_err());
            }
        }

        /// `null` only where the document marks a field nullable: optional fields, never
        /// required ones.
        #[test]
        fn null_is_taken_only_where_the_document_allows_it(price in 0i64..1_000_000) {
            let create = json!({ "code": null, "name_zh": "菌", "name_en": "Fungus",
                                 "default_unit": "jin", "reference_price_fen": price });
            prop_assert!(strict::<CategoryInput>(create).is_err());
            let clear = json!({ "reference_price_fen": null });
            prop_assert!(strict::<UpdateCategoryRequest>(clear).is_ok());
            let clear_phone = json!({ "phone": null });
            prop_assert!(strict::<UpdateHouseholdRequest>(clear_phone).is_ok());
            let indicators = json!({ "hardened_road": null });
            prop_assert!(strict::<VillageIndicatorsInput>(indicators).is_err());
            let listing = json!({ "category_id": null, "title": "菌", "price_fen": price,
                                  "stock": 5 });
            prop_assert!(strict::<ListingInput>(listing).is_err());
            // Whatever the document says, the server says the same.
            let document: Value = serde_json::from_str(&crate::http::api::openapi_json()).unwrap();
            let schemas = &document["components"]["schemas"];
            prop_assert_eq!(&schemas["UpdateCategoryRequest"]["properties"]["reference_price_fen"]["nullable"], &json!(true));
            prop_assert_eq!(&schemas["CategoryInput"]["properties"]["code"].get("nullable"), &None);
        }
    }
}

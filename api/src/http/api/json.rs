//! A JSON request body that tells malformed JSON (`request.invalid_json`, 400) apart from
//! well-formed JSON of the wrong shape (`request.invalid_body`, 422), and says where.

use poem::{FromRequest, Request, RequestBody, Result};
use poem_openapi::{
    impl_apirequest_for_payload,
    payload::{Json, ParsePayload, Payload},
    registry::{MetaSchemaRef, Registry},
    types::{ParseFromJSON, Type},
};
use serde_json::{Value, json};

use crate::http::error::{ApiError, ErrorCode};

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
        let parsed = T::parse_from_json(Some(value)).map_err(|e| {
            ApiError::new(ErrorCode::RequestInvalidBody)
                .with_details(json!({ "reason": e.into_message() }))
        })?;
        Ok(Self(parsed))
    }
}

impl_apirequest_for_payload!(JsonBody<T>, T: ParseFromJSON);

//! The JSON API under `/api/v1`: one module per resource area. Each `#[OpenApi]` impl is a thin
//! layer over one service function per operation; the document it describes is the mobile
//! contract.

pub mod areas;
pub mod audit;
pub mod auth;
pub mod certificates;
pub mod cooperatives;
pub mod enums;
pub mod exit;
pub mod help;
pub mod households;
pub mod json;
pub mod labels;
pub mod market;
pub mod monitoring;
pub mod orders;
pub mod pagination;
pub mod production;
pub mod trace;
pub mod users;
pub mod warnings;

use poem_openapi::{OpenApiService, Tags};

pub(crate) use crate::mirror_enum;

/// Groups of operations in the OpenAPI document.
#[derive(Tags)]
pub enum ApiTags {
    /// The area tree: county, townships and villages.
    Areas,
    /// Signing in, refreshing tokens, signing out.
    Auth,
    /// Accounts of officials and other users.
    Users,
    /// The tamper-evident record of every change.
    Audit,
    /// The registry of poor households and their members.
    Households,
    /// De-listing: assessments, exit cases and progress toward the county's goals.
    Exit,
    /// Return-to-poverty monitoring: monitored households and their two procedures.
    Monitoring,
    /// The marketplace: the county's goods and farmers' listings.
    Market,
    /// Buying: orders, delivery regions and where the county's goods sell.
    Orders,
    /// Traceability: plots, batches, trace codes and what a scan finds.
    Trace,
}

pub const API_PREFIX: &str = "/api/v1";

/// Every operation under `/api/v1`.
pub type Api = (
    areas::AreasApi,
    auth::AuthApi,
    users::UsersApi,
    households::HouseholdsApi,
    households::HouseholdChangesApi,
    exit::ExitApi,
    (
        monitoring::MonitoringApi,
        help::HelpApi,
        warnings::WarningsApi,
    ),
    market::MarketApi,
    cooperatives::CooperativesApi,
    orders::OrdersApi,
    trace::TraceApi,
    certificates::CertificatesApi,
    labels::LabelsApi,
    production::ProductionApi,
    audit::AuditApi,
);

pub fn openapi_service() -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            areas::AreasApi,
            auth::AuthApi,
            users::UsersApi,
            households::HouseholdsApi,
            households::HouseholdChangesApi,
            exit::ExitApi,
            (
                monitoring::MonitoringApi,
                help::HelpApi,
                warnings::WarningsApi,
            ),
            market::MarketApi,
            cooperatives::CooperativesApi,
            orders::OrdersApi,
            trace::TraceApi,
            certificates::CertificatesApi,
            labels::LabelsApi,
            production::ProductionApi,
            audit::AuditApi,
        ),
        "shanhuo",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "山货 shanhuo: traceable mountain goods and the county's poverty-exit records. \
             Errors use one envelope, `{\"code\", \"message\", \"details\"}`; messages are \
             Chinese unless `Accept-Language` prefers English.",
    )
    .server(API_PREFIX)
}

/// Every operation the API serves, as (method in lower case, path in the document's form),
/// read from the operations themselves rather than from the document.
pub fn served_operations() -> Vec<(String, String)> {
    <Api as poem_openapi::OpenApi>::meta()
        .into_iter()
        .flat_map(|api| api.paths)
        .flat_map(|path| {
            path.operations
                .into_iter()
                .map(move |op| (op.method.as_str().to_ascii_lowercase(), path.path.clone()))
        })
        .collect()
}

/// The OpenAPI document as served at `/api/v1/openapi.json` and committed in
/// `mobile-contract/openapi.json`: poem-openapi's, with what the server enforces beyond what
/// the derive macros can say: an optional field of a request body takes `null` (as request
/// bodies are read, see [`json`]), a required one never does; integers are bounded by their
/// format; and the shapes the server's own parsers check (area codes, phones, ID numbers,
/// cursors), which refuse in the catalogue's words, are written in as patterns (see
/// [`enforced`]).
pub fn openapi_json() -> String {
    let spec = openapi_service().spec();
    let Ok(mut document) = serde_json::from_str::<serde_json::Value>(&spec) else {
        return spec;
    };
    let requests = request_schemas(&document);
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    {
        for (name, schema) in schemas.iter_mut() {
            if !requests.contains(name) {
                continue;
            }
            let required: Vec<String> = schema["required"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut())
            else {
                continue;
            };
            for (name, property) in properties.iter_mut() {
                if !required.contains(name)
                    && let Some(property) = property.as_object_mut()
                {
                    property.insert("nullable".into(), true.into());
                }
            }
        }
    }
    write_in_enforced(&mut document);
    // Uploads take their file field and nothing else.
    if let Some(paths) = document["paths"].as_object_mut() {
        for operation in paths
            .values_mut()
            .filter_map(|p| p.as_object_mut())
            .flat_map(|p| p.values_mut())
        {
            if let Some(schema) = operation
                .pointer_mut("/requestBody/content/multipart~1form-data/schema")
                .and_then(|s| s.as_object_mut())
            {
                schema.insert("additionalProperties".into(), false.into());
            }
        }
    }
    bound_integers(&mut document);
    serde_json::to_string_pretty(&document).unwrap_or(spec)
}

/// The names of the schemas request bodies use, and the schemas those use in turn.
fn request_schemas(document: &serde_json::Value) -> std::collections::BTreeSet<String> {
    fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner.as_str()) {
                        ("$ref", Some(target)) => {
                            if let Some(name) = target.strip_prefix("#/components/schemas/") {
                                found.push(name.to_owned());
                            }
                        }
                        _ => refs(inner, found),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| refs(i, found)),
            _ => {}
        }
    }
    let mut pending = Vec::new();
    if let Some(paths) = document["paths"].as_object() {
        for operation in paths
            .values()
            .filter_map(|p| p.as_object())
            .flat_map(|p| p.values())
        {
            refs(&operation["requestBody"], &mut pending);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone()) {
            refs(&document["components"]["schemas"][&name], &mut pending);
        }
    }
    seen
}

/// An area code: a county's 6 digits, a township's 9 or a village's 12, starting with a
/// province's digit ([`crate::domain::AreaCode`]).
const AREA_CODE: &str = "^[1-9][0-9]{5}([0-9]{3}){0,2}$";
/// A mainland mobile number, as [`crate::domain::Phone`] reads it: spaces, dashes and brackets
/// anywhere, an optional +86, 0086 or 86 in front.
const PHONE: &str = "[ ()-]*(\\+86|0086|86)?[ ()-]*1[ ()-]*[3-9]([ ()-]*[0-9]){9}[ ()-]*";
/// 17 digits and a digit or X ([`crate::domain::IdNumber`]; the check digit is checked
/// beyond the pattern).
const ID_NUMBER: &str = "^[0-9]{17}[0-9Xx]$";
/// A cursor as the server writes them ([`pagination`]): unpadded URL-safe base64 of
/// `v1:` and a key, or empty for the first page.
const CURSOR: &str =
    "^(djE6([A-Za-z0-9_-]{4})*([A-Za-z0-9_-]{2}[AEIMQUYcgkosw048]|[A-Za-z0-9_-][AQgw])?)?$";

/// A client's idempotency key ([`crate::service::idempotency`]): 1 to 64 letters, digits, `-`
/// or `_`, spaces around it forgiven; empty, there is none.
const IDEMPOTENCY_KEY: &str = "^ *([A-Za-z0-9_-]{1,64})? *$";

/// The pattern the server's own parsers hold a parameter or field of this name to, if any.
/// `path` tells the `code` of an area from the `code` of a trace code.
fn enforced(name: &str, path: Option<&str>) -> Option<String> {
    let pattern = match name {
        "area_code" | "village_code" | "place_area_code" => AREA_CODE.to_owned(),
        "code" if path.is_some_and(|p| p.starts_with("/areas/") || p.starts_with("/villages/")) => {
            AREA_CODE.to_owned()
        }
        // Left empty, it is left out.
        "code_prefix" => "^[0-9]{0,12}$".to_owned(),
        "size" if path.is_some_and(|p| p.starts_with("/certificates/")) => {
            "^(60x40|70x50|100x70)?$".to_owned()
        }
        "phone" | "recipient_phone" => format!("^{PHONE}$"),
        "id_number" => ID_NUMBER.to_owned(),
        "cursor" => CURSOR.to_owned(),
        "Idempotency-Key" => IDEMPOTENCY_KEY.to_owned(),
        _ => return None,
    };
    Some(pattern)
}

/// Writes [`enforced`] patterns into the parameters and the request bodies' fields.
fn write_in_enforced(document: &mut serde_json::Value) {
    if let Some(paths) = document["paths"].as_object_mut() {
        for (path, operations) in paths.iter_mut() {
            let Some(operations) = operations.as_object_mut() else {
                continue;
            };
            for operation in operations.values_mut() {
                let Some(parameters) = operation
                    .get_mut("parameters")
                    .and_then(|p| p.as_array_mut())
                else {
                    continue;
                };
                for parameter in parameters {
                    let name = parameter["name"].as_str().unwrap_or_default().to_owned();
                    if let Some(pattern) = enforced(&name, Some(path))
                        && parameter["schema"]["type"] == "string"
                    {
                        parameter["schema"]["pattern"] = pattern.into();
                    }
                }
            }
        }
    }
    let requests = request_schemas(document);
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    {
        for (schema_name, schema) in schemas.iter_mut() {
            if !requests.contains(schema_name) {
                continue;
            }
            let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut())
            else {
                continue;
            };
            for (name, property) in properties.iter_mut() {
                let Some(pattern) = enforced_in_request(schema_name, name) else {
                    continue;
                };
                // A list of strings carries the pattern on each item.
                let target = if property["type"] == "array" {
                    &mut property["items"]
                } else {
                    property
                };
                if target["type"] == "string" {
                    target["pattern"] = pattern.into();
                }
            }
        }
    }
}

/// The pattern of a request body's field: the field's own by [`enforced`], unless the request
/// reads it its own way.
fn enforced_in_request(schema_name: &str, name: &str) -> Option<String> {
    match (schema_name, name) {
        // A household's phone may also be left empty.
        ("RegisterHouseholdRequest" | "UpdateHouseholdRequest", "phone") => {
            Some(format!("^(\\s*|{PHONE})$"))
        }
        ("LookupAreasRequest", "codes") => Some(AREA_CODE.to_owned()),
        _ => enforced(name, None),
    }
}

/// Bounds every integer by its format, as the server reads it: a value outside is refused
/// before anything else, so the document says so.
fn bound_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("type").and_then(|t| t.as_str()) == Some("integer") {
                let bounds: Option<(serde_json::Value, serde_json::Value)> =
                    match map.get("format").and_then(|f| f.as_str()) {
                        Some("int32") => Some((i32::MIN.into(), i32::MAX.into())),
                        Some("int64") => Some((i64::MIN.into(), i64::MAX.into())),
                        Some("uint32") => Some((0.into(), u32::MAX.into())),
                        Some("uint64") => Some((0.into(), u64::MAX.into())),
                        _ => None,
                    };
                if let Some((min, max)) = bounds {
                    map.entry("minimum").or_insert(min);
                    map.entry("maximum").or_insert(max);
                }
            }
            map.values_mut().for_each(bound_integers);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

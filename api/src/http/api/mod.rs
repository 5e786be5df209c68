//! The JSON API under `/api/v1`: one module per resource area. Each `#[OpenApi]` impl is a thin
//! layer over one service function per operation; the document it describes is the mobile
//! contract.

pub mod areas;
pub mod audit;
pub mod auth;
pub mod cooperatives;
pub mod enums;
pub mod exit;
pub mod households;
pub mod json;
pub mod labels;
pub mod market;
pub mod orders;
pub mod pagination;
pub mod production;
pub mod trace;
pub mod users;

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
    market::MarketApi,
    cooperatives::CooperativesApi,
    orders::OrdersApi,
    trace::TraceApi,
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
            market::MarketApi,
            cooperatives::CooperativesApi,
            orders::OrdersApi,
            trace::TraceApi,
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
/// bodies are read, see [`json`]), a required one never does.
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

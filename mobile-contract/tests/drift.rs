//! The committed contract must be what the server produces. On a deliberate change, regenerate
//! with `UPDATE_CONTRACT=1 cargo test -p mobile-contract`, then the TypeScript declarations with
//! `npm run --prefix mobile-contract types`, and commit the diff.

use std::path::PathBuf;

use api::http::error::{ErrorCode, Lang};
use mobile_contract::ErrorCodeEntry;
use serde_json::Value;

fn contract_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// Compares a committed file with what the server generates now, rewriting it when asked.
fn check_or_update(name: &str, generated: &Value) {
    let path = contract_file(name);
    let pretty = serde_json::to_string_pretty(generated).unwrap() + "\n";
    if std::env::var_os("UPDATE_CONTRACT").is_some() {
        std::fs::write(&path, pretty).unwrap();
        return;
    }
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
    assert!(
        committed == *generated,
        "{name} differs from what the server generates; if the change is meant, run \
         `UPDATE_CONTRACT=1 cargo test -p mobile-contract` (then `npm run --prefix \
         mobile-contract types`) and commit the result"
    );
}

#[test]
fn the_committed_openapi_document_matches_the_server() {
    let generated: Value = serde_json::from_str(&api::http::api::openapi_json()).unwrap();
    check_or_update("openapi.json", &generated);
}

#[test]
fn every_error_code_the_server_can_emit_is_catalogued() {
    let entries: Vec<ErrorCodeEntry> = ErrorCode::ALL
        .iter()
        .map(|code| ErrorCodeEntry {
            code: code.as_str().to_owned(),
            status: code.status().as_u16(),
            message_zh: code.message(Lang::Zh).to_owned(),
            message_en: code.message(Lang::En).to_owned(),
        })
        .collect();
    check_or_update("error-codes.json", &serde_json::to_value(entries).unwrap());
}

#[test]
fn every_operation_has_an_id_a_tag_a_summary_and_documents_the_error_envelope() {
    let spec: Value = serde_json::from_str(&api::http::api::openapi_json()).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    for (path, operations) in paths {
        for (method, op) in operations.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                id.contains('_'),
                "{method} {path} needs a <verb>_<resource> operation id"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{id} has no tag"
            );
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{id} has no summary"
            );
            let errors = &op["responses"]["400"]["content"]["application/json; charset=utf-8"];
            assert_eq!(
                errors["schema"]["$ref"], "#/components/schemas/Error",
                "{id}"
            );
        }
    }
}

#[test]
fn every_served_operation_is_in_the_document_once() {
    let spec: Value = serde_json::from_str(&api::http::api::openapi_json()).unwrap();
    let mut documented: Vec<(String, String)> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let mut served = api::http::api::served_operations();
    documented.sort();
    served.sort();
    let missing: Vec<_> = served
        .iter()
        .filter(|op| !documented.contains(op))
        .collect();
    assert!(
        missing.is_empty(),
        "served but not in the document: {missing:?}"
    );
    served.dedup();
    assert_eq!(served, documented);
}

#[test]
fn the_shapes_and_ranges_the_server_enforces_are_in_the_document() {
    let spec: Value = serde_json::from_str(&api::http::api::openapi_json()).unwrap();
    let parameter = |path: &str, method: &str, name: &str| -> Value {
        spec["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has no {name}"))["schema"]
            .clone()
    };
    let area = parameter("/households", "get", "area_code");
    assert_eq!(area["pattern"], "^[1-9][0-9]{5}([0-9]{3}){0,2}$");
    assert!(
        parameter("/areas", "get", "cursor")["pattern"]
            .as_str()
            .is_some_and(|p| p.starts_with("^(djE6"))
    );
    assert_eq!(
        parameter("/areas/{code}", "get", "code")["pattern"],
        area["pattern"]
    );
    let depth = parameter("/areas/{code}/tree", "get", "depth");
    assert_eq!(depth["minimum"].as_f64(), Some(0.0));
    let to_page = parameter(
        "/batches/{id}/code-runs/{run_id}/labels.pdf",
        "get",
        "to_page",
    );
    assert_eq!(to_page["maximum"], u32::MAX);
    let id = parameter("/batches/{id}/code-runs", "post", "id");
    assert_eq!(id["maximum"], i64::MAX);
    let schemas = &spec["components"]["schemas"];
    assert!(schemas["SendCodeRequest"]["properties"]["phone"]["pattern"].is_string());
    assert_eq!(
        schemas["MemberInput"]["properties"]["id_number"]["pattern"],
        "^[0-9]{17}[0-9Xx]$"
    );
    let upload = &spec["paths"]["/trace/decode"]["post"]["requestBody"]["content"]["multipart/form-data"]
        ["schema"];
    assert_eq!(upload["additionalProperties"], false);
}

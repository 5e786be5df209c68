//! The HTTP layer in-process: status codes, the error envelope, headers and metrics.

use api::{http::error::ErrorCode, testing::TestApp};
use poem::http::{StatusCode, header};
use serde_json::{Value, json};

fn assert_envelope(body: &Value, code: ErrorCode) {
    assert_eq!(body["code"], code.as_str(), "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body.get("details").is_some(), "{body}");
}

async fn json_of(resp: poem::test::TestResponse) -> Value {
    resp.0.into_body().into_json().await.expect("a JSON body")
}

#[tokio::test]
async fn the_county_answers_by_its_short_and_full_code_with_its_townships() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/areas/500235", "/api/v1/areas/500235000000"] {
        let resp = app.client.get(path).send().await;
        resp.assert_status_is_ok();
        let body = json_of(resp).await;
        assert_eq!(body["code"], "500235000000");
        assert_eq!(body["level"], "county");
        assert_eq!(body["children"].as_array().unwrap().len(), 40);
        assert_eq!(body["children"][0]["level"], "township");
        assert_eq!(body["village_count"], 400);
        assert_eq!(body["poor_village_count"], 162);
    }
}

#[tokio::test]
async fn a_malformed_code_is_a_400_envelope_in_the_clients_language() {
    let app = TestApp::spawn().await;
    let resp = app.client.get("/api/v1/areas/50023x").send().await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    resp.assert_content_type("application/json; charset=utf-8");
    let body = json_of(resp).await;
    assert_envelope(&body, ErrorCode::AreaInvalidCode);
    assert_eq!(
        body["message"],
        ErrorCode::AreaInvalidCode.message(api::http::error::Lang::Zh)
    );
    assert_eq!(body["details"]["value"], "50023x");

    let resp = app
        .client
        .get("/api/v1/areas/50023x")
        .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9")
        .send()
        .await;
    let body = json_of(resp).await;
    assert_eq!(body["message"], "An area code has 6, 9 or 12 digits");
}

#[tokio::test]
async fn an_unknown_area_is_a_404_envelope() {
    let app = TestApp::spawn().await;
    let resp = app.client.get("/api/v1/areas/500235999000").send().await;
    resp.assert_status(StatusCode::NOT_FOUND);
    let body = json_of(resp).await;
    assert_envelope(&body, ErrorCode::AreaNotFound);
    assert_eq!(body["details"]["code"], "500235999000");
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_the_envelope() {
    let app = TestApp::spawn().await;
    let resp = app.client.get("/api/v1/nothing-here").send().await;
    resp.assert_status(StatusCode::NOT_FOUND);
    assert_envelope(&json_of(resp).await, ErrorCode::RouteNotFound);

    let resp = app.client.delete("/api/v1/areas/500235").send().await;
    resp.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    resp.assert_header(header::ALLOW, "GET, HEAD");
    assert_envelope(&json_of(resp).await, ErrorCode::RouteMethodNotAllowed);
}

#[tokio::test]
async fn a_wrong_method_is_told_which_methods_the_address_takes() {
    let app = TestApp::spawn().await;
    for (method, path, allow) in [
        (
            poem::http::Method::PUT,
            "/api/v1/households/42",
            "DELETE, GET, HEAD, PATCH",
        ),
        (poem::http::Method::GET, "/api/v1/households/import", "POST"),
        (poem::http::Method::DELETE, "/api/v1/areas/lookup", "POST"),
        (
            poem::http::Method::POST,
            "/api/v1/openapi.json",
            "GET, HEAD",
        ),
        (poem::http::Method::DELETE, "/healthz", "GET, HEAD"),
        (poem::http::Method::PUT, "/login", "GET, HEAD, POST"),
        (poem::http::Method::GET, "/logout", "POST"),
    ] {
        let resp = app
            .client
            .request(method.clone(), path)
            .header(header::ACCEPT, "application/json")
            .send()
            .await;
        resp.assert_status(StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            resp.0
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok()),
            Some(allow),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn malformed_json_and_wrong_types_are_told_apart() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .post("/api/v1/areas/lookup")
        .content_type("application/json")
        .body(r#"{"codes": ["500235""#)
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    let body = json_of(resp).await;
    assert_envelope(&body, ErrorCode::RequestInvalidJson);
    assert_eq!(body["details"]["line"], 1);

    for wrong in [
        json!({"codes": 5}),
        json!({"codes": [[1]]}),
        json!({}),
        json!({"codes": []}),
    ] {
        let resp = app
            .client
            .post("/api/v1/areas/lookup")
            .body_json(&wrong)
            .send()
            .await;
        let status = resp.0.status();
        let body = json_of(resp).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong}: {body}");
        assert_envelope(&body, ErrorCode::RequestInvalidBody);
    }

    let resp = app
        .client
        .post("/api/v1/areas/lookup")
        .content_type("text/plain")
        .body("500235")
        .send()
        .await;
    resp.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_envelope(&json_of(resp).await, ErrorCode::RequestUnsupportedMediaType);
}

#[tokio::test]
async fn lookup_answers_found_and_missing_codes() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .post("/api/v1/areas/lookup")
        .body_json(&json!({"codes": ["500235101", "500235999000"]}))
        .send()
        .await;
    resp.assert_status_is_ok();
    let body = json_of(resp).await;
    assert_eq!(body["areas"][0]["code"], "500235101000");
    assert_eq!(body["missing"], json!(["500235999000"]));
}

#[tokio::test]
async fn oversized_bodies_are_refused_whether_declared_or_streamed() {
    let app = TestApp::spawn_with(|s| s.body_limit_bytes = 1024).await;
    let big = format!(r#"{{"codes": ["{}"]}}"#, "5".repeat(4096));
    let resp = app
        .client
        .post("/api/v1/areas/lookup")
        .content_type("application/json")
        .header(header::CONTENT_LENGTH, big.len())
        .body(big.clone())
        .send()
        .await;
    let status = resp.0.status();
    let body = json_of(resp).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_envelope(&body, ErrorCode::RequestBodyTooLarge);

    // Without a Content-Length the limit is enforced as the bytes arrive.
    let chunks = futures_util::stream::iter(
        big.into_bytes()
            .chunks(100)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let resp = app
        .client
        .post("/api/v1/areas/lookup")
        .content_type("application/json")
        .body(poem::Body::from_bytes_stream(chunks))
        .send()
        .await;
    resp.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_envelope(&json_of(resp).await, ErrorCode::RequestBodyTooLarge);
}

#[tokio::test]
async fn bad_query_parameters_and_cursors_are_400s() {
    let app = TestApp::spawn().await;
    for query in ["limit=0", "limit=101", "limit=ten", "level=city"] {
        let resp = app
            .client
            .get(format!("/api/v1/areas?{query}"))
            .send()
            .await;
        resp.assert_status(StatusCode::BAD_REQUEST);
        assert_envelope(&json_of(resp).await, ErrorCode::RequestInvalidParameter);
    }
    let resp = app.client.get("/api/v1/areas?cursor=forged").send().await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    assert_envelope(&json_of(resp).await, ErrorCode::RequestInvalidCursor);
    let resp = app.client.get("/api/v1/areas?code_prefix=50a").send().await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    assert_envelope(&json_of(resp).await, ErrorCode::AreaInvalidCode);
}

#[tokio::test]
async fn the_next_cursor_leads_through_every_village_of_a_township() {
    let app = TestApp::spawn().await;
    let mut url = "/api/v1/areas?code_prefix=500235101&level=village&limit=3".to_owned();
    let mut villages = 0;
    loop {
        let body = json_of(app.client.get(&url).send().await).await;
        villages += body["items"].as_array().unwrap().len();
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                url = format!(
                    "/api/v1/areas?code_prefix=500235101&level=village&limit=3&cursor={cursor}"
                )
            }
            None => break,
        }
    }
    let township = json_of(app.client.get("/api/v1/areas/500235101").send().await).await;
    assert_eq!(villages as u64, township["village_count"].as_u64().unwrap());
}

#[tokio::test]
async fn the_tree_and_children_routes_answer() {
    let app = TestApp::spawn().await;
    let tree = json_of(
        app.client
            .get("/api/v1/areas/500235/tree?depth=2")
            .send()
            .await,
    )
    .await;
    let townships = tree["children"].as_array().unwrap();
    assert_eq!(townships.len(), 40);
    let villages: usize = townships
        .iter()
        .map(|t| t["children"].as_array().unwrap().len())
        .sum();
    assert_eq!(villages, 400);

    let resp = app
        .client
        .get("/api/v1/areas/500235/tree?depth=3")
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);

    let children = json_of(
        app.client
            .get("/api/v1/areas/500235/children?limit=40")
            .send()
            .await,
    )
    .await;
    assert_eq!(children["items"].as_array().unwrap().len(), 40);
    assert!(children["next_cursor"].is_null());
}

#[tokio::test]
async fn health_readiness_and_the_openapi_document_are_served() {
    let app = TestApp::spawn().await;
    app.client
        .get("/healthz")
        .send()
        .await
        .assert_status_is_ok();
    let ready = app.client.get("/readyz").send().await;
    ready.assert_status_is_ok();
    let ready = json_of(ready).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["database"], "ok");

    let spec = json_of(app.client.get("/api/v1/openapi.json").send().await).await;
    assert_eq!(spec["info"]["title"], "shanhuo");
    assert!(
        spec["paths"]["/areas/{code}"]["get"].is_object(),
        "{}",
        spec["paths"]
    );
    assert_eq!(
        spec["paths"]["/areas/{code}"]["get"]["operationId"],
        "get_area"
    );

    app.client.get("/docs").send().await.assert_status_is_ok();
}

#[tokio::test]
async fn requests_carry_an_id_and_are_counted_by_route_and_status() {
    let app = TestApp::spawn().await;
    let resp = app.client.get("/api/v1/areas/500235").send().await;
    let generated = resp
        .0
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(generated.len(), 32);
    let resp = app
        .client
        .get("/api/v1/areas/500235")
        .header("x-request-id", "mini-program-42")
        .send()
        .await;
    resp.assert_header("x-request-id", "mini-program-42");
    app.client.get("/api/v1/areas/5").send().await;
    app.client.get("/random/path/1").send().await;

    let metrics = app.client.get("/metrics").send().await;
    metrics.assert_status_is_ok();
    let text = metrics.0.into_body().into_string().await.unwrap();
    assert!(
        text.contains(
            r#"shanhuo_http_requests_total{method="GET",route="get_area",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"route="get_area",status="400""#), "{text}");
    assert!(text.contains(r#"route="unmatched",status="404""#), "{text}");
    assert!(
        text.contains("shanhuo_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn cors_admits_configured_origins_only() {
    let app = TestApp::spawn_with(|s| s.cors_origins = vec!["https://shop.example".into()]).await;
    let resp = app
        .client
        .get("/api/v1/areas/500235")
        .header(header::ORIGIN, "https://shop.example")
        .send()
        .await;
    resp.assert_status_is_ok();
    resp.assert_header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "https://shop.example");

    // Error envelopes carry the header too, so browser clients can read them.
    let resp = app
        .client
        .get("/api/v1/areas/5")
        .header(header::ORIGIN, "https://shop.example")
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    resp.assert_header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "https://shop.example");

    let resp = app
        .client
        .get("/api/v1/areas/500235")
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);
    assert_envelope(&json_of(resp).await, ErrorCode::RequestOriginNotAllowed);
}

#[tokio::test]
async fn a_server_failure_is_an_opaque_500_envelope() {
    let app = TestApp::spawn().await;
    // Take the tables away underneath the running server.
    let migrations = app.state.db.migration_states().await.unwrap().len() as u32;
    app.state.db.migrate_down(Some(migrations)).await.unwrap();
    let resp = app.client.get("/api/v1/areas/500235").send().await;
    resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json_of(resp).await;
    assert_envelope(&body, ErrorCode::ServerInternal);
    assert!(
        body["details"].is_null(),
        "nothing about the cause leaks: {body}"
    );
    assert!(!body.to_string().to_lowercase().contains("areas"), "{body}");
}

#[tokio::test]
async fn readiness_fails_with_a_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.db.conn().close_by_ref().await.unwrap();
    let resp = app.client.get("/readyz").send().await;
    resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    let body = json_of(resp).await;
    assert_envelope(&body, ErrorCode::ServerNotReady);
    assert_ne!(body["details"]["database"], "ok");
    assert_eq!(body["details"]["cache"], "ok");
    // The process itself is still healthy.
    app.client
        .get("/healthz")
        .send()
        .await
        .assert_status_is_ok();
}

/// A response body as it came over the wire, still compressed.
async fn raw_body(resp: poem::test::TestResponse) -> Vec<u8> {
    resp.0.into_body().into_vec().await.expect("a body")
}

/// Inflates a gzip member as async-compression writes it (a 10-byte header, no name).
fn gunzip(gzip: &[u8]) -> Vec<u8> {
    assert_eq!(&gzip[..3], &[0x1f, 0x8b, 8], "a gzip member");
    miniz_oxide::inflate::decompress_to_vec(&gzip[10..gzip.len() - 8]).expect("deflate data")
}

#[tokio::test]
async fn pages_and_json_are_compressed_as_the_client_accepts_and_images_are_not() {
    let app = TestApp::spawn().await;
    let plain = app.client.get("/m").send().await;
    plain.assert_status_is_ok();
    assert!(plain.0.headers().get(header::CONTENT_ENCODING).is_none());
    let page = raw_body(plain).await;

    let gzipped = app
        .client
        .get("/m")
        .header(header::ACCEPT_ENCODING, "gzip, deflate")
        .send()
        .await;
    assert_eq!(gzipped.0.headers()[header::CONTENT_ENCODING], "gzip");
    assert!(
        gzipped
            .0
            .headers()
            .get_all(header::VARY)
            .iter()
            .any(|v| v == "accept-encoding")
    );
    let gzipped = raw_body(gzipped).await;
    assert!(
        gzipped.len() * 2 < page.len(),
        "{} of {}",
        gzipped.len(),
        page.len()
    );
    assert_eq!(gunzip(&gzipped), page, "the same page, inflated");

    let brotli = app
        .client
        .get("/m")
        .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
        .send()
        .await;
    assert_eq!(brotli.0.headers()[header::CONTENT_ENCODING], "br");
    assert!(raw_body(brotli).await.len() <= gzipped.len() + 64);

    let json = app
        .client
        .get("/api/v1/areas/500235")
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await;
    assert_eq!(json.0.headers()[header::CONTENT_ENCODING], "gzip");
    let json: Value = serde_json::from_slice(&gunzip(&raw_body(json).await)).unwrap();
    assert_eq!(json["code"], "500235000000");

    let code = api::service::trace::codes::batch_code(&app.state.trace_keys, 1);
    let qr = app
        .client
        .get(format!("/api/v1/trace/{code}/qr.png"))
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .send()
        .await;
    assert_eq!(qr.0.status(), StatusCode::OK);
    assert!(qr.0.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(&raw_body(qr).await[1..4], b"PNG");
}

/// One answer read off a raw connection: its status and headers (names in lower case), or
/// `None` when the server closed the connection instead.
async fn read_answer(
    conn: &mut tokio::net::TcpStream,
) -> Option<(u16, std::collections::HashMap<String, String>)> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(std::time::Duration::from_secs(10), conn.read(&mut byte)).await {
            Ok(Ok(1)) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8(buf).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: std::collections::HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .map_or(0, |l| l.parse().unwrap());
    let mut body = vec![0u8; length];
    conn.read_exact(&mut body).await.ok()?;
    Some((status, headers))
}

#[tokio::test]
async fn an_early_refusal_of_an_unread_body_says_the_connection_closes() {
    use tokio::io::AsyncWriteExt;
    let app =
        crate::support::with_admin(TestApp::spawn_with(|s| s.body_limit_bytes = 1024).await).await;
    let (admin, _) = crate::support::tokens(&app, crate::support::ADMIN_PHONE).await;
    let addr = api::testing::serve_locally(api::http::routes(app.state.clone())).await;
    let body = r#"{"codes": ["500235101", "500235102"]}"#;
    let second = "GET /healthz HTTP/1.1\r\nHost: shanhuo\r\n\r\n";

    // Refused before the body is read: a path id out of range, a body over the limit, a body of
    // a type the operation does not take. The client has sent only part of the body when the
    // answer comes, as a client streaming a larger body would have.
    let refusals = [
        (
            format!(
                "POST /api/v1/batches/9223372036854775808/code-runs HTTP/1.1\r\nHost: shanhuo\r\n\
                 Authorization: Bearer {admin}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            ),
            400,
        ),
        (
            "POST /api/v1/areas/lookup HTTP/1.1\r\nHost: shanhuo\r\n\
             Content-Type: application/json\r\nContent-Length: 5000000\r\n\r\n"
                .to_owned(),
            413,
        ),
        (
            format!(
                "POST /api/v1/areas/lookup HTTP/1.1\r\nHost: shanhuo\r\n\
                 Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                body.len()
            ),
            415,
        ),
    ];
    for (head, status) in refusals {
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        conn.write_all(head.as_bytes()).await.unwrap();
        conn.write_all(&body.as_bytes()[..10]).await.unwrap();
        let (answered, headers) = read_answer(&mut conn).await.expect("an answer");
        assert_eq!(answered, status, "{head}");
        if headers.get("connection").map(String::as_str) == Some("close") {
            continue;
        }
        // Kept open: then the rest of the body and a second request are answered on it.
        let _ = conn.write_all(&body.as_bytes()[10..]).await;
        let _ = conn.write_all(second.as_bytes()).await;
        assert!(
            read_answer(&mut conn).await.is_some(),
            "{head}: the connection was closed without Connection: close"
        );
    }

    // A body read whole keeps the connection for the next request.
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let lookup = format!(
        "POST /api/v1/areas/lookup HTTP/1.1\r\nHost: shanhuo\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(lookup.as_bytes()).await.unwrap();
    let (status, headers) = read_answer(&mut conn).await.expect("an answer");
    assert_eq!(status, 200);
    assert_eq!(headers.get("connection"), None);
    conn.write_all(second.as_bytes()).await.unwrap();
    let (status, _) = read_answer(&mut conn).await.expect("a second answer");
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_path_parameter_that_cannot_be_read_is_named_as_the_document_names_it() {
    let app = crate::support::app_with_admin().await;
    let (admin, _) = crate::support::tokens(&app, crate::support::ADMIN_PHONE).await;
    for (path, parameter) in [
        ("/api/v1/batches/1/code-runs/2/labels/first", "page"),
        ("/api/v1/batches/1/code-runs/2/labels/-1", "page"),
        (
            "/api/v1/batches/9223372036854775808/code-runs/2/labels/1",
            "id",
        ),
        ("/api/v1/batches/1/code-runs/x/labels/1", "run_id"),
    ] {
        let resp = app
            .client
            .get(path)
            .header("authorization", format!("Bearer {admin}"))
            .send()
            .await;
        resp.assert_status(StatusCode::BAD_REQUEST);
        let body = json_of(resp).await;
        assert_envelope(&body, ErrorCode::RequestInvalidParameter);
        assert_eq!(body["details"]["parameter"], parameter, "{path}: {body}");
    }
}

#[tokio::test]
async fn moving_an_official_to_an_area_that_does_not_exist_is_a_404_not_a_failure() {
    let app = crate::support::app_with_admin().await;
    let (admin, _) = crate::support::tokens(&app, crate::support::ADMIN_PHONE).await;
    let official = crate::support::official(
        &app,
        "13900000007",
        entities::user::Role::TownshipOfficial,
        "500235101",
    )
    .await;
    let resp = app
        .client
        .patch(format!("/api/v1/users/{}", official.id))
        .header("authorization", format!("Bearer {admin}"))
        .body_json(&json!({ "area_code": "100000", "role": "county_official" }))
        .send()
        .await;
    resp.assert_status(StatusCode::NOT_FOUND);
    assert_envelope(&json_of(resp).await, ErrorCode::AreaNotFound);
}

//! Black-box flows against the real binary over HTTP.

use std::{process::Command, time::Duration};

use e2e::{TestDatabase, TestServer, shanhuo_binary};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn a_fresh_server_serves_the_seeded_demo_county() {
    let server = TestServer::start().await;
    for code in ["500235000000", "500235"] {
        let (status, county) = server.get_json(&format!("/api/v1/areas/{code}")).await;
        assert_eq!(status, 200);
        assert_eq!(county["code"], "500235000000");
        assert_eq!(county["level"], "county");
        let townships = county["children"].as_array().unwrap();
        assert_eq!(townships.len(), 40);
        assert!(townships.iter().all(|t| t["level"] == "township"));
        assert_eq!(county["poor_village_count"], 162);
    }
    let (_, villages) = server
        .get_json("/api/v1/areas?q=%E7%A4%BA%E8%8C%83%E6%9D%91%20001")
        .await;
    assert_eq!(villages["items"][0]["name"], "示范村 001");
    assert!(
        server.log().contains("loaded the synthetic demo county"),
        "the first start says it seeded:\n{}",
        server.log()
    );
}

/// Every malformed request answers a catalogued 4xx envelope: never a 500, never HTML.
#[tokio::test]
async fn malformed_requests_answer_catalogued_envelopes() {
    let server = TestServer::start_with(&[("SHANHUO_BODY_LIMIT_BYTES", "2048")]).await;
    let client = &server.client;
    let url = |p: &str| server.url(p);
    let lookup = url("/api/v1/areas/lookup");
    let requests = vec![
        ("bad code", client.get(url("/api/v1/areas/50023x"))),
        ("short code", client.get(url("/api/v1/areas/5002"))),
        (
            "unknown area",
            client.get(url("/api/v1/areas/500235999000")),
        ),
        ("unknown route", client.get(url("/api/v1/nothing"))),
        ("unknown root route", client.get(url("/wp-login.php"))),
        ("wrong method", client.put(url("/api/v1/areas/500235"))),
        ("bad limit", client.get(url("/api/v1/areas?limit=-1"))),
        ("bad level", client.get(url("/api/v1/areas?level=province"))),
        (
            "forged cursor",
            client.get(url("/api/v1/areas?cursor=AAAA")),
        ),
        (
            "deep tree",
            client.get(url("/api/v1/areas/500235/tree?depth=9")),
        ),
        (
            "malformed JSON",
            client
                .post(&lookup)
                .header("content-type", "application/json")
                .body("{\"codes\":"),
        ),
        (
            "wrong types",
            client.post(&lookup).json(&json!({"codes": {"a": 1}})),
        ),
        (
            "missing field",
            client.post(&lookup).json(&json!({"code": ["500235"]})),
        ),
        (
            "not JSON",
            client
                .post(&lookup)
                .header("content-type", "text/xml")
                .body("<x/>"),
        ),
        ("no content type", client.post(&lookup).body("{}")),
        (
            "too large",
            client
                .post(&lookup)
                .json(&json!({"codes": ["5".repeat(4000)]})),
        ),
    ];
    for (what, request) in requests {
        let resp = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!((400..500).contains(&status), "{what}: status {status}");
        assert!(
            content_type.starts_with("application/json"),
            "{what}: {content_type}"
        );
        let body: Value = resp.json().await.unwrap();
        let code = body["code"].as_str().unwrap_or_default();
        let entry = mobile_contract::catalogued(code)
            .unwrap_or_else(|| panic!("{what}: {code} is not in the error catalogue"));
        assert_eq!(entry.status, status, "{what}: {body}");
        assert_eq!(body["message"], entry.message_zh, "{what}");
    }
}

#[tokio::test]
async fn health_readiness_metrics_and_the_committed_openapi_document_are_served() {
    let server = TestServer::start().await;
    let (status, health) = server.get_json("/healthz").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, ready) = server.get_json("/readyz").await;
    assert_eq!(status, 200);
    assert_eq!(ready["status"], "ready");
    assert_eq!(
        ready["checks"],
        json!({"database": "ok", "cache": "ok", "storage": "ok"})
    );

    let (status, served) = server.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let committed: Value = serde_json::from_str(mobile_contract::OPENAPI_JSON).unwrap();
    assert_eq!(
        served, committed,
        "the served document is the committed contract"
    );

    let docs = server.client.get(server.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let metrics = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    let text = metrics.text().await.unwrap();
    assert!(text.contains(r#"route="/readyz""#), "{text}");
}

/// SIGTERM stops new work but lets a request already in flight finish.
#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_then_exits() {
    let mut server = TestServer::start().await;
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let body = r#"{"codes": ["500235", "500235101"]}"#;
    let (head, tail) = body.split_at(12);

    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request_head = format!(
        "POST /api/v1/areas/lookup HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
        body.len()
    );
    stream.write_all(request_head.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.log().contains("shutdown signal received"),
        "{}",
        server.log()
    );
    // The listener is closed: new work is turned away.
    assert!(tokio::net::TcpStream::connect(&address).await.is_err());

    stream.write_all(tail.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("500235101000"), "{response}");

    let status = server.wait_for_exit(Duration::from_secs(15)).await;
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        server.log()
    );
}

fn shanhuo(database: &TestDatabase) -> Command {
    let mut command = Command::new(shanhuo_binary());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", &database.url)
        // The demo's photos, outside the checkout.
        .env(
            "SHANHUO_DATA_DIR",
            std::env::temp_dir().join(format!("shanhuo-e2e-cli-{}", std::process::id())),
        )
        .env("SHANHUO_LOG", "warn");
    if let Some(schema) = &database.schema {
        command.env("SHANHUO_DATABASE_SCHEMA", schema);
    }
    command
}

fn run(command: &mut Command) -> (bool, String) {
    let output = command.output().expect("shanhuo runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[tokio::test]
async fn the_cli_migrates_up_down_and_seeds_idempotently() {
    let database = TestDatabase::empty().await;
    let (ok, out) = run(shanhuo(&database).args(["migrate", "status"]));
    assert!(ok && out.contains("pending"), "{out}");
    let (ok, out) = run(shanhuo(&database).args(["migrate", "up"]));
    assert!(
        ok && out.contains("applied") && !out.contains("pending"),
        "{out}"
    );
    let (ok, out) = run(shanhuo(&database).args(["migrate", "down"]));
    assert!(ok && out.contains("pending"), "{out}");

    let (ok, out) = run(shanhuo(&database).args(["seed", "demo"]));
    assert!(
        ok && out.contains("441 areas") && out.contains("135000 people added"),
        "{out}"
    );
    let (ok, out) = run(shanhuo(&database).args(["seed", "demo"]));
    assert!(
        ok && out.contains(" 0 areas, 0 households with 0 people added"),
        "{out}"
    );

    // A registry sheet with a mistake is refused, row and column named; fixed, it imports.
    let dir = tempfile::tempdir().unwrap();
    let sheet = dir.path().join("registry.csv");
    let header = "户编号,村代码,姓名,身份证号码,与户主关系,劳动技能,健康状况,文化程度,参加基本医疗保险,主要致贫原因,识别年度";
    let head = "E2E-1,500235101201,张三,11010119800101001X,户主,普通劳动力,健康,初中,是,因病,2016";
    std::fs::write(&sheet, format!("{header}\n{head}\n")).unwrap();
    let (ok, out) = run(shanhuo(&database)
        .args(["import", "households"])
        .arg(&sheet));
    assert!(!ok && out.contains("row 2 「身份证号码」"), "{out}");
    let fixed = head.replace("11010119800101001X", &valid_id("11010119800101001"));
    std::fs::write(&sheet, format!("{header}\n{fixed}\n")).unwrap();
    let (ok, out) = run(shanhuo(&database)
        .args(["import", "households", "--dry-run"])
        .arg(&sheet));
    assert!(ok && out.contains("dry run"), "{out}");
    let (ok, out) = run(shanhuo(&database)
        .args(["import", "households"])
        .arg(&sheet));
    assert!(
        ok && out.contains("1 households, 1 members in csv: imported"),
        "{out}"
    );
    let (ok, out) = run(shanhuo(&database).args(["audit", "verify"]));
    assert!(ok && out.contains("audit chain intact"), "{out}");
}

#[tokio::test]
async fn an_audit_row_forged_in_the_database_with_a_plain_hash_fails_audit_verify_by_name() {
    use entities::{audit_head, audit_log};
    use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryOrder};

    let database = TestDatabase::empty().await;
    let (ok, out) = run(shanhuo(&database).args(["seed", "demo", "--without-households"]));
    assert!(ok, "{out}");
    let (ok, out) = run(shanhuo(&database).args([
        "users",
        "invite",
        "--phone",
        "13800000088",
        "--name",
        "村干部",
        "--role",
        "village-cadre",
        "--area",
        "500235101201",
    ]));
    assert!(ok, "{out}");
    let (ok, out) = run(shanhuo(&database).args(["audit", "checkpoint"]));
    assert!(ok && out.contains("\"signature\""), "{out}");
    let (ok, out) = run(shanhuo(&database).args(["audit", "verify"]));
    assert!(ok && out.contains("audit chain intact: 1 entries"), "{out}");

    // Someone with SQL access appends a row the way the chain used to be linked, and moves
    // the head onto it.
    let conn = database.db.conn();
    let last = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    let mut forged = audit_log::Model {
        id: last.id + 1,
        at: last.at,
        actor_user_id: None,
        actor_ip: None,
        action: "user.role_changed".into(),
        entity: "user".into(),
        entity_id: "1".into(),
        area_code: Some("500235".into()),
        before: None,
        after: Some(r#"{"role":"admin"}"#.into()),
        prev_hash: last.hash.clone(),
        hash: String::new(),
        seq: None,
        key_id: None,
    };
    let canonical = json!([
        forged.prev_hash,
        forged.at.timestamp(),
        forged.actor_user_id,
        forged.actor_ip,
        forged.action,
        forged.entity,
        forged.entity_id,
        forged.area_code,
        forged.before,
        forged.after,
    ]);
    forged.hash = api::infra::tokens::sha256_hex(canonical.to_string().as_bytes());
    let forged = forged.into_active_model().insert(conn).await.unwrap();
    conn.execute_unprepared(&format!(
        "UPDATE audit_head SET last_id = {}, last_hash = '{}'",
        forged.id, forged.hash
    ))
    .await
    .unwrap();
    assert_eq!(
        audit_head::Entity::find_by_id(1)
            .one(conn)
            .await
            .unwrap()
            .unwrap()
            .last_id,
        forged.id
    );

    let (ok, out) = run(shanhuo(&database).args(["audit", "verify"]));
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("audit chain broken at entry id {}", forged.id)),
        "{out}"
    );
}

/// The 18-character ID number with its check character.
fn valid_id(body: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    format!("{body}{}", CHECK[(sum % 11) as usize] as char)
}

#[tokio::test]
async fn production_mode_refuses_default_secrets_sqlite_and_no_redis() {
    let database = TestDatabase::empty().await;
    let (ok, out) = run(shanhuo(&database)
        .args(["serve", "--production"])
        .env("DATABASE_URL", "sqlite://never.db?mode=rwc"));
    assert!(!ok, "{out}");
    assert!(
        out.contains("refusing to start in production mode"),
        "{out}"
    );
    assert!(
        out.contains("SHANHUO_SECRET_KEY") && out.contains("REDIS_URL"),
        "{out}"
    );
    assert!(out.contains("SQLite"), "{out}");
}

/// From a fresh sign-in: refresh, reach a protected route, sign out, and check that none of
/// the sign-in's tokens works any more. Returns the last refresh and access tokens.
async fn refresh_use_and_sign_out(server: &TestServer, login: &Value) -> (String, String) {
    let (status, refreshed) = server
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": login["refresh_token"]}),
        )
        .await;
    assert_eq!(status, 200, "{refreshed}");
    let access = refreshed["access_token"].as_str().unwrap().to_owned();
    let refresh = refreshed["refresh_token"].as_str().unwrap().to_owned();

    let (status, me) = server.send_as(Method::GET, "/api/v1/me", &access).await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], login["user"]["id"]);

    let (status, _) = server
        .send_as(Method::POST, "/api/v1/auth/logout", &access)
        .await;
    assert_eq!(status, 204);
    for old_access in [access.as_str(), login["access_token"].as_str().unwrap()] {
        let (status, _) = server.send_as(Method::GET, "/api/v1/me", old_access).await;
        assert_eq!(status, 401, "an old access token still works");
    }
    for old_refresh in [refresh.as_str(), login["refresh_token"].as_str().unwrap()] {
        let (status, _) = server
            .post_json(
                "/api/v1/auth/refresh",
                &json!({"refresh_token": old_refresh}),
            )
            .await;
        assert_eq!(status, 401, "an old refresh token still works");
    }
    let log = server.log();
    assert!(
        !log.contains(&refresh) && !log.contains(&access),
        "tokens stay out of the log"
    );
    (refresh, access)
}

/// An admin created from the command line signs in with a password, refreshes, reaches a
/// protected route and signs out for good; the audit chain checks out.
#[tokio::test]
async fn an_admin_signs_in_refreshes_and_signs_out_for_good() {
    let server = TestServer::start().await;
    let mut child = shanhuo(&server.database)
        .args([
            "users",
            "create-admin",
            "--phone",
            "13800138000",
            "--name",
            "县管理员",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "a long admin password").unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let (status, login) = server
        .post_json(
            "/api/v1/auth/login/password",
            &json!({"phone": "138 0013 8000", "password": "a long admin password"}),
        )
        .await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["user"]["role"], "admin");
    refresh_use_and_sign_out(&server, &login).await;
    assert!(
        !server.log().contains("a long admin password"),
        "no password in the log"
    );

    let (ok, out) = run(shanhuo(&server.database).args(["audit", "verify"]));
    assert!(ok && out.contains("audit chain intact: 1 entries"), "{out}");
}

/// The code a development server wrote to its log.
fn code_from_log(log: &str) -> Option<String> {
    let marker = "sign-in code ";
    let start = log.rfind(marker)? + marker.len();
    Some(log[start..start + 6].to_owned())
}

/// A new user signs in by texted code (read from the log sender), refreshes, reaches a
/// protected route and signs out; afterwards the old tokens no longer work.
#[tokio::test]
async fn a_new_user_signs_in_by_sms_code_and_signs_out_for_good() {
    let server = TestServer::start().await;
    let (status, _) = server
        .post_json("/api/v1/auth/sms/send", &json!({"phone": "13700137000"}))
        .await;
    assert_eq!(status, 202);
    let code = code_from_log(&server.log()).expect("the log sender wrote the code");

    let (status, login) = server
        .post_json(
            "/api/v1/auth/login/sms",
            &json!({"phone": "13700137000", "code": code}),
        )
        .await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["user"]["role"], "buyer");
    assert_eq!(login["user"]["phone"], "13700137000");
    refresh_use_and_sign_out(&server, &login).await;
}

/// Signs an invited official in by texted code, read from the development log.
async fn official_token(server: &TestServer, phone: &str, role: &str, area: &str) -> String {
    let (ok, out) = run(shanhuo(&server.database).args([
        "users", "invite", "--phone", phone, "--name", "干部", "--role", role, "--area", area,
    ]));
    assert!(ok, "{out}");
    let (status, _) = server
        .post_json("/api/v1/auth/sms/send", &json!({ "phone": phone }))
        .await;
    assert_eq!(status, 202);
    let code = code_from_log(&server.log()).expect("the log sender wrote the code");
    let (status, login) = server
        .post_json(
            "/api/v1/auth/login/sms",
            &json!({ "phone": phone, "code": code }),
        )
        .await;
    assert_eq!(status, 200, "{login}");
    login["access_token"].as_str().unwrap().to_owned()
}

/// Sends JSON with a bearer token; returns the status and the JSON answer.
async fn send_json(
    server: &TestServer,
    method: Method,
    path: &str,
    bearer: &str,
    body: &Value,
) -> (u16, Value) {
    let resp = server
        .client
        .request(method, server.url(path))
        .bearer_auth(bearer)
        .json(body)
        .send()
        .await
        .expect("a response");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn take_step(server: &TestServer, steps: &str, token: &str, action: &str) -> (u16, Value) {
    send_json(
        server,
        Method::POST,
        steps,
        token,
        &json!({ "action": action }),
    )
    .await
}

/// Records a household's wages for a year, as the cadre's form does.
async fn record_wages(server: &TestServer, token: &str, household: i64, year: i32, fen: i64) {
    let (status, body) = send_json(
        server,
        Method::PUT,
        &format!("/api/v1/households/{household}/incomes/{year}"),
        token,
        &json!({ "wages_fen": fen }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// Records every check of 两不愁三保障 and safe water as met for a year.
async fn pass_every_check(server: &TestServer, token: &str, household: i64, year: i32) {
    for check in [
        "food",
        "clothing",
        "education",
        "medical",
        "housing",
        "water",
    ] {
        let (status, body) = send_json(
            server,
            Method::PUT,
            &format!("/api/v1/households/{household}/checks/{year}/{check}"),
            token,
            &json!({ "passed": true, "note": "入户核实" }),
        )
        .await;
        assert_eq!(status, 200, "{check}: {body}");
    }
}

/// A village cadre proposes a household's exit; it goes through the whole procedure with the
/// right officials, the public notice ending by the clock across a restart, and the county's
/// progress moves by exactly the household's members.
#[tokio::test]
async fn a_household_exits_through_the_whole_procedure_and_the_dashboard_moves_by_its_members() {
    // A notice of about four seconds, so the test can outwait it.
    let mut server = TestServer::start_with(&[("SHANHUO_PUBLIC_NOTICE_DAYS", "0.00005")]).await;
    let village = "500235101201";
    let cadre = official_token(&server, "13900000001", "village-cadre", village).await;
    let township = official_token(&server, "13900000002", "township-official", "500235101").await;
    let county = official_token(&server, "13900000003", "county-official", "500235").await;

    let member = |name: &str, body: &str, relation: &str| {
        json!({
            "name": name, "id_number": valid_id(body), "relation": relation,
            "labour_capacity": "full", "health": "healthy", "schooling": "junior_secondary",
            "medical_insurance": true,
        })
    };
    let (status, household) = send_json(
        &server,
        Method::POST,
        "/api/v1/households",
        &cadre,
        &json!({
            "household_number": "E2E-EXIT-1", "village_code": village,
            "poverty_cause": "illness", "registered_year": 2014,
            "members": [
                member("张三", "11010119800101001", "head"),
                member("李四", "11010119820202002", "spouse"),
                member("张小五", "11010120100303003", "child"),
            ],
        }),
    )
    .await;
    assert_eq!(status, 201, "{household}");
    let id = household["id"].as_i64().unwrap();

    record_wages(&server, &cadre, id, 2016, 1_200_000).await;
    pass_every_check(&server, &cadre, id, 2016).await;
    let (_, assessment) = server
        .send_as(
            Method::GET,
            &format!("/api/v1/households/{id}/assessment?year=2016"),
            &cadre,
        )
        .await;
    assert_eq!(assessment["qualifies"], true, "{assessment}");

    let (_, before) = server
        .send_as(Method::GET, "/api/v1/progress", &county)
        .await;

    let (status, case) = send_json(
        &server,
        Method::POST,
        "/api/v1/exit-cases",
        &cadre,
        &json!({ "subject": "household", "household_id": id, "year": 2016 }),
    )
    .await;
    assert_eq!(status, 201, "{case}");
    let steps = format!("/api/v1/exit-cases/{}/steps", case["id"]);
    for action in ["appraise", "verify", "start_notice"] {
        let (status, body) = take_step(&server, &steps, &cadre, action).await;
        assert_eq!(status, 200, "{action}: {body}");
    }
    // The township cannot review while the notice runs; the answer says what may happen.
    let (status, refused) = take_step(&server, &steps, &township, "review").await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "exit.step_not_allowed");
    assert_eq!(refused["details"]["allowed"], json!(["object", "reject"]));
    let ends: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(refused["details"]["notice_ends_at"].clone()).unwrap();

    // The server restarts during the notice; the notice still ends on time.
    server.restart().await;
    let wait = (ends - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(200)).await;
    let (status, body) = take_step(&server, &steps, &cadre, "review").await;
    assert_eq!(status, 403, "a cadre does not review: {body}");
    for (token, action) in [
        (&township, "review"),
        (&county, "approve"),
        (&county, "announce"),
    ] {
        let (status, body) = take_step(&server, &steps, token, action).await;
        assert_eq!(status, 200, "{action}: {body}");
    }

    let (_, after) = server
        .send_as(Method::GET, "/api/v1/progress", &county)
        .await;
    let moved = |key: &str| {
        after["people"][key].as_i64().unwrap() - before["people"][key].as_i64().unwrap()
    };
    assert_eq!(moved("lifted_out"), 3, "{after}");
    assert_eq!(moved("still_poor"), -3, "{after}");
    assert_eq!(moved("households_exited"), 1);
    let (_, household) = server
        .send_as(Method::GET, &format!("/api/v1/households/{id}"), &county)
        .await;
    assert_eq!(household["status"], "exited");
    let (ok, out) = run(shanhuo(&server.database).args(["audit", "verify"]));
    assert!(ok, "{out}");
}

/// Scans counted in the cache reach the database when the server stops: with writes every hour
/// only the shutdown writes them, and after a restart the count carries on from there.
/// A farmer's household and a batch of theirs; answers the batch's id and code.
async fn a_farmers_batch(server: &TestServer) -> (i64, String) {
    let village = "500235101201";
    let cadre = official_token(server, "13900000001", "village-cadre", village).await;
    let (status, household) = send_json(
        server,
        Method::POST,
        "/api/v1/households",
        &cadre,
        &json!({
            "household_number": "E2E-SCAN-1", "village_code": village,
            "poverty_cause": "land", "registered_year": 2015,
            "members": [{
                "name": "王五", "id_number": valid_id("11010119750505005"), "relation": "head",
                "labour_capacity": "full", "health": "healthy", "schooling": "primary",
                "medical_insurance": true,
            }],
        }),
    )
    .await;
    assert_eq!(status, 201, "{household}");
    api::testing::account(
        &server.database.db,
        "13600000001",
        entities::user::Role::Farmer,
        household["id"].as_i64(),
        "e2e-farmer-password",
    )
    .await;
    let (status, login) = server
        .post_json(
            "/api/v1/auth/login/password",
            &json!({ "phone": "13600000001", "password": "e2e-farmer-password" }),
        )
        .await;
    assert_eq!(status, 200, "{login}");
    let farmer = login["access_token"].as_str().unwrap().to_owned();
    let (_, categories) = server.get_json("/api/v1/categories").await;
    let (status, batch) = send_json(
        server,
        Method::POST,
        "/api/v1/batches",
        &farmer,
        &json!({ "category_id": categories[0]["id"], "quantity": 100,
                 "produced_on": "2026-11-01" }),
    )
    .await;
    assert_eq!(status, 201, "{batch}");
    let code = batch["batch_code"].as_str().unwrap().to_owned();
    (batch["id"].as_i64().unwrap(), code)
}

#[tokio::test]
async fn no_scan_is_lost_across_a_restart() {
    let mut server = TestServer::start_with(&[("SHANHUO_SCAN_FLUSH_SECS", "3600")]).await;
    let (batch_id, code) = a_farmers_batch(&server).await;
    let path = format!("/api/v1/trace/{code}");
    let scans = futures_util::future::join_all((0..30).map(|_| server.get_json(&path))).await;
    assert!(scans.iter().all(|(status, _)| *status == 200));
    let mut counts: Vec<i64> = scans
        .iter()
        .map(|(_, s)| s["scan_count"].as_i64().unwrap())
        .collect();
    counts.sort();
    assert_eq!(counts, (1..=30).collect::<Vec<_>>());

    server.restart().await;
    use sea_orm::EntityTrait;
    let stored = entities::code_scan::Entity::find_by_id((batch_id, 0))
        .one(server.database.db.conn())
        .await
        .unwrap()
        .expect("the shutdown wrote the scans");
    assert_eq!(stored.scans, 30);
    let (_, next) = server.get_json(&format!("/api/v1/trace/{code}")).await;
    assert_eq!(next["scan_count"], 31, "{next}");
}

/// The server is killed (SIGKILL: no shutdown flush) in the middle of a burst of scans, three
/// times. Every scan answered before a kill is in the database after the restart, and the count
/// a buyer sees goes on from the database's.
#[tokio::test]
async fn a_server_killed_during_a_scan_burst_loses_no_answered_scan() {
    let mut server = TestServer::start_with(&[
        ("SHANHUO_SCAN_FLUSH_SECS", "1"),
        // A burst from one address, as many phones behind one rural gateway look.
        ("SHANHUO_ANONYMOUS_REQUESTS_PER_MINUTE", "0"),
    ])
    .await;
    let (batch_id, code) = a_farmers_batch(&server).await;
    let path = format!("/api/v1/trace/{code}");
    let stored = |server: &TestServer| {
        let db = server.database.db.clone();
        async move {
            use sea_orm::EntityTrait;
            entities::code_scan::Entity::find_by_id((batch_id, 0))
                .one(db.conn())
                .await
                .unwrap()
                .map_or(0, |row| row.scans)
        }
    };
    const SCANNERS: usize = 8;
    let mut answered = 0_i64;
    for kill in 1..=3 {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let scanners: Vec<_> = (0..SCANNERS)
            .map(|_| {
                let (client, url, stop) = (server.client.clone(), server.url(&path), stop.clone());
                tokio::spawn(async move {
                    let mut ok = 0_i64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        match client.get(&url).send().await {
                            Ok(resp) if resp.status() == 200 => ok += 1,
                            Ok(resp) => panic!("a scan answered {}", resp.status()),
                            Err(_) => break,
                        }
                    }
                    ok
                })
            })
            .collect();
        // Past the first flush, so some scans are written and some are pending at the kill.
        tokio::time::sleep(Duration::from_millis(1_600)).await;
        server.kill_and_restart().await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for scanner in scanners {
            answered += scanner.await.unwrap();
        }
        let in_database = stored(&server).await;
        let answered_before_kill = answered;
        // A scan journalled as the kill came may have lost only its answer.
        assert!(
            (answered..=answered + SCANNERS as i64).contains(&in_database),
            "kill {kill}: {answered} scans answered, {in_database} in the database"
        );
        let (status, next) = server.get_json(&path).await;
        assert_eq!(status, 200);
        assert_eq!(
            next["scan_count"],
            in_database + 1,
            "kill {kill}: the public count goes on from the database's"
        );
        answered = in_database + 1;
        // Within a flush interval the database holds that scan too.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(stored(&server).await, answered, "kill {kill}");
        println!(
            "kill {kill}: {answered_before_kill} scans answered, {in_database} in the database \
             ({} journalled whose answer the kill cut off), none answered and lost",
            in_database - answered_before_kill
        );
    }
    assert!(answered > 100, "the bursts scanned: {answered}");
}

/// The demo county's registry and village sheet, exported with ID numbers revealed and
/// imported by the command line into a county with no households, show the same people,
/// households and villages on the county official's dashboard, in the county and in every
/// township: exited households and de-listed villages come back exited and de-listed (on
/// record as imported), those in an exit procedure come back poor and not de-listed.
#[tokio::test]
async fn the_demo_county_exported_and_imported_into_an_empty_one_shows_the_same_dashboard() {
    let work = tempfile::tempdir().unwrap();
    // Seeded by the command line on a database no server has opened: the whole demo, goods
    // and their categories included, as `serve` loads it.
    let fresh = TestDatabase::empty().await;
    let (ok, out) = run(shanhuo(&fresh)
        .current_dir(work.path())
        .args(["seed", "demo"]));
    assert!(ok && out.contains("135000 people added"), "{out}");
    let goods = |what: &str| {
        out.lines()
            .find_map(|line| line.strip_prefix(what))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert!(goods("demo marketplace: ") > 0, "{out}");
    assert!(goods("demo traceability: ") > 0, "{out}");
    let demo = TestServer::start_on(fresh, &[]).await;
    let county = official_token(&demo, "13900000031", "county-official", "500235").await;
    let (status, before) = demo.send_as(Method::GET, "/api/v1/progress", &county).await;
    assert_eq!(status, 200, "{before}");

    // A county-sized sheet takes a while in a debug build.
    let patient = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let resp = patient
        .get(demo.url("/api/v1/households/export?format=csv&reveal=true"))
        .bearer_auth(&county)
        .send()
        .await
        .expect("the export answers");
    assert_eq!(resp.status(), 200);
    let sheet = work.path().join("registry.csv");
    std::fs::write(&sheet, resp.bytes().await.unwrap()).unwrap();
    let resp = patient
        .get(demo.url("/api/v1/villages/export?format=xlsx"))
        .bearer_auth(&county)
        .send()
        .await
        .expect("the village export answers");
    assert_eq!(resp.status(), 200);
    let village_sheet = work.path().join("villages.xlsx");
    std::fs::write(&village_sheet, resp.bytes().await.unwrap()).unwrap();

    let empty = TestServer::start().await;
    let (ok, out) = run(shanhuo(&empty.database)
        .current_dir(work.path())
        .args(["import", "households"])
        .arg(&sheet));
    assert!(ok && out.contains("imported"), "{out}");
    let (ok, villages_out) = run(shanhuo(&empty.database)
        .current_dir(work.path())
        .args(["import", "villages"])
        .arg(&village_sheet));
    assert!(ok && villages_out.contains("imported"), "{villages_out}");
    let county = official_token(&empty, "13900000032", "county-official", "500235").await;
    let (status, after) = empty
        .send_as(Method::GET, "/api/v1/progress", &county)
        .await;
    assert_eq!(status, 200, "{after}");

    let people = |progress: &Value| {
        let parts: Vec<(Value, Value)> = progress["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|part| (part["code"].clone(), part["people"].clone()))
            .collect();
        (progress["people"].clone(), parts)
    };
    println!(
        "demo county: {}; re-imported: {}",
        before["people"], after["people"]
    );
    assert!(before["people"]["households_exited"].as_u64().unwrap() > 0);
    assert_eq!(people(&after), people(&before));

    // Villages: the de-listed ones come back de-listed (on record as imported), those in their
    // procedure come back not de-listed, county-wide and in every township.
    let villages = |progress: &Value| {
        let figures = |v: &Value| {
            let n = |k: &str| v[k].as_u64().unwrap();
            (
                n("poor"),
                n("delisted"),
                n("in_progress") + n("not_started"),
            )
        };
        let mut all = vec![figures(&progress["villages"])];
        all.extend(
            progress["parts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|part| figures(&part["villages"])),
        );
        all
    };
    println!(
        "demo county villages: {}; re-imported: {}",
        before["villages"], after["villages"]
    );
    let delisted = before["villages"]["delisted"].as_u64().unwrap();
    assert!(delisted > 0);
    assert_eq!(villages(&after), villages(&before));
    assert!(
        villages_out.contains(&format!(
            "{delisted} villages de-listed (on record as imported)"
        )),
        "{villages_out}"
    );
    let in_progress = before["villages"]["in_progress"].as_u64().unwrap();
    assert!(
        villages_out.contains(&format!(
            "{in_progress} villages in an exit procedure imported as not de-listed"
        )),
        "{villages_out}"
    );
    let exited = before["people"]["households_exited"].as_u64().unwrap();
    assert!(
        out.contains(&format!(
            "{exited} households exited (on record as imported)"
        )),
        "{out}"
    );
}

/// The county's date today, as the server counts it (Beijing).
fn county_today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// Takes each step of a monitoring case in turn as the given official.
async fn monitoring_steps(server: &TestServer, case_id: i64, steps: &[(&str, &str)]) {
    let path = format!("/api/v1/monitoring-cases/{case_id}/steps");
    for (token, action) in steps {
        let (status, body) = take_step(server, &path, token, action).await;
        assert_eq!(status, 200, "{action}: {body}");
    }
}

/// Waits out a case's village notice, as its answer states it.
async fn outwait_notice(record: &Value) {
    let case = record["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["open"] == true))
        .expect("an open case");
    let ends: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(case["notice_ends_at"].clone()).expect("the notice's end");
    let wait = (ends - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(300)).await;
}

/// A household that had left poverty falls back under the monitoring line: it shows as a
/// warning, the cadre visits and identifies it through the village notice, it is helped, its
/// income recovers and its risk is eliminated through a second notice that a villager reads on
/// the public board; the county's monitoring figures move by exactly that household.
#[tokio::test]
async fn a_household_at_risk_is_warned_of_identified_helped_and_its_risk_eliminated() {
    // Village notices of about four seconds, so the test can outwait them.
    let server = TestServer::start_with(&[("SHANHUO_MONITORING_NOTICE_DAYS", "0.00005")]).await;
    let village = "500235101201";
    let year = chrono::Datelike::year(&county_today());
    let cadre = official_token(&server, "13900000011", "village-cadre", village).await;
    let township = official_token(&server, "13900000012", "township-official", "500235101").await;
    let county = official_token(&server, "13900000013", "county-official", "500235").await;

    // A household of two that left poverty in 2019, brought in from the registry's sheet.
    let sheet =
        std::env::temp_dir().join(format!("shanhuo-e2e-monitoring-{}.csv", std::process::id()));
    let member = |name: &str, body: &str, relation: &str| {
        format!(
            "E2E-MON-1,{village},{name},{},{relation},,,普通劳动力,健康,初中,是,13500135001,因病,2015,已脱贫,2019",
            valid_id(body)
        )
    };
    std::fs::write(
        &sheet,
        format!(
            "户编号,村代码,姓名,身份证号码,与户主关系,性别,出生日期,劳动技能,健康状况,文化程度,参加基本医疗保险,联系电话,主要致贫原因,识别年度,户状态,脱贫年度\n{}\n{}\n",
            member("王大山", "50023519700101001", "户主"),
            member("李秀英", "50023519720202002", "配偶"),
        ),
    )
    .unwrap();
    let (ok, out) =
        run(shanhuo(&server.database).args(["import", "households", sheet.to_str().unwrap()]));
    std::fs::remove_file(&sheet).ok();
    assert!(ok, "{out}");
    let (status, found) = server
        .send_as(Method::GET, "/api/v1/households?q=E2E-MON-1", &cadre)
        .await;
    assert_eq!(status, 200, "{found}");
    let id = found["items"][0]["id"]
        .as_i64()
        .expect("the imported household");
    assert_eq!(found["items"][0]["status"], "exited");

    let (_, before) = server
        .send_as(Method::GET, "/api/v1/monitoring-figures", &county)
        .await;

    // This year's income: 10,000 yuan for two, 5,000 each, under the 6,000 line.
    record_wages(&server, &cadre, id, year, 1_000_000).await;
    let (status, warnings) = server
        .send_as(
            Method::GET,
            &format!("/api/v1/monitoring/warnings?year={year}"),
            &cadre,
        )
        .await;
    assert_eq!(status, 200, "{warnings}");
    let warning = warnings["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["household_id"] == id)
        .unwrap_or_else(|| panic!("the household is among the warnings: {warnings}"));
    assert_eq!(warning["reasons"][0]["kind"], "income_at_or_below_line");
    assert_eq!(warning["reasons"][0]["per_capita_fen"], 500_000);

    // The cadre visits, and starts the identification.
    let visit = reqwest::multipart::Form::new()
        .text("visited_on", county_today().to_string())
        .text("findings", "户主住院，妻子照料，今年务工收入减半");
    let resp = server
        .client
        .post(server.url(&format!("/api/v1/households/{id}/visits")))
        .bearer_auth(&cadre)
        .multipart(visit)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        201,
        "{}",
        resp.text().await.unwrap()
    );
    let (status, record) = send_json(
        &server,
        Method::POST,
        "/api/v1/monitoring",
        &cadre,
        &json!({ "household_id": id, "category": "unstable_exited", "risk_types": ["illness"],
                 "channel": "warning", "year": year, "note": "收入低于监测范围" }),
    )
    .await;
    assert_eq!(status, 201, "{record}");
    let monitored = record["id"].as_i64().unwrap();
    let identification = record["cases"][0]["id"].as_i64().unwrap();
    monitoring_steps(
        &server,
        identification,
        &[
            (&cadre, "check"),
            (&cadre, "authorize"),
            (&cadre, "appraise"),
            (&cadre, "start_notice"),
        ],
    )
    .await;
    let (_, record) = server
        .send_as(
            Method::GET,
            &format!("/api/v1/monitoring/{monitored}"),
            &cadre,
        )
        .await;
    outwait_notice(&record).await;
    monitoring_steps(
        &server,
        identification,
        &[(&township, "review"), (&county, "confirm")],
    )
    .await;
    let (_, identified) = server
        .send_as(Method::GET, "/api/v1/monitoring-figures", &county)
        .await;
    assert_eq!(
        identified["monitored"],
        before["monitored"].as_u64().unwrap() + 1
    );
    assert_eq!(
        identified["identified"],
        before["identified"].as_u64().unwrap() + 1
    );

    // Helped with a public-welfare job; the record shows it with the visit.
    let (status, body) = send_json(
        &server,
        Method::POST,
        &format!("/api/v1/households/{id}/help"),
        &cadre,
        &json!({ "kind": "public_welfare_job", "given_on": county_today(),
                 "amount_fen": 600_000, "note": "村保洁员" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (_, record) = server
        .send_as(
            Method::GET,
            &format!("/api/v1/monitoring/{monitored}"),
            &cadre,
        )
        .await;
    assert_eq!(
        record["help"]["help"][0]["kind"], "public_welfare_job",
        "{record}"
    );
    assert_eq!(record["help"]["visits"].as_array().map(Vec::len), Some(1));

    // The income recovers to 8,000 each, and the guarantees and safe water hold.
    record_wages(&server, &cadre, id, year, 1_600_000).await;
    pass_every_check(&server, &cadre, id, year).await;

    // Risk elimination, with a notice a villager reads on the public board.
    let (status, record) = send_json(
        &server,
        Method::POST,
        &format!("/api/v1/monitoring/{monitored}/elimination"),
        &cadre,
        &json!({ "year": year }),
    )
    .await;
    assert_eq!(status, 201, "{record}");
    let elimination = record["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["procedure"] == "elimination")
        .expect("the elimination case")["id"]
        .as_i64()
        .unwrap();
    monitoring_steps(
        &server,
        elimination,
        &[
            (&cadre, "check"),
            (&cadre, "appraise"),
            (&cadre, "start_notice"),
        ],
    )
    .await;
    let board = server
        .client
        .get(server.url(&format!("/notices/{village}")))
        .send()
        .await
        .unwrap();
    assert_eq!(board.status().as_u16(), 200);
    let board = board.text().await.unwrap();
    assert!(board.contains("监测户风险消除"), "{board}");
    assert!(board.contains("王**"), "the head's name, masked: {board}");
    assert!(!board.contains("王大山"), "never the whole name");
    let (_, record) = server
        .send_as(
            Method::GET,
            &format!("/api/v1/monitoring/{monitored}"),
            &cadre,
        )
        .await;
    outwait_notice(&record).await;
    monitoring_steps(
        &server,
        elimination,
        &[(&township, "review"), (&county, "eliminate")],
    )
    .await;

    // The figures moved by exactly this household: monitored and out again, identified,
    // helped and eliminated once.
    let (_, after) = server
        .send_as(Method::GET, "/api/v1/monitoring-figures", &county)
        .await;
    let moved = |key: &str| after[key].as_i64().unwrap() - before[key].as_i64().unwrap();
    assert_eq!(
        [
            moved("monitored"),
            moved("identifying"),
            moved("identified"),
            moved("helped"),
            moved("eliminated"),
            moved("returned"),
        ],
        [0, 0, 1, 1, 1, 0],
        "{after}"
    );
    let (ok, out) = run(shanhuo(&server.database).args(["audit", "verify"]));
    assert!(ok, "{out}");
}

//! Traceability over HTTP: plots, batches, issued codes, and what a scan finds.

use api::{infra::trace_codes::TraceCode, testing::TestApp};
use entities::user::Role;
use serde_json::{Value, json};

use crate::support;

const VILLAGE: &str = "500235101201";

/// A farmer of a new household in `VILLAGE` makes a batch in `app`; answers its code.
pub(crate) async fn a_batch_code(app: &TestApp) -> String {
    let household = support::household_in(app, VILLAGE, 7).await;
    support::farmer_account(app, "13600000077", household).await;
    let (token, _) = support::tokens(app, "13600000077").await;
    let post = |path: &'static str, body: Value| {
        app.client
            .post(path)
            .header("authorization", format!("Bearer {token}"))
            .body_json(&body)
            .send()
    };
    let plot = support::json_of(
        post(
            "/api/v1/plots",
            json!({ "name": "屋后坡地", "area_mu": 1.25, "crop": "红薯" }),
        )
        .await,
    )
    .await;
    let category = api::service::market::catalogue::list(&app.state.db, false)
        .await
        .unwrap()[0]
        .id;
    let batch = support::json_of(
        post(
            "/api/v1/batches",
            json!({ "category_id": category, "plot_id": plot["id"], "quantity": 300,
                     "produced_on": "2026-10-20", "note": "霜降前收" }),
        )
        .await,
    )
    .await;
    batch["batch_code"]
        .as_str()
        .expect("a batch code")
        .to_owned()
}

struct Farm {
    app: TestApp,
    token: String,
    household: i64,
}

impl Farm {
    async fn open() -> Self {
        Self::open_with(|_| {}).await
    }

    async fn open_with(adjust: impl FnOnce(&mut api::config::Settings)) -> Self {
        Self::on(TestApp::spawn_with(adjust).await).await
    }

    async fn on(app: TestApp) -> Self {
        let household = support::household_in(&app, VILLAGE, 1).await;
        support::farmer_account(&app, "13600000001", household).await;
        let (token, _) = support::tokens(&app, "13600000001").await;
        Self {
            app,
            token,
            household,
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = match method {
            "POST" => self.app.client.post(path),
            _ => self.app.client.get(path),
        };
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            req = req.body_json(&body);
        }
        let resp = req.send().await;
        let status = resp.0.status().as_u16();
        let body = resp.0.into_body().into_string().await.unwrap();
        (
            status,
            serde_json::from_str(&body).unwrap_or(Value::String(body)),
        )
    }

    async fn batch(&self) -> Value {
        let (status, plot) = self
            .call(
                "POST",
                "/api/v1/plots",
                Some(&self.token),
                Some(json!({ "name": "屋后坡地", "area_mu": 1.25, "crop": "红薯" })),
            )
            .await;
        assert_eq!(status, 201, "{plot}");
        assert_eq!(plot["village_code"], VILLAGE);
        let category = api::service::market::catalogue::list(&self.app.state.db, false)
            .await
            .unwrap()[0]
            .id;
        let (status, batch) = self
            .call(
                "POST",
                "/api/v1/batches",
                Some(&self.token),
                Some(
                    json!({ "category_id": category, "plot_id": plot["id"], "quantity": 300,
                             "produced_on": "2026-10-20", "note": "霜降前收" }),
                ),
            )
            .await;
        assert_eq!(status, 201, "{batch}");
        batch
    }

    /// Issues `count` item codes for the farm's batch.
    async fn issue(&self, batch_id: i64, count: u32) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/api/v1/batches/{batch_id}/code-runs"),
            Some(&self.token),
            Some(json!({ "count": count })),
        )
        .await
    }

    /// Signs in the farmer of a second household, in `village`.
    async fn another_farmer(&self, village: &str) -> String {
        let household = support::household_in(&self.app, village, 2).await;
        support::farmer_account(&self.app, "13600000002", household).await;
        support::tokens(&self.app, "13600000002").await.0
    }

    async fn scan(&self, code: &str) -> Value {
        let (status, body) = self
            .call("GET", &format!("/api/v1/trace/{code}"), None, None)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

fn kinds(scan: &Value) -> Vec<&str> {
    scan["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn issued_codes_verify_to_their_batch_and_show_where_the_goods_come_from() {
    let farm = Farm::open().await;
    let batch = farm.batch().await;
    let batch_id = batch["id"].as_i64().unwrap();
    let code = batch["batch_code"].as_str().unwrap();
    assert_eq!(code.len(), 21);
    assert!(
        batch["batch_code_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/T/{code}"))
    );
    assert!(
        batch["batch_code_url"]
            .as_str()
            .unwrap()
            .bytes()
            .all(|b| !b.is_ascii_lowercase())
    );

    let scan = farm.scan(code).await;
    assert_eq!(scan["genuine"], true);
    assert_eq!(kinds(&scan), Vec::<&str>::new());
    let origin = &scan["provenance"];
    assert_eq!(origin["batch_id"], batch_id);
    assert_eq!(origin["item"], 0);
    assert_eq!(origin["village_code"], VILLAGE);
    assert_eq!(origin["township_code"], "500235101000");
    assert!(!origin["village_name"].as_str().unwrap().is_empty());
    assert_eq!(origin["producer"], "农*");
    assert_eq!(origin["plot_name"], "屋后坡地");
    assert_eq!(origin["plot_area_mu"], 1.25);
    assert_eq!(origin["produced_on"], "2026-10-20");
    // Nothing about the household's poverty status or identity.
    let text = scan.to_string();
    for leak in ["poor", "household_id", "id_number", "500235197001"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }

    // 2,345 item codes (three streamed chunks), downloaded as CSV, each genuine; lower case is
    // accepted too.
    let (status, run) = farm.issue(batch_id, 2345).await;
    assert_eq!(status, 201, "{run}");
    assert_eq!(
        (run["first_item"].as_i64(), run["last_item"].as_i64()),
        (Some(1), Some(2345))
    );
    let (status, csv) = farm
        .call(
            "GET",
            &format!("/api/v1/batches/{batch_id}/code-runs/{}/codes", run["id"]),
            Some(&farm.token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let csv = csv.as_str().unwrap().to_owned();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2346);
    assert_eq!(lines[0], "item,code,url");
    let items: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(items, (1..=2345).map(|i| i.to_string()).collect::<Vec<_>>());
    for line in [lines[1], lines[1000], lines[1001], lines[2345]] {
        let fields: Vec<&str> = line.split(',').collect();
        assert!(fields[2].ends_with(fields[1]));
        let scan = farm.scan(&fields[1].to_ascii_lowercase()).await;
        assert_eq!(scan["genuine"], true, "{line}");
        assert_eq!(
            scan["provenance"]["item"].as_i64(),
            Some(fields[0].parse().unwrap())
        );
    }
    // The next run continues the numbering.
    let (_, next) = farm.issue(batch_id, 5).await;
    assert_eq!(next["first_item"], 2346);
}

#[tokio::test]
async fn a_forged_code_is_refused_without_a_database_query() {
    let farm = Farm::open().await;
    let batch = farm.batch().await;
    let genuine = batch["batch_code"].as_str().unwrap().to_owned();
    let mut forged = genuine.clone().into_bytes();
    forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();

    for code in [forged.as_str(), "HELLO-WORLD", "0000000000000000000000"] {
        let before = farm.app.state.db.statements_run();
        let scan = farm.scan(code).await;
        assert_eq!(
            farm.app.state.db.statements_run(),
            before,
            "a query for {code}"
        );
        assert_eq!(scan["genuine"], false);
        assert_eq!(scan["provenance"], Value::Null);
        assert!(
            kinds(&scan) == ["forged"] || kinds(&scan) == ["unknown_key"],
            "{scan}"
        );
    }
    // The genuine one does query (and so the counter counts).
    let before = farm.app.state.db.statements_run();
    farm.scan(&genuine).await;
    assert!(farm.app.state.db.statements_run() > before);

    // Signed by this server but never issued: item 50 of a batch with no item codes, or a
    // batch that does not exist.
    for never in [
        TraceCode {
            batch_id: batch["id"].as_i64().unwrap() as u32,
            item: 50,
        },
        TraceCode {
            batch_id: 999_999,
            item: 0,
        },
    ] {
        let scan = farm.scan(&farm.app.state.trace_keys.sign(never)).await;
        assert_eq!(
            (scan["genuine"].as_bool(), kinds(&scan)),
            (Some(false), vec!["not_issued"])
        );
    }
}

#[tokio::test]
async fn revoked_and_recalled_codes_warn_and_only_their_owners_act_on_them() {
    let farm = Farm::open().await;
    let batch = farm.batch().await;
    let batch_id = batch["id"].as_i64().unwrap();
    let (_, run) = farm.issue(batch_id, 3).await;
    let item = |n: u32| {
        farm.app.state.trace_keys.sign(TraceCode {
            batch_id: batch_id as u32,
            item: n,
        })
    };
    assert_eq!(run["last_item"], 3);

    // Another farmer cannot issue, revoke or recall; a cadre of another village cannot recall.
    let stranger = farm.another_farmer("500235102201").await;
    support::official(&farm.app, "13900000002", Role::VillageCadre, "500235102201").await;
    let (cadre, _) = support::tokens(&farm.app, "13900000002").await;
    let (status, _) = farm
        .call(
            "POST",
            &format!("/api/v1/batches/{batch_id}/code-runs"),
            Some(&stranger),
            Some(json!({ "count": 1 })),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = farm
        .call(
            "POST",
            "/api/v1/trace/revocations",
            Some(&stranger),
            Some(json!({ "code": item(2), "reason": "标签丢失" })),
        )
        .await;
    assert_eq!(status, 404);
    for token in [&stranger, &cadre] {
        let (status, _) = farm
            .call(
                "POST",
                &format!("/api/v1/batches/{batch_id}/recall"),
                Some(token),
                Some(json!({ "reason": "抽检不合格" })),
            )
            .await;
        assert_eq!(status, 404);
    }

    // Scanned once (its records now remembered), then revoked: the next scan warns at once.
    assert!(kinds(&farm.scan(&item(2)).await).is_empty());
    // The farmer revokes item 2: it warns, item 1 does not.
    let (status, _) = farm
        .call(
            "POST",
            "/api/v1/trace/revocations",
            Some(&farm.token),
            Some(json!({ "code": item(2), "reason": "标签丢失" })),
        )
        .await;
    assert_eq!(status, 204);
    let scan = farm.scan(&item(2)).await;
    assert_eq!(
        (scan["genuine"].as_bool(), kinds(&scan)),
        (Some(true), vec!["revoked"])
    );
    assert_eq!(scan["warnings"][0]["reason"], "标签丢失");
    assert!(kinds(&farm.scan(&item(1)).await).is_empty());

    // The township recalls the batch: every code warns, and no more codes are issued.
    support::official(
        &farm.app,
        "13900000003",
        Role::TownshipOfficial,
        "500235101000",
    )
    .await;
    let (township, _) = support::tokens(&farm.app, "13900000003").await;
    let (status, recalled) = farm
        .call(
            "POST",
            &format!("/api/v1/batches/{batch_id}/recall"),
            Some(&township),
            Some(json!({ "reason": "抽检不合格" })),
        )
        .await;
    assert_eq!(status, 200, "{recalled}");
    assert_eq!(recalled["recall_reason"], "抽检不合格");
    for code in [item(0), item(1), item(3)] {
        let scan = farm.scan(&code).await;
        assert_eq!(kinds(&scan), vec!["recalled"], "{scan}");
    }
    assert_eq!(
        kinds(&farm.scan(&item(2)).await),
        vec!["revoked", "recalled"]
    );
    let (status, body) = farm.issue(batch_id, 1).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("trace.invalid"))
    );

    // The batch is the farmer's and the village's officials' to read, nobody else's.
    let (status, _) = farm
        .call(
            "GET",
            &format!("/api/v1/batches/{batch_id}"),
            Some(&stranger),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, read) = farm
        .call(
            "GET",
            &format!("/api/v1/batches/{batch_id}"),
            Some(&township),
            None,
        )
        .await;
    assert_eq!(
        (status, read["household_id"].as_i64()),
        (200, Some(farm.household))
    );
}

/// Many phones scanning one label at once: every scan gets its own count, and the database,
/// once written, holds exactly the number sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scan_counts_are_exact_under_concurrent_scans() {
    let farm = std::sync::Arc::new(Farm::open_with(|s| s.scan_warn_after = 1_000).await);
    let batch = farm.batch().await;
    let code = batch["batch_code"].as_str().unwrap().to_owned();
    let scan_all = |n: usize| {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (farm, code) = (farm.clone(), code.clone());
                tokio::spawn(async move { farm.scan(&code).await })
            })
            .collect();
        async move {
            let mut scans = Vec::new();
            for task in tasks {
                scans.push(task.await.unwrap());
            }
            scans
        }
    };
    let scans = scan_all(200).await;
    let mut counts: Vec<i64> = scans
        .iter()
        .map(|s| s["scan_count"].as_i64().unwrap())
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        (1..=200).collect::<Vec<_>>(),
        "each scan its own count"
    );
    let first: std::collections::HashSet<&str> = scans
        .iter()
        .map(|s| s["first_scanned_at"].as_str().unwrap())
        .collect();
    assert_eq!(first.len(), 1, "one first scan: {first:?}");

    let stored = || async {
        use sea_orm::EntityTrait;
        entities::code_scan::Entity::find_by_id((batch["id"].as_i64().unwrap(), 0))
            .one(farm.app.state.db.conn())
            .await
            .unwrap()
            .map_or(0, |row| row.scans)
    };
    farm.app
        .state
        .scans
        .flush(&farm.app.state.db)
        .await
        .unwrap();
    assert_eq!(stored().await, 200);
    scan_all(50).await;
    farm.app
        .state
        .scans
        .flush(&farm.app.state.db)
        .await
        .unwrap();
    assert_eq!(stored().await, 250);
    // Nothing pending: another write changes nothing.
    assert_eq!(
        farm.app
            .state
            .scans
            .flush(&farm.app.state.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(stored().await, 250);
}

/// The one verdict a scan answers, for each warning alone and together, and the code echoed in
/// its canonical spelling however it was typed.
#[tokio::test]
async fn the_verdict_is_the_worst_warning_of_every_combination() {
    let farm = Farm::open_with(|s| {
        s.scan_warn_after = 3;
        s.scan_warn_places = 2;
        s.trust_forwarded_for = true;
    })
    .await;
    let batch = farm.batch().await;
    let batch_id = batch["id"].as_i64().unwrap();
    farm.issue(batch_id, 6).await;
    let item = |n: u32| {
        farm.app.state.trace_keys.sign(TraceCode {
            batch_id: batch_id as u32,
            item: n,
        })
    };
    let scan_from = |code: String, ip: &'static str| {
        let req = farm
            .app
            .client
            .get(format!("/api/v1/trace/{code}"))
            .header("x-forwarded-for", ip);
        async move {
            serde_json::from_str::<Value>(
                &req.send().await.0.into_body().into_string().await.unwrap(),
            )
            .unwrap()
        }
    };
    let verdict = |scan: &Value| {
        (
            scan["verdict"].as_str().unwrap().to_owned(),
            kinds(scan).join(","),
        )
    };
    let pair = |v: &str, k: &str| (v.to_owned(), k.to_owned());

    // Typed in the label's groups, in lower case: genuine, echoed canonical.
    let one = item(1);
    let typed = api::infra::trace_codes::grouped(&one)
        .to_lowercase()
        .replace(' ', "%20");
    let scan = farm.scan(&typed).await;
    assert_eq!(verdict(&scan), pair("genuine", ""));
    assert_eq!(scan["code"], one.as_str());

    // Forged, never issued: forged, whatever else.
    let mut forged = one.clone().into_bytes();
    forged[9] = if forged[9] == b'A' { b'B' } else { b'A' };
    let scan = farm.scan(std::str::from_utf8(&forged).unwrap()).await;
    assert_eq!(verdict(&scan), pair("forged", "forged"));
    let never = farm.app.state.trace_keys.sign(TraceCode {
        batch_id: batch_id as u32,
        item: 99,
    });
    assert_eq!(
        verdict(&farm.scan(&never).await),
        pair("forged", "not_issued")
    );

    // Over-scanned alone, many places alone, both: caution.
    for _ in 0..3 {
        scan_from(item(2), "120.1.2.3").await;
    }
    assert_eq!(
        verdict(&scan_from(item(2), "120.1.2.3").await),
        pair("caution", "over_scanned")
    );
    for ip in ["120.1.2.3", "36.5.6.7"] {
        scan_from(item(3), ip).await;
    }
    assert_eq!(
        verdict(&scan_from(item(3), "58.10.11.12").await),
        pair("caution", "many_places")
    );
    assert_eq!(
        verdict(&scan_from(item(3), "61.1.1.1").await),
        pair("caution", "over_scanned,many_places")
    );

    // Revoked, alone and with over-scanning: danger.
    let revoke = |code: String| {
        farm.call(
            "POST",
            "/api/v1/trace/revocations",
            Some(&farm.token),
            Some(json!({ "code": code, "reason": "标签丢失" })),
        )
    };
    assert_eq!(revoke(item(4)).await.0, 204);
    assert_eq!(revoke(item(2)).await.0, 204);
    let scan = farm.scan(&item(4)).await;
    assert_eq!(verdict(&scan), pair("danger", "revoked"));
    assert_eq!(scan["warnings"][0]["reason"], "标签丢失");
    assert_eq!(
        verdict(&scan_from(item(2), "120.1.2.3").await),
        pair("danger", "revoked,over_scanned")
    );

    // A failed inspection: danger on every code; a later passed one clears it.
    let events = format!("/api/v1/batches/{batch_id}/events");
    let inspect = |result: &'static str, at: &'static str| {
        farm.call(
            "POST",
            &events,
            Some(&farm.token),
            Some(json!({ "kind": "inspected", "occurred_at": at, "result": result })),
        )
    };
    assert_eq!(inspect("fail", "2026-11-03T03:00:00Z").await.0, 201);
    let scan = farm.scan(&item(5)).await;
    assert_eq!(verdict(&scan), pair("danger", "failed_inspection"));
    assert_eq!(scan["warnings"][0]["since"], "2026-11-03T03:00:00+00:00");
    assert_eq!(
        verdict(&scan_from(item(3), "61.1.1.1").await),
        pair("danger", "failed_inspection,over_scanned,many_places")
    );
    assert_eq!(inspect("pass", "2026-11-04T03:00:00Z").await.0, 201);
    assert_eq!(verdict(&farm.scan(&item(5)).await), pair("genuine", ""));

    // Recalled: danger, with the revocation where there is one.
    let (status, _) = farm
        .call(
            "POST",
            &format!("/api/v1/batches/{batch_id}/recall"),
            Some(&farm.token),
            Some(json!({ "reason": "抽检不合格" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        verdict(&farm.scan(&item(6)).await),
        pair("danger", "recalled")
    );
    assert_eq!(
        verdict(&farm.scan(&item(4)).await),
        pair("danger", "revoked,recalled")
    );
}

#[tokio::test]
async fn a_label_scanned_too_often_or_from_too_many_places_warns() {
    let farm = Farm::open_with(|s| {
        s.scan_warn_after = 3;
        s.scan_warn_places = 2;
        s.trust_forwarded_for = true;
    })
    .await;
    let batch = farm.batch().await;
    let code = batch["batch_code"].as_str().unwrap();
    let scan_from = |ip: &'static str| {
        let req = farm
            .app
            .client
            .get(format!("/api/v1/trace/{code}"))
            .header("x-forwarded-for", ip);
        async move {
            serde_json::from_str::<Value>(
                &req.send().await.0.into_body().into_string().await.unwrap(),
            )
            .unwrap()
        }
    };
    // Two scans from one neighbourhood, one from another: nothing odd yet.
    for ip in ["120.1.2.3", "120.1.2.99", "36.5.6.7"] {
        assert!(kinds(&scan_from(ip).await).is_empty());
    }
    // The fourth scan is one too many; a third neighbourhood is one too many.
    let scan = scan_from("58.10.11.12").await;
    assert_eq!(kinds(&scan), vec!["over_scanned", "many_places"], "{scan}");
    assert_eq!(scan["warnings"][0]["count"], 4);
    assert_eq!(scan["warnings"][1]["count"], 3);
    assert_eq!(scan["genuine"], true);
}

#[tokio::test]
async fn a_codes_qr_code_reads_back_to_its_scan_url_at_the_printed_size() {
    let farm = Farm::open().await;
    let batch = farm.batch().await;
    let code = batch["batch_code"].as_str().unwrap();
    let url = batch["batch_code_url"].as_str().unwrap();

    let resp = farm
        .app
        .client
        .get(format!("/api/v1/trace/{code}/qr.png?module_px=4"))
        .send()
        .await;
    resp.assert_status_is_ok();
    resp.assert_content_type("image/png");
    resp.assert_header("cache-control", "public, max-age=86400");
    let png = resp.0.into_body().into_vec().await.unwrap();
    let image = image::load_from_memory(&png).unwrap().to_luma8();
    let (version, modules) = api::infra::qr::size_of(url);
    assert_eq!(version, 3, "{url}");
    assert_eq!(image.width(), (modules as u32 + 8) * 4);
    assert_eq!(api::infra::qr::decode(&image), vec![url.to_owned()]);

    let resp = farm
        .app
        .client
        .get(format!(
            "/api/v1/trace/{}/qr.svg",
            code.to_ascii_lowercase()
        ))
        .send()
        .await;
    resp.assert_status_is_ok();
    resp.assert_content_type("image/svg+xml");

    let mut forged = code.to_owned().into_bytes();
    forged[5] = if forged[5] == b'A' { b'B' } else { b'A' };
    let resp = farm
        .app
        .client
        .get(format!(
            "/api/v1/trace/{}/qr.png",
            String::from_utf8(forged).unwrap()
        ))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::NOT_FOUND);
}

/// A PDF's page count and the codes its pages print (two Courier lines each, in groups of
/// four), page by page.
fn pdf_pages(pdf: &[u8]) -> (usize, Vec<Vec<String>>) {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let text = String::from_utf8_lossy(pdf);
    let pages = text.matches("/Type /Page\n").count();
    let mut codes = Vec::new();
    let mut rest = pdf;
    while let Some(start) = find(rest, b"\nstream\n") {
        let body = &rest[start + b"\nstream\n".len()..];
        let end = find(body, b"\nendstream").expect("a stream's end");
        let content = miniz_oxide::inflate::decompress_to_vec_zlib(&body[..end]).unwrap();
        let content = String::from_utf8_lossy(&content).into_owned();
        let lines: Vec<String> = content
            .split("/C 8 Tf")
            .skip(1)
            .filter_map(|shown| {
                let (_, after) = shown.split_once('(')?;
                Some(after.split_once(')')?.0.to_owned())
            })
            .collect();
        assert!(
            lines.iter().all(|l| l.split(' ').all(|g| g.len() <= 4)),
            "{lines:?}"
        );
        codes.push(
            lines
                .chunks(2)
                .map(|two| two.concat().replace(' ', ""))
                .collect(),
        );
        rest = &body[end + b"\nendstream".len()..];
    }
    (pages, codes)
}

/// Whether a PDF's pages show ASCII `text` in the Chinese font: UTF-16BE, written as a literal
/// string with each zero byte escaped.
fn pdf_shows(pdf: &[u8], text: &str) -> bool {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let wanted: Vec<u8> = text
        .chars()
        .flat_map(|c| format!("\\000{c}").into_bytes())
        .collect();
    let mut rest = pdf;
    while let Some(start) = find(rest, b"\nstream\n") {
        let body = &rest[start + b"\nstream\n".len()..];
        let end = find(body, b"\nendstream").expect("a stream's end");
        let content = miniz_oxide::inflate::decompress_to_vec_zlib(&body[..end]).unwrap();
        if find(&content, &wanted).is_some() {
            return true;
        }
        rest = &body[end + b"\nendstream".len()..];
    }
    false
}

#[tokio::test]
async fn a_runs_label_sheet_prints_one_label_a_code_as_pdf_and_png() {
    let farm = Farm::open().await;
    let batch = farm.batch().await;
    let batch_id = batch["id"].as_i64().unwrap();
    let (_, run) = farm.issue(batch_id, 50).await;
    let run_path = format!("/api/v1/batches/{batch_id}/code-runs/{}", run["id"]);
    let (_, csv) = farm
        .call("GET", &format!("{run_path}/codes"), Some(&farm.token), None)
        .await;
    let issued: Vec<(String, String)> = csv
        .as_str()
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields[1].to_owned(), fields[2].to_owned())
        })
        .collect();
    let get = |path: String| {
        let req = farm
            .app
            .client
            .get(path)
            .header("authorization", format!("Bearer {}", farm.token));
        async move { req.send().await }
    };

    let resp = get(format!("{run_path}/labels.pdf")).await;
    resp.assert_status_is_ok();
    resp.assert_content_type("application/pdf");
    resp.assert_header("x-total-pages", "3");
    let pdf = resp.0.into_body().into_vec().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let (pages, printed) = pdf_pages(&pdf);
    assert_eq!(pages, 3);
    assert_eq!(
        printed.iter().map(Vec::len).collect::<Vec<_>>(),
        [24, 24, 2]
    );
    let printed: Vec<String> = printed.concat();
    let codes: Vec<String> = issued.iter().map(|(code, _)| code.clone()).collect();
    assert_eq!(printed, codes, "every code once, in order");
    assert!(
        String::from_utf8_lossy(&pdf).contains("/BaseFont /STSong-Light"),
        "Chinese is set in the reader's Song"
    );
    assert!(
        pdf_shows(&pdf, "/m/trace"),
        "each label says where its code can be typed"
    );

    let resp = get(format!("{run_path}/labels.pdf?from_page=2&to_page=2")).await;
    resp.assert_status_is_ok();
    let (pages, printed) = pdf_pages(&resp.0.into_body().into_vec().await.unwrap());
    assert_eq!((pages, printed.concat()), (1, codes[24..48].to_vec()));
    let resp = get(format!("{run_path}/labels.pdf?from_page=2&to_page=4")).await;
    resp.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);

    // The last page as a picture: two labels, each reading back to its own URL.
    let resp = get(format!("{run_path}/labels/3")).await;
    resp.assert_status_is_ok();
    resp.assert_content_type("image/png");
    resp.assert_header("x-total-pages", "3");
    let png = resp.0.into_body().into_vec().await.unwrap();
    let page = image::load_from_memory(&png).unwrap().to_luma8();
    let found: Vec<Vec<String>> = api::infra::labels::png_cells()
        .map(|(x, y, w, h)| {
            let cell = image::imageops::crop_imm(&page, x, y, w, h).to_image();
            api::infra::qr::decode(&cell)
        })
        .collect();
    assert_eq!(found[0], vec![issued[48].1.clone()]);
    assert_eq!(found[1], vec![issued[49].1.clone()]);
    assert!(found[2..].iter().all(Vec::is_empty));
    get(format!("{run_path}/labels/4"))
        .await
        .assert_status(poem::http::StatusCode::NOT_FOUND);

    // Another farmer's sheet is not found.
    let token = farm.another_farmer(VILLAGE).await;
    farm.app
        .client
        .get(format!("{run_path}/labels.pdf"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .assert_status(poem::http::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_photo_of_a_label_is_read_and_verified() {
    use image::{DynamicImage, GenericImage, ImageBuffer, Rgb, codecs::jpeg::JpegEncoder};
    use poem::test::{TestForm, TestFormField};

    let farm = Farm::open().await;
    let batch = farm.batch().await;
    let url = batch["batch_code_url"].as_str().unwrap();
    // The label's QR code on a parcel photographed on a table.
    let label = image::load_from_memory(&api::infra::qr::png(url, 6))
        .unwrap()
        .to_rgb8();
    let mut photo = ImageBuffer::from_fn(1600, 1200, |x, y| {
        Rgb([150 + (x % 40) as u8, 120 + (y % 30) as u8, 90])
    });
    photo.copy_from(&label, 500, 400).unwrap();
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(photo)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut jpeg, 85))
        .unwrap();
    let send = |bytes: Vec<u8>, name: &'static str, kind: &'static str| {
        let req = farm.app.client.post("/api/v1/trace/decode").multipart(
            TestForm::new().field(
                TestFormField::bytes(bytes)
                    .name("file")
                    .filename(name)
                    .content_type(kind),
            ),
        );
        async move {
            let resp = req.send().await;
            let status = resp.0.status().as_u16();
            let body: Value =
                serde_json::from_str(&resp.0.into_body().into_string().await.unwrap()).unwrap();
            (status, body)
        }
    };
    let (status, scan) = send(jpeg, "label.jpg", "image/jpeg").await;
    assert_eq!(status, 200, "{scan}");
    assert_eq!(scan["genuine"], true);
    assert_eq!(scan["code"], batch["batch_code"]);
    assert_eq!(scan["scan_count"], 1);

    // A photo with no code, and something that is not a photo, are refused with their reason.
    let mut plain = Vec::new();
    DynamicImage::ImageRgb8(ImageBuffer::from_pixel(400, 300, Rgb([200, 180, 150])))
        .write_with_encoder(JpegEncoder::new_with_quality(&mut plain, 85))
        .unwrap();
    let (status, body) = send(plain, "table.jpg", "image/jpeg").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("trace.no_code_in_photo"))
    );
    let (status, body) = send(b"hello".to_vec(), "x.jpg", "image/jpeg").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("photo.not_an_image"))
    );
}

#[tokio::test]
async fn a_phone_photo_of_several_megabytes_is_read_within_the_photo_limit() {
    use image::{DynamicImage, GenericImage, ImageBuffer, Rgb, codecs::jpeg::JpegEncoder};
    use poem::test::{TestForm, TestFormField};

    let farm = Farm::open().await;
    let batch = farm.batch().await;
    let url = batch["batch_code_url"].as_str().unwrap();
    let label = image::load_from_memory(&api::infra::qr::png(url, 16))
        .unwrap()
        .to_rgb8();
    // A grainy table top at a phone camera's 6 megapixels: several megabytes.
    let mut state = 0x2545_f491_u32;
    let mut photo = ImageBuffer::from_fn(3000, 2000, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [r, g, b, _] = state.to_le_bytes();
        Rgb([120 + r / 4, 100 + g / 4, 80 + b / 4])
    });
    photo.copy_from(&label, 1200, 700).unwrap();
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(photo)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut jpeg, 90))
        .unwrap();
    assert!(
        jpeg.len() > 2 * 1024 * 1024 && jpeg.len() < farm.app.state.settings.photo_limit_bytes,
        "{} bytes",
        jpeg.len()
    );
    let resp = farm
        .app
        .client
        .post("/api/v1/trace/decode")
        .multipart(
            TestForm::new().field(
                TestFormField::bytes(jpeg)
                    .name("file")
                    .filename("IMG_20261206.jpg")
                    .content_type("image/jpeg"),
            ),
        )
        .send()
        .await;
    let status = resp.0.status().as_u16();
    let scan: Value =
        serde_json::from_str(&resp.0.into_body().into_string().await.unwrap()).unwrap();
    assert_eq!(status, 200, "{scan}");
    assert_eq!(scan["code"], batch["batch_code"]);
}

/// GS1's EPCIS 2.0 JSON schema, from `EPCIS_JSON_SCHEMA` (which `.ci/run` sets); `None` only
/// outside CI when it is not set.
fn epcis_schema() -> Option<Value> {
    let Ok(path) = std::env::var("EPCIS_JSON_SCHEMA") else {
        eprintln!("EPCIS_JSON_SCHEMA is not set: the EPCIS export is not validated here");
        return None;
    };
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("EPCIS_JSON_SCHEMA={path} cannot be read: {e}"));
    Some(serde_json::from_str(&text).expect("the schema is JSON"))
}

#[tokio::test]
async fn a_batchs_journey_is_recorded_shown_to_buyers_and_exported_as_valid_epcis() {
    let farm = Farm::open().await;
    let potatoes = farm.batch().await;
    let category = |code: &'static str| support::category_id(&farm.app, code);
    let (status, vermicelli) = farm
        .call(
            "POST",
            "/api/v1/batches",
            Some(&farm.token),
            Some(
                json!({ "category_id": category("sweet_potato_vermicelli").await,
                         "quantity": 60, "produced_on": "2026-11-02" }),
            ),
        )
        .await;
    assert_eq!(status, 201, "{vermicelli}");
    let id = vermicelli["id"].as_i64().unwrap();
    let events_path = format!("/api/v1/batches/{id}/events");
    let record = |body: Value| farm.call("POST", &events_path, Some(&farm.token), Some(body));

    for body in [
        json!({ "kind": "processed", "occurred_at": "2026-11-02T02:00:00Z",
                "place_area_code": VILLAGE, "input_batch_ids": [potatoes["id"]],
                "details": { "method": "手工漏粉" } }),
        json!({ "kind": "inspected", "occurred_at": "2026-11-03T03:00:00Z",
                "place_text": "县农产品检测站", "result": "pass",
                "details": { "report": "NJ-2026-1103" } }),
        json!({ "kind": "packed", "occurred_at": "2026-11-04T03:00:00Z", "place_area_code": VILLAGE }),
        json!({ "kind": "shipped", "occurred_at": "2026-11-05T03:00:00Z", "place_area_code": "500235101000" }),
    ] {
        let (status, event) = record(body).await;
        assert_eq!(status, 201, "{event}");
    }
    // The rules: an inspection has a result, only processing has inputs, no future events.
    for bad in [
        json!({ "kind": "inspected", "occurred_at": "2026-11-03T03:00:00Z" }),
        json!({ "kind": "packed", "occurred_at": "2026-11-03T03:00:00Z", "input_batch_ids": [potatoes["id"]] }),
        json!({ "kind": "packed", "occurred_at": "2099-01-01T00:00:00Z" }),
        json!({ "kind": "processed", "occurred_at": "2026-11-02T02:00:00Z", "input_batch_ids": [id] }),
    ] {
        let (status, body) = record(bad.clone()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("trace.invalid")),
            "{bad}"
        );
    }

    // The buyer's scan shows the journey with the inspection's result.
    let scan = farm.scan(vermicelli["batch_code"].as_str().unwrap()).await;
    let timeline = scan["provenance"]["timeline"].as_array().unwrap();
    let kinds: Vec<&str> = timeline
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["processed", "inspected", "packed", "shipped"]);
    assert_eq!(timeline[1]["result"], "pass");
    assert_eq!(timeline[1]["place"], "县农产品检测站");
    assert!(!timeline[0]["place"].as_str().unwrap().is_empty());

    let (status, document) = farm
        .call(
            "GET",
            &format!("/api/v1/batches/{id}/epcis"),
            Some(&farm.token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{document}");
    let events = document["epcisBody"]["eventList"].as_array().unwrap();
    assert_eq!(events[0]["type"], "TransformationEvent");
    assert_eq!(
        events[0]["inputQuantityList"][0]["quantity"], 150.0,
        "300 jin is 150 kg"
    );
    assert_eq!(events[0]["inputQuantityList"][0]["uom"], "KGM");
    assert_eq!(events[0]["outputQuantityList"][0]["quantity"], 30.0);
    assert_eq!(events[1]["disposition"], "conformant");
    assert_eq!(events[3]["bizStep"], "shipping");
    if let Some(schema) = epcis_schema() {
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("GS1's schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}\n{document:#}");
        // The check can fail: a document without its event time does not validate.
        let mut broken = document.clone();
        broken["epcisBody"]["eventList"][0]
            .as_object_mut()
            .unwrap()
            .remove("eventTime");
        assert!(!validator.is_valid(&broken));
    }
}

#[tokio::test]
async fn the_scan_page_tells_the_truth_in_chinese_or_english_and_stays_small() {
    let farm = Farm::open().await;
    let batch = farm.batch().await;
    let code = batch["batch_code"].as_str().unwrap();
    let page = |path: String, lang: Option<&'static str>| {
        let mut req = farm.app.client.get(path);
        if let Some(lang) = lang {
            req = req.header("accept-language", lang);
        }
        async move {
            let resp = req.send().await;
            resp.assert_status_is_ok();
            resp.assert_content_type("text/html; charset=utf-8");
            let cache = resp.0.headers()["cache-control"]
                .to_str()
                .unwrap()
                .to_owned();
            (cache, resp.0.into_body().into_string().await.unwrap())
        }
    };

    // The QR payload's upper-case path opens the same page; Chinese by default.
    let (cache, zh) = page(format!("/T/{code}"), None).await;
    assert_eq!(cache, "private, no-cache");
    assert!(zh.contains("正品验证通过"), "{zh}");
    assert!(zh.contains("此码首次验证于"));
    assert!(zh.contains("已被验证 1 次"));
    assert!(zh.contains("农*"));
    assert!(zh.contains("屋后坡地"));
    // No script but the one that sets WeChat's share card inside WeChat.
    assert_eq!(zh.matches("<script").count(), 1, "{zh}");
    assert!(zh.contains("<script src=\"/static/wx.js?v="));
    assert!(zh.contains("<meta property=\"og:title\""));
    assert!(zh.len() < 30 * 1024, "{} bytes", zh.len());

    let (_, en) = page(format!("/t/{code}"), Some("en-US,en;q=0.9,zh;q=0.5")).await;
    assert!(en.contains("Genuine"), "{en}");
    assert!(en.contains("verified 2 times"));

    // A forged code says so plainly, and its page may be cached.
    let mut forged = code.to_owned().into_bytes();
    forged[8] = if forged[8] == b'A' { b'B' } else { b'A' };
    let (cache, bad) = page(format!("/t/{}", String::from_utf8(forged).unwrap()), None).await;
    assert_eq!(cache, "public, max-age=3600");
    assert!(
        bad.contains("验证未通过") && bad.contains("可能是假冒"),
        "{bad}"
    );
    // Nothing a user typed is echoed unescaped.
    let (_, odd) = page("/t/%3Cb%3Ehi%3C%2Fb%3E".into(), None).await;
    assert!(
        !odd.contains("<b>hi</b>") && odd.contains("&#60;B&#62;HI&#60;/B&#62;"),
        "{odd}"
    );
}

#[tokio::test]
async fn the_demo_goods_are_traceable_from_listing_to_scan() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let farm = Farm::open().await;
    for n in 2..=4 {
        support::household_in(&farm.app, "500235102201", n).await;
    }
    let state = &farm.app.state;
    let market = api::service::market::demo::seed_demo_market(&state.db, &state.photos)
        .await
        .unwrap();
    let traced =
        api::service::trace::demo::seed_demo_trace(&state.db, &state.cache, state.photos.blobs())
            .await
            .unwrap();
    assert_eq!(traced.batches, market.listings);
    // The batches the certificate rules cover carry farm inputs, and most a certificate.
    let scoped = api::service::trace::certificates::scoped_categories(state.db.conn())
        .await
        .unwrap();
    let covered = entities::listing::Entity::find()
        .all(state.db.conn())
        .await
        .unwrap()
        .iter()
        .filter(|l| scoped.contains(&l.category_id))
        .count();
    assert!(traced.inputs >= covered, "{traced:?}");
    assert!(traced.certificates <= covered, "{traced:?}");
    assert_eq!(
        entities::certificate::Entity::find()
            .count(state.db.conn())
            .await
            .unwrap() as usize,
        traced.certificates
    );
    assert_eq!(traced.events, 4 * market.listings);
    let links = entities::batch_listing::Entity::find()
        .count(state.db.conn())
        .await
        .unwrap();
    assert_eq!(
        links as usize, market.listings,
        "every listing sells a batch"
    );

    // An item code of a demo batch scans genuine with its journey and its listing.
    let batch = entities::batch::Entity::find()
        .one(state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let code = state.trace_keys.sign(TraceCode {
        batch_id: batch.id as u32,
        item: 7,
    });
    let scan = farm.scan(&code).await;
    assert_eq!(scan["genuine"], true, "{scan}");
    assert_eq!(scan["provenance"]["timeline"].as_array().unwrap().len(), 4);
    assert_eq!(scan["provenance"]["timeline"][1]["result"], "pass");
    assert_eq!(
        scan["provenance"]["listing_ids"].as_array().unwrap().len(),
        1
    );

    // Seeding again adds nothing.
    let again =
        api::service::trace::demo::seed_demo_trace(&state.db, &state.cache, state.photos.blobs())
            .await
            .unwrap();
    assert_eq!(again, api::service::trace::demo::DemoTrace::default());
}

#[tokio::test]
async fn a_new_batch_answers_the_listings_it_is_sold_by() {
    let farm = Farm::open().await;
    let farmer = api::service::policy::Actor {
        user_id: 0,
        role: Role::Farmer,
        area: None,
        household_id: Some(farm.household),
    };
    let category = support::category_id(&farm.app, "sweet_potato_vermicelli").await;
    let listing = api::service::market::listings::create(
        &farm.app.state.db,
        &farmer,
        api::service::market::listings::ListingFields {
            category_id: Some(category),
            title: Some("手工红苕粉".into()),
            price_fen: Some(1_000),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (status, batch) = farm
        .call(
            "POST",
            "/api/v1/batches",
            Some(&farm.token),
            Some(json!({ "category_id": category, "quantity": 50,
                         "produced_on": "2026-10-20", "listing_ids": [listing.id, listing.id] })),
        )
        .await;
    assert_eq!(status, 201, "{batch}");
    assert_eq!(batch["listing_ids"], json!([listing.id]), "{batch}");
    let (_, read) = farm
        .call(
            "GET",
            &format!("/api/v1/batches/{}", batch["id"]),
            Some(&farm.token),
            None,
        )
        .await;
    assert_eq!(read["listing_ids"], batch["listing_ids"]);
}

#[tokio::test]
async fn production_statistics_say_which_place_produces_what_by_month() {
    let farm = Farm::open().await;
    let batch = farm.batch().await;
    let category = batch["category_id"].as_i64().unwrap();
    let plot_id = batch["plot_id"].as_i64().unwrap();
    let (status, _) = farm
        .call(
            "POST",
            "/api/v1/batches",
            Some(&farm.token),
            Some(
                json!({ "category_id": category, "plot_id": plot_id, "quantity": 200,
                         "produced_on": "2026-10-28" }),
            ),
        )
        .await;
    assert_eq!(status, 201);
    // Last year's harvest counts for every year, not for this one.
    farm.call(
        "POST",
        "/api/v1/batches",
        Some(&farm.token),
        Some(
            json!({ "category_id": category, "plot_id": plot_id, "quantity": 90,
                     "produced_on": "2025-11-02" }),
        ),
    )
    .await;
    // A household of another township.
    let other_village = "500235102201";
    let neighbour = farm.another_farmer(other_village).await;
    let (status, _) = farm
        .call(
            "POST",
            "/api/v1/batches",
            Some(&neighbour),
            Some(json!({ "category_id": category, "quantity": 40,
                         "produced_on": "2026-09-15" })),
        )
        .await;
    assert_eq!(status, 201);

    support::official(&farm.app, "13900000003", Role::CountyOfficial, "500235").await;
    let (county, _) = support::tokens(&farm.app, "13900000003").await;
    let (status, stats) = farm
        .call(
            "GET",
            "/api/v1/production/stats?year=2026",
            Some(&county),
            None,
        )
        .await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["batches"], 3);
    assert_eq!(stats["households"], 2);
    assert_eq!(stats["plots"], 1);
    assert_eq!(stats["by_category"].as_array().unwrap().len(), 1);
    assert_eq!(stats["by_category"][0]["quantity"], 540);
    let quantities = |lines: &Value| -> Vec<(String, i64, u64)> {
        lines
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["key"].as_str().unwrap().to_owned(),
                    l["quantity"].as_i64().unwrap(),
                    l["batches"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        quantities(&stats["by_township"]),
        [
            ("500235101000".to_owned(), 500, 2),
            ("500235102000".to_owned(), 40, 1)
        ]
    );
    assert_eq!(
        quantities(&stats["by_village"]),
        [
            (VILLAGE.to_owned(), 500, 2),
            (other_village.to_owned(), 40, 1)
        ]
    );
    assert!(!stats["by_village"][0]["name"].as_str().unwrap().is_empty());
    assert_eq!(
        quantities(&stats["by_month"]),
        [
            ("2026-09".to_owned(), 40, 1),
            ("2026-10".to_owned(), 500, 2)
        ]
    );
    assert_eq!(
        quantities(&stats["by_plot"]),
        [(plot_id.to_string(), 500, 2)]
    );
    assert_eq!(stats["by_plot"][0]["name"], "屋后坡地");

    let (_, every_year) = farm
        .call("GET", "/api/v1/production/stats", Some(&county), None)
        .await;
    assert_eq!(every_year["batches"], 4);
    assert_eq!(every_year["by_category"][0]["quantity"], 630);

    // A township official sees their township; another's is refused, and farmers see none.
    support::official(
        &farm.app,
        "13900000004",
        Role::TownshipOfficial,
        "500235102000",
    )
    .await;
    let (township, _) = support::tokens(&farm.app, "13900000004").await;
    let (_, own) = farm
        .call("GET", "/api/v1/production/stats", Some(&township), None)
        .await;
    assert_eq!(
        (own["area_code"].as_str(), own["batches"].as_u64()),
        (Some("500235102000"), Some(1))
    );
    let (status, _) = farm
        .call(
            "GET",
            "/api/v1/production/stats?area_code=500235101000",
            Some(&township),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = farm
        .call("GET", "/api/v1/production/stats", Some(&farm.token), None)
        .await;
    assert_eq!(status, 403);
}

/// The cache forgets (flushed, restarted, evicted) between a revocation and the next scan, and
/// between scans: the revoked code still warns, and the count goes on from the truth.
#[tokio::test]
async fn a_revoked_code_and_a_scan_count_survive_the_cache_forgetting() {
    let farm = Farm::open().await;
    let batch = farm.batch().await;
    let batch_id = batch["id"].as_i64().unwrap();
    let (status, _) = farm.issue(batch_id, 3).await;
    assert_eq!(status, 201);
    let item = |n: u32| {
        farm.app.state.trace_keys.sign(TraceCode {
            batch_id: batch_id as u32,
            item: n,
        })
    };
    let forget = || async { farm.app.state.cache.clear().await.unwrap() };
    for n in 1..=3 {
        let scan = farm.scan(&item(2)).await;
        assert_eq!(scan["scan_count"], n);
        assert_eq!(scan["warnings"], json!([]));
    }
    let (status, _) = farm
        .call(
            "POST",
            "/api/v1/trace/revocations",
            Some(&farm.token),
            Some(json!({ "code": item(2), "reason": "标签丢失" })),
        )
        .await;
    assert_eq!(status, 204);
    forget().await;
    let scan = farm.scan(&item(2)).await;
    assert_eq!(scan["warnings"][0]["kind"], "revoked", "{scan}");
    assert_eq!(scan["scan_count"], 4, "counted on from the unwritten scans");

    farm.app
        .state
        .scans
        .flush(&farm.app.state.db)
        .await
        .unwrap();
    forget().await;
    let scan = farm.scan(&item(2)).await;
    assert_eq!(scan["scan_count"], 5, "counted on from the database");
    assert_eq!(scan["warnings"][0]["kind"], "revoked");
}

/// The places a label was scanned from stay counted when the cache forgets them, before and
/// after they are written: a copied label goes on warning.
#[tokio::test]
async fn the_places_a_code_was_scanned_from_survive_the_cache_forgetting() {
    let farm = Farm::open_with(|s| {
        s.scan_warn_places = 2;
        s.trust_forwarded_for = true;
    })
    .await;
    let batch = farm.batch().await;
    let code = batch["batch_code"].as_str().unwrap().to_owned();
    let scan_from = |ip: &'static str| {
        let req = farm
            .app
            .client
            .get(format!("/api/v1/trace/{code}"))
            .header("x-forwarded-for", ip);
        async move {
            serde_json::from_str::<Value>(
                &req.send().await.0.into_body().into_string().await.unwrap(),
            )
            .unwrap()
        }
    };
    let forget = || async { farm.app.state.cache.clear().await.unwrap() };
    for ip in ["120.1.2.3", "36.5.6.7"] {
        assert!(kinds(&scan_from(ip).await).is_empty());
    }
    // Forgotten before anything was written: the places come from this process.
    forget().await;
    let scan = scan_from("58.10.11.12").await;
    assert_eq!(kinds(&scan), vec!["many_places"], "{scan}");
    assert_eq!(scan["warnings"][0]["count"], 3);

    // Written, then forgotten: the places come from the database, and a known place is not
    // counted twice.
    farm.app
        .state
        .scans
        .flush(&farm.app.state.db)
        .await
        .unwrap();
    forget().await;
    let scan = scan_from("36.5.6.200").await;
    assert_eq!(scan["warnings"][0]["count"], 3, "{scan}");
    forget().await;
    let scan = scan_from("101.1.1.1").await;
    assert_eq!(scan["warnings"][0]["count"], 4, "{scan}");
    farm.app
        .state
        .scans
        .flush(&farm.app.state.db)
        .await
        .unwrap();
    use sea_orm::EntityTrait;
    let stored = entities::code_scan_place::Entity::find()
        .all(farm.app.state.db.conn())
        .await
        .unwrap();
    let mut places: Vec<&str> = stored.iter().map(|p| p.place.as_str()).collect();
    places.sort();
    assert_eq!(
        places,
        vec![
            "101.1.1.0/24",
            "120.1.2.0/24",
            "36.5.6.0/24",
            "58.10.11.0/24"
        ]
    );
}

/// Two runs of codes issued for one batch at once are numbered one after the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_issued_at_once_never_share_a_number() {
    let farm = std::sync::Arc::new(Farm::open().await);
    let batch_id = farm.batch().await["id"].as_i64().unwrap();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let farm = farm.clone();
            tokio::spawn(async move { farm.issue(batch_id, 50).await })
        })
        .collect();
    let mut ranges = Vec::new();
    for run in runs {
        let (status, run) = run.await.unwrap();
        assert_eq!(status, 201, "{run}");
        ranges.push((
            run["first_item"].as_i64().unwrap(),
            run["last_item"].as_i64().unwrap(),
        ));
    }
    ranges.sort();
    assert_eq!(ranges, vec![(1, 50), (51, 100), (101, 150), (151, 200)]);
}

/// Finding: a farmer recorded a plot, and a batch of 99,999 jin on it, in another village,
/// whose statistics and scan page showed it while its cadre could not see or correct it.
#[tokio::test]
async fn a_farmers_plots_lie_in_the_households_own_village_and_batches_come_from_there() {
    let farm = Farm::open().await;
    let (status, body) = farm
        .call(
            "POST",
            "/api/v1/plots",
            Some(&farm.token),
            Some(json!({ "name": "别村的地", "village_code": "500235102201",
                         "area_mu": 1.0, "crop": "红薯" })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("trace.plot_outside_village")),
        "{body}"
    );
    assert_eq!(body["message"], "地块只能登记在您家所在的村");
    let (status, plot) = farm
        .call(
            "POST",
            "/api/v1/plots",
            Some(&farm.token),
            Some(json!({ "name": "屋后坡地", "village_code": VILLAGE,
                         "area_mu": 1.0, "crop": "红薯" })),
        )
        .await;
    assert_eq!(status, 201, "{plot}");
    let category = api::service::market::catalogue::list(&farm.app.state.db, false)
        .await
        .unwrap()[0]
        .id;
    let (status, batch) = farm
        .call(
            "POST",
            "/api/v1/batches",
            Some(&farm.token),
            Some(
                json!({ "category_id": category, "plot_id": plot["id"], "quantity": 300,
                         "produced_on": "2026-10-20" }),
            ),
        )
        .await;
    assert_eq!(status, 201, "{batch}");
    assert_eq!(batch["village_code"], VILLAGE);
    // The village's cadre sees the plot.
    support::official(&farm.app, "13900000031", Role::VillageCadre, VILLAGE).await;
    let (cadre, _) = support::tokens(&farm.app, "13900000031").await;
    let (status, plots) = farm
        .call(
            "GET",
            &format!("/api/v1/households/{}/plots", farm.household),
            Some(&cadre),
            None,
        )
        .await;
    assert_eq!(status, 200, "{plots}");
    assert_eq!(plots[0]["village_code"], VILLAGE);
}

/// The test run's cache, with every call it is asked named in order.
#[derive(Debug)]
struct CallLog {
    inner: std::sync::Arc<dyn api::infra::cache::Cache>,
    calls: std::sync::Mutex<Vec<&'static str>>,
}

impl CallLog {
    fn note(&self, call: &'static str) {
        self.calls.lock().unwrap().push(call);
    }

    /// The calls since the last take, those of the anonymous rate limit (`increment`) left out.
    fn take(&self) -> Vec<&'static str> {
        let mut calls = self.calls.lock().unwrap();
        let taken = calls
            .iter()
            .copied()
            .filter(|c| *c != "increment")
            .collect();
        calls.clear();
        taken
    }
}

#[async_trait::async_trait]
impl api::infra::cache::Cache for CallLog {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, api::infra::cache::CacheError> {
        self.note("get");
        self.inner.get(key).await
    }
    async fn set(
        &self,
        key: &str,
        value: &[u8],
        ttl: std::time::Duration,
    ) -> Result<(), api::infra::cache::CacheError> {
        self.note("set");
        self.inner.set(key, value, ttl).await
    }
    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: std::time::Duration,
    ) -> Result<bool, api::infra::cache::CacheError> {
        self.note("set_if_absent");
        self.inner.set_if_absent(key, value, ttl).await
    }
    async fn delete(&self, key: &str) -> Result<bool, api::infra::cache::CacheError> {
        self.note("delete");
        self.inner.delete(key).await
    }
    async fn increment(
        &self,
        key: &str,
        by: i64,
        ttl: std::time::Duration,
    ) -> Result<i64, api::infra::cache::CacheError> {
        self.note("increment");
        self.inner.increment(key, by, ttl).await
    }
    async fn increment_existing(
        &self,
        key: &str,
        by: i64,
    ) -> Result<Option<i64>, api::infra::cache::CacheError> {
        self.note("increment_existing");
        self.inner.increment_existing(key, by).await
    }
    async fn add_to_existing_set(
        &self,
        key: &str,
        member: &str,
    ) -> Result<Option<(bool, i64)>, api::infra::cache::CacheError> {
        self.note("add_to_existing_set");
        self.inner.add_to_existing_set(key, member).await
    }
    async fn set_size(&self, key: &str) -> Result<Option<i64>, api::infra::cache::CacheError> {
        self.note("set_size");
        self.inner.set_size(key).await
    }
    async fn seed_set(
        &self,
        key: &str,
        members: &[String],
        ttl: std::time::Duration,
    ) -> Result<(), api::infra::cache::CacheError> {
        self.note("seed_set");
        self.inner.seed_set(key, members, ttl).await
    }
    async fn tally_scan(
        &self,
        keys: api::infra::cache::ScanKeys<'_>,
        place: Option<&str>,
    ) -> Result<api::infra::cache::ScanReading, api::infra::cache::CacheError> {
        self.note("tally_scan");
        self.inner.tally_scan(keys, place).await
    }
    async fn ping(&self) -> Result<(), api::infra::cache::CacheError> {
        self.inner.ping().await
    }
    async fn clear(&self) -> Result<(), api::infra::cache::CacheError> {
        self.note("clear");
        self.inner.clear().await
    }
}

#[tokio::test]
async fn a_scan_of_a_known_code_asks_the_cache_once_and_a_forged_code_never() {
    let inner: std::sync::Arc<dyn api::infra::cache::Cache> = match api::testing::test_redis().await
    {
        Some(redis) => redis,
        None => std::sync::Arc::new(api::infra::cache::MemoryCache::new(10_000)),
    };
    scans_ask_the_cache_once(inner).await;
}

/// On a Redis Cluster (`TEST_REDIS_CLUSTER_URL`) a scan is one call too: its keys share a slot.
#[tokio::test]
async fn on_a_redis_cluster_a_scan_asks_the_cache_once() {
    if let Some(cluster) = api::testing::test_redis_cluster().await {
        assert_eq!(cluster.kind(), "redis-cluster");
        scans_ask_the_cache_once(cluster).await;
    }
}

async fn scans_ask_the_cache_once(inner: std::sync::Arc<dyn api::infra::cache::Cache>) {
    let log = std::sync::Arc::new(CallLog {
        inner,
        calls: Default::default(),
    });
    let farm =
        Farm::on(TestApp::spawn_with_cache(|s| s.trust_forwarded_for = true, log.clone()).await)
            .await;
    let batch = farm.batch().await;
    let code = batch["batch_code"].as_str().unwrap().to_owned();
    let scan_from = |ip: &'static str| {
        let req = farm
            .app
            .client
            .get(format!("/api/v1/trace/{code}"))
            .header("x-forwarded-for", ip);
        async move {
            let resp = req.send().await;
            resp.assert_status_is_ok();
            support::json_of(resp).await
        }
    };
    // The first scan reads the records and seeds what the cache does not hold yet.
    let first = scan_from("120.1.2.3").await;
    assert_eq!(first["scan_count"], 1, "{first}");
    log.take();

    for (n, ip) in [(2, "120.1.2.3"), (3, "36.5.6.7"), (4, "58.10.11.12")] {
        let scan = scan_from(ip).await;
        assert_eq!(scan["scan_count"], n, "{scan}");
        assert_eq!(log.take(), vec!["tally_scan"], "scan {n}");
    }
    // A change to the batch moves its version: the same one call sees it.
    let (status, _) = farm.issue(batch["id"].as_i64().unwrap(), 2).await;
    assert_eq!(status, 201);
    log.take();
    let scan = scan_from("120.1.2.3").await;
    assert_eq!(scan["scan_count"], 5, "{scan}");
    assert_eq!(log.take(), vec!["tally_scan"]);

    let mut forged = code.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let resp = farm
        .app
        .client
        .get(format!("/api/v1/trace/{forged}"))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(
        log.take(),
        Vec::<&str>::new(),
        "a forged code touches nothing"
    );
}

//! Farm inputs and compliance certificates (承诺达标合格证) over HTTP: the interval rule, the
//! listing that waits for its certificate, the mixed batch, keeping, printing, the EPCIS export
//! and the officials' figures.

use api::testing::TestApp;
use chrono::{TimeZone, Utc};
use entities::{listing::ListingStatus, user::Role};
use poem::test::{TestForm, TestFormField};
use serde_json::{Value, json};

use crate::support;

const VILLAGE: &str = "500235101201";

struct Farm {
    app: TestApp,
    token: String,
}

impl Farm {
    /// A farmer of a new household in `VILLAGE`, in an app whose county date is 2026-12-02
    /// (07:30 in Beijing, still 1 December in UTC).
    async fn open() -> Self {
        let app = TestApp::spawn_at(Utc.with_ymd_and_hms(2026, 12, 1, 23, 30, 0).unwrap()).await;
        let household = support::household_in(&app, VILLAGE, 1).await;
        support::farmer_account(&app, "13600000001", household).await;
        let (token, _) = support::tokens(&app, "13600000001").await;
        Self { app, token }
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
            "PATCH" => self.app.client.patch(path),
            "DELETE" => self.app.client.delete(path),
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
        let body = resp.0.into_body().into_string().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&body).unwrap_or(Value::String(body)),
        )
    }

    async fn listing_status(&self, id: i64) -> ListingStatus {
        use sea_orm::EntityTrait;
        entities::listing::Entity::find_by_id(id)
            .one(self.app.state.db.conn())
            .await
            .unwrap()
            .unwrap()
            .status
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(&self.token), Some(body)).await
    }

    async fn category(&self, code: &str) -> i64 {
        support::category_id(&self.app, code).await
    }

    async fn plot_of(&self, code: &str) -> i64 {
        let category = self.category(code).await;
        let (status, plot) = self
            .post(
                "/api/v1/plots",
                json!({ "name": "橘子坡", "area_mu": 2.0, "crop_category_ids": [category] }),
            )
            .await;
        assert_eq!(status, 201, "{plot}");
        plot["id"].as_i64().unwrap()
    }

    async fn batch(
        &self,
        code: &str,
        plot: Option<i64>,
        produced_on: &str,
        listings: &[i64],
    ) -> i64 {
        let category = self.category(code).await;
        let (status, batch) = self
            .post(
                "/api/v1/batches",
                json!({ "category_id": category, "plot_id": plot, "quantity": 300,
                        "produced_on": produced_on, "listing_ids": listings }),
            )
            .await;
        assert_eq!(status, 201, "{batch}");
        batch["id"].as_i64().unwrap()
    }

    /// Issues a certificate on the farmer's own promise; answers status and body.
    async fn certify(&self, batch: i64) -> (u16, Value) {
        self.certify_with(batch, "own_promise", None).await
    }

    async fn certify_with(
        &self,
        batch: i64,
        basis: &str,
        report: Option<(&[u8], &str)>,
    ) -> (u16, Value) {
        let mut form = TestForm::new().text("basis", basis.to_owned());
        if let Some((bytes, kind)) = report {
            form = form.field(
                TestFormField::bytes(bytes.to_vec())
                    .name("report")
                    .filename("report")
                    .content_type(kind),
            );
        }
        let resp = self
            .app
            .client
            .post(format!("/api/v1/batches/{batch}/certificates"))
            .header("authorization", format!("Bearer {}", self.token))
            .multipart(form)
            .send()
            .await;
        let status = resp.0.status().as_u16();
        let body = resp.0.into_body().into_string().await.unwrap();
        (
            status,
            serde_json::from_str(&body).unwrap_or(Value::String(body)),
        )
    }
}

fn reason(body: &Value) -> Option<&str> {
    body["details"]["reason_code"].as_str()
}

#[tokio::test]
async fn an_egg_batch_without_a_certificate_keeps_its_listing_off_sale() {
    let farm = Farm::open().await;
    let eggs = farm.category("free_range_eggs").await;
    let (status, listing) = farm
        .post(
            "/api/v1/listings",
            json!({ "category_id": eggs, "title": "土鸡蛋 30 个", "price_fen": 6000, "stock": 20 }),
        )
        .await;
    assert_eq!(status, 201, "{listing}");
    let listing_path = format!("/api/v1/listings/{}", listing["id"]);
    let batch = farm
        .batch(
            "free_range_eggs",
            None,
            "2026-12-01",
            &[listing["id"].as_i64().unwrap()],
        )
        .await;

    let (status, refused) = farm
        .call(
            "PATCH",
            &listing_path,
            Some(&farm.token),
            Some(json!({ "status": "on_sale" })),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(reason(&refused), Some("listing.needs_certificate"));
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains(&batch.to_string())
    );
    let listing_id = listing["id"].as_i64().unwrap();
    assert_eq!(farm.listing_status(listing_id).await, ListingStatus::Draft);

    let (status, certificate) = farm.certify(batch).await;
    assert_eq!(status, 201, "{certificate}");
    assert_eq!(certificate["product_name"], "土鸡蛋");
    assert_eq!(certificate["issued_on"], "2026-12-02", "the county's date");
    assert_eq!(certificate["basis"], "own_promise");
    assert!(
        certificate["promise"]
            .as_str()
            .unwrap()
            .contains("不使用禁用农药兽药")
    );
    let (status, on_sale) = farm
        .call(
            "PATCH",
            &listing_path,
            Some(&farm.token),
            Some(json!({ "status": "on_sale" })),
        )
        .await;
    assert_eq!(
        (status, on_sale["status"].as_str()),
        (200, Some("on_sale")),
        "{on_sale}"
    );

    // Withdrawn, the certificate takes the goods off the shelf; buyers read why.
    let (status, withdrawn) = farm
        .post(
            &format!("/api/v1/certificates/{}/withdrawal", certificate["id"]),
            json!({ "reason": "鸡群用了药，这批蛋不卖了" }),
        )
        .await;
    assert_eq!(status, 200, "{withdrawn}");
    assert_eq!(
        farm.listing_status(listing_id).await,
        ListingStatus::OffShelf
    );
    let (status, public) = farm
        .call(
            "GET",
            &format!("/api/v1/certificates/{}", certificate["id"]),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        public["certificate"]["withdraw_reason"],
        "鸡群用了药，这批蛋不卖了"
    );
}

#[tokio::test]
async fn a_harvest_inside_a_pesticides_interval_is_refused_until_the_first_day_after_it() {
    let farm = Farm::open().await;
    let plot = farm.plot_of("red_tangerine").await;
    // A registration number not in the official form is refused, saying where to find it.
    let (status, refused) = farm
        .post(
            "/api/v1/farm-inputs",
            json!({ "kind": "pesticide", "plot_id": plot, "product_name": "吡虫啉",
                    "registration_no": "吡虫啉一号", "dose": "每亩 30 毫升", "method": "喷雾",
                    "applied_on": "2026-11-20", "interval_days": 12 }),
        )
        .await;
    assert_eq!(
        (status, reason(&refused)),
        (422, Some("input.pesticide_registration_no"))
    );
    let (status, input) = farm
        .post(
            "/api/v1/farm-inputs",
            json!({ "kind": "pesticide", "plot_id": plot, "product_name": "吡虫啉",
                    "registration_no": "pd2008 0001", "active_ingredient": "吡虫啉 10%",
                    "dose": "每亩 30 毫升", "method": "喷雾",
                    "applied_on": "2026-11-20", "interval_days": 12 }),
        )
        .await;
    assert_eq!(status, 201, "{input}");
    assert_eq!(input["registration_no"], "PD20080001");
    assert_eq!(input["allowed_from"], "2026-12-02");

    let early = farm
        .batch("red_tangerine", Some(plot), "2026-12-01", &[])
        .await;
    let (status, refused) = farm.certify(early).await;
    assert_eq!(
        (status, reason(&refused)),
        (422, Some("certificate.inside_interval")),
        "{refused}"
    );
    assert!(
        refused["message"].as_str().unwrap().contains("2026-12-02"),
        "{refused}"
    );

    // 2 December is today in the county (still 1 December in UTC): the first day allowed.
    let on_time = farm
        .batch("red_tangerine", Some(plot), "2026-12-02", &[])
        .await;
    let (status, certificate) = farm.certify(on_time).await;
    assert_eq!(status, 201, "{certificate}");
    let (_, detail) = farm
        .call(
            "GET",
            &format!("/api/v1/certificates/{}", certificate["id"]),
            None,
            None,
        )
        .await;
    assert_eq!(detail["inputs"][0]["input"]["product_name"], "吡虫啉");
    assert_eq!(detail["inputs"][0]["interval_respected"], true);
}

#[tokio::test]
async fn a_mixed_batch_needs_its_own_certificate_naming_its_inputs() {
    let farm = Farm::open().await;
    let first = farm.batch("free_range_eggs", None, "2026-11-28", &[]).await;
    let second = farm.batch("free_range_eggs", None, "2026-11-29", &[]).await;
    let mixed = farm.batch("free_range_eggs", None, "2026-11-30", &[]).await;
    let (status, event) = farm
        .post(
            &format!("/api/v1/batches/{mixed}/events"),
            json!({ "kind": "processed", "occurred_at": "2026-11-30T02:00:00Z",
                    "input_batch_ids": [first, second], "details": { "method": "混装" } }),
        )
        .await;
    assert_eq!(status, 201, "{event}");
    let (status, first_certificate) = farm.certify(first).await;
    assert_eq!(status, 201);

    let (status, refused) = farm.certify(mixed).await;
    assert_eq!(
        (status, reason(&refused)),
        (422, Some("certificate.input_uncertified"))
    );
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains(&second.to_string())
    );

    let (_, second_certificate) = farm.certify(second).await;
    let (status, certificate) = farm.certify(mixed).await;
    assert_eq!(status, 201, "{certificate}");
    assert_eq!(
        certificate["input_certificate_ids"],
        json!([first_certificate["id"], second_certificate["id"]])
    );
    // Its inputs' certificates do not stand for it: it has its own.
    assert_ne!(certificate["id"], first_certificate["id"]);
    let (status, again) = farm.certify(mixed).await;
    assert_eq!(
        (status, reason(&again)),
        (422, Some("certificate.already_issued"))
    );
}

#[tokio::test]
async fn a_withdrawal_sent_again_with_its_key_answers_the_certificate_withdrawn_once() {
    use entities::audit_log;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    let farm = Farm::open().await;
    let batch = farm.batch("black_fungus", None, "2026-12-01", &[]).await;
    let (status, certificate) = farm.certify(batch).await;
    assert_eq!(status, 201, "{certificate}");
    let path = format!("/api/v1/certificates/{}/withdrawal", certificate["id"]);
    let withdraw = |key: &'static str, reason: &'static str| {
        let req = farm
            .app
            .client
            .post(path.as_str())
            .header("authorization", format!("Bearer {}", farm.token))
            .header("idempotency-key", key)
            .body_json(&json!({ "reason": reason }));
        async move {
            let resp = req.send().await;
            let status = resp.0.status().as_u16();
            (
                status,
                resp.0.into_body().into_json::<Value>().await.unwrap(),
            )
        }
    };
    let withdrawals = || async {
        audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("certificate.withdrawn"))
            .count(farm.app.state.db.conn())
            .await
            .unwrap()
    };
    let first = withdraw("withdraw-1", "抽检不合格").await;
    assert_eq!(first.0, 200, "{first:?}");
    assert_eq!(withdraw("withdraw-1", "抽检不合格").await, first);
    assert_eq!(withdrawals().await, 1);
    let (status, refused) = withdraw("withdraw-1", "另一个原因").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("request.idempotency_key_reused"))
    );
    assert_eq!(withdrawals().await, 1);
}

#[tokio::test]
async fn a_certificate_cannot_be_deleted_inside_its_keeping_time() {
    let farm = Farm::open().await;
    let batch = farm.batch("black_fungus", None, "2026-12-01", &[]).await;
    // A test as the basis needs its report.
    let (status, refused) = farm.certify_with(batch, "own_test", None).await;
    assert_eq!(
        (status, reason(&refused)),
        (422, Some("certificate.needs_report"))
    );
    let pdf = b"%PDF-1.4\n% a test report\n";
    let (status, certificate) = farm
        .certify_with(batch, "own_test", Some((pdf, "application/pdf")))
        .await;
    assert_eq!(status, 201, "{certificate}");
    assert_eq!(
        certificate["keep_until"], "2027-06-02",
        "six months after it was issued"
    );
    let report = farm
        .app
        .client
        .get(format!("/api/v1/certificates/{}/report", certificate["id"]))
        .send()
        .await;
    report.assert_status_is_ok();
    assert_eq!(report.0.into_body().into_vec().await.unwrap(), pdf.to_vec());

    let path = format!("/api/v1/certificates/{}", certificate["id"]);
    let (status, refused) = farm.call("DELETE", &path, Some(&farm.token), None).await;
    assert_eq!(
        (status, reason(&refused)),
        (422, Some("certificate.retained"))
    );
    assert!(refused["message"].as_str().unwrap().contains("2027-06-02"));
    let (status, _) = farm.call("GET", &path, None, None).await;
    assert_eq!(status, 200, "still there");

    // Once its keeping time has passed, it may go.
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
    let stored = entities::certificate::Entity::find_by_id(certificate["id"].as_i64().unwrap())
        .one(farm.app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut old = stored.into_active_model();
    old.keep_until = Set(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    old.update(farm.app.state.db.conn()).await.unwrap();
    let (status, _) = farm.call("DELETE", &path, Some(&farm.token), None).await;
    assert_eq!(status, 204);
    let (status, _) = farm.call("GET", &path, None, None).await;
    assert_eq!(status, 404);
}

/// A co-operative keeps the record of what it issued for two years, as an enterprise does.
#[tokio::test]
async fn a_certificate_a_cooperative_issued_is_kept_two_years() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let farm = Farm::open().await;
    let member = farm.batch("free_range_eggs", None, "2026-12-01", &[]).await;
    let own_household = support::household_in(&farm.app, VILLAGE, 2).await;
    let manager = support::farmer_account(&farm.app, "13600000002", own_household).await;
    let now = Utc::now();
    let cooperative = entities::cooperative::ActiveModel {
        name: Set("示范蛋鸡合作社".into()),
        area_code: Set(VILLAGE[..9].into()),
        manager_user_id: Set(manager.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(farm.app.state.db.conn())
    .await
    .unwrap();
    let household_of_member = {
        use sea_orm::EntityTrait;
        entities::batch::Entity::find_by_id(member)
            .one(farm.app.state.db.conn())
            .await
            .unwrap()
            .unwrap()
            .household_id
    };
    entities::cooperative_member::ActiveModel {
        cooperative_id: Set(cooperative.id),
        household_id: Set(household_of_member),
        created_at: Set(now),
    }
    .insert(farm.app.state.db.conn())
    .await
    .unwrap();
    let (token, _) = support::tokens(&farm.app, "13600000002").await;
    let resp = farm
        .app
        .client
        .post(format!("/api/v1/batches/{member}/certificates"))
        .header("authorization", format!("Bearer {token}"))
        .multipart(TestForm::new().text("basis", "quality_control"))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::CREATED);
    let certificate = resp.json().await;
    let certificate = certificate.value();
    certificate
        .object()
        .get("issuer_name")
        .assert_string("示范蛋鸡合作社");
    certificate
        .object()
        .get("keep_until")
        .assert_string("2028-12-02");
}

#[tokio::test]
async fn the_certificate_label_carries_a_qr_code_that_opens_the_certificate_page() {
    let farm = Farm::open().await;
    let batch = farm.batch("free_range_eggs", None, "2026-12-01", &[]).await;
    let (_, certificate) = farm.certify(batch).await;
    let id = certificate["id"].as_i64().unwrap();
    for size in ["60x40", "70x50", "100x70"] {
        let png = farm
            .app
            .client
            .get(format!("/api/v1/certificates/{id}/label.png?size={size}"))
            .send()
            .await;
        png.assert_status_is_ok();
        let bytes = png.0.into_body().into_vec().await.unwrap();
        let image = image::load_from_memory(&bytes).unwrap().to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(image);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "{size}");
        let (_, url) = grids[0].decode().unwrap();
        assert_eq!(url, certificate["page_url"].as_str().unwrap(), "{size}");
        assert!(url.ends_with(&format!("/m/certificates/{id}")));
    }
    let pdf = farm
        .app
        .client
        .get(format!("/api/v1/certificates/{id}/label.pdf"))
        .send()
        .await;
    pdf.assert_status_is_ok();
    assert!(
        pdf.0
            .into_body()
            .into_vec()
            .await
            .unwrap()
            .starts_with(b"%PDF-")
    );
    // The page the code opens, without signing in.
    let page = farm
        .app
        .client
        .get(format!("/m/certificates/{id}"))
        .send()
        .await;
    page.assert_status_is_ok();
    let html = page.0.into_body().into_string().await.unwrap();
    assert!(
        html.contains("承诺达标合格证") && html.contains("土鸡蛋"),
        "{html}"
    );
}

/// GS1's EPCIS 2.0 JSON schema, from `EPCIS_JSON_SCHEMA` or the shared copy beside the
/// workspace; `None` when neither is there.
fn epcis_schema() -> Option<Value> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = std::env::var("EPCIS_JSON_SCHEMA")
        .ok()
        .map(std::path::PathBuf::from)
        .or_else(|| {
            root.ancestors()
                .map(|a| a.join("shared/epcis/EPCIS-JSON-Schema.json"))
                .find(|p| p.exists())
        })?;
    let text = std::fs::read_to_string(&path).expect("the schema reads");
    Some(serde_json::from_str(&text).expect("the schema is JSON"))
}

#[tokio::test]
async fn the_epcis_export_carries_the_certificate_and_validates_against_gs1s_schema() {
    let farm = Farm::open().await;
    let plot = farm.plot_of("red_tangerine").await;
    let batch = farm
        .batch("red_tangerine", Some(plot), "2026-12-01", &[])
        .await;
    for body in [
        json!({ "kind": "harvested", "occurred_at": "2026-12-01T01:00:00Z", "place_area_code": VILLAGE }),
        json!({ "kind": "packed", "occurred_at": "2026-12-01T05:00:00Z", "place_area_code": VILLAGE }),
    ] {
        let (status, event) = farm
            .post(&format!("/api/v1/batches/{batch}/events"), body)
            .await;
        assert_eq!(status, 201, "{event}");
    }
    let (_, certificate) = farm.certify(batch).await;
    let (status, document) = farm
        .call(
            "GET",
            &format!("/api/v1/batches/{batch}/epcis"),
            Some(&farm.token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let events = document["epcisBody"]["eventList"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    for event in events {
        assert_eq!(event["certificationInfo"], certificate["page_url"]);
    }
    let schema = epcis_schema().expect("GS1's EPCIS schema is at hand");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("GS1's schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{document:#}");
    // The check can fail: certification that is no URI does not validate.
    let mut broken = document.clone();
    broken["epcisBody"]["eventList"][0]["certificationInfo"] = json!(12);
    assert!(!validator.is_valid(&broken));
}

#[tokio::test]
async fn officials_see_the_certificate_figures_of_their_own_area_only() {
    let farm = Farm::open().await;
    let plot = farm.plot_of("red_tangerine").await;
    let (status, _) = farm
        .post(
            "/api/v1/farm-inputs",
            json!({ "kind": "pesticide", "plot_id": plot, "product_name": "阿维菌素",
                    "registration_no": "PD20070001", "dose": "每亩 20 毫升", "method": "喷雾",
                    "applied_on": "2026-11-28", "interval_days": 14 }),
        )
        .await;
    assert_eq!(status, 201);
    let certified = farm.batch("free_range_eggs", None, "2026-12-01", &[]).await;
    farm.batch("free_range_eggs", None, "2026-12-02", &[]).await;
    let withdrawn = farm.batch("black_fungus", None, "2026-12-01", &[]).await;
    farm.certify(certified).await;
    let (_, c) = farm.certify(withdrawn).await;
    farm.post(
        &format!("/api/v1/certificates/{}/withdrawal", c["id"]),
        json!({ "reason": "标签印错了" }),
    )
    .await;

    support::official(
        &farm.app,
        "13900000011",
        Role::TownshipOfficial,
        "500235101000",
    )
    .await;
    let (township, _) = support::tokens(&farm.app, "13900000011").await;
    let (status, sheet) = farm
        .call("GET", "/api/v1/certificate-figures", Some(&township), None)
        .await;
    assert_eq!(status, 200, "{sheet}");
    let village = sheet["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["area_code"] == VILLAGE)
        .expect("the village is counted");
    assert_eq!(village["batches_in_scope"], 3);
    assert_eq!(village["certified"], 1);
    assert_eq!(village["uncertified"], 2);
    assert_eq!(village["withdrawn"], 1);
    assert_eq!(village["inputs_inside_interval"], 1);
    assert_eq!(sheet["townships"][0]["area_code"], "500235101000");
    assert_eq!(sheet["townships"][0]["uncertified"], 2);

    // Another township's official sees none of it, and cannot ask for it.
    support::official(
        &farm.app,
        "13900000012",
        Role::TownshipOfficial,
        "500235102000",
    )
    .await;
    let (other, _) = support::tokens(&farm.app, "13900000012").await;
    let (status, theirs) = farm
        .call("GET", "/api/v1/certificate-figures", Some(&other), None)
        .await;
    assert_eq!(status, 200);
    assert!(
        theirs["villages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["area_code"] != VILLAGE)
    );
    let (status, _) = farm
        .call(
            "GET",
            &format!("/api/v1/certificate-figures?area_code={VILLAGE}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(status, 404);
    // A farmer is no official.
    let (status, _) = farm
        .call(
            "GET",
            "/api/v1/certificate-figures",
            Some(&farm.token),
            None,
        )
        .await;
    assert_eq!(status, 403);
}

//! A creation sent twice with its key happens once: every create POST of the API with its
//! `Idempotency-Key`, every page form that creates with its hidden `key`, also when the two
//! copies race; the same key with another request is refused. And a plot's crops: a batch
//! from a plot is one of them.

use api::{
    infra::trace_codes::TraceCode,
    service::{auth::actor_of, policy::Actor, trace::production},
    testing::TestApp,
};
use chrono::NaiveDate;
use entities::{
    batch, idempotency_key, listing, listing_photo, plot, revoked_code, trace_code_run, trace_event,
};
use poem::http::StatusCode;
use poem::test::{TestForm, TestFormField};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::page_snapshots::{Page, cookie_for, open, post};
use crate::support;

const VILLAGE: &str = "500235101201";
const FARMER: &str = "13611112222";

struct Farm {
    app: TestApp,
    token: String,
    cookie: String,
    actor: Actor,
}

impl Farm {
    async fn open() -> Self {
        let app = TestApp::spawn().await;
        let household = support::household_in(&app, VILLAGE, 1).await;
        let user = support::farmer_account(&app, FARMER, household).await;
        let (token, _) = support::tokens(&app, FARMER).await;
        let cookie = cookie_for(&app, FARMER).await;
        Self {
            app,
            token,
            cookie,
            actor: actor_of(&user),
        }
    }

    /// `POST path` with the body and, if given, the key.
    async fn post(&self, path: &str, key: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self
            .app
            .client
            .post(path)
            .header("authorization", format!("Bearer {}", self.token))
            .body_json(&body);
        if let Some(key) = key {
            req = req.header("idempotency-key", key);
        }
        let resp = req.send().await;
        let status = resp.0.status().as_u16();
        let body = resp.0.into_body().into_string().await.unwrap();
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// The same request twice with one key: both answers alike.
    async fn twice(&self, path: &str, key: &str, body: Value) -> Value {
        let first = self.post(path, Some(key), body.clone()).await;
        let again = self.post(path, Some(key), body).await;
        assert!((200..300).contains(&first.0), "{path}: {first:?}");
        assert_eq!(
            first, again,
            "{path}: the replay answers what the first made"
        );
        first.1
    }

    async fn count<E: EntityTrait>(&self) -> u64
    where
        E::Model: Sync,
    {
        E::find().count(self.app.state.db.conn()).await.unwrap()
    }

    async fn csrf(&self, path: &str) -> String {
        let page = open(&self.app, path, Some(&self.cookie), "zh").await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        csrf_of(&page)
    }

    async fn form(&self, path: &str, form: &[(&str, &str)]) -> Page {
        post(&self.app, path, Some(&self.cookie), form).await
    }

    /// A page's form sent twice with its key: both times on to what the first one made.
    async fn form_twice(&self, path: &str, form: &[(&str, &str)]) {
        let first = self.form(path, form).await;
        let again = self.form(path, form).await;
        for sent in [&first, &again] {
            assert_eq!(sent.status, StatusCode::SEE_OTHER, "{path}: {}", sent.html);
        }
    }

    /// A page's upload form sent twice with its key: both times on to what the first made.
    async fn upload_twice(&self, path: &str, form: impl Fn() -> TestForm) {
        for _ in 0..2 {
            let sent = self.upload(path, form()).await;
            assert_eq!(sent.status, StatusCode::SEE_OTHER, "{path}: {}", sent.html);
        }
    }

    async fn upload(&self, path: &str, form: TestForm) -> Page {
        let resp = self
            .app
            .client
            .post(path)
            .header("cookie", &self.cookie)
            .header("accept-language", "zh")
            .multipart(form)
            .send()
            .await;
        crate::page_snapshots::page_of(resp).await
    }
}

fn csrf_of(page: &Page) -> String {
    let start = page.html.find("name=\"csrf\" value=\"").expect("a form") + 19;
    page.html[start..]
        .split('"')
        .next()
        .expect("a token")
        .to_owned()
}

/// The keys of a page's forms, in order.
fn keys_of(page: &Page) -> Vec<String> {
    page.html
        .match_indices("name=\"key\" value=\"")
        .map(|(i, m)| page.html[i + m.len()..i + m.len() + 24].to_owned())
        .collect()
}

fn photo_field() -> TestFormField {
    TestFormField::bytes(support::jpeg_of(&support::picture(64, 48)))
        .name("photo")
        .filename("IMG_0001.jpg")
        .content_type("image/jpeg")
}

#[tokio::test]
async fn every_create_post_sent_again_with_its_key_creates_once() {
    let farm = Farm::open().await;
    let tangerines = support::category_id(&farm.app, "red_tangerine").await;

    let plot = farm
        .twice(
            "/api/v1/plots",
            "plot-1",
            json!({ "name": "1号地", "area_mu": 2.0, "crop_category_ids": [tangerines] }),
        )
        .await;
    assert_eq!(plot["crop_category_ids"], json!([tangerines]));
    assert_eq!(plot["crop"], "红橘");
    assert_eq!(farm.count::<plot::Entity>().await, 1);

    let listing = farm
        .twice(
            "/api/v1/listings",
            "listing-1",
            json!({ "category_id": tangerines, "title": "红橘 10斤", "price_fen": 3000,
                    "stock": 20, "status": "on_sale" }),
        )
        .await;
    assert_eq!(farm.count::<listing::Entity>().await, 1);

    let batch = farm
        .twice(
            "/api/v1/batches",
            "batch-1",
            json!({ "category_id": tangerines, "plot_id": plot["id"], "quantity": 300,
                    "produced_on": "2026-11-20", "listing_ids": [listing["id"]] }),
        )
        .await;
    assert_eq!(farm.count::<batch::Entity>().await, 1);
    let batch_id = batch["id"].as_i64().unwrap();

    farm.twice(
        &format!("/api/v1/batches/{batch_id}/events"),
        "event-1",
        json!({ "kind": "packed", "occurred_at": "2026-11-21T02:00:00Z", "place_text": "村口" }),
    )
    .await;
    assert_eq!(farm.count::<trace_event::Entity>().await, 1);

    farm.twice(
        &format!("/api/v1/batches/{batch_id}/code-runs"),
        "run-1",
        json!({ "count": 24 }),
    )
    .await;
    assert_eq!(farm.count::<trace_code_run::Entity>().await, 1);

    let code = farm.app.state.trace_keys.sign(TraceCode {
        batch_id: batch_id as u32,
        item: 3,
    });
    let body = json!({ "code": code, "reason": "标签丢失" });
    farm.twice("/api/v1/trace/revocations", "revoke-1", body)
        .await;
    assert_eq!(farm.count::<revoked_code::Entity>().await, 1);

    let photo = support::jpeg_of(&support::picture(64, 48));
    let listing_id = listing["id"].as_i64().unwrap();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let resp = farm
            .app
            .client
            .post(format!("/api/v1/listings/{listing_id}/photos"))
            .header("authorization", format!("Bearer {}", farm.token))
            .header("idempotency-key", "photo-1")
            .multipart(
                TestForm::new().field(
                    TestFormField::bytes(photo.clone())
                        .name("file")
                        .filename("a.jpg")
                        .content_type("image/jpeg"),
                ),
            )
            .send()
            .await;
        answers.push((resp.0.status().as_u16(), support::json_of(resp).await));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 201, "{:?}", answers[0]);
    assert_eq!(farm.count::<listing_photo::Entity>().await, 1);

    let recalled = farm
        .twice(
            &format!("/api/v1/batches/{batch_id}/recall"),
            "recall-1",
            json!({ "reason": "抽检不合格" }),
        )
        .await;
    assert_eq!(recalled["recall_reason"], "抽检不合格");

    // Eight creations, eight keys.
    assert_eq!(farm.count::<idempotency_key::Entity>().await, 8);

    // A recall with a new key of a batch recalled before answers the batch as it is; its key
    // sent again with another reason is refused, with the same reason answered alike.
    let recall = format!("/api/v1/batches/{batch_id}/recall");
    let again = farm
        .twice(&recall, "recall-2", json!({ "reason": "包装破损" }))
        .await;
    assert_eq!(
        again["recall_reason"], "抽检不合格",
        "recalled once, for its first reason"
    );
    let (status, refused) = farm
        .post(&recall, Some("recall-2"), json!({ "reason": "另一个原因" }))
        .await;
    assert_eq!(
        (status, &refused["code"]),
        (422, &json!("request.idempotency_key_reused"))
    );
    let (status, replayed) = farm
        .post(&recall, Some("recall-2"), json!({ "reason": "包装破损" }))
        .await;
    assert!((200..300).contains(&status), "{replayed}");
    assert_eq!(replayed, again);

    // A key sent again with another request is refused, and nothing is made.
    let (status, refused) = farm
        .post(
            "/api/v1/batches",
            Some("batch-1"),
            json!({ "category_id": tangerines, "plot_id": plot["id"], "quantity": 301,
                    "produced_on": "2026-11-20" }),
        )
        .await;
    assert_eq!(
        (status, &refused["code"]),
        (422, &json!("request.idempotency_key_reused"))
    );
    let (status, refused) = farm
        .post(
            "/api/v1/plots",
            Some("batch-1"),
            json!({ "name": "2号地", "area_mu": 1.0, "crop_category_ids": [tangerines] }),
        )
        .await;
    assert_eq!(
        (status, &refused["code"]),
        (422, &json!("request.idempotency_key_reused"))
    );
    assert_eq!(farm.count::<batch::Entity>().await, 1);
    assert_eq!(farm.count::<plot::Entity>().await, 1);

    // Without a key, each request creates; a key that is no key is refused.
    let (status, _) = farm
        .post(
            "/api/v1/plots",
            None,
            json!({ "name": "2号地", "area_mu": 1.0, "crop_category_ids": [tangerines] }),
        )
        .await;
    assert_eq!(status, 201);
    let (status, refused) = farm
        .post(
            "/api/v1/plots",
            Some("not a key!"),
            json!({ "name": "3号地", "area_mu": 1.0, "crop_category_ids": [tangerines] }),
        )
        .await;
    assert_eq!(
        (status, &refused["code"], &refused["details"]["reason_code"]),
        (
            400,
            &json!("request.invalid"),
            &json!("request.idempotency_key_format")
        )
    );
    assert_eq!(farm.count::<plot::Entity>().await, 2);
    // Refused the same way where the key would not have been used: an upload, a dry run.
    for path in [
        "/api/v1/listings/1/photos",
        "/api/v1/households/import?dry_run=true",
    ] {
        let (status, refused) = farm.post(path, Some("ключ"), json!({})).await;
        assert_eq!(
            (status, &refused["code"]),
            (400, &json!("request.invalid")),
            "{path}"
        );
    }
}

#[tokio::test]
async fn two_copies_of_a_create_racing_with_one_key_create_once() {
    let farm = Farm::open().await;
    let tangerines = support::category_id(&farm.app, "red_tangerine").await;
    let body = json!({ "category_id": tangerines, "quantity": 300, "produced_on": "2026-11-20" });
    let (a, b) = tokio::join!(
        farm.post("/api/v1/batches", Some("race-1"), body.clone()),
        farm.post("/api/v1/batches", Some("race-1"), body.clone()),
    );
    assert_eq!(a.0, 201, "{a:?}");
    assert_eq!(a, b, "both answer the one batch");
    assert_eq!(farm.count::<batch::Entity>().await, 1);

    // The service itself, called twice at once: the one that loses the race on the key rolls
    // back what it made and answers the winner's.
    let db = &farm.app.state.db;
    let clock = &*farm.app.state.clock;
    let new = production::NewBatch {
        category_id: tangerines,
        plot_id: None,
        quantity: 50,
        unit: None,
        produced_on: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        note: String::new(),
        listing_ids: Vec::new(),
    };
    let mut racers = Vec::new();
    for _ in 0..4 {
        racers.push(production::create_batch_keyed(
            db,
            clock,
            &farm.actor,
            new.clone(),
            Some("race-2"),
        ));
    }
    let made = futures_util::future::join_all(racers).await;
    let ids: Vec<i64> = made.into_iter().map(|m| m.expect("made").id).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(farm.count::<batch::Entity>().await, 2);

    // Two copies of the new-batch form at once.
    let page = open(&farm.app, "/f/batches", Some(&farm.cookie), "zh").await;
    let (csrf, key) = (csrf_of(&page), keys_of(&page)[0].clone());
    let category = tangerines.to_string();
    let form = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("category", category.as_str()),
        ("quantity", "80"),
        ("produced_on", "2026-11-22"),
    ];
    let (a, b) = tokio::join!(
        farm.form("/f/batches", &form),
        farm.form("/f/batches", &form)
    );
    assert_eq!(
        (a.status, b.status),
        (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER)
    );
    assert_eq!(farm.count::<batch::Entity>().await, 3);
}

#[tokio::test]
async fn every_create_form_sent_again_with_its_key_creates_once() {
    let farm = Farm::open().await;
    let tangerines = support::category_id(&farm.app, "red_tangerine")
        .await
        .to_string();
    let crop = format!("crop_{tangerines}");

    // A plot.
    let page = open(&farm.app, "/f/plots", Some(&farm.cookie), "zh").await;
    let (csrf, key) = (csrf_of(&page), keys_of(&page)[0].clone());
    let form = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("name", "屋后坡地"),
        ("area", "1.5"),
        (crop.as_str(), "1"),
    ];
    farm.form_twice("/f/plots", &form).await;
    assert_eq!(farm.count::<plot::Entity>().await, 1);
    let plot_id = plot::Entity::find()
        .one(farm.app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();

    // A listing with its photo.
    let csrf = farm.csrf("/f/listings/new").await;
    let page = open(&farm.app, "/f/listings/new", Some(&farm.cookie), "zh").await;
    let key = keys_of(&page)[0].clone();
    let listing_form = || {
        TestForm::new()
            .text("csrf", &csrf)
            .text("key", &key)
            .text("category", &tangerines)
            .text("title", "红橘 10斤")
            .text("price", "30")
            .text("stock", "20")
            .text("on_sale", "1")
            .field(photo_field())
    };
    farm.upload_twice("/f/listings/new", listing_form).await;
    assert_eq!(farm.count::<listing::Entity>().await, 1);
    assert_eq!(farm.count::<listing_photo::Entity>().await, 1);
    let listing_id = listing::Entity::find()
        .one(farm.app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .id;

    // One more photo of it.
    let page = open(
        &farm.app,
        &format!("/f/listings/{listing_id}"),
        Some(&farm.cookie),
        "zh",
    )
    .await;
    let (csrf, key) = (csrf_of(&page), keys_of(&page)[0].clone());
    let other = support::jpeg_of(&support::picture(80, 60));
    let photo_form = || {
        TestForm::new().text("csrf", &csrf).text("key", &key).field(
            TestFormField::bytes(other.clone())
                .name("photo")
                .filename("b.jpg")
                .content_type("image/jpeg"),
        )
    };
    farm.upload_twice(&format!("/f/listings/{listing_id}/photos"), photo_form)
        .await;
    assert_eq!(farm.count::<listing_photo::Entity>().await, 2);

    // A batch from the plot.
    let page = open(&farm.app, "/f/batches", Some(&farm.cookie), "zh").await;
    let (csrf, key) = (csrf_of(&page), keys_of(&page)[0].clone());
    let form = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("category", tangerines.as_str()),
        ("plot", plot_id.as_str()),
        ("quantity", "300"),
        ("produced_on", "2026-11-20"),
    ];
    farm.form_twice("/f/batches", &form).await;
    assert_eq!(farm.count::<batch::Entity>().await, 1);
    let batch_id = batch::Entity::find()
        .one(farm.app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .id;
    let batch_path = format!("/f/batches/{batch_id}");

    // The batch page's forms: a step, a run of codes, then a revocation and a recall.
    let page = open(&farm.app, &batch_path, Some(&farm.cookie), "zh").await;
    let csrf = csrf_of(&page);
    let keys = keys_of(&page);
    assert_eq!(
        keys.len(),
        3,
        "a step, codes and a recall; revoking once codes exist"
    );
    let step = [
        ("csrf", csrf.as_str()),
        ("key", keys[0].as_str()),
        ("kind", "packed"),
        ("day", "2026-11-21"),
        ("time", "09:30"),
    ];
    let codes = [
        ("csrf", csrf.as_str()),
        ("key", keys[1].as_str()),
        ("count", "24"),
    ];
    farm.form_twice(&format!("{batch_path}/events"), &step)
        .await;
    farm.form_twice(&format!("{batch_path}/codes"), &codes)
        .await;
    assert_eq!(farm.count::<trace_event::Entity>().await, 1);
    assert_eq!(farm.count::<trace_code_run::Entity>().await, 1);

    let page = open(&farm.app, &batch_path, Some(&farm.cookie), "zh").await;
    let keys = keys_of(&page);
    assert_eq!(keys.len(), 4);
    let revoke = [
        ("csrf", csrf.as_str()),
        ("key", keys[2].as_str()),
        ("item", "5"),
        ("revoke_reason", "标签丢失"),
        ("revoke_confirm", "1"),
    ];
    let recall = [
        ("csrf", csrf.as_str()),
        ("key", keys[3].as_str()),
        ("recall_reason", "抽检不合格"),
        ("recall_confirm", "1"),
    ];
    farm.form_twice(&format!("{batch_path}/revocations"), &revoke)
        .await;
    farm.form_twice(&format!("{batch_path}/recall"), &recall)
        .await;
    assert_eq!(farm.count::<revoked_code::Entity>().await, 1);
    let page = open(&farm.app, &batch_path, Some(&farm.cookie), "zh").await;
    assert!(
        page.html.contains("No.5（标签丢失）"),
        "the revoked code is listed"
    );
    assert!(
        page.html.contains("召回，原因：抽检不合格"),
        "the recall and its reason"
    );
    assert_eq!(farm.count::<idempotency_key::Entity>().await, 8);
}

#[tokio::test]
async fn a_batch_from_a_plot_is_one_of_its_crops() {
    let farm = Farm::open().await;
    let tangerines = support::category_id(&farm.app, "red_tangerine").await;
    let walnuts = support::category_id(&farm.app, "walnuts").await;
    let (_, plot) = farm
        .post(
            "/api/v1/plots",
            None,
            json!({ "name": "1号地", "area_mu": 2.0, "crop_category_ids": [tangerines] }),
        )
        .await;
    let (status, refused) = farm
        .post(
            "/api/v1/batches",
            None,
            json!({ "category_id": walnuts, "plot_id": plot["id"], "quantity": 30,
                    "produced_on": "2026-11-20" }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(refused["details"]["reason_code"], "batch.not_plot_crop");
    assert_eq!(refused["message"], "这块地种的是红橘，不能登记核桃批次");

    // On the page: the reason beside the plot, and everything typed kept.
    let page = open(&farm.app, "/f/batches", Some(&farm.cookie), "zh").await;
    let (csrf, key) = (csrf_of(&page), keys_of(&page)[0].clone());
    assert!(
        page.html.contains("1号地（红橘）"),
        "the plot names its crops"
    );
    let (walnut_id, plot_id) = (walnuts.to_string(), plot["id"].to_string());
    let refused = farm
        .form(
            "/f/batches",
            &[
                ("csrf", &csrf),
                ("key", &key),
                ("category", &walnut_id),
                ("plot", &plot_id),
                ("quantity", "30"),
                ("produced_on", "2026-11-20"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let beside = refused
        .html
        .find("这块地种的是红橘，不能登记核桃批次")
        .expect("the reason");
    let plot_select = refused.html.find("id=\"plot\"").unwrap();
    let quantity = refused.html.find("id=\"quantity\"").unwrap();
    assert!(
        plot_select < beside && beside < quantity,
        "said beside the plot"
    );
    assert!(
        refused
            .html
            .contains(&format!("<option value=\"{walnut_id}\" selected>"))
    );
    assert!(refused.html.contains("required value=\"30\""));

    // Once the plot grows walnuts too, the batch is taken.
    let (status, changed) = farm
        .post_put(
            &format!("/api/v1/plots/{plot_id}"),
            json!({ "name": "1号地", "area_mu": 2.0,
                    "crop_category_ids": [tangerines, walnuts] }),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["crop"], "红橘、核桃");
    let (status, _) = farm
        .post(
            "/api/v1/batches",
            None,
            json!({ "category_id": walnuts, "plot_id": plot["id"], "quantity": 30,
                    "produced_on": "2026-11-20" }),
        )
        .await;
    assert_eq!(status, 201);
}

impl Farm {
    async fn post_put(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .app
            .client
            .put(path)
            .header("authorization", format!("Bearer {}", self.token))
            .body_json(&body)
            .send()
            .await;
        let status = resp.0.status().as_u16();
        (status, support::json_of(resp).await)
    }
}

#[tokio::test]
async fn a_refused_plot_keeps_its_name_area_and_crops() {
    let farm = Farm::open().await;
    let tangerines = support::category_id(&farm.app, "red_tangerine")
        .await
        .to_string();
    let crop = format!("crop_{tangerines}");
    let csrf = farm.csrf("/f/plots").await;
    let refused = farm
        .form(
            "/f/plots",
            &[
                ("csrf", &csrf),
                ("name", "屋后坡地"),
                ("area", "一亩半"),
                (&crop, "1"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("value=\"屋后坡地\""));
    assert!(refused.html.contains("value=\"一亩半\""));
    assert!(
        refused
            .html
            .contains(&format!("name=\"{crop}\" value=\"1\" checked"))
    );
    let beside = refused.html.find("面积请填数字").expect("the reason");
    assert!(
        beside > refused.html.find("id=\"area\"").unwrap(),
        "beside the area"
    );

    // Nothing ticked: the name and area kept, the reason beside the crops.
    let refused = farm
        .form(
            "/f/plots",
            &[("csrf", &csrf), ("name", "屋后坡地"), ("area", "1.5")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("value=\"1.5\""));
    assert!(refused.html.contains("请勾选这块地种的东西"));

    // Changing a plot: a refused change keeps the change typed.
    farm.form(
        "/f/plots",
        &[
            ("csrf", &csrf),
            ("name", "屋后坡地"),
            ("area", "1.5"),
            (&crop, "1"),
        ],
    )
    .await;
    let plot = plot::Entity::find()
        .one(farm.app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let path = format!("/f/plots/{}", plot.id);
    let page = open(&farm.app, &path, Some(&farm.cookie), "zh").await;
    assert!(page.html.contains("value=\"1.50\"") || page.html.contains("value=\"1.5\""));
    let long_name = "一".repeat(40);
    let refused = farm
        .form(
            &path,
            &[
                ("csrf", &csrf),
                ("name", &long_name),
                ("area", "2"),
                (&crop, "1"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains(&format!("value=\"{long_name}\"")));
    assert!(refused.html.contains("value=\"2\""));
    assert!(refused.html.contains("地块名称请填 1 到 32 个字"));
}

#[tokio::test]
async fn a_refused_recall_or_revocation_keeps_what_was_typed_and_asks_for_the_tick() {
    let farm = Farm::open().await;
    let tangerines = support::category_id(&farm.app, "red_tangerine").await;
    let (_, batch) = farm
        .post(
            "/api/v1/batches",
            None,
            json!({ "category_id": tangerines, "quantity": 30, "produced_on": "2026-11-20" }),
        )
        .await;
    let batch_id = batch["id"].as_i64().unwrap();
    farm.post(
        &format!("/api/v1/batches/{batch_id}/code-runs"),
        None,
        json!({ "count": 24 }),
    )
    .await;
    let path = format!("/f/batches/{batch_id}");
    let csrf = farm.csrf(&path).await;

    // The box not ticked: nothing recalled, the reason kept, the tick asked for.
    let refused = farm
        .form(
            &format!("{path}/recall"),
            &[("csrf", &csrf), ("recall_reason", "抽检农残超标")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains(">抽检农残超标</textarea>"));
    assert!(refused.html.contains("请勾选“我确认召回”"));
    let batch = production::get_batch(&farm.app.state.db, &farm.actor, batch_id)
        .await
        .unwrap();
    assert!(batch.recalled_at.is_none());

    // An item never issued: the number and reason kept, the reason beside the number.
    let refused = farm
        .form(
            &format!("{path}/revocations"),
            &[
                ("csrf", &csrf),
                ("item", "99"),
                ("revoke_reason", "标签丢失"),
                ("revoke_confirm", "1"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .html
            .contains("name=\"item\" inputmode=\"numeric\" required value=\"99\"")
    );
    assert!(refused.html.contains("value=\"标签丢失\""));
    let beside = refused
        .html
        .find("第 99 号溯源码还没有生成")
        .expect("the reason");
    assert!(beside > refused.html.find("id=\"item\"").unwrap());
    assert!(beside < refused.html.find("id=\"revoke_reason\"").unwrap());
    assert_eq!(farm.count::<revoked_code::Entity>().await, 0);
}

#[tokio::test]
async fn a_refused_listing_change_keeps_the_price_and_stock_typed() {
    let farm = Farm::open().await;
    let tangerines = support::category_id(&farm.app, "red_tangerine").await;
    let (_, listing) = farm
        .post(
            "/api/v1/listings",
            None,
            json!({ "category_id": tangerines, "title": "红橘 10斤", "price_fen": 3000,
                    "stock": 20, "status": "on_sale" }),
        )
        .await;
    let path = format!("/f/listings/{}", listing["id"]);
    let csrf = farm.csrf(&path).await;
    let refused = farm
        .form(&path, &[("csrf", &csrf), ("price", "0"), ("stock", "35")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("value=\"0\""),
        "the price typed, not the saved 30"
    );
    assert!(
        refused.html.contains("value=\"35\""),
        "the stock typed, not the saved 20"
    );
    let beside = refused.html.find("role=\"alert\"").unwrap();
    assert!(
        beside > refused.html.find("id=\"stock\"").unwrap(),
        "beside the fields"
    );
}

#[tokio::test]
async fn a_refused_new_listing_asks_for_its_photo_again() {
    let farm = Farm::open().await;
    let tangerines = support::category_id(&farm.app, "red_tangerine")
        .await
        .to_string();
    let csrf = farm.csrf("/f/listings/new").await;
    let refused = farm
        .upload(
            "/f/listings/new",
            TestForm::new()
                .text("csrf", &csrf)
                .text("category", &tangerines)
                .text("title", "红橘 10斤")
                .text("price", "30")
                .text("stock", "-3")
                .field(photo_field()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("value=\"红橘 10斤\""));
    assert!(refused.html.contains("value=\"30\""));
    assert!(refused.html.contains("value=\"-3\""));
    let again = refused
        .html
        .find("请重新选择照片")
        .expect("the photo asked for again");
    assert!(
        again > refused.html.find("id=\"photo\"").unwrap(),
        "beside the photo"
    );
    assert!(again < refused.html.find("id=\"category\"").unwrap());
    assert_eq!(farm.count::<listing::Entity>().await, 0);
}

#[tokio::test]
async fn a_farmer_cancels_an_order_with_a_reason_the_buyer_reads() {
    let farm = Farm::open().await;
    let tangerines = support::category_id(&farm.app, "red_tangerine").await;
    let (_, listing) = farm
        .post(
            "/api/v1/listings",
            None,
            json!({ "category_id": tangerines, "title": "红橘 10斤", "price_fen": 3000,
                    "stock": 20, "status": "on_sale" }),
        )
        .await;
    support::buyer_account(&farm.app, "13700001111").await;
    let (buyer, _) = support::tokens(&farm.app, "13700001111").await;
    let resp = farm
        .app
        .client
        .post("/api/v1/orders")
        .header("authorization", format!("Bearer {buyer}"))
        .body_json(&json!({ "listing_id": listing["id"], "quantity": 2,
            "province_code": "440000", "city_code": "440300", "address": "南山区科技园 1 号",
            "recipient_name": "李四", "recipient_phone": "13700001111" }))
        .send()
        .await;
    let order = support::json_of(resp).await;
    let id = order["id"].as_i64().expect("an order");

    // The card leads to the confirmation; it names where the goods were to go.
    let orders = open(&farm.app, "/f/orders", Some(&farm.cookie), "zh").await;
    assert!(
        orders
            .html
            .contains(&format!("href=\"/f/orders/{id}/cancel\""))
    );
    assert!(orders.html.contains("广东省 深圳市 南山区科技园 1 号"));
    let confirm = open(
        &farm.app,
        &format!("/f/orders/{id}/cancel"),
        Some(&farm.cookie),
        "zh",
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK);
    let csrf = csrf_of(&confirm);

    // Without the tick or without a reason: not cancelled, the reason typed kept.
    let path = format!("/f/orders/{id}/cancel");
    let refused = farm
        .form(&path, &[("csrf", &csrf), ("reason", "货卖完了")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains(">货卖完了</textarea>"));
    let refused = farm
        .form(&path, &[("csrf", &csrf), ("reason", " "), ("confirm", "1")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("请写上取消的原因，买家会看到"));

    let done = farm
        .form(
            &path,
            &[
                ("csrf", &csrf),
                ("reason", "货卖完了，抱歉"),
                ("confirm", "1"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let buyer_cookie = cookie_for(&farm.app, "13700001111").await;
    let mine = open(&farm.app, "/m/orders", Some(&buyer_cookie), "zh").await;
    assert!(mine.html.contains("已取消"));
    assert!(mine.html.contains("取消原因：货卖完了，抱歉"));
}

#[tokio::test]
async fn plots_recorded_before_crops_were_products_take_theirs_from_their_words() {
    let farm = Farm::open().await;
    let db = &farm.app.state.db;
    // The plot-crops migration and those after it undone: plots are as they were before it.
    let states = db.migration_states().await.unwrap();
    let at = states
        .iter()
        .position(|m| m.name.ends_with("_create_plot_crops"))
        .expect("the plot-crops migration");
    db.migrate_down(Some((states.len() - at) as u32))
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let household = farm.actor.household_id.unwrap();
    for (name, crop) in [("1号地", "红橘"), ("2号地", "Walnuts"), ("3号地", "红薯")] {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        plot::ActiveModel {
            household_id: Set(household),
            name: Set(name.into()),
            village_code: Set(VILLAGE.into()),
            area_centimu: Set(100),
            crop: Set(crop.into()),
            latitude: Set(None),
            longitude: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db.conn())
        .await
        .unwrap();
    }
    db.migrate_up(None).await.unwrap();

    let plots = production::plots_of(db, &farm.actor, household)
        .await
        .unwrap();
    let ids: Vec<i64> = plots.iter().map(|p| p.id).collect();
    let crops = production::crops_of(db.conn(), &ids).await.unwrap();
    let tangerines = support::category_id(&farm.app, "red_tangerine").await;
    let walnuts = support::category_id(&farm.app, "walnuts").await;
    assert_eq!(
        crops.get(&ids[0]),
        Some(&vec![tangerines]),
        "by its Chinese name"
    );
    assert_eq!(
        crops.get(&ids[1]),
        Some(&vec![walnuts]),
        "by its English name"
    );
    assert_eq!(
        crops.get(&ids[2]),
        None,
        "words that name no product: any batch, as before"
    );
}

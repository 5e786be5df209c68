//! The farmer's goods and batches: their lists, forms, one listing's and one batch's page, and
//! each form refused and shown again with what was wrong.

use api::{
    service::{
        auth::actor_of,
        market::listings::{self, ListingFields},
        policy::Actor,
        trace::{
            codes, events,
            production::{self, NewBatch, NewPlot},
        },
    },
    testing::{self, TestApp},
};
use entities::{
    listing::{ListingStatus, Unit},
    trace_event::{EventKind, InspectionResult},
    user::Role,
};
use poem::test::{TestForm, TestFormField};

use super::{Page, cookie_for, open, post};
use crate::{assert_page, support};

const FARMER: &str = "13911112222";
const VILLAGE: &str = "500235101201";

/// A farmer of a one-person household, signed in to the pages.
async fn farmer(app: &TestApp) -> (Actor, String) {
    let household = support::household_in(app, VILLAGE, 1).await;
    let user = support::farmer_account(app, FARMER, household).await;
    (actor_of(&user), cookie_for(app, FARMER).await)
}

/// The anti-forgery token on a page's forms.
fn csrf_in(page: &Page) -> String {
    let start = page
        .html
        .find("name=\"csrf\" value=\"")
        .expect("a form with its token")
        + 19;
    page.html[start..]
        .split('"')
        .next()
        .expect("a token")
        .to_owned()
}

/// A page with values that differ from run to run (a photo's hash, a batch's signed code)
/// named instead.
fn named(mut page: Page, values: &[(&str, &str)]) -> Page {
    for (value, name) in values {
        page.html = page.html.replace(value, name);
    }
    page
}

/// A multipart form posted from one of our pages, as a phone sends a photo.
async fn upload(app: &TestApp, path: &str, cookie: &str, form: TestForm) -> Page {
    let resp = app
        .client
        .post(path)
        .header("cookie", cookie)
        .header("accept-language", "zh")
        .multipart(form)
        .send()
        .await;
    let status = resp.0.status();
    let html = resp.0.into_body().into_string().await.expect("a page");
    Page { status, html }
}

fn goods(category_id: i64, title: &str, status: ListingStatus) -> ListingFields {
    ListingFields {
        category_id: Some(category_id),
        title: Some(title.into()),
        description: Some("高山红薯，传统工艺 <手工>".into()),
        price_fen: Some(3_050),
        stock: Some(40),
        status: Some(status),
        ..Default::default()
    }
}

/// A listing in each state, the one on sale with a photo: its id and the photo's.
async fn goods_in_each_state(app: &TestApp, actor: &Actor) -> (i64, String) {
    let db = &app.state.db;
    let vermicelli = support::category_id(app, "sweet_potato_vermicelli").await;
    let eggs = support::category_id(app, "free_range_eggs").await;
    listings::create(
        db,
        actor,
        goods(eggs, "还没上架的土鸡蛋", ListingStatus::Draft),
    )
    .await
    .unwrap();
    let off = listings::create(
        db,
        actor,
        goods(eggs, "散养土鸡蛋 30枚", ListingStatus::OnSale),
    )
    .await
    .unwrap();
    listings::update(
        db,
        actor,
        off.id,
        ListingFields {
            status: Some(ListingStatus::OffShelf),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let sold = listings::create(db, actor, goods(eggs, "鸭蛋 20枚", ListingStatus::OnSale))
        .await
        .unwrap();
    listings::update(
        db,
        actor,
        sold.id,
        ListingFields {
            stock: Some(0),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let bytes = support::jpeg_of(&support::picture(640, 480));
    let photo = app
        .state
        .photos
        .store(db, actor, bytes, api::infra::imaging::Declared::SILENT)
        .await
        .unwrap();
    let on_sale = listings::create_with_photos(
        db,
        actor,
        goods(vermicelli, "手工红苕粉 5斤装", ListingStatus::OnSale),
        std::slice::from_ref(&photo),
    )
    .await
    .unwrap();
    (on_sale.id, photo.id)
}

#[tokio::test]
async fn the_farmers_goods() {
    let app = TestApp::spawn().await;
    let (actor, cookie) = farmer(&app).await;
    assert_page!(
        "farmer_goods_empty",
        open(&app, "/f", Some(&cookie), "zh").await
    );

    let (_, photo) = goods_in_each_state(&app, &actor).await;
    let photo = [(photo.as_str(), "[photo]")];
    assert_page!(
        "farmer_goods",
        named(open(&app, "/f", Some(&cookie), "zh").await, &photo)
    );
    assert_page!(
        "farmer_goods_en",
        named(open(&app, "/f", Some(&cookie), "en").await, &photo)
    );
}

fn new_listing(csrf: &str, category: i64, price: &str) -> TestForm {
    TestForm::new()
        .text("csrf", csrf)
        .text("category", category.to_string())
        .text("title", "高山土豆 \"10斤装\"")
        .text("price", price)
        .text("unit", "kg")
        .text("stock", "50")
        .text("description", "自家种的 <黄心> 土豆")
}

#[tokio::test]
async fn a_new_listing_and_its_refusals() {
    let app = TestApp::spawn().await;
    let (_, cookie) = farmer(&app).await;
    let form = open(&app, "/f/listings/new", Some(&cookie), "zh").await;
    let csrf = csrf_in(&form);
    assert_page!("farmer_new_listing", form);

    // Not a price: the form again with all that was typed (left off the shelf, as unticked).
    let potatoes = support::category_id(&app, "potato_chips").await;
    assert_page!(
        "farmer_new_listing_refused_price",
        upload(
            &app,
            "/f/listings/new",
            &cookie,
            new_listing(&csrf, potatoes, "十二块")
        )
        .await
    );
    // A photo that is none: the service's refusal, the form kept, ticked on sale.
    let broken = TestFormField::bytes(b"\xFF\xD8\xFF\xE0 not really a photo".to_vec())
        .name("photo")
        .filename("IMG_0001.jpg")
        .content_type("image/jpeg");
    assert_page!(
        "farmer_new_listing_refused_photo",
        upload(
            &app,
            "/f/listings/new",
            &cookie,
            new_listing(&csrf, potatoes, "12.5")
                .text("on_sale", "1")
                .field(broken)
        )
        .await
    );
    // A form that is not the upload it should be (the connection dropped, say): nothing saved.
    assert_page!(
        "farmer_new_listing_unreadable",
        post(&app, "/f/listings/new", Some(&cookie), &[("csrf", &csrf)]).await
    );
}

#[tokio::test]
async fn a_listing_and_its_refused_changes() {
    let app = TestApp::spawn().await;
    let (actor, cookie) = farmer(&app).await;
    let (id, photo) = goods_in_each_state(&app, &actor).await;
    let photo = [(photo.as_str(), "[photo]")];
    let path = format!("/f/listings/{id}");
    let page = open(&app, &path, Some(&cookie), "zh").await;
    let csrf = csrf_in(&page);
    assert_page!("farmer_listing", named(page, &photo));

    assert_page!(
        "farmer_listing_refused_price",
        named(
            post(
                &app,
                &path,
                Some(&cookie),
                &[("csrf", &csrf), ("price", "三十"), ("stock", "40")]
            )
            .await,
            &photo
        )
    );
    assert_page!(
        "farmer_listing_refused_title",
        named(
            post(
                &app,
                &format!("{path}/details"),
                Some(&cookie),
                &[("csrf", &csrf), ("title", " "), ("description", "")]
            )
            .await,
            &photo
        )
    );
    assert_page!(
        "farmer_listing_refused_shelf",
        named(
            post(
                &app,
                &format!("{path}/status"),
                Some(&cookie),
                &[("csrf", &csrf), ("status", "sold_out")]
            )
            .await,
            &photo
        )
    );
    assert_page!(
        "farmer_listing_refused_no_photo",
        named(
            upload(
                &app,
                &format!("{path}/photos"),
                &cookie,
                TestForm::new().text("csrf", &csrf)
            )
            .await,
            &photo
        )
    );

    // A draft offers to go on sale; a listing that is not the farmer's is not found.
    let draft = listings::browse(
        &app.state.db,
        &Default::default(),
        Some(&actor),
        &api::service::pagination::PageRequest::new(None, Some(10)),
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .find(|l| l.status == ListingStatus::Draft)
    .unwrap();
    assert_page!(
        "farmer_listing_draft_en",
        open(
            &app,
            &format!("/f/listings/{}", draft.id),
            Some(&cookie),
            "en"
        )
        .await
    );
    assert_page!(
        "farmer_listing_missing",
        open(&app, "/f/listings/999999", Some(&cookie), "zh").await
    );
}

async fn batch_of(app: &TestApp, actor: &Actor, plot: Option<i64>, quantity: i64) -> i64 {
    let category = support::category_id(app, "sweet_potato_vermicelli").await;
    production::create_batch(
        &app.state.db,
        &*app.state.clock,
        actor,
        NewBatch {
            category_id: category,
            plot_id: plot,
            quantity,
            unit: Some(Unit::Jin),
            produced_on: chrono::NaiveDate::from_ymd_opt(2024, 11, 20).unwrap(),
            note: String::new(),
            listing_ids: Vec::new(),
        },
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn the_farmers_batches() {
    let app = TestApp::spawn().await;
    let unbound = "13911113333";
    testing::account(
        &app.state.db,
        unbound,
        Role::Farmer,
        None,
        support::PASSWORD,
    )
    .await;
    let unbound = cookie_for(&app, unbound).await;
    assert_page!(
        "farmer_batches_no_household",
        open(&app, "/f/batches", Some(&unbound), "zh").await
    );

    let (actor, cookie) = farmer(&app).await;
    let page = open(&app, "/f/batches", Some(&cookie), "zh").await;
    let csrf = csrf_in(&page);
    assert_page!("farmer_batches_empty", page);

    let plot = production::create_plot(
        &app.state.db,
        &actor,
        NewPlot {
            name: "后山坡地 <2号>".into(),
            village: None,
            area_mu: 2.5,
            crop: "红薯".into(),
            crop_ids: Vec::new(),
            location: None,
        },
    )
    .await
    .unwrap();
    let category = support::category_id(&app, "sweet_potato_vermicelli").await;
    listings::create(
        &app.state.db,
        &actor,
        goods(category, "手工红苕粉 5斤装", ListingStatus::OnSale),
    )
    .await
    .unwrap();
    batch_of(&app, &actor, Some(plot.id), 200).await;
    let recalled = batch_of(&app, &actor, None, 80).await;
    codes::recall(
        &app.state.db,
        &app.state.cache,
        &actor,
        recalled,
        "受潮发霉",
    )
    .await
    .unwrap();
    assert_page!(
        "farmer_batches",
        open(&app, "/f/batches", Some(&cookie), "zh").await
    );
    assert_page!(
        "farmer_batches_refused_quantity",
        post(
            &app,
            "/f/batches",
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("category", &category.to_string()),
                ("plot", ""),
                ("quantity", "很多"),
                ("unit", ""),
                ("produced_on", "2024-11-20"),
                ("listing", ""),
            ]
        )
        .await
    );
}

#[tokio::test]
async fn a_batch_its_journey_codes_and_refusals() {
    let app = TestApp::spawn().await;
    let (actor, cookie) = farmer(&app).await;
    let id = batch_of(&app, &actor, None, 200).await;
    let path = format!("/f/batches/{id}");
    let code = codes::batch_code(&app.state.trace_keys, id);
    let code = [(code.as_str(), "[batch code]")];
    let page = open(&app, &path, Some(&cookie), "zh").await;
    let csrf = csrf_in(&page);
    assert_page!("farmer_batch_new", named(page, &code));

    for (kind, result, place) in [
        (EventKind::Harvested, None, Some("后山坡地")),
        (
            EventKind::Inspected,
            Some(InspectionResult::Pass),
            Some("县农检站 <二楼>"),
        ),
        (EventKind::Packed, None, None),
    ] {
        let event = events::NewEvent {
            kind,
            occurred_at: chrono::Utc::now(),
            place_area: None,
            place_text: place.map(str::to_owned),
            result,
            input_batch_ids: Vec::new(),
            details: Default::default(),
        };
        events::record(
            &app.state.db,
            &app.state.cache,
            &*app.state.clock,
            &actor,
            id,
            event,
        )
        .await
        .unwrap();
    }
    codes::issue(&app.state.db, &app.state.cache, &actor, id, 24)
        .await
        .unwrap();
    assert_page!(
        "farmer_batch",
        named(open(&app, &path, Some(&cookie), "zh").await, &code)
    );
    assert_page!(
        "farmer_batch_en",
        named(open(&app, &path, Some(&cookie), "en").await, &code)
    );

    assert_page!(
        "farmer_batch_refused_no_step",
        named(
            post(
                &app,
                &format!("{path}/events"),
                Some(&cookie),
                &[("csrf", &csrf), ("kind", ""), ("place", "")]
            )
            .await,
            &code
        )
    );
    assert_page!(
        "farmer_batch_refused_event",
        named(
            post(
                &app,
                &format!("{path}/events"),
                Some(&cookie),
                &[("csrf", &csrf), ("kind", "inspected"), ("result", "")]
            )
            .await,
            &code
        )
    );
    assert_page!(
        "farmer_batch_refused_count",
        named(
            post(
                &app,
                &format!("{path}/codes"),
                Some(&cookie),
                &[("csrf", &csrf), ("count", "二十四")]
            )
            .await,
            &code
        )
    );
    assert_page!(
        "farmer_batch_refused_too_many",
        named(
            post(
                &app,
                &format!("{path}/codes"),
                Some(&cookie),
                &[("csrf", &csrf), ("count", "100001")]
            )
            .await,
            &code
        )
    );

    codes::recall(&app.state.db, &app.state.cache, &actor, id, "受潮发霉")
        .await
        .unwrap();
    assert_page!(
        "farmer_batch_recalled",
        named(open(&app, &path, Some(&cookie), "zh").await, &code)
    );
    assert_page!(
        "farmer_batch_missing",
        open(&app, "/f/batches/999999", Some(&cookie), "zh").await
    );
}

//! Signing in to the pages by texted code, the farmer's pages and the officials' pages, over
//! HTTP: who may open what, forms that must come from our own pages, and nothing half-saved.

use api::domain::county_time::SystemClock;
use api::{
    service::market::{
        listings::{self, ListingFields},
        photos,
    },
    testing::{FakeSmsGateway, TestApp},
};
use entities::{
    listing::{self, ListingStatus},
    user::Role,
};
use poem::{
    http::StatusCode,
    test::{TestForm, TestFormField},
};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::support;

const FARMER_PHONE: &str = "13911112222";
const VILLAGE: &str = "500235101201";

struct Answer {
    status: StatusCode,
    location: Option<String>,
    set_cookie: Option<String>,
    cache: Option<String>,
    body: String,
}

async fn answer(resp: poem::test::TestResponse) -> Answer {
    let header = |name: &str| {
        resp.0
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    // The sign-in's own cookie when there is one (signing in also drops the number's).
    let set_cookie = resp
        .0
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .max_by_key(|c| c.starts_with("shanhuo_session="));
    let (status, location, cache) = (resp.0.status(), header("location"), header("cache-control"));
    let body = resp.0.into_body().into_string().await.unwrap();
    Answer {
        status,
        location,
        set_cookie,
        cache,
        body,
    }
}

/// A page sign-in for a phone that signs in with the test password: the cookie a browser
/// would hold.
async fn cookie_for(app: &TestApp, phone: &str) -> String {
    let (_, refresh) = support::tokens(app, phone).await;
    format!("shanhuo_session={refresh}")
}

async fn get(app: &TestApp, path: &str, cookie: &str) -> Answer {
    answer(app.client.get(path).header("cookie", cookie).send().await).await
}

/// The anti-forgery token on a page's forms.
fn csrf_in(html: &str) -> String {
    let start = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with its token")
        + 19;
    html[start..].split('"').next().expect("a token").to_owned()
}

async fn post_form(app: &TestApp, path: &str, cookie: &str, form: &[(&str, &str)]) -> Answer {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    answer(
        app.client
            .post(path)
            .header("cookie", cookie)
            .content_type("application/x-www-form-urlencoded")
            .body(body.join("&"))
            .send()
            .await,
    )
    .await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn farmer(app: &TestApp) -> (i64, i64) {
    let household = support::household_in(app, VILLAGE, 1).await;
    let user = support::farmer_account(app, FARMER_PHONE, household).await;
    (user.id, household)
}

async fn listing_of(app: &TestApp, user_id: i64, household_id: i64, price_fen: i64) -> i64 {
    let actor = api::service::policy::Actor {
        user_id,
        role: Role::Farmer,
        area: None,
        household_id: Some(household_id),
    };
    let category = support::category_id(app, "sweet_potato_vermicelli").await;
    listings::create(
        &app.state.db,
        &actor,
        ListingFields {
            category_id: Some(category),
            title: Some("手工红苕粉".into()),
            price_fen: Some(price_fen),
            stock: Some(20),
            status: Some(ListingStatus::OnSale),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

async fn price_of(app: &TestApp, id: i64) -> i64 {
    listing::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .price_fen
}

#[tokio::test]
async fn a_texted_code_signs_a_farmer_in_to_their_pages_with_a_cookie_scripts_cannot_read() {
    let gateway = FakeSmsGateway::start().await;
    let app = TestApp::spawn_with(|s| gateway.configure(s)).await;
    farmer(&app).await;

    let away = get(&app, "/f", "").await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert_eq!(away.location.as_deref(), Some("/login?next=/f"));

    let asked = answer(
        app.client
            .post("/login/code")
            .content_type("application/x-www-form-urlencoded")
            .body("phone=%2B86+139-1111-2222&next=%2Ff")
            .send()
            .await,
    )
    .await;
    // Post, redirect, get: the code is asked for on a page that going back can open again.
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    assert_eq!(asked.location.as_deref(), Some("/login/code?next=/f"));
    let phone_cookie = asked.set_cookie.unwrap();
    assert!(
        phone_cookie.contains("HttpOnly") && phone_cookie.contains("Path=/login"),
        "{phone_cookie}"
    );
    let phone_cookie = phone_cookie.split(';').next().unwrap().to_owned();
    let asked = get(&app, "/login/code?next=%2Ff", &phone_cookie).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert!(asked.body.contains("id=\"code\""));
    assert!(
        asked.body.contains("value=\"13911112222\""),
        "the phone as typed is read"
    );
    assert!(asked.body.contains("name=\"next\" value=\"/f\""));
    // Without a number texted to, the number is asked for first.
    let first = get(&app, "/login/code?next=%2Ff", "").await;
    assert_eq!(first.location.as_deref(), Some("/login?next=/f"));

    let wrong = post_form(
        &app,
        "/login",
        "",
        &[("phone", FARMER_PHONE), ("code", "000000"), ("next", "/f")],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    assert!(wrong.body.contains("role=\"alert\""));
    assert!(wrong.set_cookie.is_none());

    let code = gateway.last_code_for(FARMER_PHONE).unwrap();
    let signed_in = post_form(
        &app,
        "/login",
        "",
        &[("phone", FARMER_PHONE), ("code", &code), ("next", "/f")],
    )
    .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(signed_in.location.as_deref(), Some("/f"));
    let cookie = signed_in.set_cookie.unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();

    let mine = get(&app, "/f", &cookie).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.contains("我的商品"));
    assert_eq!(mine.cache.as_deref(), Some("no-store"));
    let english = answer(
        app.client
            .get("/f")
            .header("cookie", &cookie)
            .header("accept-language", "en-GB,en;q=0.9")
            .send()
            .await,
    )
    .await;
    assert!(english.body.contains("<h1>My goods</h1>"));

    // Signing out ends the sign-in: the same cookie no longer opens the pages.
    let out = post_form(&app, "/logout", &cookie, &[("csrf", &csrf_in(&mine.body))]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(get(&app, "/f", &cookie).await.status, StatusCode::SEE_OTHER);
    let lapsed = post_form(
        &app,
        "/f/listings/1/status",
        &cookie,
        &[("status", "on_sale")],
    )
    .await;
    assert_eq!(lapsed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        lapsed.location.as_deref(),
        Some("/login"),
        "a post is not replayed"
    );
}

#[tokio::test]
async fn only_our_own_pages_of_this_sign_in_change_a_listing() {
    let app = support::app_with_admin().await;
    let (user_id, household) = farmer(&app).await;
    let id = listing_of(&app, user_id, household, 3_000).await;
    let cookie = cookie_for(&app, FARMER_PHONE).await;
    let page = get(&app, &format!("/f/listings/{id}"), &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = csrf_in(&page.body);
    let path = format!("/f/listings/{id}");

    let without = post_form(&app, &path, &cookie, &[("price", "1"), ("stock", "20")]).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    let guessed = post_form(
        &app,
        &path,
        &cookie,
        &[
            ("csrf", "0123456789abcdef0123456789abcdef"),
            ("price", "1"),
            ("stock", "20"),
        ],
    )
    .await;
    assert_eq!(guessed.status, StatusCode::FORBIDDEN);
    let elsewhere = answer(
        app.client
            .post(&path)
            .header("cookie", &cookie)
            .header("origin", "https://evil.example")
            .content_type("application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}&price=1&stock=20"))
            .send()
            .await,
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    assert_eq!(price_of(&app, id).await, 3_000, "nothing was changed");

    // A price typed on a Chinese keyboard, posted from the published address (behind a proxy
    // that renamed the host).
    let saved = answer(
        app.client
            .post(&path)
            .header("cookie", &cookie)
            .header("origin", app.state.settings.public_base_url.clone())
            .header("host", "10.0.0.5:8080")
            .content_type("application/x-www-form-urlencoded")
            .body(format!(
                "csrf={csrf}&price={}&stock=15",
                urlencode("２８．５元")
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(price_of(&app, id).await, 2_850);

    let refused = post_form(
        &app,
        &path,
        &cookie,
        &[("csrf", &csrf), ("price", "0"), ("stock", "15")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("role=\"alert\""));
    assert_eq!(price_of(&app, id).await, 2_850);

    let renamed = post_form(
        &app,
        &format!("{path}/details"),
        &cookie,
        &[
            ("csrf", &csrf),
            ("title", "  高山手工红苕粉 "),
            ("description", "传统工艺"),
        ],
    )
    .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);
    let untitled = post_form(
        &app,
        &format!("{path}/details"),
        &cookie,
        &[("csrf", &csrf), ("title", " "), ("description", "")],
    )
    .await;
    assert_eq!(untitled.status, StatusCode::UNPROCESSABLE_ENTITY);
    let saved = listing::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (saved.title.as_str(), saved.description.as_str()),
        ("高山手工红苕粉", "传统工艺")
    );

    let off = post_form(
        &app,
        &format!("{path}/status"),
        &cookie,
        &[("csrf", &csrf), ("status", "off_shelf")],
    )
    .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.client
            .get(format!("/m/listings/{id}"))
            .send()
            .await
            .0
            .status(),
        StatusCode::NOT_FOUND,
        "off the shelf, buyers no longer see it"
    );

    // Another farmer's cookie does not open it, nor change it.
    let other_household = support::household_in(&app, VILLAGE, 2).await;
    support::farmer_account(&app, "13911113333", other_household).await;
    let other = cookie_for(&app, "13911113333").await;
    assert_eq!(get(&app, &path, &other).await.status, StatusCode::NOT_FOUND);
    let other_csrf = csrf_in(&get(&app, "/f", &other).await.body);
    let taken = post_form(
        &app,
        &path,
        &other,
        &[("csrf", &other_csrf), ("price", "1"), ("stock", "1")],
    )
    .await;
    assert_eq!(taken.status, StatusCode::NOT_FOUND);
    assert_eq!(price_of(&app, id).await, 2_850);
}

fn listing_form(csrf: &str, category: i64, price: &str, photo: Option<Vec<u8>>) -> TestForm {
    let mut form = TestForm::new()
        .text("csrf", csrf)
        .text("category", category.to_string())
        .text("title", "高山土豆 10斤装")
        .text("price", price)
        .text("unit", "jin")
        .text("stock", "50")
        .text("description", "")
        .text("on_sale", "1");
    if let Some(bytes) = photo {
        form = form.field(
            TestFormField::bytes(bytes)
                .name("photo")
                .filename("IMG_0001.jpg")
                .content_type("image/jpeg"),
        );
    }
    form
}

async fn listings_count(app: &TestApp) -> u64 {
    listing::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_listing_is_saved_with_its_photo_or_not_at_all() {
    let app = support::app_with_admin().await;
    farmer(&app).await;
    let cookie = cookie_for(&app, FARMER_PHONE).await;
    let form_page = get(&app, "/f/listings/new", &cookie).await;
    assert_eq!(form_page.status, StatusCode::OK);
    assert!(
        form_page.body.contains("capture=\"environment\""),
        "the camera opens"
    );
    assert!(form_page.body.len() < 100 * 1024);
    let csrf = csrf_in(&form_page.body);
    let category = support::category_id(&app, "sweet_potato_vermicelli").await;
    let post = |form: TestForm| {
        app.client
            .post("/f/listings/new")
            .header("cookie", &cookie)
            .multipart(form)
            .send()
    };

    let not_a_price = answer(post(listing_form(&csrf, category, "十二块", None)).await).await;
    assert_eq!(not_a_price.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(not_a_price.body.contains("价格请填数字"));
    assert!(
        not_a_price.body.contains("value=\"高山土豆 10斤装\""),
        "what was typed is kept"
    );

    let broken_photo = b"\xFF\xD8\xFF\xE0 not really a photo".to_vec();
    let refused =
        answer(post(listing_form(&csrf, category, "12.5", Some(broken_photo))).await).await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    assert!(refused.body.contains("role=\"alert\""));
    assert_eq!(listings_count(&app).await, 0, "nothing was listed");

    let photo = support::jpeg_of(&support::picture(640, 480));
    let created = answer(post(listing_form(&csrf, category, "12.5", Some(photo))).await).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id: i64 = created
        .location
        .unwrap()
        .trim_start_matches("/f/listings/")
        .parse()
        .unwrap();
    let saved = listing::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.price_fen, 1_250);
    assert_eq!(saved.stock, 50);
    assert_eq!(saved.status, ListingStatus::OnSale);
    let shown = photos::of_listings(&app.state.db, &[id]).await.unwrap();
    assert_eq!(shown[&id].len(), 1, "the photo is on the listing");

    let without_token = answer(post(listing_form("", category, "12.5", None)).await).await;
    assert_eq!(without_token.status, StatusCode::FORBIDDEN);
    assert_eq!(listings_count(&app).await, 1);
}

#[tokio::test]
async fn officials_see_the_progress_of_their_own_area_only() {
    let app = support::app_with_admin().await;
    support::official(&app, "13900000011", Role::CountyOfficial, "500235").await;
    support::official(&app, "13900000012", Role::TownshipOfficial, "500235101000").await;
    farmer(&app).await;

    let county = cookie_for(&app, "13900000011").await;
    let dashboard = get(&app, "/o", &county).await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    assert!(dashboard.body.contains("/ 162"), "the villages goal");
    assert!(dashboard.body.contains("/ 135,000"), "the people goal");
    assert!(
        dashboard.body.matches("<svg").count() >= 2,
        "bars for the goals"
    );
    assert!(
        dashboard.body.contains("<ol class=\"bl\">"),
        "bars for the townships"
    );
    assert!(
        dashboard.body.contains("href=\"/o?area=500235101000\""),
        "townships open"
    );
    assert!(dashboard.body.len() < 30 * 1024);
    assert_eq!(dashboard.cache.as_deref(), Some("no-store"));
    let ranked = get(&app, "/o/villages", &county).await;
    assert_eq!(ranked.status, StatusCode::OK);
    assert!(ranked.body.contains("<ol class=\"cells rank\""));

    let township = cookie_for(&app, "13900000012").await;
    let own = get(&app, "/o", &township).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        own.body.contains("各村"),
        "a township's parts are its villages"
    );
    let other = get(&app, "/o?area=500235102000", &township).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let nonsense = get(&app, "/o?area=%3Cscript%3E", &township).await;
    assert_eq!(nonsense.status, StatusCode::NOT_FOUND);
    assert!(!nonsense.body.contains("<script>"));

    let farmer = cookie_for(&app, FARMER_PHONE).await;
    assert_eq!(get(&app, "/o", &farmer).await.status, StatusCode::FORBIDDEN);
    assert_eq!(get(&app, "/f", &county).await.status, StatusCode::FORBIDDEN);
    let anonymous = get(&app, "/o/villages", "").await;
    assert_eq!(
        anonymous.location.as_deref(),
        Some("/login?next=/o/villages")
    );
}

fn borrowed<'a>(form: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The `id` a form's path ends with after a redirect to `prefix{id}`.
fn id_after(location: &str, prefix: &str) -> i64 {
    location
        .trim_start_matches(prefix)
        .split(['#', '?', '/'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_buyer_orders_once_from_the_pages_and_the_farmer_ships_it() {
    let app = support::app_with_admin().await;
    let (user_id, household) = farmer(&app).await;
    let listing = listing_of(&app, user_id, household, 3_000).await;
    support::buyer_account(&app, "13711112222").await;
    let buyer = cookie_for(&app, "13711112222").await;

    let form = get(&app, &format!("/m/listings/{listing}/order"), &buyer).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("<optgroup label=\"广东省\">"));
    assert!(form.body.len() < 100 * 1024);
    let csrf = csrf_in(&form.body);
    let key_at = form.body.find("name=\"key\" value=\"").unwrap() + 18;
    let key = form.body[key_at..key_at + 24].to_owned();
    let path = format!("/m/listings/{listing}/order");
    let order = |phone: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("key", key.clone()),
            ("quantity", "２".to_owned()),
            ("name", "王小明".to_owned()),
            ("phone", phone.to_owned()),
            ("city", "440300".to_owned()),
            ("address", "南山区科技园 1 号".to_owned()),
        ]
    };

    let wrong_phone = order("12345");
    let refused = post_form(
        &app,
        &path,
        &buyer,
        &wrong_phone
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        support::said_beside(&refused.body, "phone", "手机号是 11 位数字"),
        "the reason is beside the phone number"
    );
    assert!(
        refused.body.contains("value=\"12345\""),
        "the number typed is kept"
    );
    assert!(
        refused.body.contains("value=\"王小明\""),
        "the name is kept"
    );
    assert!(refused.body.contains("南山区科技园 1 号</textarea>"));
    assert!(
        refused.body.contains("value=\"440300\" selected"),
        "the choice is kept"
    );

    // Pressed twice on a slow network: one order, the stock taken once.
    let good = order("138 0013 8000");
    let good = borrowed(&good);
    let first = post_form(&app, &path, &buyer, &good).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let again = post_form(&app, &path, &buyer, &good).await;
    assert_eq!(again.location, first.location);
    let order_id = id_after(first.location.as_deref().unwrap(), "/m/orders#order-");
    let stock = listing::Entity::find_by_id(listing)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .stock;
    assert_eq!(stock, 18);
    let mine = get(&app, "/m/orders", &buyer).await;
    assert!(mine.body.contains(&format!("id=\"order-{order_id}\"")));
    assert!(mine.body.contains("待付款"));

    // The farmer records the payment and ships; the buyer then sees it shipped.
    let seller = cookie_for(&app, FARMER_PHONE).await;
    let orders = get(&app, "/f/orders", &seller).await;
    assert!(
        orders
            .body
            .contains(&format!("action=\"/f/orders/{order_id}/pay\""))
    );
    let csrf = csrf_in(&orders.body);
    // How the buyer pays: too long is refused with the text kept; then saved, the buyer reads it.
    let long = "微".repeat(301);
    let refused = post_form(
        &app,
        "/f/payment",
        &seller,
        &[("csrf", &csrf), ("instructions", &long)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        support::said_beside(&refused.body, "instructions", "付款方式最多写 300 个字"),
        "the reason is beside the text"
    );
    assert!(refused.body.contains(&long), "the text typed is kept");
    let said = "微信转账给 136 0000 0001，备注订单号";
    let saved = post_form(
        &app,
        "/f/payment",
        &seller,
        &[("csrf", &csrf), ("instructions", said)],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert!(get(&app, "/f/orders", &seller).await.body.contains(said));
    let waiting = get(&app, "/m/orders", &buyer).await.body;
    assert!(waiting.contains("怎么付款") && waiting.contains(said));
    let shipped_too_soon = post_form(
        &app,
        &format!("/f/orders/{order_id}/ship"),
        &seller,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        shipped_too_soon.status,
        StatusCode::CONFLICT,
        "not paid yet"
    );
    for step in ["pay", "ship"] {
        if step == "ship" {
            // A number not of the carrier's shape: refused, the carrier and number kept.
            let refused = post_form(
                &app,
                &format!("/f/orders/{order_id}/ship"),
                &seller,
                &[
                    ("csrf", &csrf),
                    ("carrier", "zto"),
                    ("waybill", "7831 2345"),
                ],
            )
            .await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                support::said_beside(
                    &refused.body,
                    &format!("waybill-{order_id}"),
                    "中通快递的运单号是 12 到 15 位数字"
                ),
                "the reason is beside the order's own waybill field: {}",
                refused.body
            );
            assert!(refused.body.contains("value=\"7831 2345\""));
            assert!(refused.body.contains("value=\"zto\" selected"));
        }
        let done = post_form(
            &app,
            &format!("/f/orders/{order_id}/{step}"),
            &seller,
            &[
                ("csrf", &csrf),
                ("carrier", "sf"),
                ("waybill", "SF 1234 5678 9012"),
            ],
        )
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{step}: {}", done.body);
    }
    let mine = get(&app, "/m/orders", &buyer).await.body;
    assert!(mine.contains("已发货"));
    assert!(
        !mine.contains(said),
        "paid: no more instructions for paying"
    );
    assert!(mine.contains("顺丰速运"), "the carrier");
    assert!(mine.contains("SF123456789012"), "the waybill number");
    assert!(
        mine.contains("href=\"https://m.kuaidi100.com/result.jsp?nu=SF123456789012\""),
        "the tracking link"
    );
    let not_theirs = post_form(
        &app,
        &format!("/f/orders/{order_id}/cancel"),
        &buyer,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        not_theirs.status,
        StatusCode::FORBIDDEN,
        "another sign-in's form token"
    );
}

#[tokio::test]
async fn a_farmer_records_a_batch_its_journey_and_prints_its_labels() {
    let app = support::app_with_admin().await;
    farmer(&app).await;
    let cookie = cookie_for(&app, FARMER_PHONE).await;
    let page = get(&app, "/f/batches", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = csrf_in(&page.body);
    let category = support::category_id(&app, "sweet_potato_vermicelli")
        .await
        .to_string();
    let today = chrono::Utc::now().date_naive().to_string();
    let batch = |quantity: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("category", category.clone()),
            ("plot", String::new()),
            ("quantity", quantity.to_owned()),
            ("unit", String::new()),
            ("produced_on", today.clone()),
            ("listing", String::new()),
        ]
    };

    let not_a_number = batch("很多");
    let refused = post_form(
        &app,
        "/f/batches",
        &cookie,
        &not_a_number
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    let good = batch("200");
    let created = post_form(
        &app,
        "/f/batches",
        &cookie,
        &good
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = id_after(created.location.as_deref().unwrap(), "/f/batches/");
    let path = format!("/f/batches/{id}");

    let inspected = post_form(
        &app,
        &format!("{path}/events"),
        &cookie,
        &[
            ("csrf", &csrf),
            ("kind", "inspected"),
            ("result", "pass"),
            ("place", "县农检站"),
        ],
    )
    .await;
    assert_eq!(
        inspected.status,
        StatusCode::SEE_OTHER,
        "{}",
        inspected.body
    );
    let no_result = post_form(
        &app,
        &format!("{path}/events"),
        &cookie,
        &[("csrf", &csrf), ("kind", "inspected"), ("result", "")],
    )
    .await;
    assert_eq!(
        no_result.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an inspection has a result"
    );
    let issued = post_form(
        &app,
        &format!("{path}/codes"),
        &cookie,
        &[("csrf", &csrf), ("count", "30")],
    )
    .await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);

    let shown = get(&app, &path, &cookie).await;
    assert!(shown.body.contains("检测（合格）"));
    assert!(shown.body.contains("县农检站"));
    let start = shown.body.find("href=\"/f/batches/").unwrap() + 6;
    let href = &shown.body[start..shown.body[start..].find('"').unwrap() + start];
    assert!(href.ends_with("/labels.pdf"), "{href}");
    let pdf = app.client.get(href).header("cookie", &cookie).send().await;
    pdf.assert_status_is_ok();
    pdf.assert_header("x-total-pages", "2");
    let bytes = pdf.0.into_body().into_vec().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));

    let other_household = support::household_in(&app, VILLAGE, 2).await;
    support::farmer_account(&app, "13911113333", other_household).await;
    let other = cookie_for(&app, "13911113333").await;
    assert_eq!(get(&app, &path, &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, href, &other).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_official_takes_the_next_step_on_a_case_from_the_pages() {
    use api::service::{
        exit::cases::{self, ExitSubjectRef},
        users::Origin,
    };
    use entities::exit_case::{self, ExitState};

    let app = support::app_with_admin().await;
    let cadre = support::official(&app, "13900000021", Role::VillageCadre, VILLAGE).await;
    support::official(&app, "13900000022", Role::TownshipOfficial, "500235102000").await;
    let household = crate::exit::qualifying_household(&app, 1).await;
    let actor = api::service::auth::actor_of(&cadre);
    let case = cases::propose(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        &actor,
        ExitSubjectRef::Household(household),
        crate::exit::YEAR,
        &Origin::default(),
    )
    .await
    .unwrap()
    .case
    .id;
    let state_of = || async {
        exit_case::Entity::find_by_id(case)
            .one(app.state.db.conn())
            .await
            .unwrap()
            .unwrap()
            .state
    };

    let cookie = cookie_for(&app, "13900000021").await;
    let waiting = get(&app, "/o/cases", &cookie).await;
    assert_eq!(waiting.status, StatusCode::OK);
    assert!(
        waiting
            .body
            .contains(&format!("href=\"/o/households/{household}\""))
    );
    assert!(
        waiting
            .body
            .contains(&format!("action=\"/o/cases/{case}/appraise\""))
    );
    let csrf = csrf_in(&waiting.body);

    let no_reason = post_form(
        &app,
        &format!("/o/cases/{case}/reject"),
        &cookie,
        &[("csrf", &csrf), ("reason", " ")],
    )
    .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(state_of().await, ExitState::Proposed);
    // A reason too long: said beside the case's own reason field, the text kept.
    let long = "理".repeat(501);
    let too_long = post_form(
        &app,
        &format!("/o/cases/{case}/reject"),
        &cookie,
        &[("csrf", &csrf), ("reason", &long)],
    )
    .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        support::said_beside(
            &too_long.body,
            &format!("reason-{case}-reject"),
            "原因最多 500 个字"
        ),
        "the reason is beside the case's reason field: {}",
        too_long.body
    );
    assert!(too_long.body.contains(&long), "the text typed is kept");
    assert_eq!(state_of().await, ExitState::Proposed);
    let appraised = post_form(
        &app,
        &format!("/o/cases/{case}/appraise"),
        &cookie,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        appraised.status,
        StatusCode::SEE_OTHER,
        "{}",
        appraised.body
    );
    assert_eq!(state_of().await, ExitState::Appraised);
    // The list says what happened and what comes next, and names the household's head.
    let location = appraised.location.clone().unwrap();
    assert_eq!(location, format!("/o/cases?done={case}"));
    let told = get(&app, &location, &cookie).await;
    assert!(
        told.body.contains(&format!("第 {case} 号：下一步：核实。")),
        "{}",
        told.body
    );

    let page = get(&app, &format!("/o/households/{household}"), &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(&format!("{} 年度评估", crate::exit::YEAR))
    );
    assert!(page.body.contains("达到退出标准"));
    assert!(page.body.contains("户主"));
    assert!(
        !page.body.contains("500235198001"),
        "ID numbers stay masked"
    );
    assert_eq!(get(&app, "/o/stats", &cookie).await.status, StatusCode::OK);

    // Another township's official sees neither the case nor the household.
    let elsewhere = cookie_for(&app, "13900000022").await;
    assert!(
        !get(&app, "/o/cases", &elsewhere)
            .await
            .body
            .contains(&format!("case-{case}"))
    );
    assert_eq!(
        get(&app, &format!("/o/households/{household}"), &elsewhere)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let csrf = csrf_in(&get(&app, "/o", &elsewhere).await.body);
    let taken = post_form(
        &app,
        &format!("/o/cases/{case}/verify"),
        &elsewhere,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(taken.status, StatusCode::NOT_FOUND);
    assert_eq!(state_of().await, ExitState::Appraised);
    assert_eq!(
        get(&app, "/o/stats?area=500235101000", &elsewhere)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

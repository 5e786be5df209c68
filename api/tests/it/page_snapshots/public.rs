//! The pages anyone may open: the scan page of a label's code (genuine, with warnings, not
//! valid, unavailable), the market's browse page, a listing, and the form for a typed code.

use api::{
    domain::{Phone, region::Destination},
    infra::trace_codes::{TraceCode, grouped},
    service::{
        market::{
            listings::{self, ListingFields},
            orders::{self, NewOrder},
        },
        policy::Actor,
    },
    testing::TestApp,
};
use entities::{
    listing::{ListingStatus, Unit},
    user::Role,
};
use poem::http::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use super::{Page, open};
use crate::{assert_page, support};

const VILLAGE: &str = "500235101201";
const TOWNSHIP: &str = "500235101000";

/// A page with the codes it shows (which differ between runs' keys) named instead.
fn without_codes(mut page: Page, codes: &[&str]) -> Page {
    for code in codes {
        page.html = page
            .html
            .replace(&grouped(code), "[code]")
            .replace(code, "[code]");
    }
    page
}

async fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Value) -> Value {
    let request = match method {
        "POST" => app.client.post(path),
        _ => app.client.get(path),
    };
    let resp = request
        .header("authorization", format!("Bearer {token}"))
        .body_json(&body)
        .send()
        .await;
    let status = resp.0.status();
    let body = resp.0.into_body().into_string().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// A farmer's batch of vermicelli from their plot, processed, inspected and packed, with
/// three item codes issued: the farmer's token and the batch's id.
async fn traced_batch(app: &TestApp) -> (String, u32) {
    let household = support::household_in(app, VILLAGE, 1).await;
    support::farmer_account(app, "13600000001", household).await;
    let (token, _) = support::tokens(app, "13600000001").await;
    let plot = call(
        app,
        "POST",
        "/api/v1/plots",
        &token,
        json!({ "name": "屋后坡地", "area_mu": 1.25, "crop": "红薯" }),
    )
    .await;
    let category = support::category_id(app, "sweet_potato_vermicelli").await;
    let batch = call(
        app,
        "POST",
        "/api/v1/batches",
        &token,
        json!({ "category_id": category, "plot_id": plot["id"], "quantity": 300,
                "produced_on": "2026-10-20", "note": "霜降前收" }),
    )
    .await;
    let id = batch["id"].as_i64().unwrap();
    for event in [
        json!({ "kind": "processed", "occurred_at": "2026-11-02T02:00:00Z", "place_area_code": VILLAGE }),
        json!({ "kind": "inspected", "occurred_at": "2026-11-03T03:00:00Z",
                "place_text": "县农产品检测站", "result": "pass" }),
        json!({ "kind": "packed", "occurred_at": "2026-11-04T03:00:00Z", "place_area_code": VILLAGE }),
    ] {
        call(
            app,
            "POST",
            &format!("/api/v1/batches/{id}/events"),
            &token,
            event,
        )
        .await;
    }
    call(
        app,
        "POST",
        &format!("/api/v1/batches/{id}/code-runs"),
        &token,
        json!({ "count": 5 }),
    )
    .await;
    (token, u32::try_from(id).unwrap())
}

/// A scan from `ip`, as a proxy in front of the server tells it.
async fn scan_from(app: &TestApp, code: &str, ip: &str) -> Page {
    let resp = app
        .client
        .get(format!("/t/{code}"))
        .header("accept-language", "zh")
        .header("x-forwarded-for", ip)
        .send()
        .await;
    let status = resp.0.status();
    let html = resp.0.into_body().into_string().await.unwrap();
    Page { status, html }
}

#[tokio::test]
async fn the_scan_page() {
    // A label scanned more than three times, or from more than two places, is suspicious here.
    let app = TestApp::spawn_with(|s| {
        s.scan_warn_after = 3;
        s.scan_warn_places = 2;
        s.trust_forwarded_for = true;
    })
    .await;
    let (token, batch_id) = traced_batch(&app).await;
    let item = |item| app.state.trace_keys.sign(TraceCode { batch_id, item });
    let (one, two, three, four, five) = (item(1), item(2), item(3), item(4), item(5));
    let verdict = |page: &Page| -> String {
        let start = page.html.find("class=\"verdict ").expect("a verdict") + 15;
        page.html[start..].split('"').next().unwrap().to_owned()
    };

    let genuine = open(&app, &format!("/t/{one}"), None, "zh").await;
    assert_eq!(verdict(&genuine), "ok");
    assert!(genuine.html.contains("信息由生产者登记"));
    assert_page!("scan_genuine", without_codes(genuine, &[&one]));
    let english = open(&app, &format!("/T/{one}"), None, "en").await;
    assert_page!("scan_genuine_en", without_codes(english, &[&one]));

    // Forged and never issued: red, in plain words, without the producer's footer.
    let mut forged = one.clone().into_bytes();
    forged[8] = if forged[8] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let page = open(&app, &format!("/t/{forged}"), None, "zh").await;
    assert_eq!(verdict(&page), "bad");
    assert!(page.html.contains("这不是本县发放的溯源码，可能是假冒"));
    assert!(!page.html.contains("签名不符") && !page.html.contains("信息由生产者登记"));
    assert_page!("scan_forged", without_codes(page, &[&forged]));
    let never_issued = app.state.trace_keys.sign(TraceCode {
        batch_id: batch_id + 100,
        item: 1,
    });
    let page = open(&app, &format!("/t/{never_issued}"), None, "zh").await;
    assert_eq!(verdict(&page), "bad");
    assert_page!("scan_not_issued", without_codes(page, &[&never_issued]));

    // Revoked: red, with the reason and what to do.
    call(
        &app,
        "POST",
        "/api/v1/trace/revocations",
        &token,
        json!({ "code": two, "reason": "标签丢失" }),
    )
    .await;
    let page = open(&app, &format!("/t/{two}"), None, "zh").await;
    assert_eq!(verdict(&page), "bad");
    assert!(page.html.contains("标签丢失") && page.html.contains("请勿食用，请联系卖家退款"));
    assert_page!("scan_revoked", without_codes(page, &[&two]));

    // Scanned too often, or from too many places: amber.
    for _ in 0..3 {
        scan_from(&app, &four, "120.1.2.3").await;
    }
    let page = scan_from(&app, &four, "120.1.2.3").await;
    assert_eq!(verdict(&page), "warn");
    assert!(page.html.contains("标签可能被复制"));
    assert_page!("scan_over_scanned", without_codes(page, &[&four]));
    for ip in ["120.1.2.3", "36.5.6.7"] {
        scan_from(&app, &five, ip).await;
    }
    let page = scan_from(&app, &five, "58.10.11.12").await;
    assert_eq!(verdict(&page), "warn");
    assert_page!("scan_many_places", without_codes(page, &[&five]));

    // The batch fails an inspection: red on every code, with what to do.
    call(
        &app,
        "POST",
        &format!("/api/v1/batches/{batch_id}/events"),
        &token,
        json!({ "kind": "inspected", "occurred_at": "2026-11-05T03:00:00Z",
                "place_text": "县农产品检测站", "result": "fail" }),
    )
    .await;
    let page = open(&app, &format!("/t/{one}"), None, "zh").await;
    assert_eq!(verdict(&page), "bad");
    assert!(page.html.contains("检测不合格") && page.html.contains("请勿食用，请联系卖家退款"));
    assert_page!("scan_failed_inspection", without_codes(page, &[&one]));

    // Item 3, scanned three times already, is scanned again after the township recalls the batch.
    for _ in 0..3 {
        open(&app, &format!("/t/{three}"), None, "zh").await;
    }
    support::official(&app, "13900000003", Role::TownshipOfficial, TOWNSHIP).await;
    let (township, _) = support::tokens(&app, "13900000003").await;
    call(
        &app,
        "POST",
        &format!("/api/v1/batches/{batch_id}/recall"),
        &township,
        json!({ "reason": "抽检不合格" }),
    )
    .await;
    let page = open(&app, &format!("/t/{three}"), None, "zh").await;
    assert_eq!(verdict(&page), "bad");
    assert_page!("scan_recalled_over_scanned", without_codes(page, &[&three]));
}

#[tokio::test]
async fn the_scan_page_when_the_records_cannot_be_read() {
    let app = TestApp::spawn().await;
    let code = app.state.trace_keys.sign(TraceCode {
        batch_id: 1,
        item: 1,
    });
    app.state
        .db
        .conn()
        .execute_unprepared("ALTER TABLE batches RENAME TO batches_away")
        .await
        .unwrap();
    let resp = app.client.get(format!("/t/{code}")).send().await;
    resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    resp.assert_header("cache-control", "no-store");
    let page = super::page_of(resp).await;
    assert_page!("scan_unavailable", without_codes(page, &[&code]));
}

/// A listing on sale by a farmer of `village`; `n` keeps households apart.
async fn listing(app: &TestApp, village: &str, n: u32, fields: ListingFields) -> (Actor, i64) {
    let household = support::household_in(app, village, n).await;
    let user = support::farmer_account(app, &format!("136000000{n:02}"), household).await;
    let farmer = Actor {
        user_id: user.id,
        role: Role::Farmer,
        area: None,
        household_id: Some(household),
    };
    let id = listings::create(&app.state.db, &farmer, fields)
        .await
        .unwrap()
        .id;
    (farmer, id)
}

fn on_sale(category_id: i64, title: &str, price_fen: i64, unit: Unit) -> ListingFields {
    ListingFields {
        category_id: Some(category_id),
        title: Some(title.into()),
        description: Some("高山上种的红薯，石磨磨浆，手工漏粉，晒足三天。\n煮 5 分钟即可。".into()),
        price_fen: Some(price_fen),
        unit: Some(unit),
        stock: Some(40),
        min_order: Some(2),
        status: Some(ListingStatus::OnSale),
        ..Default::default()
    }
}

async fn add_photo(app: &TestApp, farmer: &Actor, listing: i64, shade: u32) {
    let jpeg = support::jpeg_of(&support::picture(64 + shade, 64));
    app.state
        .photos
        .add_to_listing(
            &app.state.db,
            farmer,
            listing,
            jpeg,
            api::infra::imaging::Declared::SILENT,
        )
        .await
        .unwrap();
}

/// Vermicelli with two photos and eggs in one township, honey sold out in another.
async fn market(app: &TestApp) -> (i64, i64) {
    let vermicelli = support::category_id(app, "sweet_potato_vermicelli").await;
    let eggs = support::category_id(app, "free_range_eggs").await;
    let (farmer, noodles) = listing(
        app,
        VILLAGE,
        1,
        on_sale(vermicelli, "手工红苕粉 5斤装", 3_000, Unit::Jin),
    )
    .await;
    add_photo(app, &farmer, noodles, 0).await;
    add_photo(app, &farmer, noodles, 8).await;
    listing(
        app,
        "500235101202",
        2,
        ListingFields {
            description: Some(String::new()),
            ..on_sale(eggs, "散养土鸡蛋 30枚", 4_550, Unit::Box)
        },
    )
    .await;
    let (_, sold_out) = listing(
        app,
        "500235102201",
        3,
        ListingFields {
            stock: Some(2),
            ..on_sale(vermicelli, "红苕粉条（已卖完）", 2_800, Unit::Kg)
        },
    )
    .await;
    // A buyer takes the last of it.
    let buyer = support::buyer_account(app, "13700000001").await;
    let buyer = Actor {
        user_id: buyer.id,
        role: Role::Buyer,
        area: None,
        household_id: None,
    };
    orders::place(
        &app.state.db,
        &buyer,
        NewOrder {
            listing_id: sold_out,
            quantity: 2,
            destination: Destination::of_city("440300").unwrap(),
            address: "南山区科技园 1 号".into(),
            recipient_name: "王小明".into(),
            recipient_phone: Phone::parse("13800138000").unwrap(),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    (noodles, sold_out)
}

#[tokio::test]
async fn the_market() {
    let app = TestApp::spawn().await;
    assert_page!("browse_empty", open(&app, "/m", None, "zh").await);
    let (noodles, sold_out) = market(&app).await;
    // Written past the server, which tells the kept copies as every write through it does.
    api::service::changes::changed(app.state.cache.as_ref()).await;

    let browse = open(&app, "/m", None, "zh").await;
    assert_eq!(browse.status, StatusCode::OK);
    assert_page!("browse", browse);
    assert_page!("browse_en", open(&app, "/m", None, "en").await);
    let eggs = support::category_id(&app, "free_range_eggs").await;
    // A township chosen: its villages are offered, with the category kept.
    assert_page!(
        "browse_township_and_category",
        open(
            &app,
            &format!("/m?category={eggs}&area={TOWNSHIP}"),
            None,
            "zh"
        )
        .await
    );
    assert_page!(
        "browse_village",
        open(&app, "/m?area=500235101201", None, "zh").await
    );

    let resp = app
        .client
        .get(format!("/m/listings/{noodles}"))
        .send()
        .await;
    resp.assert_header("cache-control", "public, max-age=60");
    assert_page!("listing", super::page_of(resp).await);
    assert_page!(
        "listing_en",
        open(&app, &format!("/m/listings/{noodles}"), None, "en").await
    );
    assert_page!(
        "listing_sold_out",
        open(&app, &format!("/m/listings/{sold_out}"), None, "zh").await
    );
    let resp = app.client.get("/m/listings/999999").send().await;
    resp.assert_status(StatusCode::NOT_FOUND);
    resp.assert_header("cache-control", "public, max-age=60");
    assert_page!("listing_not_found", super::page_of(resp).await);
}

#[tokio::test]
async fn the_market_pages_on_through_many_goods() {
    let app = TestApp::spawn().await;
    let eggs = support::category_id(&app, "free_range_eggs").await;
    let (farmer, _) = listing(
        &app,
        VILLAGE,
        1,
        on_sale(eggs, "土鸡蛋 第 1 箱", 1_000, Unit::Box),
    )
    .await;
    let mut last = 0;
    for n in 2..=21 {
        last = listings::create(
            &app.state.db,
            &farmer,
            on_sale(eggs, &format!("土鸡蛋 第 {n} 箱"), 1_000, Unit::Box),
        )
        .await
        .unwrap()
        .id;
    }
    let first = open(&app, &format!("/m?area={VILLAGE}"), None, "zh").await;
    assert_eq!(first.html.matches("class=\"cell\"").count(), 20);
    // The 20th newest is where the next page starts.
    let next = format!("/m?area={VILLAGE}&#38;cursor={}", last - 19);
    assert!(
        first
            .html
            .contains(&format!("<a class=\"more\" href=\"{next}\">下一页</a>")),
        "{}",
        first.html
    );
    let second = open(&app, &next.replace("&#38;", "&"), None, "zh").await;
    assert_eq!(second.html.matches("class=\"cell\"").count(), 1);
    assert!(second.html.contains("土鸡蛋 第 1 箱") && !second.html.contains("class=\"more\""));
}

#[tokio::test]
async fn the_form_for_a_typed_code() {
    let app = TestApp::spawn().await;
    assert_page!("trace_form", open(&app, "/m/trace", None, "zh").await);
    assert_page!(
        "trace_form_wrong_code",
        open(&app, "/m/trace?code=hello+%3Cb%3E", None, "zh").await
    );
    assert_page!("trace_form_en", open(&app, "/m/trace", None, "en").await);
    let resp = app.client.get("/m/trace?code=HELLO").send().await;
    resp.assert_header("cache-control", "public, max-age=300");
}

/// The anti-forgery token on a page's forms.
fn csrf_in(html: &str) -> String {
    let start = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with its token")
        + 19;
    html[start..].split('"').next().expect("a token").to_owned()
}

#[tokio::test]
async fn a_report_sent_twice_with_its_key_is_one_report() {
    use entities::trace_report;
    use sea_orm::{EntityTrait, PaginatorTrait};

    let app = TestApp::spawn().await;
    let (_, batch_id) = traced_batch(&app).await;
    let code = app.state.trace_keys.sign(TraceCode { batch_id, item: 1 });
    let path = format!("/t/{code}/report");
    let form = open(&app, &path, None, "zh").await;
    let start = form
        .html
        .find("name=\"key\" value=\"")
        .expect("the form's key")
        + 18;
    let key = form.html[start..start + 24].to_owned();
    let reports = || async {
        trace_report::Entity::find()
            .count(app.state.db.conn())
            .await
            .unwrap()
    };
    // A double tap on a weak signal: both copies on to the thanks, one report.
    for _ in 0..2 {
        let sent = super::post(&app, &path, None, &[("key", &key), ("what", "粉条发霉了")]).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.html);
    }
    assert_eq!(reports().await, 1);
    // The key with another report: refused, what was typed kept, nothing stored.
    let refused = super::post(&app, &path, None, &[("key", &key), ("what", "包装破了")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains(">包装破了</textarea>"));
    assert_eq!(reports().await, 1);
}

#[tokio::test]
async fn a_buyers_report_is_stored_listed_answered_and_closed_within_the_officials_area() {
    use api::service::trace::reports::{self, ReportFilter};
    use entities::{audit_log, trace_report::ReportStatus};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let app = TestApp::spawn().await;
    let (_, batch_id) = traced_batch(&app).await;
    let code = app.state.trace_keys.sign(TraceCode { batch_id, item: 1 });
    // The scan page leads to the form.
    let scan = open(&app, &format!("/t/{code}"), None, "zh").await;
    assert!(scan.html.contains(&format!("href=\"/t/{code}/report\"")));
    assert_page!(
        "report_form",
        without_codes(
            open(&app, &format!("/t/{code}/report"), None, "zh").await,
            &[&code]
        )
    );

    // A wrong phone: the form again, with what was typed; nothing stored.
    let refused = super::post(
        &app,
        &format!("/t/{code}/report"),
        None,
        &[("what", "粉条发霉了"), ("phone", "123")],
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.html
    );
    assert!(refused.html.contains("粉条发霉了"));
    // Sent: post, redirect, get the thanks.
    let grouped_code = grouped(&code).replace(' ', "%20");
    let sent = app
        .client
        .post(format!("/t/{grouped_code}/report"))
        .content_type("application/x-www-form-urlencoded")
        .body("what=%E7%B2%89%E6%9D%A1%E5%8F%91%E9%9C%89%E4%BA%86&phone=139+0000+0099")
        .send()
        .await;
    sent.assert_status(StatusCode::SEE_OTHER);
    sent.assert_header("location", format!("/t/{code}/report?sent=1"));
    let thanks = open(&app, &format!("/t/{code}/report?sent=1"), None, "zh").await;
    assert!(thanks.html.contains("已收到"));
    // A code never issued has no village to report to.
    let never = app.state.trace_keys.sign(TraceCode {
        batch_id: batch_id + 50,
        item: 1,
    });
    let nowhere = super::post(
        &app,
        &format!("/t/{never}/report"),
        None,
        &[("what", "假货")],
    )
    .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);

    let stored = entities::trace_report::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let report = &stored[0];
    assert_eq!(
        (
            report.batch_id,
            report.village_code.as_str(),
            report.phone.as_deref()
        ),
        (i64::from(batch_id), VILLAGE, Some("13900000099"))
    );

    // The village's cadre and its township read it; another township does not.
    support::official(&app, "13900000021", Role::VillageCadre, VILLAGE).await;
    let stranger_actor = api::service::auth::actor_of(
        &support::official(&app, "13900000022", Role::TownshipOfficial, "500235102000").await,
    );
    let cadre = super::cookie_for(&app, "13900000021").await;
    let stranger = super::cookie_for(&app, "13900000022").await;
    let mine = open(
        &app,
        &format!("/o/reports?batch={batch_id}"),
        Some(&cadre),
        "zh",
    )
    .await;
    assert!(mine.html.contains("粉条发霉了") && mine.html.contains("13900000099"));
    let theirs = open(&app, "/o/reports", Some(&stranger), "zh").await;
    assert!(!theirs.html.contains("粉条发霉了"));
    let not_theirs = open(
        &app,
        &format!("/o/reports?area={VILLAGE}"),
        Some(&stranger),
        "zh",
    )
    .await;
    assert_eq!(not_theirs.status, StatusCode::NOT_FOUND);
    assert!(
        reports::list(&app.state.db, &stranger_actor, ReportFilter::default())
            .await
            .unwrap()
            .is_empty()
    );

    // Another township cannot close it, even with a form of its own; the cadre answers and
    // closes it, and is told what happened.
    let close = |cookie: String, answer: &'static str, html: String| {
        let app = &app;
        let id = report.id;
        async move {
            let token = csrf_in(&html);
            super::post(
                app,
                &format!("/o/reports/{id}/close"),
                Some(&cookie),
                &[("csrf", token.as_str()), ("answer", answer)],
            )
            .await
        }
    };
    let stranger_form = format!("name=\"csrf\" value=\"{}\"", csrf_of_cookie(&stranger));
    let refused = close(stranger.clone(), "不是我们的", stranger_form).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.html);
    assert_page!("official_reports", mine);
    let cadre_page = open(&app, "/o/reports", Some(&cadre), "zh").await.html;
    // An empty answer: said beside the report's own answer field, nothing closed.
    let empty = close(cadre.clone(), "  ", cadre_page.clone()).await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.html
    );
    assert!(
        crate::support::said_beside(
            &empty.html,
            &format!("answer-{}", report.id),
            "请写 1 到 500 个字"
        ),
        "the reason is beside the report's answer field: {}",
        empty.html
    );
    let closed = close(cadre.clone(), "已上门核实，卖家已退款", cadre_page).await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.html);
    let after = open(
        &app,
        &format!("/o/reports?closed={}&all=1", report.id),
        Some(&cadre),
        "zh",
    )
    .await;
    assert!(after.html.contains("已答复并关闭反馈") && after.html.contains("已上门核实"));
    assert_page!("official_reports_closed", after);
    let row = entities::trace_report::Entity::find_by_id(report.id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, ReportStatus::Closed);
    assert_eq!(row.answer.as_deref(), Some("已上门核实，卖家已退款"));
    // Closing again is refused; the stranger cannot close through the service either.
    assert!(
        reports::close(&app.state.db, &stranger_actor, report.id, "x", None)
            .await
            .is_err()
    );
    // Both the report and its closing are audited.
    let actions: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq("trace_report"))
        .all(app.state.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["trace_report.created", "trace_report.closed"]);
}

/// The form token of the sign-in in `cookie`, as its pages' forms carry it.
fn csrf_of_cookie(cookie: &str) -> String {
    let session = cookie.trim_start_matches("shanhuo_session=");
    api::infra::tokens::sha256_hex(format!("csrf\0{session}").as_bytes())[..32].to_owned()
}

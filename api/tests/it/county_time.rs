//! The county's clock on the farmer's pages: whatever the hour in UTC, the day the batch form
//! fills in is the county's today and is accepted, and every time shown is the county's.

use api::{service::trace::codes, testing::TestApp};
use chrono::{TimeZone, Utc};
use poem::http::StatusCode;

use crate::page_snapshots::{cookie_for, open, post};
use crate::support;

const FARMER: &str = "13911113333";
const VILLAGE: &str = "500235101201";

/// The value the batch form's day field is filled in with.
fn default_day(html: &str) -> String {
    let field = html
        .find("name=\"produced_on\"")
        .expect("the batch form's day field");
    let value = html[field..].find("value=\"").expect("a filled-in day") + field + 7;
    html[value..value + 10].to_owned()
}

fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a form") + 19;
    html[start..].split('"').next().expect("a token").to_owned()
}

/// Signs a farmer in at the app's fixed instant, records a batch with the day the form offers
/// and a step of its journey, and returns the batch's page and its scan page.
async fn batch_flow(app: &TestApp, expected_day: &str, expected_minute: &str) {
    let household = support::household_in(app, VILLAGE, 1).await;
    let user = support::farmer_account(app, FARMER, household).await;
    let cookie = cookie_for(app, FARMER).await;

    let form = open(app, "/f/batches", Some(&cookie), "zh").await;
    assert_eq!(form.status, StatusCode::OK);
    let day = default_day(&form.html);
    assert_eq!(day, expected_day, "the form offers the county's today");
    let csrf = csrf_of(&form.html);
    let category = support::category_id(app, "sweet_potato_vermicelli")
        .await
        .to_string();

    let recorded = post(
        app,
        "/f/batches",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("category", &category),
            ("quantity", "200"),
            ("produced_on", &day),
        ],
    )
    .await;
    assert_eq!(
        recorded.status,
        StatusCode::SEE_OTHER,
        "the form's own day is accepted: {}",
        recorded.html
    );
    let batches = api::service::trace::batch_pages::own_batches(
        &app.state.db,
        &api::service::auth::actor_of(&user),
        10,
    )
    .await
    .unwrap()
    .expect("the farmer's household");
    let batch = &batches.batches[0];
    assert_eq!(batch.produced_on.to_string(), expected_day);

    let path = format!("/f/batches/{}", batch.id);
    let step = post(
        app,
        &format!("{path}/events"),
        Some(&cookie),
        &[("csrf", &csrf), ("kind", "harvested")],
    )
    .await;
    assert_eq!(step.status, StatusCode::SEE_OTHER, "{}", step.html);

    let page = open(app, &path, Some(&cookie), "zh").await;
    assert!(
        page.html.contains(expected_minute),
        "the step shows the county's time {expected_minute}"
    );
    assert!(!page.html.contains("UTC"));

    let code = codes::batch_code(&app.state.trace_keys, batch.id);
    let scan = open(app, &format!("/t/{code}"), None, "zh").await;
    assert_eq!(scan.status, StatusCode::OK);
    assert!(scan.html.contains(expected_day), "the scan page's day");
    assert!(scan.html.contains(expected_minute), "the scan page's step");

    // The county's tomorrow is still refused.
    let tomorrow = (batch.produced_on + chrono::Days::new(1)).to_string();
    let refused = post(
        app,
        "/f/batches",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("category", &category),
            ("quantity", "200"),
            ("produced_on", &tomorrow),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn at_half_past_eleven_utc_the_form_offers_and_accepts_the_next_day_in_the_county() {
    let app = TestApp::spawn_at(Utc.with_ymd_and_hms(2026, 12, 1, 23, 30, 0).unwrap()).await;
    batch_flow(&app, "2026-12-02", "2026-12-02 07:30").await;
}

#[tokio::test]
async fn at_half_past_four_utc_the_county_is_already_past_midnight() {
    let app = TestApp::spawn_at(Utc.with_ymd_and_hms(2026, 12, 1, 16, 30, 0).unwrap()).await;
    batch_flow(&app, "2026-12-02", "2026-12-02 00:30").await;
}

#[tokio::test]
async fn in_the_middle_of_the_county_day_utc_and_the_county_agree_on_the_date() {
    let app = TestApp::spawn_at(Utc.with_ymd_and_hms(2026, 12, 2, 4, 0, 0).unwrap()).await;
    batch_flow(&app, "2026-12-02", "2026-12-02 12:00").await;
}

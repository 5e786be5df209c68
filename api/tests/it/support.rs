//! Helpers shared by the integration tests: an app with an admin, officials and farmers who
//! can sign in, households, and token pairs.

use api::{
    domain::{AreaCode, Phone},
    infra::passwords,
    service::users::{self, Invitation, Origin},
    testing::{self, TestApp},
};
use entities::user;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use secrecy::SecretString;
use serde_json::{Value, json};

pub const ADMIN_PHONE: &str = "13800000001";
pub const PASSWORD: &str = "山货-correct-horse";

pub async fn json_of(resp: poem::test::TestResponse) -> Value {
    resp.0.into_body().into_json().await.expect("a JSON body")
}

pub async fn app_with_admin() -> TestApp {
    with_admin(TestApp::spawn().await).await
}

/// Adds the admin (`ADMIN_PHONE`, `PASSWORD`) to an app.
pub async fn with_admin(app: TestApp) -> TestApp {
    users::create_admin(
        &app.state.db,
        Phone::parse(ADMIN_PHONE).unwrap(),
        "管理员".into(),
        &SecretString::from(PASSWORD),
    )
    .await
    .unwrap();
    app
}

/// An official with a password, so the test can sign in as them.
pub async fn official(app: &TestApp, phone: &str, role: user::Role, area: &str) -> user::Model {
    let official = users::invite_official(
        &app.state.db,
        None,
        Invitation {
            phone: Phone::parse(phone).unwrap(),
            display_name: format!("干部 {phone}"),
            role,
            area: AreaCode::parse(area).unwrap(),
        },
        &Origin::default(),
    )
    .await
    .unwrap();
    let mut active = official.clone().into_active_model();
    active.password_hash = Set(Some(
        passwords::hash(&SecretString::from(PASSWORD))
            .await
            .unwrap(),
    ));
    active.update(app.state.db.conn()).await.unwrap()
}

pub async fn login(app: &TestApp, phone: &str, password: &str) -> poem::test::TestResponse {
    app.client
        .post("/api/v1/auth/login/password")
        .body_json(&json!({ "phone": phone, "password": password }))
        .send()
        .await
}

pub async fn tokens(app: &TestApp, phone: &str) -> (String, String) {
    let resp = login(app, phone, PASSWORD).await;
    resp.assert_status_is_ok();
    let body = json_of(resp).await;
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// A one-person household in `village`, registered by the county; `n` (1–99) keeps the
/// household number and the ID number apart from other households of the test.
pub async fn household_in(app: &TestApp, village: &str, n: u32) -> i64 {
    testing::one_person_household(&app.state, village, n).await
}

/// A farmer bound to `household_id` who signs in with the test password.
pub async fn farmer_account(app: &TestApp, phone: &str, household_id: i64) -> user::Model {
    testing::account(
        &app.state.db,
        phone,
        user::Role::Farmer,
        Some(household_id),
        PASSWORD,
    )
    .await
}

/// A buyer who signs in with the test password.
pub async fn buyer_account(app: &TestApp, phone: &str) -> user::Model {
    testing::account(&app.state.db, phone, user::Role::Buyer, None, PASSWORD).await
}

/// The id of the catalogue category with this code.
pub async fn category_id(app: &TestApp, code: &str) -> i64 {
    api::service::market::catalogue::list(&app.state.db, true)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.code == code)
        .unwrap_or_else(|| panic!("no category {code}"))
        .id
}

/// A colourful test picture.
pub fn picture(width: u32, height: u32) -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(image::ImageBuffer::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 120])
    }))
}

pub fn jpeg_of(image: &image::DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut out, 90,
        ))
        .unwrap();
    out
}

/// Whether a refused page says `reason` beside the field whose id is `field_id`: in an alert
/// after the field and before the form's next label or its end — and nowhere else.
pub fn said_beside(html: &str, field_id: &str, reason: &str) -> bool {
    let Some(at) = html.find(&format!("id=\"{field_id}\"")) else {
        return false;
    };
    let rest = &html[at..];
    let end = ["<label", "</form>"]
        .iter()
        .filter_map(|mark| rest.find(mark))
        .min()
        .unwrap_or(rest.len());
    rest[..end].contains(&format!("role=\"alert\">{reason}")) && html.matches(reason).count() == 1
}

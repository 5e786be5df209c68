//! Signing in, and the refusals every part of the site shares.

use api::testing::TestApp;

use super::{open, post};
use crate::assert_page;

#[tokio::test]
async fn the_sign_in_pages() {
    let app = TestApp::spawn().await;
    assert_page!(
        "login_zh",
        open(&app, "/login?next=/f/orders", None, "zh").await
    );
    assert_page!("login_en", open(&app, "/login", None, "en").await);
    // A number that is no phone's: the form again, with what was wrong and what was typed.
    assert_page!(
        "login_refused_number",
        post(
            &app,
            "/login/code",
            None,
            &[("phone", "12<3"), ("next", "/o")]
        )
        .await
    );
    assert_page!(
        "login_code_sent",
        post(
            &app,
            "/login/code",
            None,
            &[("phone", "13900000001"), ("next", "/o")]
        )
        .await
    );
    assert_page!(
        "login_wrong_code",
        post(
            &app,
            "/login",
            None,
            &[("phone", "13900000001"), ("code", "000000")]
        )
        .await
    );
}

#[tokio::test]
async fn refusals_in_the_frame_of_their_part_of_the_site() {
    let app = TestApp::spawn().await;
    crate::support::buyer_account(&app, "13900000002").await;
    let cookie = super::cookie_for(&app, "13900000002").await;
    // A buyer on a farmer's page, and on an official's.
    assert_page!(
        "refusal_not_yours_farmer",
        open(&app, "/f", Some(&cookie), "zh").await
    );
    assert_page!(
        "refusal_not_yours_official",
        open(&app, "/o", Some(&cookie), "en").await
    );
    // A form without its token.
    assert_page!(
        "refusal_forged",
        post(
            &app,
            "/m/orders/1/cancel",
            Some(&cookie),
            &[("reason", "x")]
        )
        .await
    );
}

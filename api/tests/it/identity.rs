//! Signing in, tokens, who may do what, and the audit chain.

use crate::support::{ADMIN_PHONE, PASSWORD, app_with_admin, json_of, login, official, tokens};
use api::{
    domain::{AreaCode, Phone},
    http::error::ErrorCode,
    service::{
        audit::{self, ChainCheck},
        users::{self, Invitation, Origin},
    },
    testing::TestApp,
};
use entities::{audit_log, user};
use poem::http::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};

async fn get_me(app: &TestApp, access: &str) -> poem::test::TestResponse {
    app.client
        .get("/api/v1/me")
        .header("authorization", format!("Bearer {access}"))
        .send()
        .await
}

async fn refresh(app: &TestApp, token: &str) -> poem::test::TestResponse {
    app.client
        .post("/api/v1/auth/refresh")
        .body_json(&json!({ "refresh_token": token }))
        .send()
        .await
}

fn assert_code(body: &Value, code: ErrorCode) {
    assert_eq!(body["code"], code.as_str(), "{body}");
}

#[tokio::test]
async fn a_password_login_gives_tokens_that_open_protected_routes() {
    let app = app_with_admin().await;
    let resp = login(&app, "+86 138 0000 0001", PASSWORD).await;
    resp.assert_status_is_ok();
    let body = json_of(resp).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["role"], "admin");
    let access = body["access_token"].as_str().unwrap();
    let me = get_me(&app, access).await;
    me.assert_status_is_ok();
    assert_eq!(json_of(me).await["phone"], ADMIN_PHONE);
}

#[tokio::test]
async fn unknown_phones_and_wrong_passwords_get_the_same_answer() {
    let app = app_with_admin().await;
    let wrong_password = login(&app, ADMIN_PHONE, "not the password").await;
    let unknown_phone = login(&app, "13900000009", PASSWORD).await;
    let not_a_phone = login(&app, "hello", PASSWORD).await;
    for resp in [wrong_password, unknown_phone, not_a_phone] {
        resp.assert_status(StatusCode::UNAUTHORIZED);
        let body = json_of(resp).await;
        assert_code(&body, ErrorCode::AuthInvalidCredentials);
        assert!(!body.to_string().contains(PASSWORD));
    }
}

#[tokio::test]
async fn protected_routes_refuse_missing_and_forged_tokens() {
    let app = app_with_admin().await;
    let resp = app.client.get("/api/v1/me").send().await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    assert_code(&json_of(resp).await, ErrorCode::AuthUnauthenticated);

    let (access, _) = tokens(&app, ADMIN_PHONE).await;
    let mut forged = access.clone();
    forged.pop();
    forged.push(if access.ends_with('A') { 'B' } else { 'A' });
    let resp = get_me(&app, &forged).await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    assert_code(&json_of(resp).await, ErrorCode::AuthTokenInvalid);
}

#[tokio::test]
async fn a_refresh_token_rotates_and_its_reuse_revokes_the_whole_sign_in() {
    let app = app_with_admin().await;
    let (_, first) = tokens(&app, ADMIN_PHONE).await;

    let resp = refresh(&app, &first).await;
    resp.assert_status_is_ok();
    let body = json_of(resp).await;
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    let second_access = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    get_me(&app, &second_access).await.assert_status_is_ok();

    // The first token, presented again, is a stolen copy: everything from that sign-in goes.
    let resp = refresh(&app, &first).await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    assert_code(&json_of(resp).await, ErrorCode::AuthRefreshReused);
    let resp = refresh(&app, &second).await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    assert_code(&json_of(resp).await, ErrorCode::AuthRefreshInvalid);
    let resp = get_me(&app, &second_access).await;
    assert_code(&json_of(resp).await, ErrorCode::AuthTokenRevoked);

    let resp = refresh(&app, "made-up-token").await;
    assert_code(&json_of(resp).await, ErrorCode::AuthRefreshInvalid);
}

#[tokio::test]
async fn logout_ends_both_tokens_at_once() {
    let app = app_with_admin().await;
    let (access, refresh_token) = tokens(&app, ADMIN_PHONE).await;
    let resp = app
        .client
        .post("/api/v1/auth/logout")
        .header("authorization", format!("Bearer {access}"))
        .send()
        .await;
    resp.assert_status(StatusCode::NO_CONTENT);

    let resp = get_me(&app, &access).await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    assert_code(&json_of(resp).await, ErrorCode::AuthTokenRevoked);
    let resp = refresh(&app, &refresh_token).await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn disabling_or_changing_a_role_revokes_every_token_at_once() {
    let app = app_with_admin().await;
    let cadre = official(
        &app,
        "13800000002",
        user::Role::VillageCadre,
        "500235101201",
    )
    .await;
    let (admin_access, _) = tokens(&app, ADMIN_PHONE).await;
    let (cadre_access, cadre_refresh) = tokens(&app, "13800000002").await;
    get_me(&app, &cadre_access).await.assert_status_is_ok();

    let resp = app
        .client
        .patch(format!("/api/v1/users/{}", cadre.id))
        .header("authorization", format!("Bearer {admin_access}"))
        .body_json(&json!({ "role": "township_official", "area_code": "500235101" }))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(json_of(resp).await["role"], "township_official");

    let resp = get_me(&app, &cadre_access).await;
    assert_code(&json_of(resp).await, ErrorCode::AuthTokenRevoked);
    refresh(&app, &cadre_refresh)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    // Disabled: the password no longer signs in.
    let resp = app
        .client
        .patch(format!("/api/v1/users/{}", cadre.id))
        .header("authorization", format!("Bearer {admin_access}"))
        .body_json(&json!({ "disabled": true }))
        .send()
        .await;
    resp.assert_status_is_ok();
    let resp = login(&app, "13800000002", PASSWORD).await;
    resp.assert_status(StatusCode::FORBIDDEN);
    assert_code(&json_of(resp).await, ErrorCode::AuthAccountDisabled);
}

#[tokio::test]
async fn officials_act_only_inside_their_own_area() {
    let app = app_with_admin().await;
    official(
        &app,
        "13800000011",
        user::Role::TownshipOfficial,
        "500235101",
    )
    .await;
    let other_cadre = official(
        &app,
        "13800000012",
        user::Role::VillageCadre,
        "500235102201",
    )
    .await;
    let (township, _) = tokens(&app, "13800000011").await;
    let bearer = format!("Bearer {township}");

    // Inviting a cadre for a village of one's own township works.
    let resp = app
        .client
        .post("/api/v1/users")
        .header("authorization", &bearer)
        .body_json(&json!({
            "phone": "13800000013", "display_name": "村干部",
            "role": "village_cadre", "area_code": "500235101201"
        }))
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    let invited = json_of(resp).await;
    assert_eq!(invited["area_code"], "500235101201");

    // Another township's village, or a rank not below one's own, is refused.
    for (role, area) in [
        ("village_cadre", "500235102201"),
        ("township_official", "500235101"),
    ] {
        let resp = app
            .client
            .post("/api/v1/users")
            .header("authorization", &bearer)
            .body_json(&json!({
                "phone": "13800000014", "display_name": "越权",
                "role": role, "area_code": area
            }))
            .send()
            .await;
        resp.assert_status(StatusCode::FORBIDDEN);
        assert_code(&json_of(resp).await, ErrorCode::AuthForbidden);
    }

    // Another township's cadre cannot be read or changed, by guessing the id: not found.
    let resp = app
        .client
        .get(format!("/api/v1/users/{}", other_cadre.id))
        .header("authorization", &bearer)
        .send()
        .await;
    resp.assert_status(StatusCode::NOT_FOUND);
    let resp = app
        .client
        .patch(format!("/api/v1/users/{}", other_cadre.id))
        .header("authorization", &bearer)
        .body_json(&json!({ "disabled": true }))
        .send()
        .await;
    resp.assert_status(StatusCode::NOT_FOUND);
    let untouched = users::find(&app.state.db, other_cadre.id).await.unwrap();
    assert!(!untouched.disabled);

    // A role whose area is the wrong level is explained.
    let resp = app
        .client
        .post("/api/v1/users")
        .header("authorization", &bearer)
        .body_json(&json!({
            "phone": "13800000015", "display_name": "错级",
            "role": "village_cadre", "area_code": "500235101"
        }))
        .send()
        .await;
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_code(&json_of(resp).await, ErrorCode::UserRoleAreaMismatch);
}

#[tokio::test]
async fn the_audit_chain_holds_an_edited_row_breaks_it_and_a_deleted_one_is_missing() {
    let app = app_with_admin().await;
    for (i, village) in ["500235101201", "500235101202", "500235101203"]
        .iter()
        .enumerate()
    {
        official(
            &app,
            &format!("1380000002{i}"),
            user::Role::VillageCadre,
            village,
        )
        .await;
    }
    let db = &app.state.db;
    let ChainCheck::Intact { entries } = audit::verify(db).await.unwrap() else {
        panic!("a fresh chain is intact");
    };
    assert_eq!(entries, 4, "the admin and three invitations");

    let entries = audit_log::Entity::find().all(db.conn()).await.unwrap();
    let third = entries[2].clone();
    assert!(
        !third.after.as_deref().unwrap().contains("argon2"),
        "no password hashes"
    );

    // Someone edits the third entry in the database directly.
    let mut edited = third.clone().into_active_model();
    edited.area_code = Set(Some("500235102201".into()));
    edited.update(db.conn()).await.unwrap();
    assert!(matches!(
        audit::verify(db).await.unwrap(),
        ChainCheck::Broken { entry_id, .. } if entry_id == third.id
    ));

    // Put back, the chain holds again; deleting an entry breaks the link after it.
    third
        .clone()
        .into_active_model()
        .reset_all()
        .update(db.conn())
        .await
        .unwrap();
    assert!(matches!(
        audit::verify(db).await.unwrap(),
        ChainCheck::Intact { .. }
    ));
    db.conn()
        .execute_unprepared(&format!(
            "DELETE FROM audit_log WHERE id = {}",
            entries[1].id
        ))
        .await
        .unwrap();
    assert_eq!(
        audit::verify(db).await.unwrap(),
        ChainCheck::Missing { seq: 2 }
    );
}

#[tokio::test]
async fn concurrent_appends_keep_one_unbroken_chain() {
    let app = app_with_admin().await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let db = app.state.db.clone();
            tokio::spawn(async move {
                users::invite_official(
                    &db,
                    None,
                    Invitation {
                        phone: Phone::parse(&format!("1390000000{i}")).unwrap(),
                        display_name: format!("干部 {i}"),
                        role: user::Role::VillageCadre,
                        area: AreaCode::parse(&format!("50023510120{}", i % 9 + 1)).unwrap(),
                    },
                    &Origin::default(),
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(
        audit::verify(&app.state.db).await.unwrap(),
        ChainCheck::Intact { entries: 9 }
    );
}

#[tokio::test]
async fn officials_read_their_own_areas_audit_log_and_accounts_only() {
    let app = app_with_admin().await;
    official(
        &app,
        "13800000031",
        user::Role::TownshipOfficial,
        "500235101",
    )
    .await;
    let mine = official(
        &app,
        "13800000032",
        user::Role::VillageCadre,
        "500235101201",
    )
    .await;
    let theirs = official(
        &app,
        "13800000033",
        user::Role::VillageCadre,
        "500235102201",
    )
    .await;
    let (township, _) = tokens(&app, "13800000031").await;
    let bearer = format!("Bearer {township}");

    let resp = app
        .client
        .get("/api/v1/audit")
        .header("authorization", &bearer)
        .send()
        .await;
    resp.assert_status_is_ok();
    let log = json_of(resp).await;
    let ids: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entity_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&mine.id.to_string().as_str()), "{log}");
    assert!(!ids.contains(&theirs.id.to_string().as_str()), "{log}");
    assert!(log["items"][0]["after"]["role"].is_string());

    let resp = app
        .client
        .get("/api/v1/audit?area_code=500235102")
        .header("authorization", &bearer)
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);

    let users = json_of(
        app.client
            .get("/api/v1/users")
            .header("authorization", &bearer)
            .send()
            .await,
    )
    .await;
    let user_ids: Vec<i64> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert!(
        user_ids.contains(&mine.id) && !user_ids.contains(&theirs.id),
        "{users}"
    );

    // A buyer has no area to read.
    let mut demoted = users::find(&app.state.db, mine.id)
        .await
        .unwrap()
        .into_active_model();
    demoted.role = Set(user::Role::Buyer);
    demoted.area_code = Set(None);
    demoted.update(app.state.db.conn()).await.unwrap();
    let (buyer, _) = tokens(&app, "13800000032").await;
    let resp = app
        .client
        .get("/api/v1/audit?area_code=500235")
        .header("authorization", format!("Bearer {buyer}"))
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);

    // The admin reads everything.
    let (admin, _) = tokens(&app, ADMIN_PHONE).await;
    let all = json_of(
        app.client
            .get("/api/v1/audit?limit=100")
            .header("authorization", format!("Bearer {admin}"))
            .send()
            .await,
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
}

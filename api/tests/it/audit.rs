//! The audit chain against someone with SQL access: forged, edited, re-chained and deleted
//! rows, rewritten heads, checkpoints, and key rotation.

use crate::support::{ADMIN_PHONE, app_with_admin, json_of, official, tokens};
use api::{
    infra::tokens::sha256_hex,
    service::audit::{
        self, ChainCheck, NewAuditEntry,
        checkpoints::{self, Checkpoint},
        keys::{AuditKeySettings, AuditKeys, LinkKey},
    },
    testing::TestApp,
};
use chrono::{SubsecRound, Utc};
use entities::{audit_checkpoint, audit_head, audit_log, user};
use poem::http::StatusCode;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryOrder, sea_query::Expr,
};
use secrecy::SecretString;

/// An app whose log holds four entries (seq 1–4): the admin and three invitations.
async fn app_with_four_entries() -> TestApp {
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
    assert_eq!(verify(&app).await, ChainCheck::Intact { entries: 4 });
    app
}

async fn verify(app: &TestApp) -> ChainCheck {
    audit::verify_with(&app.state.db, &app.state.audit_keys, &[])
        .await
        .unwrap()
}

async fn entries(app: &TestApp) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Id)
        .all(app.state.db.conn())
        .await
        .unwrap()
}

/// What the chain used to be: SHA-256 over the content and the previous hash, no key.
fn plain_hash(row: &audit_log::Model) -> String {
    let canonical = serde_json::json!([
        row.prev_hash,
        row.at.timestamp(),
        row.actor_user_id,
        row.actor_ip,
        row.action,
        row.entity,
        row.entity_id,
        row.area_code,
        row.before,
        row.after,
    ]);
    sha256_hex(canonical.to_string().as_bytes())
}

/// Points the head at `row`, as a forger would.
async fn move_head(app: &TestApp, row: &audit_log::Model) {
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::LastId, Expr::value(row.id))
        .col_expr(audit_head::Column::LastHash, Expr::value(row.hash.clone()))
        .col_expr(
            audit_head::Column::LastSeq,
            Expr::value(row.seq.unwrap_or(0)),
        )
        .exec(app.state.db.conn())
        .await
        .unwrap();
}

/// Adds a row by hand after the last one, with the link `link` computes.
async fn forge_row(
    app: &TestApp,
    seq: Option<i64>,
    key_id: Option<String>,
    link: impl Fn(&audit_log::Model) -> String,
) -> audit_log::Model {
    let last = entries(app).await.pop().unwrap();
    let mut row = audit_log::Model {
        id: 0,
        at: Utc::now().trunc_subsecs(0),
        actor_user_id: None,
        actor_ip: None,
        action: "household.exited".into(),
        entity: "household".into(),
        entity_id: "42".into(),
        area_code: Some("500235101201".into()),
        before: None,
        after: Some(r#"{"status":"exited"}"#.into()),
        prev_hash: last.hash,
        hash: String::new(),
        seq,
        key_id,
    };
    row.hash = link(&row);
    let mut active = row.into_active_model();
    active.id = sea_orm::ActiveValue::NotSet;
    let forged = active.insert(app.state.db.conn()).await.unwrap();
    move_head(app, &forged).await;
    forged
}

#[tokio::test]
async fn a_row_forged_with_a_recomputed_plain_hash_fails_verify() {
    let app = app_with_four_entries().await;
    let forged = forge_row(&app, None, None, plain_hash).await;
    assert!(matches!(
        verify(&app).await,
        ChainCheck::Broken { entry_id, seq: None, .. } if entry_id == forged.id
    ));
    // Numbered and claiming the server's key, it still has no valid link.
    app.state
        .db
        .conn()
        .execute_unprepared(&format!("DELETE FROM audit_log WHERE id = {}", forged.id))
        .await
        .unwrap();
    let key_id = app.state.audit_keys.link_key().id().to_owned();
    let forged = forge_row(&app, Some(5), Some(key_id), plain_hash).await;
    let check = verify(&app).await;
    assert!(
        matches!(&check, ChainCheck::Broken { entry_id, seq: Some(5), reason }
            if *entry_id == forged.id && reason.contains("does not verify")),
        "{check}"
    );
    assert!(check.to_string().contains("entry 5"), "{check}");
}

#[tokio::test]
async fn an_edited_row_re_chained_after_it_fails_at_the_edited_row() {
    let app = app_with_four_entries().await;
    let mut rows = entries(&app).await;
    rows[1].area_code = Some("500235102201".into());
    // Without the key the forger re-chains with what they can compute.
    for i in 1..rows.len() {
        rows[i].prev_hash = rows[i - 1].hash.clone();
        rows[i].hash = plain_hash(&rows[i]);
        rows[i]
            .clone()
            .into_active_model()
            .reset_all()
            .update(app.state.db.conn())
            .await
            .unwrap();
    }
    move_head(&app, rows.last().unwrap()).await;
    assert!(matches!(
        verify(&app).await,
        ChainCheck::Broken { entry_id, seq: Some(2), .. } if entry_id == rows[1].id
    ));
}

#[tokio::test]
async fn a_deleted_row_is_named_missing_in_the_middle_and_at_the_end() {
    let app = app_with_four_entries().await;
    let rows = entries(&app).await;
    let delete = |id: i64| {
        let db = app.state.db.clone();
        async move {
            db.conn()
                .execute_unprepared(&format!("DELETE FROM audit_log WHERE id = {id}"))
                .await
                .unwrap();
        }
    };
    delete(rows[3].id).await;
    assert_eq!(verify(&app).await, ChainCheck::Missing { seq: 4 });
    assert_eq!(
        verify(&app).await.to_string(),
        "audit chain broken: entry 4 is missing"
    );
    delete(rows[1].id).await;
    assert_eq!(verify(&app).await, ChainCheck::Missing { seq: 2 });
}

#[tokio::test]
async fn a_checkpoint_with_a_bad_signature_fails_verify() {
    let app = app_with_four_entries().await;
    let keys = &app.state.audit_keys;
    let signed = checkpoints::create(&app.state.db, keys).await.unwrap();
    assert_eq!((signed.seq, signed.link.len()), (4, 64));
    assert!(verify(&app).await.is_intact());

    // A saved copy altered to vouch for another link.
    let mut altered = signed.clone();
    altered.link = "0".repeat(64);
    assert!(matches!(
        audit::verify_with(&app.state.db, keys, &[altered]).await.unwrap(),
        ChainCheck::BadCheckpoint { seq: 4, reason, .. } if reason.contains("signature")
    ));

    // The stored one with its signature changed.
    let flipped = if signed.signature.starts_with('0') {
        "1"
    } else {
        "0"
    };
    audit_checkpoint::Entity::update_many()
        .col_expr(
            audit_checkpoint::Column::Signature,
            Expr::value(format!("{flipped}{}", &signed.signature[1..])),
        )
        .exec(app.state.db.conn())
        .await
        .unwrap();
    assert!(matches!(
        verify(&app).await,
        ChainCheck::BadCheckpoint { seq: 4, .. }
    ));
}

#[tokio::test]
async fn a_head_rewritten_after_a_checkpoint_fails_against_the_saved_copy() {
    let app = app_with_four_entries().await;
    let db = &app.state.db;
    let keys = &app.state.audit_keys;
    let saved = vec![checkpoints::create(db, keys).await.unwrap()];

    // With the stolen key, entry 3 is changed and 3 and 4 linked anew; the database's
    // checkpoints are removed. Only the saved copy remembers.
    let mut rows = entries(&app).await;
    rows[2].after = Some(r#"{"role":"county_official"}"#.into());
    for i in 2..4 {
        rows[i].prev_hash = rows[i - 1].hash.clone();
        rows[i].hash = audit::link_of(keys.link_key(), &rows[i]);
        rows[i]
            .clone()
            .into_active_model()
            .reset_all()
            .update(db.conn())
            .await
            .unwrap();
    }
    move_head(&app, &rows[3]).await;
    db.conn()
        .execute_unprepared("DELETE FROM audit_checkpoints")
        .await
        .unwrap();
    assert!(verify(&app).await.is_intact(), "the key alone re-links it");
    assert!(matches!(
        audit::verify_with(db, keys, &saved).await.unwrap(),
        ChainCheck::BadCheckpoint { seq: 4, entry_id, .. } if entry_id == rows[3].id
    ));

    // Cutting the chain back to before the checkpoint leaves the signed entry missing.
    db.conn()
        .execute_unprepared(&format!("DELETE FROM audit_log WHERE id = {}", rows[3].id))
        .await
        .unwrap();
    move_head(&app, &rows[2]).await;
    assert!(verify(&app).await.is_intact());
    assert_eq!(
        audit::verify_with(db, keys, &saved).await.unwrap(),
        ChainCheck::Missing { seq: 4 }
    );
}

fn secret(text: &str) -> SecretString {
    SecretString::from(text)
}

fn keys(settings: AuditKeySettings) -> AuditKeys {
    AuditKeys::new(&settings).unwrap()
}

async fn append_with(app: &TestApp, key: &LinkKey, n: usize) {
    let txn = app.state.db.begin_write().await.unwrap();
    let entries = (0..n).map(|i| NewAuditEntry {
        action: "household.updated",
        entity: "household",
        entity_id: i.to_string(),
        ..Default::default()
    });
    audit::append_many_with(&txn, key, entries).await.unwrap();
    txn.commit().await.unwrap();
}

#[tokio::test]
async fn entries_under_old_and_new_keys_verify_with_both_and_fail_naming_the_entry_without_the_old()
{
    let app = TestApp::spawn().await;
    let old_key = "the-audit-key-before-the-rotation-0001";
    let new_key = "the-audit-key-after-the-rotation-00002";
    let old_seed = "11".repeat(32);
    let new_seed = "22".repeat(32);
    let before = keys(AuditKeySettings {
        link: Some(secret(old_key)),
        signing: Some(secret(&old_seed)),
        ..Default::default()
    });
    append_with(&app, before.link_key(), 2).await;
    checkpoints::create(&app.state.db, &before).await.unwrap();
    let old_public = before.public_keys()[0].base64.clone();

    let after = keys(AuditKeySettings {
        link: Some(secret(new_key)),
        previous_links: vec![secret(old_key)],
        signing: Some(secret(&new_seed)),
        previous_public: vec![old_public.clone()],
    });
    append_with(&app, after.link_key(), 2).await;
    checkpoints::create(&app.state.db, &after).await.unwrap();
    let db = &app.state.db;
    assert_eq!(
        audit::verify_with(db, &after, &[]).await.unwrap(),
        ChainCheck::Intact { entries: 4 }
    );

    // The old link key withheld: the first entry it linked is named.
    let without_old_link = keys(AuditKeySettings {
        link: Some(secret(new_key)),
        signing: Some(secret(&new_seed)),
        previous_public: vec![old_public],
        ..Default::default()
    });
    let check = audit::verify_with(db, &without_old_link, &[])
        .await
        .unwrap();
    assert!(
        matches!(&check, ChainCheck::Broken { seq: Some(1), reason, .. }
            if reason.contains(before.link_key().id()) && reason.contains("not configured")),
        "{check}"
    );

    // The old public key withheld: the checkpoint it signed is named.
    let without_old_public = keys(AuditKeySettings {
        link: Some(secret(new_key)),
        previous_links: vec![secret(old_key)],
        signing: Some(secret(&new_seed)),
        ..Default::default()
    });
    assert!(matches!(
        audit::verify_with(db, &without_old_public, &[]).await.unwrap(),
        ChainCheck::BadCheckpoint { seq: 2, reason, .. } if reason.contains("not configured")
    ));
}

#[tokio::test]
async fn checkpoints_are_published_without_sign_in_and_signed_on_demand_by_an_admin_only() {
    let app = app_with_four_entries().await;
    let (admin, _) = tokens(&app, ADMIN_PHONE).await;
    let (cadre, _) = tokens(&app, "13800000020").await;
    let sign = |token: String| {
        app.client
            .post("/api/v1/audit/checkpoints")
            .header("authorization", format!("Bearer {token}"))
            .send()
    };
    sign(cadre).await.assert_status(StatusCode::FORBIDDEN);
    let resp = sign(admin).await;
    resp.assert_status(StatusCode::CREATED);
    let signed = json_of(resp).await;
    assert_eq!(signed["seq"], 4);

    let resp = app.client.get("/api/v1/audit/checkpoints").send().await;
    resp.assert_status_is_ok();
    let published = json_of(resp).await;
    assert_eq!(published["checkpoints"][0], signed);
    let key = &published["public_keys"][0];
    assert_eq!(key["current"], true);
    assert_eq!(key["id"], signed["public_key_id"]);

    // What was published is what `verify --checkpoints` reads.
    let saved: Vec<Checkpoint> = checkpoints::parse_saved(&published.to_string()).unwrap();
    assert_eq!(saved.len(), 1);
    assert!(
        audit::verify_with(&app.state.db, &app.state.audit_keys, &saved)
            .await
            .unwrap()
            .is_intact()
    );

    let page = app.client.get("/audit").send().await;
    page.assert_status_is_ok();
    let html = page.0.into_body().into_string().await.unwrap();
    assert!(html.contains("审计日志检查点"), "{html}");
    assert!(html.contains(key["public_key"].as_str().unwrap()));
    assert!(html.contains(signed["link"].as_str().unwrap()));
    let english = app
        .client
        .get("/audit")
        .header("accept-language", "en")
        .send()
        .await;
    let html = english.0.into_body().into_string().await.unwrap();
    assert!(html.contains("Audit log checkpoints") && html.contains("Beijing time"));
}

#[tokio::test]
async fn a_checkpoint_is_refused_when_the_head_entry_was_forged() {
    let app = app_with_four_entries().await;
    forge_row(&app, None, None, plain_hash).await;
    assert!(matches!(
        checkpoints::create(&app.state.db, &app.state.audit_keys).await,
        Err(checkpoints::CheckpointError::HeadBroken(_))
    ));
}

//! User accounts: the first admin, officials invited for an area, and changes to role or
//! access. Every change is audited, and a change of role or a disabling revokes the user's
//! tokens at once by raising their token version.

use chrono::Utc;
use entities::user::{self, Role};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use secrecy::SecretString;
use serde_json::json;

use super::{
    audit::{self, NewAuditEntry},
    pagination::{Page, PageRequest},
    policy::{self, Action, Actor, Resource},
};
use crate::{
    domain::{AreaCode, Phone},
    infra::{
        db::Database,
        passwords::{self, PasswordError},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("no such user")]
    NotFound,
    #[error("the phone number is already registered")]
    PhoneTaken,
    #[error("a {role:?} must be given an area at the {level} level")]
    RoleNeedsArea { role: Role, level: &'static str },
    #[error("only village cadres, township and county officials are invited for an area")]
    NotAnOfficialRole,
    #[error("the area does not exist")]
    UnknownArea,
    #[error("not allowed")]
    Forbidden,
    #[error("this account already has a phone number")]
    PhoneAlreadyBound,
    #[error("the phone belongs to an account this one cannot be merged into")]
    MergeRefused,
    #[error("this WeChat already signs in to another account with a phone number")]
    WeChatTaken,
    /// The client's idempotency key is not one.
    #[error("{0}")]
    KeyMalformed(crate::service::reasons::Reason),
    /// The client's idempotency key was sent before with another request.
    #[error("the key was used for another request")]
    KeyReused,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

impl From<crate::service::idempotency::KeyError> for UserError {
    fn from(e: crate::service::idempotency::KeyError) -> Self {
        use crate::service::idempotency::KeyError;
        match e {
            KeyError::Malformed(reason) => Self::KeyMalformed(reason),
            KeyError::Reused => Self::KeyReused,
            KeyError::Database(e) => Self::Database(e),
        }
    }
}

/// An official to invite.
#[derive(Clone, Debug)]
pub struct Invitation {
    pub phone: Phone,
    pub display_name: String,
    pub role: Role,
    pub area: AreaCode,
}

/// A change to an account; fields left `None` stay as they are.
#[derive(Clone, Debug, Default)]
pub struct AccountChange {
    pub role: Option<Role>,
    pub area: Option<AreaCode>,
    pub disabled: Option<bool>,
}

/// Where a request came from, for the audit log.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub ip: Option<String>,
}

pub async fn find(db: &Database, id: i64) -> Result<user::Model, UserError> {
    user::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(UserError::NotFound)
}

pub async fn find_by_phone(db: &Database, phone: &Phone) -> Result<Option<user::Model>, DbErr> {
    find_by_phone_in(db.conn(), phone).await
}

/// An account the actor may read. Accounts out of the actor's reach are "not found", so ids
/// cannot be probed.
pub async fn get(db: &Database, actor: &Actor, id: i64) -> Result<user::Model, UserError> {
    let user = find(db, id).await?;
    let area = user
        .area_code
        .as_deref()
        .and_then(|a| AreaCode::parse(a).ok());
    let resource = Resource::UserAccount {
        user_id: Some(user.id),
        role: user.role,
        area: area.as_ref(),
    };
    if policy::can(actor, Action::Read, &resource) {
        Ok(user)
    } else {
        Err(UserError::NotFound)
    }
}

/// One page of the accounts an actor may see: an official's those inside their area, an admin's
/// all (or those inside `area`).
pub async fn list(
    db: &Database,
    actor: &Actor,
    area: Option<&AreaCode>,
    page: &PageRequest,
) -> Result<Page<user::Model>, UserError> {
    let scope = match (area, actor.role) {
        (Some(area), _) if actor.governs(area) => Some(area.clone()),
        (Some(_), _) => return Err(UserError::Forbidden),
        (None, Role::Admin) => None,
        (None, _) if actor.is_official() => actor.area.clone(),
        (None, _) => return Err(UserError::Forbidden),
    };
    let mut query = user::Entity::find();
    if let Some(area) = &scope {
        query = query.filter(user::Column::AreaCode.starts_with(area.descendant_prefix()));
    }
    if let Some(after) = page.after.as_deref().and_then(|id| id.parse::<i64>().ok()) {
        query = query.filter(user::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(user::Column::Id)
        .limit(page.fetch_limit())
        .all(db.conn())
        .await?;
    Ok(Page::from_rows(rows, page, |u| u.id.to_string()))
}

/// The account for a phone signing in by code, created as a buyer's on first sign-in.
pub async fn find_or_register_buyer(
    txn: &DatabaseTransaction,
    phone: &Phone,
    client_ip: &str,
) -> Result<user::Model, DbErr> {
    if let Some(existing) = find_by_phone_in(txn, phone).await? {
        return Ok(existing);
    }
    let buyer = user::ActiveModel {
        phone: Set(Some(phone.as_str().to_owned())),
        display_name: Set(phone.masked()),
        ..Default::default()
    };
    register_buyer(txn, buyer, client_ip).await
}

/// The account bound to a WeChat openid, created as a buyer's on first sign-in.
pub async fn find_or_register_wechat(
    txn: &DatabaseTransaction,
    openid: &str,
    unionid: Option<&str>,
    client_ip: &str,
) -> Result<user::Model, DbErr> {
    if let Some(existing) = user::Entity::find()
        .filter(user::Column::WechatOpenid.eq(openid))
        .one(txn)
        .await?
    {
        return Ok(existing);
    }
    let buyer = user::ActiveModel {
        display_name: Set("微信用户".to_owned()),
        wechat_openid: Set(Some(openid.to_owned())),
        wechat_unionid: Set(unionid.map(str::to_owned)),
        ..Default::default()
    };
    register_buyer(txn, buyer, client_ip).await
}

/// The account a WeChat user coming back from the Official Account's authorisation signs in
/// to: the one bound to their openid, else the one their unionid names (the mini program's
/// account of the same person, which is then bound to the openid too).
pub async fn find_wechat_web(
    txn: &DatabaseTransaction,
    openid: &str,
    unionid: Option<&str>,
) -> Result<Option<user::Model>, DbErr> {
    if let Some(bound) = user::Entity::find()
        .filter(user::Column::WechatWebOpenid.eq(openid))
        .one(txn)
        .await?
    {
        return Ok(Some(bound));
    }
    let Some(unionid) = unionid else {
        return Ok(None);
    };
    let Some(same_person) = user::Entity::find()
        .filter(user::Column::WechatUnionid.eq(unionid))
        .filter(user::Column::WechatWebOpenid.is_null())
        .filter(user::Column::Disabled.eq(false))
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    let mut active = same_person.into_active_model();
    active.wechat_web_openid = Set(Some(openid.to_owned()));
    active.updated_at = Set(Utc::now());
    Ok(Some(active.update(txn).await?))
}

/// A WeChat user seen for the first time becomes a buyer, named by their WeChat nickname.
pub async fn register_wechat_web(
    txn: &DatabaseTransaction,
    openid: &str,
    unionid: Option<&str>,
    nickname: Option<&str>,
    client_ip: &str,
) -> Result<user::Model, DbErr> {
    let name = nickname
        .map(clean_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "微信用户".to_owned());
    let buyer = user::ActiveModel {
        display_name: Set(name),
        wechat_web_openid: Set(Some(openid.to_owned())),
        wechat_unionid: Set(unionid.map(str::to_owned)),
        ..Default::default()
    };
    register_buyer(txn, buyer, client_ip).await
}

/// Binds the WeChat of the Official Account to an account signed in by texted code, so WeChat
/// signs it in from then on. An account that was nothing but that WeChat's buyer is closed
/// and its WeChat moves here, as binding a phone merges; a WeChat that signs in to another
/// account with a phone stays there.
pub async fn bind_wechat_web(
    txn: &DatabaseTransaction,
    current: &user::Model,
    openid: &str,
    client_ip: &str,
) -> Result<user::Model, UserError> {
    if current.wechat_web_openid.as_deref() == Some(openid) {
        return Ok(current.clone());
    }
    let now = Utc::now();
    if let Some(holder) = user::Entity::find()
        .filter(user::Column::WechatWebOpenid.eq(openid))
        .one(txn)
        .await?
    {
        if holder.phone.is_some() || holder.household_id.is_some() || holder.role != Role::Buyer {
            return Err(UserError::WeChatTaken);
        }
        let mut closing = holder.clone().into_active_model();
        closing.wechat_web_openid = Set(None);
        closing.disabled = Set(true);
        closing.token_version = Set(holder.token_version + 1);
        closing.updated_at = Set(now);
        let closed = closing.update(txn).await?;
        super::sessions::revoke_all(txn, closed.id).await?;
        audit::append(
            txn,
            NewAuditEntry {
                actor_user_id: Some(current.id),
                actor_ip: Some(client_ip.to_owned()),
                action: "user.merged_away",
                entity: "user",
                entity_id: closed.id.to_string(),
                area_code: None,
                before: Some(account_json(&holder)),
                after: Some(account_json(&closed)),
            },
        )
        .await?;
    }
    let mut active = current.clone().into_active_model();
    active.wechat_web_openid = Set(Some(openid.to_owned()));
    active.updated_at = Set(now);
    let bound = active.update(txn).await?;
    audit::append(
        txn,
        NewAuditEntry {
            actor_user_id: Some(current.id),
            actor_ip: Some(client_ip.to_owned()),
            action: "user.wechat_bound",
            entity: "user",
            entity_id: current.id.to_string(),
            area_code: bound.area_code.clone(),
            before: Some(account_json(current)),
            after: Some(account_json(&bound)),
        },
    )
    .await?;
    Ok(bound)
}

/// Stores a new buyer (identity fields set by the caller) and audits the registration.
async fn register_buyer(
    txn: &DatabaseTransaction,
    mut buyer: user::ActiveModel,
    client_ip: &str,
) -> Result<user::Model, DbErr> {
    let now = Utc::now();
    buyer.role = Set(Role::Buyer);
    buyer.token_version = Set(0);
    buyer.disabled = Set(false);
    buyer.created_at = Set(now);
    buyer.updated_at = Set(now);
    let buyer = buyer.insert(txn).await?;
    audit::append(
        txn,
        NewAuditEntry {
            actor_user_id: Some(buyer.id),
            actor_ip: Some(client_ip.to_owned()),
            action: "user.registered",
            entity: "user",
            entity_id: buyer.id.to_string(),
            after: Some(account_json(&buyer)),
            ..Default::default()
        },
    )
    .await?;
    Ok(buyer)
}

/// Binds a verified phone to the signed-in account. When another account already has that
/// phone, a WeChat-only buyer account is merged into it: the phone's account takes the WeChat
/// identity and the WeChat-only account is closed. Returns the account that now holds both.
pub async fn bind_phone(
    txn: &DatabaseTransaction,
    current: &user::Model,
    phone: &Phone,
    client_ip: &str,
) -> Result<user::Model, UserError> {
    if current.phone.is_some() {
        return Err(UserError::PhoneAlreadyBound);
    }
    let now = Utc::now();
    let Some(owner) = find_by_phone_in(txn, phone).await? else {
        let mut active = current.clone().into_active_model();
        active.phone = Set(Some(phone.as_str().to_owned()));
        active.updated_at = Set(now);
        let bound = active.update(txn).await?;
        audit::append(
            txn,
            NewAuditEntry {
                actor_user_id: Some(current.id),
                actor_ip: Some(client_ip.to_owned()),
                action: "user.phone_bound",
                entity: "user",
                entity_id: current.id.to_string(),
                area_code: bound.area_code.clone(),
                before: Some(account_json(current)),
                after: Some(account_json(&bound)),
            },
        )
        .await?;
        return Ok(bound);
    };
    // Only an account that is nothing but a WeChat buyer may be folded into another, and only
    // into one that has no WeChat identity of its own.
    if current.role != Role::Buyer || current.household_id.is_some() {
        return Err(UserError::MergeRefused);
    }
    if owner.wechat_openid.is_some() {
        return Err(UserError::MergeRefused);
    }
    let mut closing = current.clone().into_active_model();
    closing.wechat_openid = Set(None);
    closing.wechat_unionid = Set(None);
    closing.disabled = Set(true);
    closing.token_version = Set(current.token_version + 1);
    closing.updated_at = Set(now);
    let closed = closing.update(txn).await?;
    super::sessions::revoke_all(txn, closed.id).await?;

    let mut merged = owner.clone().into_active_model();
    merged.wechat_openid = Set(current.wechat_openid.clone());
    merged.wechat_unionid = Set(current.wechat_unionid.clone());
    merged.updated_at = Set(now);
    let merged = merged.update(txn).await?;
    for (action, before, after) in [
        ("user.merged_away", current, &closed),
        ("user.merged_into", &owner, &merged),
    ] {
        audit::append(
            txn,
            NewAuditEntry {
                actor_user_id: Some(current.id),
                actor_ip: Some(client_ip.to_owned()),
                action,
                entity: "user",
                entity_id: after.id.to_string(),
                area_code: after.area_code.clone(),
                before: Some(account_json(before)),
                after: Some(account_json(after)),
            },
        )
        .await?;
    }
    Ok(merged)
}

/// Creates an admin with a password; the way in for a new deployment (CLI only).
pub async fn create_admin(
    db: &Database,
    phone: Phone,
    display_name: String,
    password: &SecretString,
) -> Result<user::Model, UserError> {
    let hash = passwords::hash(password).await?;
    let txn = db.begin_write().await?;
    if find_by_phone_in(&txn, &phone).await?.is_some() {
        return Err(UserError::PhoneTaken);
    }
    let now = Utc::now();
    let admin = user::ActiveModel {
        phone: Set(Some(phone.as_str().to_owned())),
        display_name: Set(clean_name(&display_name)),
        role: Set(Role::Admin),
        password_hash: Set(Some(hash)),
        token_version: Set(0),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        NewAuditEntry {
            action: "user.admin_created",
            entity: "user",
            entity_id: admin.id.to_string(),
            after: Some(account_json(&admin)),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(admin)
}

/// Creates an official's account for an area. `inviter` is `None` from the CLI, which acts with
/// the operator's full authority.
pub async fn invite_official(
    db: &Database,
    inviter: Option<&Actor>,
    invitation: Invitation,
    origin: &Origin,
) -> Result<user::Model, UserError> {
    invite_official_keyed(db, inviter, invitation, origin, None).await
}

/// [`invite_official`], once for a client's key (an inviter's): the same request sent again
/// answers the account the first one made; the key with another request is refused.
pub async fn invite_official_keyed(
    db: &Database,
    inviter: Option<&Actor>,
    invitation: Invitation,
    origin: &Origin,
    key: Option<&str>,
) -> Result<user::Model, UserError> {
    let claim = match inviter {
        Some(actor) => crate::service::idempotency::Claim::new(
            actor,
            key,
            "official",
            serde_json::json!([
                invitation.phone.as_str(),
                invitation.display_name.trim(),
                format!("{:?}", invitation.role),
                invitation.area.as_str(),
            ]),
        )?,
        None => None,
    };
    if let Some(earlier) = crate::service::idempotency::earlier(db.conn(), claim.as_ref()).await? {
        let id = crate::service::idempotency::id_of(&earlier)?;
        return user::Entity::find_by_id(id)
            .one(db.conn())
            .await?
            .ok_or(UserError::NotFound);
    }
    if !policy::is_official_role(invitation.role) {
        return Err(UserError::NotAnOfficialRole);
    }
    check_role_fits_area(invitation.role, &invitation.area)?;
    if let Some(actor) = inviter {
        let target = Resource::UserAccount {
            user_id: None,
            role: invitation.role,
            area: Some(&invitation.area),
        };
        if !policy::can(actor, Action::Create, &target) {
            return Err(UserError::Forbidden);
        }
    }
    let txn = db.begin_write().await?;
    if entities::area::Entity::find_by_id(invitation.area.to_string())
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(UserError::UnknownArea);
    }
    if find_by_phone_in(&txn, &invitation.phone).await?.is_some() {
        return Err(UserError::PhoneTaken);
    }
    let now = Utc::now();
    let official = user::ActiveModel {
        phone: Set(Some(invitation.phone.as_str().to_owned())),
        display_name: Set(clean_name(&invitation.display_name)),
        role: Set(invitation.role),
        area_code: Set(Some(invitation.area.to_string())),
        token_version: Set(0),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: inviter.map(|a| a.user_id),
            actor_ip: origin.ip.clone(),
            action: "user.invited",
            entity: "user",
            entity_id: official.id.to_string(),
            area_code: official.area_code.clone(),
            after: Some(account_json(&official)),
            ..Default::default()
        },
    )
    .await?;
    let resource = official.id.to_string();
    if let Some(winner) =
        crate::service::idempotency::commit(db, txn, claim.as_ref(), &resource).await?
    {
        let id = crate::service::idempotency::id_of(&winner)?;
        return user::Entity::find_by_id(id)
            .one(db.conn())
            .await?
            .ok_or(UserError::NotFound);
    }
    Ok(official)
}

/// Changes role, area or access. Any of these revokes every token the user holds.
pub async fn change_account(
    db: &Database,
    actor: &Actor,
    user_id: i64,
    change: AccountChange,
    origin: &Origin,
) -> Result<user::Model, UserError> {
    let txn = db.begin_write().await?;
    let before = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(UserError::NotFound)?;
    let current_area = before
        .area_code
        .as_deref()
        .and_then(|a| AreaCode::parse(a).ok());
    // The actor must be allowed to manage the account as it is and as it will be; an account
    // the actor may not even read is "not found", so ids cannot be probed.
    let as_is = Resource::UserAccount {
        user_id: Some(before.id),
        role: before.role,
        area: current_area.as_ref(),
    };
    if !policy::can(actor, Action::Read, &as_is) {
        return Err(UserError::NotFound);
    }
    let new_role = change.role.unwrap_or(before.role);
    let new_area = change.area.clone().or(current_area.clone());
    let to_be = Resource::UserAccount {
        user_id: Some(before.id),
        role: new_role,
        area: new_area.as_ref(),
    };
    if before.id == actor.user_id
        || !policy::can(actor, Action::Update, &as_is)
        || !policy::can(actor, Action::Update, &to_be)
    {
        return Err(UserError::Forbidden);
    }
    if policy::is_official_role(new_role) {
        let area = new_area.as_ref().ok_or(UserError::RoleNeedsArea {
            role: new_role,
            level: required_level(new_role),
        })?;
        check_role_fits_area(new_role, area)?;
        if change.area.is_some()
            && entities::area::Entity::find_by_id(area.to_string())
                .one(&txn)
                .await?
                .is_none()
        {
            return Err(UserError::UnknownArea);
        }
    }

    let mut active = before.clone().into_active_model();
    active.role = Set(new_role);
    active.area_code = Set(if policy::is_official_role(new_role) {
        new_area.map(|a| a.to_string())
    } else {
        None
    });
    if let Some(disabled) = change.disabled {
        active.disabled = Set(disabled);
    }
    active.token_version = Set(before.token_version + 1);
    active.updated_at = Set(Utc::now());
    let after = active.update(&txn).await?;
    super::sessions::revoke_all(&txn, after.id).await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: "user.changed",
            entity: "user",
            entity_id: after.id.to_string(),
            area_code: after.area_code.clone().or(before.area_code.clone()),
            before: Some(account_json(&before)),
            after: Some(account_json(&after)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// What the audit log keeps of an account: never the password hash.
fn account_json(user: &user::Model) -> serde_json::Value {
    json!({
        "id": user.id,
        "phone": user.phone.as_deref().and_then(|p| Phone::parse(p).ok()).map(|p| p.masked()),
        "display_name": user.display_name,
        "role": format!("{:?}", user.role),
        "area_code": user.area_code,
        "household_id": user.household_id,
        "wechat_bound": user.wechat_openid.is_some(),
        "wechat_web_bound": user.wechat_web_openid.is_some(),
        "disabled": user.disabled,
        "token_version": user.token_version,
    })
}

fn required_level(role: Role) -> &'static str {
    match role {
        Role::VillageCadre => "village",
        Role::TownshipOfficial => "township",
        _ => "county",
    }
}

fn check_role_fits_area(role: Role, area: &AreaCode) -> Result<(), UserError> {
    use entities::area::AreaLevel;
    let fits = matches!(
        (role, area.level()),
        (Role::VillageCadre, AreaLevel::Village)
            | (Role::TownshipOfficial, AreaLevel::Township)
            | (Role::CountyOfficial, AreaLevel::County)
    );
    if fits {
        Ok(())
    } else {
        Err(UserError::RoleNeedsArea {
            role,
            level: required_level(role),
        })
    }
}

async fn find_by_phone_in(
    conn: &impl sea_orm::ConnectionTrait,
    phone: &Phone,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Phone.eq(phone.as_str()))
        .one(conn)
        .await
}

fn clean_name(name: &str) -> String {
    name.trim().chars().take(64).collect()
}

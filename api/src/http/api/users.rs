//! `/api/v1/users`: officials invited for an area, and changes to role, area or access.

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};

use super::{
    ApiTags,
    areas::parse_area_code,
    audit::is_id,
    auth::{BearerAuth, RoleView, UserView},
    json::JsonBody,
    pagination::{encode_cursor, page_request},
};
use crate::http::{
    caller::origin,
    error::{ApiError, ErrorCode},
};
use crate::{
    app::AppState,
    domain::Phone,
    service::users::{self, AccountChange, Invitation},
};

pub struct UsersApi;

#[OpenApi(tag = "ApiTags::Users")]
impl UsersApi {
    /// Invite an official
    ///
    /// Creates the account of a village cadre, township or county official for an area inside
    /// the inviter's own area and of a lower rank; admins may invite anyone. The new official
    /// signs in with an SMS code sent to the phone.
    #[oai(path = "/users", method = "post", operation_id = "invite_official")]
    async fn invite_official(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        /// 1 to 64 letters, digits, `-` or `_`, new for each official the client means to
        /// invite: the request sent again with the same key answers the account the first one
        /// made; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<InviteOfficialRequest>,
    ) -> Result<InviteOfficialResponse, ApiError> {
        let body = body.0;
        let invitation = Invitation {
            phone: parse_phone(&body.phone)?,
            display_name: body.display_name,
            role: body.role.into(),
            area: parse_area_code(&body.area_code)?,
        };
        let user = users::invite_official_keyed(
            &state.db,
            Some(&auth.0.actor),
            invitation,
            &origin(req),
            idempotency_key.0.as_deref(),
        )
        .await?;
        Ok(InviteOfficialResponse::Created(Json(user.into())))
    }

    /// List users
    ///
    /// The accounts inside an area (default: the caller's own), in id order. Officials see
    /// their own area only; admins may leave the area out to list everyone.
    #[oai(path = "/users", method = "get", operation_id = "list_users")]
    async fn list_users(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Area code; accounts in it and below it are listed.
        area_code: Query<Option<String>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Items per page, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
    ) -> Result<ListUsersResponse, ApiError> {
        let area = area_code.0.as_deref().map(parse_area_code).transpose()?;
        let page = page_request(cursor.0.as_deref(), limit.0, is_id)?;
        let found = users::list(&state.db, &auth.0.actor, area.as_ref(), &page).await?;
        Ok(ListUsersResponse::Ok(Json(UserPageView {
            next_cursor: found.next_after.as_deref().map(encode_cursor),
            items: found.items.into_iter().map(Into::into).collect(),
        })))
    }

    /// Get a user
    ///
    /// Your own account, or an account inside your area if you are an official.
    #[oai(path = "/users/:id", method = "get", operation_id = "get_user")]
    async fn get_user(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<GetUserResponse, ApiError> {
        let user = users::get(&state.db, &auth.0.actor, id.0).await?;
        Ok(GetUserResponse::Ok(Json(user.into())))
    }

    /// Change a user's role, area or access
    ///
    /// Any change revokes every token the user holds, so it takes effect at once.
    #[oai(path = "/users/:id", method = "patch", operation_id = "update_user")]
    async fn update_user(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        body: JsonBody<UpdateUserRequest>,
    ) -> Result<GetUserResponse, ApiError> {
        let body = body.0;
        let change = AccountChange {
            role: body.role.map(Into::into),
            area: body.area_code.as_deref().map(parse_area_code).transpose()?,
            disabled: body.disabled,
        };
        let user =
            users::change_account(&state.db, &auth.0.actor, id.0, change, &origin(req)).await?;
        Ok(GetUserResponse::Ok(Json(user.into())))
    }
}

/// An official to invite.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct InviteOfficialRequest {
    /// Mainland mobile number.
    #[oai(validator(max_length = 32))]
    pub phone: String,
    #[oai(validator(min_length = 1, max_length = 64))]
    pub display_name: String,
    /// `village_cadre`, `township_official` or `county_official`.
    pub role: RoleView,
    /// The official's area: a village for a cadre, a township or a county for the others.
    #[oai(validator(max_length = 12))]
    pub area_code: String,
}

/// What to change; absent fields stay as they are.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct UpdateUserRequest {
    pub role: Option<RoleView>,
    #[oai(validator(max_length = 12))]
    pub area_code: Option<String>,
    pub disabled: Option<bool>,
}

/// One page of users.
#[derive(Object)]
#[oai(rename = "UserPage", skip_serializing_if_is_none)]
pub struct UserPageView {
    pub items: Vec<UserView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum ListUsersResponse {
    /// One page of accounts.
    #[oai(status = 200)]
    Ok(Json<UserPageView>),
}

#[derive(ApiResponse)]
pub enum InviteOfficialResponse {
    /// The new official's account.
    #[oai(status = 201)]
    Created(Json<UserView>),
}

#[derive(ApiResponse)]
pub enum GetUserResponse {
    /// The account.
    #[oai(status = 200)]
    Ok(Json<UserView>),
}

pub(crate) fn parse_phone(raw: &str) -> Result<Phone, ApiError> {
    Phone::parse(raw).map_err(|_| ErrorCode::UserInvalidPhone.into())
}

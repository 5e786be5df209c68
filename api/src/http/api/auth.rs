//! `/api/v1/auth` and `/api/v1/me`: signing in, refreshing, signing out, and the bearer scheme
//! every protected operation declares.

use std::sync::Arc;

use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, Object, OpenApi, SecurityScheme, auth::Bearer, payload::Json};
use secrecy::SecretString;

use super::{ApiTags, json::JsonBody, mirror_enum};
use crate::http::{
    caller::client_ip,
    error::{ApiError, ErrorCode},
};
use crate::{
    app::AppState,
    service::{auth::TokenPair, changes, policy::Actor},
};

/// A signed-in user: `Authorization: Bearer <access token>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "authenticate")]
pub struct BearerAuth(pub Signed);

/// The actor a valid access token speaks for, the token itself (for logout), and the change
/// stamp read before the token was checked (for what the request may answer from memory).
pub struct Signed {
    pub actor: Actor,
    pub token: String,
    pub stamp: Option<Arc<str>>,
}

async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<Signed> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| ApiError::new(ErrorCode::ServerInternal))?;
    let stamp = changes::stamp(state.cache.as_ref()).await;
    let actor = state
        .auth
        .authenticate(&bearer.token, stamp.as_ref())
        .await
        .map_err(ApiError::from)?;
    Ok(Signed {
        actor,
        token: bearer.token,
        stamp,
    })
}

pub struct AuthApi;

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    /// Sign in with phone and password
    ///
    /// An unknown phone and a wrong password get the same answer in the same time.
    #[oai(
        path = "/auth/login/password",
        method = "post",
        operation_id = "login_with_password"
    )]
    async fn login_with_password(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<PasswordLogin>,
    ) -> Result<TokenPairResponse, ApiError> {
        let password = SecretString::from(body.0.password);
        let ip = client_ip(req, &state.settings);
        let pair = state
            .auth
            .login_with_password(&body.0.phone, &password, &ip)
            .await?;
        Ok(TokenPairResponse::Ok(Json(pair.into())))
    }

    /// Text a sign-in code
    ///
    /// Sends a 6-digit code, valid for 5 minutes by default. A new code can be asked for after
    /// 60 seconds, at most 10 a day for one phone or one address.
    #[oai(
        path = "/auth/sms/send",
        method = "post",
        operation_id = "send_sign_in_code"
    )]
    async fn send_sign_in_code(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<SendCodeRequest>,
    ) -> Result<SendCodeResponse, ApiError> {
        let ip = client_ip(req, &state.settings);
        let timings = state.auth.send_sign_in_code(&body.0.phone, &ip).await?;
        Ok(SendCodeResponse::Sent(Json(CodeSentView {
            expires_in: timings.code_ttl.as_secs(),
            resend_after: timings.resend_after.as_secs(),
        })))
    }

    /// Sign in with a texted code
    ///
    /// A phone signing in for the first time gets a buyer's account. Five wrong codes end the
    /// code; ask for a new one.
    #[oai(
        path = "/auth/login/sms",
        method = "post",
        operation_id = "login_with_code"
    )]
    async fn login_with_code(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<CodeLogin>,
    ) -> Result<TokenPairResponse, ApiError> {
        let ip = client_ip(req, &state.settings);
        let pair = state
            .auth
            .login_with_code(&body.0.phone, &body.0.code, &ip)
            .await?;
        Ok(TokenPairResponse::Ok(Json(pair.into())))
    }

    /// Refresh the tokens
    ///
    /// Trades a refresh token for a new pair. Each refresh token works once: presenting one a
    /// second time revokes every token of that sign-in.
    #[oai(
        path = "/auth/refresh",
        method = "post",
        operation_id = "refresh_tokens"
    )]
    async fn refresh_tokens(
        &self,
        state: Data<&AppState>,
        body: JsonBody<RefreshRequest>,
    ) -> Result<TokenPairResponse, ApiError> {
        let refresh = SecretString::from(body.0.refresh_token);
        let pair = state.auth.refresh(&refresh).await?;
        Ok(TokenPairResponse::Ok(Json(pair.into())))
    }

    /// Sign out
    ///
    /// Ends this sign-in: its refresh token and every access token issued to it stop working
    /// at once. Other sign-ins of the same user (other phones) are not touched.
    #[oai(
        path = "/auth/logout",
        method = "post",
        operation_id = "logout_session"
    )]
    async fn logout(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<LogoutResponse, ApiError> {
        state.auth.logout(&auth.0.token).await?;
        Ok(LogoutResponse::Done)
    }

    /// Sign in with WeChat
    ///
    /// Exchanges a mini program's `wx.login` code with WeChat. The first sign-in of a WeChat
    /// user makes a buyer's account; binding a phone later joins it to an existing account.
    #[oai(
        path = "/auth/login/wechat",
        method = "post",
        operation_id = "login_with_wechat"
    )]
    async fn login_with_wechat(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<WeChatLogin>,
    ) -> Result<TokenPairResponse, ApiError> {
        let ip = client_ip(req, &state.settings);
        let pair = state.auth.login_with_wechat(&body.0.code, &ip).await?;
        Ok(TokenPairResponse::Ok(Json(pair.into())))
    }

    /// Bind a phone to the signed-in account
    ///
    /// Proves the phone with a texted code. If the phone already has an account, a WeChat-only
    /// buyer account is merged into it. Either way the answer is a fresh sign-in as the account
    /// that now holds the phone; the old tokens stop working.
    #[oai(path = "/me/phone", method = "post", operation_id = "bind_phone")]
    async fn bind_phone(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        body: JsonBody<CodeLogin>,
    ) -> Result<TokenPairResponse, ApiError> {
        let ip = client_ip(req, &state.settings);
        let pair = state
            .auth
            .bind_phone(&auth.0.actor, &body.0.phone, &body.0.code, &ip)
            .await?;
        Ok(TokenPairResponse::Ok(Json(pair.into())))
    }

    /// Get the signed-in user
    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn get_me(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<GetMeResponse, ApiError> {
        let user = crate::service::users::find(&state.db, auth.0.actor.user_id).await?;
        Ok(GetMeResponse::Ok(Json(user.into())))
    }
}

/// Phone number and password.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PasswordLogin {
    /// Mainland mobile number; spaces, dashes and a +86 prefix are fine.
    #[oai(validator(max_length = 32))]
    pub phone: String,
    #[oai(validator(max_length = 1024))]
    pub password: String,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SendCodeRequest {
    /// Mainland mobile number.
    #[oai(validator(max_length = 32))]
    pub phone: String,
}

/// Phone number and the code texted to it.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CodeLogin {
    #[oai(validator(max_length = 32))]
    pub phone: String,
    /// The 6 digits from the text message.
    #[oai(validator(max_length = 16))]
    pub code: String,
}

/// The code from the mini program's `wx.login`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WeChatLogin {
    #[oai(validator(min_length = 1, max_length = 128))]
    pub code: String,
}

/// A code is on its way.
#[derive(Object)]
#[oai(rename = "CodeSent", skip_serializing_if_is_none)]
pub struct CodeSentView {
    /// Seconds the code stays valid.
    pub expires_in: u64,
    /// Seconds before another code can be asked for.
    pub resend_after: u64,
}

#[derive(ApiResponse)]
pub enum SendCodeResponse {
    /// The code was handed to the SMS gateway.
    #[oai(status = 202)]
    Sent(Json<CodeSentView>),
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RefreshRequest {
    /// The refresh token from the last sign-in or refresh.
    #[oai(validator(max_length = 256))]
    pub refresh_token: String,
}

mirror_enum! {
    /// A user's role.
    RoleView as "Role" <=> entities::user::Role {
        Farmer, Buyer, VillageCadre, TownshipOfficial, CountyOfficial, Admin
    }
}

/// A user account as its owner and the officials over it see it.
#[derive(Object)]
#[oai(rename = "User", skip_serializing_if_is_none)]
pub struct UserView {
    pub id: i64,
    /// Mainland mobile number.
    pub phone: Option<String>,
    pub display_name: String,
    pub role: RoleView,
    /// Officials only: the area they work in.
    pub area_code: Option<String>,
    /// Farmers only: the household they are bound to.
    pub household_id: Option<i64>,
    pub disabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<entities::user::Model> for UserView {
    fn from(user: entities::user::Model) -> Self {
        Self {
            id: user.id,
            phone: user.phone,
            display_name: user.display_name,
            role: user.role.into(),
            area_code: user.area_code,
            household_id: user.household_id,
            disabled: user.disabled,
            created_at: user.created_at,
        }
    }
}

/// A fresh token pair.
#[derive(Object)]
#[oai(rename = "TokenPair", skip_serializing_if_is_none)]
pub struct TokenPairView {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token is valid for.
    pub expires_in: u64,
    /// Single-use: trade it at `/auth/refresh` for the next pair.
    pub refresh_token: String,
    /// Seconds the refresh token is valid for.
    pub refresh_expires_in: u64,
    pub user: UserView,
}

impl From<TokenPair> for TokenPairView {
    fn from(pair: TokenPair) -> Self {
        use secrecy::ExposeSecret;
        Self {
            access_token: pair.access_token,
            token_type: "Bearer".into(),
            expires_in: pair.access_expires_in.as_secs(),
            refresh_token: pair.refresh_token.expose_secret().to_owned(),
            refresh_expires_in: pair.refresh_expires_in.as_secs(),
            user: pair.user.into(),
        }
    }
}

#[derive(ApiResponse)]
pub enum TokenPairResponse {
    /// Signed in.
    #[oai(status = 200)]
    Ok(Json<TokenPairView>),
}

#[derive(ApiResponse)]
pub enum LogoutResponse {
    /// Signed out.
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
pub enum GetMeResponse {
    /// The signed-in user.
    #[oai(status = 200)]
    Ok(Json<UserView>),
}

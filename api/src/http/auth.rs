//! `/api/v1/auth` and `/api/v1/me`: signing in, refreshing, signing out, and the bearer scheme
//! every protected operation declares.

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi, SecurityScheme, auth::Bearer, payload::Json,
};
use secrecy::SecretString;

use super::{
    ApiTags,
    error::{ApiError, ErrorCode},
    json::JsonBody,
};
use crate::{
    app::AppState,
    service::{
        auth::{AuthError, TokenPair},
        policy::Actor,
    },
};

/// A signed-in user: `Authorization: Bearer <access token>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "authenticate")]
pub struct BearerAuth(pub Signed);

/// The actor a valid access token speaks for, and the token itself (for logout).
pub struct Signed {
    pub actor: Actor,
    pub token: String,
}

async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<Signed> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| ApiError::new(ErrorCode::ServerInternal))?;
    let actor = state
        .auth
        .authenticate(&bearer.token)
        .await
        .map_err(ApiError::from)?;
    Ok(Signed {
        actor,
        token: bearer.token,
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
        body: JsonBody<PasswordLogin>,
    ) -> Result<TokenPairResponse, ApiError> {
        let password = SecretString::from(body.0.password);
        let pair = state
            .auth
            .login_with_password(&body.0.phone, &password)
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
    /// The access token stops working at once; with the refresh token given, every token of
    /// this sign-in is revoked too.
    #[oai(
        path = "/auth/logout",
        method = "post",
        operation_id = "logout_session"
    )]
    async fn logout(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<LogoutRequest>,
    ) -> Result<LogoutResponse, ApiError> {
        let refresh = body.0.refresh_token.map(SecretString::from);
        state.auth.logout(&auth.0.token, refresh.as_ref()).await?;
        Ok(LogoutResponse::Done)
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
pub struct PasswordLogin {
    /// Mainland mobile number; spaces, dashes and a +86 prefix are fine.
    #[oai(validator(max_length = 32))]
    pub phone: String,
    #[oai(validator(max_length = 1024))]
    pub password: String,
}

#[derive(Object)]
pub struct RefreshRequest {
    /// The refresh token from the last sign-in or refresh.
    #[oai(validator(max_length = 256))]
    pub refresh_token: String,
}

#[derive(Object)]
pub struct LogoutRequest {
    /// The refresh token of this sign-in, to revoke it as well.
    #[oai(validator(max_length = 256))]
    pub refresh_token: Option<String>,
}

/// A user's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename = "Role", rename_all = "snake_case")]
pub enum RoleView {
    Farmer,
    Buyer,
    VillageCadre,
    TownshipOfficial,
    CountyOfficial,
    Admin,
}

impl From<entities::user::Role> for RoleView {
    fn from(role: entities::user::Role) -> Self {
        use entities::user::Role;
        match role {
            Role::Farmer => Self::Farmer,
            Role::Buyer => Self::Buyer,
            Role::VillageCadre => Self::VillageCadre,
            Role::TownshipOfficial => Self::TownshipOfficial,
            Role::CountyOfficial => Self::CountyOfficial,
            Role::Admin => Self::Admin,
        }
    }
}

impl From<RoleView> for entities::user::Role {
    fn from(role: RoleView) -> Self {
        use entities::user::Role;
        match role {
            RoleView::Farmer => Role::Farmer,
            RoleView::Buyer => Role::Buyer,
            RoleView::VillageCadre => Role::VillageCadre,
            RoleView::TownshipOfficial => Role::TownshipOfficial,
            RoleView::CountyOfficial => Role::CountyOfficial,
            RoleView::Admin => Role::Admin,
        }
    }
}

/// A user account as its owner and the officials over it see it.
#[derive(Object)]
#[oai(rename = "User")]
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
#[oai(rename = "TokenPair")]
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

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        let code = match err {
            AuthError::InvalidCredentials => ErrorCode::AuthInvalidCredentials,
            AuthError::AccountDisabled => ErrorCode::AuthAccountDisabled,
            AuthError::RefreshInvalid => ErrorCode::AuthRefreshInvalid,
            AuthError::RefreshExpired => ErrorCode::AuthRefreshExpired,
            AuthError::RefreshReused => ErrorCode::AuthRefreshReused,
            AuthError::TokenInvalid(_) => ErrorCode::AuthTokenInvalid,
            AuthError::TokenExpired => ErrorCode::AuthTokenExpired,
            AuthError::TokenRevoked => ErrorCode::AuthTokenRevoked,
            AuthError::Database(e) => return ApiError::internal(e),
            AuthError::Cache(e) => return ApiError::internal(e),
        };
        ApiError::new(code)
    }
}

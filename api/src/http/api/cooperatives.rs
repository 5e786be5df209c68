//! Co-operatives: officials register them and their member households; managers sell for them.

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path},
    payload::Json,
};

use super::{ApiTags, areas::parse_area_code, auth::BearerAuth, json::JsonBody};
use crate::http::{caller::origin, error::ApiError};
use crate::{
    app::AppState,
    service::market::cooperatives::{self, Cooperative},
};

pub struct CooperativesApi;

#[OpenApi(tag = "ApiTags::Market")]
impl CooperativesApi {
    /// Register a co-operative
    ///
    /// Township and county officials (and village cadres for their village) register a
    /// co-operative (合作社) in their area, managed by a farmer account that manages no other.
    /// The manager lists, ships and is paid for its member households' goods.
    #[oai(
        path = "/cooperatives",
        method = "post",
        operation_id = "create_cooperative"
    )]
    async fn create_cooperative(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        /// 1 to 64 letters, digits, `-` or `_`, new for each co-operative the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CooperativeInput>,
    ) -> Result<CreateCooperativeResponse, ApiError> {
        let b = body.0;
        let area = parse_area_code(&b.area_code)?;
        let created = cooperatives::create_keyed(
            &state.db,
            &auth.0.actor,
            &b.name,
            &area,
            b.manager_user_id,
            &origin(req),
            idempotency_key.0.as_deref(),
        )
        .await?;
        Ok(CreateCooperativeResponse::Created(Json(created.into())))
    }

    /// Get a co-operative
    ///
    /// For its manager and the officials of its area, with its member households.
    #[oai(
        path = "/cooperatives/:id",
        method = "get",
        operation_id = "get_cooperative"
    )]
    async fn get_cooperative(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<CooperativeResponse, ApiError> {
        let found = cooperatives::get(&state.db, &auth.0.actor, id.0).await?;
        Ok(CooperativeResponse::Ok(Json(found.into())))
    }

    /// Add a member household
    ///
    /// An official of both the co-operative's area and the household's village. Adding a
    /// member twice changes nothing.
    #[oai(
        path = "/cooperatives/:id/members",
        method = "post",
        operation_id = "create_cooperative_member"
    )]
    async fn create_cooperative_member(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        /// 1 to 64 letters, digits, `-` or `_`, new for each membership the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CooperativeMemberInput>,
    ) -> Result<CooperativeResponse, ApiError> {
        let changed = cooperatives::change_member_keyed(
            &state.db,
            &auth.0.actor,
            id.0,
            body.0.household_id,
            true,
            &origin(req),
            idempotency_key.0.as_deref(),
        )
        .await?;
        Ok(CooperativeResponse::Ok(Json(changed.into())))
    }

    /// Remove a member household
    ///
    /// Its listings through the co-operative stay as they are; new ones need membership.
    #[oai(
        path = "/cooperatives/:id/members/:household_id",
        method = "delete",
        operation_id = "delete_cooperative_member"
    )]
    async fn delete_cooperative_member(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        household_id: Path<i64>,
    ) -> Result<CooperativeResponse, ApiError> {
        let changed = cooperatives::change_member(
            &state.db,
            &auth.0.actor,
            id.0,
            household_id.0,
            false,
            &origin(req),
        )
        .await?;
        Ok(CooperativeResponse::Ok(Json(changed.into())))
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CooperativeInput {
    #[oai(validator(min_length = 1, max_length = 64))]
    pub name: String,
    /// The township or village it is registered in.
    pub area_code: String,
    /// A farmer account that will list and ship for it.
    pub manager_user_id: i64,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CooperativeMemberInput {
    pub household_id: i64,
}

/// A co-operative (合作社).
#[derive(Object)]
#[oai(rename = "Cooperative", skip_serializing_if_is_none)]
pub struct CooperativeView {
    pub id: i64,
    pub name: String,
    pub area_code: String,
    pub manager_user_id: i64,
    /// The households whose goods it sells.
    pub member_household_ids: Vec<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Cooperative> for CooperativeView {
    fn from(c: Cooperative) -> Self {
        Self {
            id: c.cooperative.id,
            name: c.cooperative.name,
            area_code: c.cooperative.area_code,
            manager_user_id: c.cooperative.manager_user_id,
            member_household_ids: c.member_household_ids,
            created_at: c.cooperative.created_at,
        }
    }
}

#[derive(ApiResponse)]
pub enum CreateCooperativeResponse {
    /// The new co-operative, with no members yet.
    #[oai(status = 201)]
    Created(Json<CooperativeView>),
}

#[derive(ApiResponse)]
pub enum CooperativeResponse {
    /// The co-operative as it now stands.
    #[oai(status = 200)]
    Ok(Json<CooperativeView>),
}

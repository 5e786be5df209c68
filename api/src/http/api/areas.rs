//! `/api/v1/areas`: read the county → township → village tree by national code.

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, param::Query, payload::Json};
use serde_json::json;

use super::{
    ApiTags,
    json::JsonBody,
    mirror_enum,
    pagination::{encode_cursor, page_request},
};
use crate::http::error::{ApiError, ErrorCode};
use crate::{
    app::AppState,
    domain::{AreaCode, AreaCodePrefix},
    service::{
        areas::{self, AreaSearch, MAX_TREE_DEPTH},
        pagination::Page,
    },
};

pub struct AreasApi;

#[OpenApi(tag = "ApiTags::Areas")]
impl AreasApi {
    /// Search areas
    ///
    /// Areas in code order, filtered by part of the name, a code prefix and a level. Without
    /// filters this walks the whole tree.
    #[oai(path = "/areas", method = "get", operation_id = "list_areas")]
    async fn list_areas(
        &self,
        state: Data<&AppState>,
        /// Part of the area's name, e.g. `示范村 00`.
        q: Query<Option<String>>,
        /// Leading digits of the code, e.g. `500235101` for everything in one township.
        code_prefix: Query<Option<String>>,
        /// Only areas of this level.
        level: Query<Option<AreaLevelView>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Items per page, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
    ) -> Result<ListAreasResponse, ApiError> {
        let code_prefix = code_prefix
            .0
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(|p| AreaCodePrefix::parse(p).map_err(|e| invalid_code(p, &e)))
            .transpose()?;
        let search = AreaSearch {
            name: q.0,
            code_prefix,
            level: level.0.map(Into::into),
        };
        let page = page_request(cursor.0.as_deref(), limit.0, is_area_code)?;
        let found = areas::search(&state.db, &search, &page).await?;
        Ok(ListAreasResponse::Ok(Json(found.into())))
    }

    /// Get an area
    ///
    /// One area with its parent and its direct children. A county's or township's population
    /// and village counts are the totals of its villages. The 6-digit county code and the
    /// 9-digit township code name the same areas as their 12-digit forms.
    #[oai(path = "/areas/:code", method = "get", operation_id = "get_area")]
    async fn get_area(
        &self,
        state: Data<&AppState>,
        /// Area code: 12 digits, or the 6-digit county / 9-digit township short form.
        code: Path<String>,
    ) -> Result<GetAreaResponse, ApiError> {
        let code = parse_area_code(&code)?;
        let detail = areas::get(&state.db, &code).await?;
        Ok(GetAreaResponse::Ok(Json(detail.into())))
    }

    /// List an area's children
    ///
    /// The areas directly below one area, in code order, page by page.
    #[oai(
        path = "/areas/:code/children",
        method = "get",
        operation_id = "list_area_children"
    )]
    async fn list_area_children(
        &self,
        state: Data<&AppState>,
        /// Area code: 12 digits, or the 6-digit county / 9-digit township short form.
        code: Path<String>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Items per page, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
    ) -> Result<ListAreasResponse, ApiError> {
        let code = parse_area_code(&code)?;
        let page = page_request(cursor.0.as_deref(), limit.0, is_area_code)?;
        let children = areas::children(&state.db, &code, &page).await?;
        Ok(ListAreasResponse::Ok(Json(children.into())))
    }

    /// Get an area's tree
    ///
    /// The area and everything below it, nested, `depth` levels down (1 or 2; a county with
    /// depth 2 brings every township and village).
    #[oai(
        path = "/areas/:code/tree",
        method = "get",
        operation_id = "get_area_tree"
    )]
    async fn get_area_tree(
        &self,
        state: Data<&AppState>,
        /// Area code: 12 digits, or the 6-digit county / 9-digit township short form.
        code: Path<String>,
        /// Levels below the area to include, 0 to 2 (default 2).
        #[oai(validator(maximum(value = "2")))]
        depth: Query<Option<u32>>,
    ) -> Result<GetAreaTreeResponse, ApiError> {
        let code = parse_area_code(&code)?;
        let tree = areas::tree(&state.db, &code, depth.0.unwrap_or(MAX_TREE_DEPTH)).await?;
        Ok(GetAreaTreeResponse::Ok(Json(tree.into())))
    }

    /// Look up areas
    ///
    /// Up to 100 areas by code in one round trip, in the order asked; codes that name no area
    /// are listed under `missing`.
    #[oai(path = "/areas/lookup", method = "post", operation_id = "lookup_areas")]
    async fn lookup_areas(
        &self,
        state: Data<&AppState>,
        body: JsonBody<LookupAreasRequest>,
    ) -> Result<LookupAreasResponse, ApiError> {
        let codes = body
            .0
            .codes
            .iter()
            .map(|raw| parse_area_code(raw))
            .collect::<Result<Vec<_>, _>>()?;
        let (found, missing) = areas::lookup(&state.db, &codes).await?;
        Ok(LookupAreasResponse::Ok(Json(LookupAreasView {
            areas: found.into_iter().map(Into::into).collect(),
            missing: missing.into_iter().map(|c| c.to_string()).collect(),
        })))
    }
}

#[derive(ApiResponse)]
pub enum ListAreasResponse {
    /// One page of areas.
    #[oai(status = 200)]
    Ok(Json<AreaPageView>),
}

#[derive(ApiResponse)]
pub enum GetAreaResponse {
    /// The area with its parent and children.
    #[oai(status = 200)]
    Ok(Json<AreaDetailView>),
}

#[derive(ApiResponse)]
pub enum GetAreaTreeResponse {
    /// The area with everything below it, nested.
    #[oai(status = 200)]
    Ok(Json<AreaTreeView>),
}

#[derive(ApiResponse)]
pub enum LookupAreasResponse {
    /// The areas found and the codes not found.
    #[oai(status = 200)]
    Ok(Json<LookupAreasView>),
}

mirror_enum! {
    /// Level of an area in the tree.
    AreaLevelView as "AreaLevel" <=> entities::area::AreaLevel { County, Township, Village }
}

/// A county, township or village.
#[derive(Clone, Debug, Object)]
#[oai(rename = "Area", skip_serializing_if_is_none)]
pub struct AreaView {
    /// 12-digit national administrative code, e.g. `500235000000`.
    pub code: String,
    /// Code of the area above; none for a county.
    pub parent_code: Option<String>,
    pub level: AreaLevelView,
    /// Name, e.g. `示范村 001`.
    pub name: String,
    /// Registered rural population: a village's own, the total of the villages below for a
    /// county or township.
    pub rural_population: i64,
    /// Villages only: on the register of poor villages.
    pub is_poor_village: Option<bool>,
    /// Counties and townships only: villages below.
    pub village_count: Option<u64>,
    /// Counties and townships only: registered poor villages below.
    pub poor_village_count: Option<u64>,
}

/// One area with its parent and direct children.
#[derive(Clone, Debug, Object)]
#[oai(rename = "AreaDetail", skip_serializing_if_is_none)]
pub struct AreaDetailView {
    #[oai(flatten)]
    pub area: AreaView,
    /// The area above; none for a county.
    pub parent: Option<AreaView>,
    /// The areas directly below, in code order.
    pub children: Vec<AreaView>,
}

/// An area with the areas below it, nested.
#[derive(Clone, Debug, Object)]
#[oai(rename = "AreaTree", skip_serializing_if_is_none)]
pub struct AreaTreeView {
    #[oai(flatten)]
    pub area: AreaView,
    /// The areas directly below, each with its own children; empty at the requested depth.
    pub children: Vec<AreaTreeView>,
}

/// One page of areas.
#[derive(Clone, Debug, Object)]
#[oai(rename = "AreaPage", skip_serializing_if_is_none)]
pub struct AreaPageView {
    pub items: Vec<AreaView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Codes to look up.
#[derive(Clone, Debug, Object)]
#[oai(rename = "LookupAreasRequest", skip_serializing_if_is_none)]
pub struct LookupAreasRequest {
    /// 1 to 100 area codes (12 digits, or 6/9-digit short forms).
    #[oai(validator(min_items = 1, max_items = 100))]
    pub codes: Vec<String>,
}

/// The areas found, in the order asked, and the codes that name no area.
#[derive(Clone, Debug, Object)]
#[oai(rename = "LookupAreasResult", skip_serializing_if_is_none)]
pub struct LookupAreasView {
    pub areas: Vec<AreaView>,
    /// Codes (in 12-digit form) that name no area.
    pub missing: Vec<String>,
}

impl From<areas::Area> for AreaView {
    fn from(a: areas::Area) -> Self {
        Self {
            code: a.code,
            parent_code: a.parent_code,
            level: a.level.into(),
            name: a.name,
            rural_population: a.rural_population,
            is_poor_village: a.is_poor_village,
            village_count: a.village_count,
            poor_village_count: a.poor_village_count,
        }
    }
}

impl From<areas::AreaDetail> for AreaDetailView {
    fn from(d: areas::AreaDetail) -> Self {
        Self {
            area: d.area.into(),
            parent: d.parent.map(Into::into),
            children: d.children.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<areas::AreaTree> for AreaTreeView {
    fn from(t: areas::AreaTree) -> Self {
        Self {
            area: t.area.into(),
            children: t.children.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<Page<areas::Area>> for AreaPageView {
    fn from(page: Page<areas::Area>) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_after.as_deref().map(encode_cursor),
        }
    }
}

/// Reads an area code from a request; every route that takes one answers `area.invalid_code`
/// the same way.
pub(crate) fn parse_area_code(raw: &str) -> Result<AreaCode, ApiError> {
    AreaCode::parse(raw).map_err(|e| invalid_code(raw, &e))
}

fn invalid_code(raw: &str, reason: &impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::AreaInvalidCode)
        .with_details(json!({ "value": raw, "reason": reason.to_string() }))
}

fn is_area_code(key: &str) -> bool {
    key.len() == 12 && key.bytes().all(|b| b.is_ascii_digit())
}

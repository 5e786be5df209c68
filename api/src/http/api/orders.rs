//! Buying: orders and their steps, the national list of delivery regions, and where the
//! county's goods sell.

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};

use super::{
    ApiTags,
    areas::parse_area_code,
    auth::BearerAuth,
    json::JsonBody,
    market::UnitView,
    mirror_enum,
    pagination::{encode_cursor, page_request},
    users::parse_phone,
};
use crate::http::{caller::origin, error::ApiError};
use crate::{
    app::AppState,
    domain::region::{self, Destination},
    service::{
        market::{
            MarketError,
            order_book::{self, OrderCard},
            orders::{self, NewOrder, OrderSide},
            payment,
            sales::{self, SalesLine, SalesStats},
            shipping::{CARRIERS, Shipment},
        },
        policy::Actor,
    },
};

mirror_enum! {
    /// Where an order stands: `placed` → `paid` → `shipped` → `delivered` → `completed`, or
    /// `cancelled`.
    OrderStatusView as "OrderStatus" <=> entities::order::OrderStatus {
        Placed, Paid, Shipped, Delivered, Completed, Cancelled
    }
}

mirror_enum! {
    /// A step in an order's life.
    OrderActionView as "OrderAction" <=> crate::service::market::orders::OrderAction {
        Pay, Ship, Deliver, Complete, Cancel, Confirm
    }
}

mirror_enum! {
    /// How a completed order came to count as income: `buyer` (its buyer completed it),
    /// `official` (an official completed it for the buyer), `pending` (its buyer is close to
    /// the producing household — bound to it, its phone, or an official over its village — so
    /// it counts only once a second township or county official confirms it), `second_official`
    /// (so confirmed), `unrecorded` (completed before this was recorded).
    IncomeConfirmationView as "IncomeConfirmation" <=> entities::order::IncomeConfirmation {
        Buyer, Official, Pending, SecondOfficial, Unrecorded
    }
}

pub struct OrdersApi;

#[OpenApi(tag = "ApiTags::Orders")]
impl OrdersApi {
    /// Place an order
    ///
    /// Orders a quantity of a listing on sale, delivered to a province and city of the
    /// national list (`GET /regions`). The stock is reserved at once; two buyers cannot take
    /// the last unit twice. Send an `Idempotency-Key` so a retried request finds the order
    /// the first one made (200) instead of ordering twice; the same key with a different
    /// order is refused.
    #[oai(path = "/orders", method = "post", operation_id = "create_order")]
    async fn create_order(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// 1 to 64 letters, digits, `-` or `_`, new for each order the buyer means to make.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<OrderInput>,
    ) -> Result<CreateOrderResponse, ApiError> {
        let b = body.0;
        let new = NewOrder {
            listing_id: b.listing_id,
            quantity: b.quantity,
            destination: Destination::parse(&b.province_code, &b.city_code)?,
            address: b.address,
            recipient_name: b.recipient_name,
            recipient_phone: parse_phone(&b.recipient_phone)?,
            idempotency_key: idempotency_key.0,
        };
        let actor = &auth.0.actor;
        let placed = orders::place(&state.db, actor, new).await?;
        let view = view_of(&state, actor, placed.order).await?;
        Ok(if placed.created {
            CreateOrderResponse::Created(Json(view))
        } else {
            CreateOrderResponse::Replayed(Json(view))
        })
    }

    /// Get an order
    ///
    /// For its buyer, its seller and the officials of its village; `next_actions` lists the
    /// steps the caller may take.
    #[oai(path = "/orders/:id", method = "get", operation_id = "get_order")]
    async fn get_order(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<OrderResponse, ApiError> {
        let actor = &auth.0.actor;
        let order = orders::get(&state.db, actor, id.0).await?;
        Ok(OrderResponse::Ok(Json(
            view_of(&state, actor, order).await?,
        )))
    }

    /// Take a step on an order
    ///
    /// `pay` (payment is made outside; the seller or an official records it), `ship` (seller
    /// or official), `deliver` (buyer, seller or official), `complete` (buyer or official:
    /// adds the amount to the producing household's e-commerce income for the year), `cancel`
    /// (buyer while placed; seller or official while placed or paid; the stock returns), or
    /// `confirm` (a township or county official who took no step on it: counts the income of
    /// an order whose buyer is close to the household). The buyer takes only the buyer's
    /// steps, and whoever recorded payment or shipping does not complete the order
    /// (`order.both_sides`).
    #[oai(
        path = "/orders/:id/steps",
        method = "post",
        operation_id = "create_order_step"
    )]
    async fn create_order_step(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        /// 1 to 64 letters, digits, `-` or `_`, new for each step the client means to take:
        /// the step sent again with the same key answers the order as it is now instead of a
        /// refusal that the step was taken; the key with another request is refused
        /// (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<OrderStepInput>,
    ) -> Result<OrderResponse, ApiError> {
        let actor = &auth.0.actor;
        let step = body.0;
        let shipment = match step.action {
            OrderActionView::Ship => Some((
                step.carrier.as_deref().unwrap_or_default(),
                step.waybill_number.as_deref().unwrap_or_default(),
            )),
            _ => None,
        };
        let order = orders::step_keyed(
            &state.db,
            actor,
            id.0,
            step.action.into(),
            step.reason.clone(),
            shipment,
            &origin(req),
            idempotency_key.0.as_deref(),
        )
        .await?;
        Ok(OrderResponse::Ok(Json(
            view_of(&state, actor, order).await?,
        )))
    }

    /// List my orders
    ///
    /// What the signed-in user bought, newest first.
    #[oai(path = "/my/orders", method = "get", operation_id = "list_my_orders")]
    async fn list_my_orders(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        status: Query<Option<OrderStatusView>>,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
    ) -> Result<ListOrdersResponse, ApiError> {
        list(
            &state,
            &auth.0.actor,
            OrderSide::Bought,
            status.0,
            cursor.0,
            limit.0,
        )
        .await
    }

    /// List my sales
    ///
    /// Orders of the signed-in farmer household's goods, newest first.
    #[oai(path = "/my/sales", method = "get", operation_id = "list_my_sales")]
    async fn list_my_sales(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        status: Query<Option<OrderStatusView>>,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
    ) -> Result<ListOrdersResponse, ApiError> {
        list(
            &state,
            &auth.0.actor,
            OrderSide::Sold,
            status.0,
            cursor.0,
            limit.0,
        )
        .await
    }

    /// Get sales statistics
    ///
    /// Completed orders of an area the caller governs (default: their own), by category,
    /// township, village, month and destination, the top products and the totals; every year,
    /// or one (by completion, Beijing time). Amounts in fen.
    #[oai(
        path = "/sales/stats",
        method = "get",
        operation_id = "get_sales_stats"
    )]
    async fn get_sales_stats(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The county, a township or a village.
        area_code: Query<Option<String>>,
        #[oai(validator(minimum(value = "2000"), maximum(value = "2100")))] year: Query<
            Option<i32>,
        >,
    ) -> Result<SalesStatsResponse, ApiError> {
        let area = area_code.0.as_deref().map(parse_area_code).transpose()?;
        let stats = sales::stats(&state.db, &state.cache, &auth.0.actor, area, year.0).await?;
        Ok(SalesStatsResponse::Ok(Json(stats.into())))
    }

    /// List carriers
    ///
    /// The carriers a seller may ship with, each with the shape of its waybill numbers.
    #[oai(path = "/carriers", method = "get", operation_id = "list_carriers")]
    async fn list_carriers(&self) -> Result<ListCarriersResponse, ApiError> {
        Ok(ListCarriersResponse::Ok(Json(
            CARRIERS
                .iter()
                .map(|c| CarrierView {
                    code: c.code.into(),
                    name: c.name_zh.into(),
                    name_en: c.name_en.into(),
                    waybill: c.shape(),
                })
                .collect(),
        )))
    }

    /// Get my payment instructions
    ///
    /// How the signed-in seller asks buyers to pay, as buyers read it on orders awaiting
    /// payment.
    #[oai(
        path = "/my/payment-instructions",
        method = "get",
        operation_id = "get_my_payment_instructions"
    )]
    async fn get_my_payment_instructions(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<PaymentInstructionsResponse, ApiError> {
        let instructions = payment::own(&state.db, &auth.0.actor).await?;
        Ok(PaymentInstructionsResponse::Ok(Json(
            PaymentInstructionsView { instructions },
        )))
    }

    /// Set my payment instructions
    ///
    /// A farmer (or co-operative manager) writes how buyers pay them, until payments are
    /// verified by a payment provider: e.g. "微信转账给 138 0000 0000，备注订单号". Buyers read it
    /// on each of the seller's orders awaiting payment; blank removes it.
    #[oai(
        path = "/my/payment-instructions",
        method = "put",
        operation_id = "update_my_payment_instructions"
    )]
    async fn update_my_payment_instructions(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<PaymentInstructionsInput>,
    ) -> Result<PaymentInstructionsResponse, ApiError> {
        let instructions = payment::set(&state.db, &auth.0.actor, &body.0.instructions).await?;
        Ok(PaymentInstructionsResponse::Ok(Json(
            PaymentInstructionsView { instructions },
        )))
    }

    /// List delivery regions
    ///
    /// The provinces and prefecture-level cities of the national code list (GB/T 2260) an
    /// order may be sent to.
    #[oai(path = "/regions", method = "get", operation_id = "list_regions")]
    async fn list_regions(&self) -> Result<ListRegionsResponse, ApiError> {
        Ok(ListRegionsResponse::Ok(Json(
            region::provinces()
                .map(|p| ProvinceView {
                    code: p.code.into(),
                    name: p.name.into(),
                    cities: p
                        .cities
                        .iter()
                        .map(|c| CityView {
                            code: c.code.into(),
                            name: region::name_of(c.code).unwrap_or(c.name).into(),
                        })
                        .collect(),
                })
                .collect(),
        )))
    }
}

async fn list(
    state: &AppState,
    actor: &Actor,
    side: OrderSide,
    status: Option<OrderStatusView>,
    cursor: Option<String>,
    limit: Option<u64>,
) -> Result<ListOrdersResponse, ApiError> {
    let page = page_request(cursor.as_deref(), limit, |k| k.parse::<i64>().is_ok())?;
    let found = orders::list(&state.db, actor, side, status.map(Into::into), &page).await?;
    let cards = order_book::cards(&state.db, actor, found.items).await?;
    Ok(ListOrdersResponse::Ok(Json(OrderPageView {
        next_cursor: found.next_after.as_deref().map(encode_cursor),
        items: cards.into_iter().map(OrderView::from).collect(),
    })))
}

/// The order as `actor` reads it.
async fn view_of(
    state: &AppState,
    actor: &Actor,
    order: entities::order::Model,
) -> Result<OrderView, ApiError> {
    let card = order_book::cards(&state.db, actor, vec![order])
        .await?
        .pop()
        .ok_or_else(|| ApiError::from(MarketError::NotFound))?;
    Ok(card.into())
}

/// An order to place.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct OrderInput {
    pub listing_id: i64,
    /// In the listing's unit; at least its minimum order.
    pub quantity: i64,
    /// Six-digit national code, e.g. `440000` (广东省).
    #[oai(validator(min_length = 6, max_length = 6))]
    pub province_code: String,
    /// Six-digit national code of a prefecture-level city of the province, e.g. `440300`.
    #[oai(validator(min_length = 6, max_length = 6))]
    pub city_code: String,
    /// Street address within the city.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub address: String,
    #[oai(validator(min_length = 1, max_length = 32))]
    pub recipient_name: String,
    /// An 11-digit mobile number.
    pub recipient_phone: String,
}

/// A step to take.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct OrderStepInput {
    pub action: OrderActionView,
    /// Why, for a cancellation.
    #[oai(validator(max_length = 200))]
    pub reason: Option<String>,
    /// For `ship` (required): the carrier's code from `GET /carriers`, e.g. `sf`.
    #[oai(validator(max_length = 16))]
    pub carrier: Option<String>,
    /// For `ship` (required): the waybill number on the parcel's label, in the carrier's shape
    /// (`GET /carriers`); spaces and dashes are ignored.
    #[oai(validator(max_length = 64))]
    pub waybill_number: Option<String>,
}

/// An order.
#[derive(Object)]
#[oai(rename = "Order", skip_serializing_if_is_none)]
pub struct OrderView {
    pub id: i64,
    pub listing_id: i64,
    /// The producing household.
    pub household_id: i64,
    /// The co-operative that sold it, if one did.
    pub cooperative_id: Option<i64>,
    /// The village of origin.
    pub village_code: String,
    pub category_id: i64,
    pub quantity: i64,
    pub unit: UnitView,
    pub unit_price_fen: i64,
    pub amount_fen: i64,
    pub province_code: String,
    pub province_name: String,
    pub city_code: String,
    pub city_name: String,
    pub address: String,
    pub recipient_name: String,
    pub recipient_phone: String,
    pub status: OrderStatusView,
    /// Steps the caller may take now.
    pub next_actions: Vec<OrderActionView>,
    pub placed_at: chrono::DateTime<chrono::Utc>,
    pub paid_at: Option<chrono::DateTime<chrono::Utc>>,
    pub shipped_at: Option<chrono::DateTime<chrono::Utc>>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub cancelled_at: Option<chrono::DateTime<chrono::Utc>>,
    pub cancel_reason: Option<String>,
    /// Once completed: how its income was confirmed.
    pub income_confirmation: Option<IncomeConfirmationView>,
    /// The listing's title.
    pub title: String,
    /// Who sells it, and their phone, for the buyer to reach them.
    pub seller_name: String,
    pub seller_phone: Option<String>,
    /// While the order waits for payment (`placed`): how the seller asks to be paid, in their
    /// own words (e.g. "微信转账给 138 0000 0000，备注订单号"); absent when they wrote none.
    pub payment_instructions: Option<String>,
    /// Once shipped: the carrier, the waybill number and where to follow the parcel.
    pub shipment: Option<ShipmentView>,
}

/// How an order travels.
#[derive(Object)]
#[oai(rename = "Shipment", skip_serializing_if_is_none)]
pub struct ShipmentView {
    /// The carrier's code (`GET /carriers`).
    pub carrier: String,
    /// The carrier's name in Chinese, e.g. 顺丰速运.
    pub carrier_name: String,
    pub waybill_number: String,
    /// The carrier's tracking page for this waybill.
    pub tracking_url: String,
}

impl From<Shipment> for ShipmentView {
    fn from(s: Shipment) -> Self {
        Self {
            tracking_url: s.tracking_url(),
            carrier: s.carrier.code.into(),
            carrier_name: s.carrier.name_zh.into(),
            waybill_number: s.waybill,
        }
    }
}

impl From<OrderCard> for OrderView {
    fn from(card: OrderCard) -> Self {
        let o = card.order;
        Self {
            next_actions: card.steps.into_iter().map(Into::into).collect(),
            province_name: card.province,
            city_name: card.city,
            title: card.title,
            seller_name: card.seller_name,
            seller_phone: card.seller_phone,
            payment_instructions: card.payment_instructions,
            shipment: card.shipment.map(Into::into),
            id: o.id,
            listing_id: o.listing_id,
            household_id: o.household_id,
            cooperative_id: o.cooperative_id,
            village_code: o.village_code,
            category_id: o.category_id,
            quantity: o.quantity,
            unit: o.unit.into(),
            unit_price_fen: o.unit_price_fen,
            amount_fen: o.amount_fen,
            province_code: o.province_code,
            city_code: o.city_code,
            address: o.address,
            recipient_name: o.recipient_name,
            recipient_phone: o.recipient_phone,
            status: o.status.into(),
            placed_at: o.placed_at,
            paid_at: o.paid_at,
            shipped_at: o.shipped_at,
            delivered_at: o.delivered_at,
            completed_at: o.completed_at,
            cancelled_at: o.cancelled_at,
            cancel_reason: o.cancel_reason,
            income_confirmation: o.income_confirmation.map(Into::into),
        }
    }
}

#[derive(Object)]
#[oai(rename = "OrderPage", skip_serializing_if_is_none)]
pub struct OrderPageView {
    pub items: Vec<OrderView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A province and its prefecture-level cities.
#[derive(Object)]
#[oai(rename = "Province", skip_serializing_if_is_none)]
pub struct ProvinceView {
    pub code: String,
    pub name: String,
    pub cities: Vec<CityView>,
}

#[derive(Object)]
#[oai(rename = "City", skip_serializing_if_is_none)]
pub struct CityView {
    pub code: String,
    /// A municipality's districts and counties carry the municipality's name.
    pub name: String,
}

#[derive(ApiResponse)]
pub enum CreateOrderResponse {
    /// The order was placed and its stock reserved.
    #[oai(status = 201)]
    Created(Json<OrderView>),
    /// A retry: the order this key placed before.
    #[oai(status = 200)]
    Replayed(Json<OrderView>),
}

#[derive(ApiResponse)]
pub enum OrderResponse {
    /// The order as it now stands.
    #[oai(status = 200)]
    Ok(Json<OrderView>),
}

#[derive(ApiResponse)]
pub enum ListOrdersResponse {
    /// One page of orders.
    #[oai(status = 200)]
    Ok(Json<OrderPageView>),
}

/// A carrier a seller may ship with.
#[derive(Object)]
#[oai(rename = "Carrier", skip_serializing_if_is_none)]
pub struct CarrierView {
    /// What `ship` takes as `carrier`.
    pub code: String,
    pub name: String,
    pub name_en: String,
    /// The shape of its waybill numbers, e.g. `12-15 letters and digits`.
    pub waybill: String,
}

#[derive(ApiResponse)]
pub enum ListCarriersResponse {
    /// The carriers, in the order a form lists them.
    #[oai(status = 200)]
    Ok(Json<Vec<CarrierView>>),
}

/// A seller's instructions for paying.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PaymentInstructionsInput {
    /// At most 300 characters; blank removes them.
    #[oai(validator(max_length = 300))]
    pub instructions: String,
}

/// How a seller asks to be paid.
#[derive(Object)]
#[oai(rename = "PaymentInstructions", skip_serializing_if_is_none)]
pub struct PaymentInstructionsView {
    /// Absent when the seller wrote none.
    pub instructions: Option<String>,
}

#[derive(ApiResponse)]
pub enum PaymentInstructionsResponse {
    /// The seller's instructions as they now stand.
    #[oai(status = 200)]
    Ok(Json<PaymentInstructionsView>),
}

#[derive(ApiResponse)]
pub enum ListRegionsResponse {
    /// The provinces in code order, each with its cities.
    #[oai(status = 200)]
    Ok(Json<Vec<ProvinceView>>),
}

/// Sales of one group: a category, area, month, destination or product.
#[derive(Object)]
#[oai(rename = "SalesLine", skip_serializing_if_is_none)]
pub struct SalesLineView {
    /// Category id, area code, month (`2026-03`), province or city code, or listing id.
    pub key: String,
    pub name: String,
    pub orders: u64,
    pub amount_fen: i64,
}

impl From<SalesLine> for SalesLineView {
    fn from(l: SalesLine) -> Self {
        Self {
            key: l.key,
            name: l.name,
            orders: l.orders,
            amount_fen: l.amount_fen,
        }
    }
}

/// Where an area's goods sold.
#[derive(Object)]
#[oai(rename = "SalesStats", skip_serializing_if_is_none)]
pub struct SalesStatsView {
    pub area_code: String,
    /// The year counted; every year when absent.
    pub year: Option<i32>,
    /// Completed orders.
    pub orders: u64,
    pub amount_fen: i64,
    /// Households with at least one completed sale.
    pub households: u64,
    /// Largest amount first.
    pub by_category: Vec<SalesLineView>,
    pub by_township: Vec<SalesLineView>,
    pub by_village: Vec<SalesLineView>,
    /// In month order.
    pub by_month: Vec<SalesLineView>,
    pub by_province: Vec<SalesLineView>,
    pub by_city: Vec<SalesLineView>,
    /// The ten best-selling listings by amount.
    pub top_products: Vec<SalesLineView>,
}

impl From<SalesStats> for SalesStatsView {
    fn from(s: SalesStats) -> Self {
        let lines = |v: Vec<SalesLine>| v.into_iter().map(Into::into).collect();
        Self {
            area_code: s.area_code,
            year: s.year,
            orders: s.orders,
            amount_fen: s.amount_fen,
            households: s.households,
            by_category: lines(s.by_category),
            by_township: lines(s.by_township),
            by_village: lines(s.by_village),
            by_month: lines(s.by_month),
            by_province: lines(s.by_province),
            by_city: lines(s.by_city),
            top_products: lines(s.top_products),
        }
    }
}

#[derive(ApiResponse)]
pub enum SalesStatsResponse {
    /// The statistics.
    #[oai(status = 200)]
    Ok(Json<SalesStatsView>),
}

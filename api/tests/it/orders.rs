//! Orders over HTTP against the configured database: stock reserved atomically under
//! concurrent buyers, idempotent placement, the lifecycle and who may take each step, income
//! credited exactly once, and sales statistics checked against an independent count.

use std::sync::Arc;

use api::{
    service::{
        market::listings::{self, ListingFields},
        policy::Actor,
    },
    testing::TestApp,
};
use entities::{
    household_income::{self, IncomeSource},
    idempotency_key,
    listing::ListingStatus,
    order::{self, OrderStatus},
    user::Role,
};
use futures_util::future::join_all;
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde_json::{Value, json};

use crate::support::{self, json_of};

const VILLAGE_A: &str = "500235101201";
const VILLAGE_B: &str = "500235102201";

pub(crate) struct Market {
    pub(crate) app: Arc<TestApp>,
    pub(crate) seller: String,
    pub(crate) seller_household: i64,
    pub(crate) buyer: String,
    other_buyer: String,
    county: String,
}

impl Market {
    pub(crate) async fn open() -> Self {
        let app = support::app_with_admin().await;
        let household = support::household_in(&app, VILLAGE_A, 1).await;
        support::farmer_account(&app, "13600000001", household).await;
        support::buyer_account(&app, "13700000001").await;
        support::buyer_account(&app, "13700000002").await;
        support::official(&app, "13900000001", Role::CountyOfficial, "500235").await;
        let (seller, _) = support::tokens(&app, "13600000001").await;
        let (buyer, _) = support::tokens(&app, "13700000001").await;
        let (other_buyer, _) = support::tokens(&app, "13700000002").await;
        let (county, _) = support::tokens(&app, "13900000001").await;
        Self {
            app: Arc::new(app),
            seller,
            seller_household: household,
            buyer,
            other_buyer,
            county,
        }
    }

    /// A listing of the seller's on sale, by the service (its rules are tested elsewhere).
    pub(crate) async fn listing(
        &self,
        household_id: i64,
        category_code: &str,
        price: i64,
        stock: i64,
    ) -> i64 {
        let db = &self.app.state.db;
        let seller = entities::user::Entity::find()
            .filter(entities::user::Column::HouseholdId.eq(household_id))
            .one(db.conn())
            .await
            .unwrap()
            .unwrap();
        let category = api::service::market::catalogue::list(db, false)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.code == category_code)
            .unwrap();
        listings::create(
            db,
            &Actor {
                user_id: seller.id,
                role: Role::Farmer,
                area: None,
                household_id: Some(household_id),
            },
            ListingFields {
                category_id: Some(category.id),
                title: Some(format!("{} {price}", category.name_zh)),
                price_fen: Some(price),
                stock: Some(stock),
                status: Some(ListingStatus::OnSale),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id
    }

    async fn order(
        &self,
        token: &str,
        listing_id: i64,
        quantity: i64,
        key: Option<&str>,
    ) -> (u16, Value) {
        self.order_to(token, listing_id, quantity, key, ("440000", "440300"))
            .await
    }

    async fn order_to(
        &self,
        token: &str,
        listing_id: i64,
        quantity: i64,
        key: Option<&str>,
        (province, city): (&str, &str),
    ) -> (u16, Value) {
        let mut req = self
            .app
            .client
            .post("/api/v1/orders")
            .header("authorization", format!("Bearer {token}"));
        if let Some(key) = key {
            req = req.header("idempotency-key", key);
        }
        let resp = req
            .body_json(&json!({
                "listing_id": listing_id,
                "quantity": quantity,
                "province_code": province,
                "city_code": city,
                "address": "南山区科技园 1 号",
                "recipient_name": "李四",
                "recipient_phone": "13700000001",
            }))
            .send()
            .await;
        let status = resp.0.status().as_u16();
        (status, json_of(resp).await)
    }

    pub(crate) async fn step(&self, token: &str, order_id: i64, action: &str) -> (u16, Value) {
        let resp = self
            .app
            .client
            .post(format!("/api/v1/orders/{order_id}/steps"))
            .header("authorization", format!("Bearer {token}"))
            .body_json(&if action == "ship" {
                json!({ "action": action, "carrier": "sf", "waybill_number": "SF1234567890123" })
            } else {
                json!({ "action": action })
            })
            .send()
            .await;
        let status = resp.0.status().as_u16();
        (status, json_of(resp).await)
    }

    /// Sends a step with a body of its own.
    async fn step_with(&self, token: &str, order_id: i64, body: Value) -> (u16, Value) {
        let resp = self
            .app
            .client
            .post(format!("/api/v1/orders/{order_id}/steps"))
            .header("authorization", format!("Bearer {token}"))
            .body_json(&body)
            .send()
            .await;
        let status = resp.0.status().as_u16();
        (status, json_of(resp).await)
    }

    async fn call(
        &self,
        method: &str,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let client = &self.app.client;
        let req = match method {
            "PUT" => client.put(path),
            _ => client.get(path),
        }
        .header("authorization", format!("Bearer {token}"));
        let resp = match body {
            Some(body) => req.body_json(&body).send().await,
            None => req.send().await,
        };
        let status = resp.0.status().as_u16();
        (status, json_of(resp).await)
    }

    async fn stock(&self, listing_id: i64) -> (i64, ListingStatus) {
        let l = entities::listing::Entity::find_by_id(listing_id)
            .one(self.app.state.db.conn())
            .await
            .unwrap()
            .unwrap();
        (l.stock, l.status)
    }

    async fn ecommerce_income(&self, household_id: i64) -> i64 {
        household_income::Entity::find()
            .filter(household_income::Column::HouseholdId.eq(household_id))
            .filter(household_income::Column::Source.eq(IncomeSource::Ecommerce))
            .all(self.app.state.db.conn())
            .await
            .unwrap()
            .iter()
            .map(|i| i.amount_fen)
            .sum()
    }

    /// Placed, paid and shipped by the seller, delivered: ready to complete.
    pub(crate) async fn delivered_order(&self, listing_id: i64, quantity: i64) -> i64 {
        let (status, body) = self.order(&self.buyer, listing_id, quantity, None).await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_i64().unwrap();
        for action in ["pay", "ship", "deliver"] {
            let (status, body) = self.step(&self.seller, id, action).await;
            assert_eq!(status, 200, "{action}: {body}");
        }
        id
    }
}

#[tokio::test]
async fn ordering_reserves_stock_and_cancelling_returns_it() {
    let m = Market::open().await;
    let listing = m
        .listing(m.seller_household, "sweet_potato_vermicelli", 2500, 5)
        .await;

    let (status, first) = m.order(&m.buyer, listing, 3, None).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["amount_fen"], 7500);
    assert_eq!(first["status"], "placed");
    assert_eq!(first["city_name"], "深圳市");
    assert_eq!(first["next_actions"], json!(["cancel"]));
    assert_eq!(m.stock(listing).await, (2, ListingStatus::OnSale));

    let (status, body) = m.order(&m.buyer, listing, 3, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("order.out_of_stock"))
    );
    assert_eq!(body["details"]["available"], 2);

    let (status, _) = m.order(&m.other_buyer, listing, 2, None).await;
    assert_eq!(status, 201);
    assert_eq!(m.stock(listing).await, (0, ListingStatus::SoldOut));

    // The seller may not buy their own goods; a made-up city is refused.
    let (status, body) = m.order(&m.seller, listing, 1, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("market.invalid"))
    );
    let (status, body) = m
        .order_to(&m.buyer, listing, 1, None, ("440000", "510100"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("order.invalid_destination"))
    );

    // Cancelling puts the units back on sale.
    let id = first["id"].as_i64().unwrap();
    let resp = m
        .app
        .client
        .post(format!("/api/v1/orders/{id}/steps"))
        .header("authorization", format!("Bearer {}", m.buyer))
        .body_json(&json!({ "action": "cancel", "reason": "买多了" }))
        .send()
        .await;
    resp.assert_status_is_ok();
    let cancelled = json_of(resp).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "买多了");
    assert_eq!(m.stock(listing).await, (3, ListingStatus::OnSale));
    let (status, body) = m.step(&m.buyer, id, "cancel").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("order.step_not_allowed"))
    );
}

/// Many buyers at once for a few units: exactly the stock is sold, never more.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_buyers_cannot_take_the_same_units_twice() {
    let m = Arc::new(Market::open().await);
    let stock = 5;
    let listing = m
        .listing(m.seller_household, "free_range_eggs", 150, stock)
        .await;
    let attempts = 24;
    let results = join_all((0..attempts).map(|n| {
        let m = m.clone();
        tokio::spawn(async move {
            let token = if n % 2 == 0 { &m.buyer } else { &m.other_buyer };
            m.order(token, listing, 1, None).await
        })
    }))
    .await;
    let statuses: Vec<u16> = results.into_iter().map(|r| r.unwrap().0).collect();
    let sold = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!(
        (sold, refused),
        (stock as usize, attempts - stock as usize),
        "{statuses:?}"
    );
    assert_eq!(m.stock(listing).await, (0, ListingStatus::SoldOut));
    let orders = order::Entity::find()
        .filter(order::Column::ListingId.eq(listing))
        .all(m.app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(orders.iter().map(|o| o.quantity).sum::<i64>(), stock);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retried_order_with_the_same_key_orders_once() {
    let m = Arc::new(Market::open().await);
    let listing = m
        .listing(m.seller_household, "black_fungus", 4800, 10)
        .await;

    let (status, first) = m.order(&m.buyer, listing, 2, Some("k-0001")).await;
    assert_eq!(status, 201);
    let (status, again) = m.order(&m.buyer, listing, 2, Some("k-0001")).await;
    assert_eq!(status, 200, "a replay answers 200");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(m.stock(listing).await.0, 8);

    // The same key for a different order is a client bug, not a retry.
    let (status, body) = m.order(&m.buyer, listing, 3, Some("k-0001")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("order.idempotency_key_reused"))
    );
    // Keys are the buyer's own: another buyer's same key is another order.
    let (status, _) = m.order(&m.other_buyer, listing, 2, Some("k-0001")).await;
    assert_eq!(status, 201);
    assert_eq!(m.stock(listing).await.0, 6);

    // Ten copies of one request at once (a client retrying on a flaky network): one order.
    let results = join_all((0..10).map(|_| {
        let m = m.clone();
        tokio::spawn(async move { m.order(&m.buyer, listing, 1, Some("k-0002")).await })
    }))
    .await;
    let results: Vec<(u16, Value)> = results.into_iter().map(Result::unwrap).collect();
    assert!(
        results.iter().all(|(s, _)| *s == 200 || *s == 201),
        "{results:?}"
    );
    assert_eq!(results.iter().filter(|(s, _)| *s == 201).count(), 1);
    assert!(results.iter().all(|(_, b)| b["id"] == results[0].1["id"]));
    assert_eq!(m.stock(listing).await.0, 5);

    let (status, body) = m.order(&m.buyer, listing, 1, Some("not a key!")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("request.invalid"))
    );
}

#[tokio::test]
async fn an_orders_key_is_kept_in_the_shared_table_and_carried_over_by_the_migration() {
    let m = Market::open().await;
    let listing = m
        .listing(m.seller_household, "black_fungus", 4800, 10)
        .await;
    let (status, first) = m.order(&m.buyer, listing, 2, Some("k-move")).await;
    assert_eq!(status, 201);
    let db = &m.app.state.db;
    let keys = || async {
        idempotency_key::Entity::find()
            .all(db.conn())
            .await
            .unwrap()
            .into_iter()
            .map(|k| (k.key, k.operation, k.resource))
            .collect::<Vec<_>>()
    };
    let order_id = first["id"].as_i64().unwrap();
    let kept = vec![(
        "k-move".to_owned(),
        "order".to_owned(),
        order_id.to_string(),
    )];
    assert_eq!(keys().await, kept);

    // Back to the orders' own columns, and over again: the key is carried with a digest the
    // order service agrees with.
    let states = db.migration_states().await.unwrap();
    let ours = states
        .iter()
        .position(|s| s.name == "m20261210_000010_move_order_keys")
        .unwrap();
    db.migrate_down(Some((states.len() - ours) as u32))
        .await
        .unwrap();
    assert!(keys().await.is_empty());
    db.migrate_up(None).await.unwrap();
    assert_eq!(keys().await, kept);

    let (status, again) = m.order(&m.buyer, listing, 2, Some("k-move")).await;
    assert_eq!((status, &again["id"]), (200, &first["id"]));
    let (status, body) = m.order(&m.buyer, listing, 3, Some("k-move")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("order.idempotency_key_reused"))
    );
    assert_eq!(m.stock(listing).await.0, 8, "one order of 2 made");
}

#[tokio::test]
async fn a_step_sent_again_with_its_key_answers_the_order_and_is_taken_once() {
    let m = Market::open().await;
    let listing = m
        .listing(m.seller_household, "black_fungus", 4800, 10)
        .await;
    let (_, placed) = m.order(&m.buyer, listing, 2, None).await;
    let id = placed["id"].as_i64().unwrap();
    let step = |action: &'static str, key: &'static str| {
        let body = if action == "ship" {
            json!({ "action": action, "carrier": "sf", "waybill_number": "SF1234567890123" })
        } else {
            json!({ "action": action })
        };
        let req = m
            .app
            .client
            .post(format!("/api/v1/orders/{id}/steps"))
            .header("authorization", format!("Bearer {}", m.seller))
            .header("idempotency-key", key)
            .body_json(&body);
        async move {
            let resp = req.send().await;
            let status = resp.0.status().as_u16();
            (status, json_of(resp).await)
        }
    };
    let paid = step("pay", "pay-1").await;
    assert_eq!(paid.0, 200, "{paid:?}");
    assert_eq!(paid.1["status"], "paid");
    // Sent again on a weak signal: the order as it is, not a refusal that it was paid.
    assert_eq!(step("pay", "pay-1").await, paid);
    // The key with another step is refused, and the step is not taken.
    let (status, refused) = step("ship", "pay-1").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("request.idempotency_key_reused"))
    );
    let shipped = step("ship", "ship-1").await;
    assert_eq!(shipped.1["status"], "shipped", "{shipped:?}");
    assert_eq!(step("ship", "ship-1").await, shipped);
    // Without a key, a step taken before is refused as ever.
    let (status, _) = m.step(&m.seller, id, "ship").await;
    assert_eq!(status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn completing_an_order_credits_the_households_income_exactly_once() {
    let m = Arc::new(Market::open().await);
    let listing = m
        .listing(m.seller_household, "chrysanthemum", 3600, 20)
        .await;
    let id = m.delivered_order(listing, 2).await;
    assert_eq!(m.ecommerce_income(m.seller_household).await, 0);

    // The seller may not complete their own sale: completion is income the exit assessment reads.
    let (status, body) = m.step(&m.seller, id, "complete").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("auth.forbidden"))
    );

    // The buyer confirms twice at once, and the county official too: one completion.
    let results = join_all(
        [m.buyer.clone(), m.buyer.clone(), m.county.clone()].map(|token| {
            let m = m.clone();
            tokio::spawn(async move { m.step(&token, id, "complete").await })
        }),
    )
    .await;
    let statuses: Vec<u16> = results.into_iter().map(|r| r.unwrap().0).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(m.ecommerce_income(m.seller_household).await, 7200);

    let order = order::Entity::find_by_id(id)
        .one(m.app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, OrderStatus::Completed);
    let year = order.income_year.unwrap();
    let income = household_income::Entity::find()
        .filter(household_income::Column::HouseholdId.eq(m.seller_household))
        .filter(household_income::Column::Year.eq(year))
        .filter(household_income::Column::Source.eq(IncomeSource::Ecommerce))
        .one(m.app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(income.amount_fen, 7200);

    // A second order adds to the same year's income.
    let second = m.delivered_order(listing, 1).await;
    let (status, _) = m.step(&m.buyer, second, "complete").await;
    assert_eq!(status, 200);
    assert_eq!(m.ecommerce_income(m.seller_household).await, 10_800);
}

#[tokio::test]
async fn each_party_takes_only_its_own_steps_and_strangers_see_nothing() {
    let m = Market::open().await;
    let listing = m
        .listing(m.seller_household, "red_tangerine", 800, 50)
        .await;
    let (_, placed) = m.order(&m.buyer, listing, 5, None).await;
    let id = placed["id"].as_i64().unwrap();

    // Payment is recorded by the seller or an official, never the buyer.
    let (status, _) = m.step(&m.buyer, id, "pay").await;
    assert_eq!(status, 403);
    let (status, body) = m.step(&m.seller, id, "ship").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("order.step_not_allowed"))
    );
    assert_eq!(body["details"]["allowed"], json!(["pay", "cancel"]));
    let (status, paid) = m.step(&m.county, id, "pay").await;
    assert_eq!((status, paid["status"].as_str()), (200, Some("paid")));

    // Once paid, only the seller or an official cancels.
    let (status, _) = m.step(&m.buyer, id, "cancel").await;
    assert_eq!(status, 403);

    // Another buyer sees no such order; a village cadre elsewhere neither.
    support::official(&m.app, "13900000002", Role::VillageCadre, VILLAGE_B).await;
    let (cadre, _) = support::tokens(&m.app, "13900000002").await;
    for token in [&m.other_buyer, &cadre] {
        let resp = m
            .app
            .client
            .get(format!("/api/v1/orders/{id}"))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::NOT_FOUND);
    }

    // The buyer's list and the seller's sales both hold it.
    for (path, token) in [
        ("/api/v1/my/orders", &m.buyer),
        ("/api/v1/my/sales", &m.seller),
    ] {
        let resp = m
            .app
            .client
            .get(path)
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await;
        resp.assert_status_is_ok();
        let body = json_of(resp).await;
        assert_eq!(body["items"][0]["id"], id, "{path}");
    }
}

#[derive(Debug, FromQueryResult, PartialEq, Eq)]
struct Group {
    key: String,
    orders: i64,
    amount_fen: i64,
}

#[tokio::test]
async fn sales_statistics_equal_an_independent_count() {
    let m = Market::open().await;
    let other_household = support::household_in(&m.app, VILLAGE_B, 2).await;
    support::farmer_account(&m.app, "13600000002", other_household).await;
    let (other_seller, _) = support::tokens(&m.app, "13600000002").await;

    let noodles = m
        .listing(m.seller_household, "sweet_potato_vermicelli", 2500, 500)
        .await;
    let eggs = m
        .listing(m.seller_household, "free_range_eggs", 150, 500)
        .await;
    let fungus = m.listing(other_household, "black_fungus", 4800, 500).await;
    let destinations = [
        ("440000", "440300"),
        ("310000", "310100"),
        ("500000", "500100"),
    ];

    // A spread of orders; every third is left placed and every fifth cancelled, which are not sales.
    for n in 0..24i64 {
        let (listing, seller) = match n % 3 {
            0 => (noodles, &m.seller),
            1 => (eggs, &m.seller),
            _ => (fungus, &other_seller),
        };
        let (status, body) = m
            .order_to(
                &m.buyer,
                listing,
                1 + n % 4,
                None,
                destinations[(n % 3) as usize],
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_i64().unwrap();
        if n % 5 == 0 {
            assert_eq!(m.step(seller, id, "cancel").await.0, 200);
            continue;
        }
        if n % 3 == 2 && n % 2 == 0 {
            continue;
        }
        for action in ["pay", "ship", "deliver"] {
            assert_eq!(m.step(seller, id, action).await.0, 200);
        }
        assert_eq!(m.step(&m.buyer, id, "complete").await.0, 200);
    }

    let stats = |area: Option<&str>, token: &str| {
        let url = match area {
            Some(a) => format!("/api/v1/sales/stats?area_code={a}"),
            None => "/api/v1/sales/stats".to_owned(),
        };
        let req = m
            .app
            .client
            .get(url)
            .header("authorization", format!("Bearer {token}"));
        async move {
            let resp = req.send().await;
            let status = resp.0.status().as_u16();
            (status, json_of(resp).await)
        }
    };
    let (status, county) = stats(None, &m.county).await;
    assert_eq!(status, 200, "{county}");

    // The independent count: the database's own GROUP BY over completed orders.
    let conn = m.app.state.db.conn();
    // Each database names its text and integer types its own way.
    let (text, integer) = match conn.get_database_backend() {
        DbBackend::MySql => ("CHAR", "SIGNED"),
        DbBackend::Postgres => ("TEXT", "BIGINT"),
        _ => ("TEXT", "INTEGER"),
    };
    let grouped = |column: order::Column| async move {
        let mut groups = order::Entity::find()
            .select_only()
            .column_as(Expr::col(column).cast_as(text), "key")
            .column_as(order::Column::Id.count().cast_as(integer), "orders")
            .column_as(
                order::Column::AmountFen.sum().cast_as(integer),
                "amount_fen",
            )
            .filter(order::Column::Status.eq(OrderStatus::Completed))
            .group_by(column)
            .into_model::<Group>()
            .all(conn)
            .await
            .unwrap();
        groups.sort_by(|a, b| a.key.cmp(&b.key));
        groups
    };
    let from_stats = |lines: &Value| {
        let mut groups: Vec<Group> = lines
            .as_array()
            .unwrap()
            .iter()
            .map(|l| Group {
                key: l["key"].as_str().unwrap().to_owned(),
                orders: l["orders"].as_i64().unwrap(),
                amount_fen: l["amount_fen"].as_i64().unwrap(),
            })
            .collect();
        groups.sort_by(|a, b| a.key.cmp(&b.key));
        groups
    };
    assert_eq!(
        from_stats(&county["by_village"]),
        grouped(order::Column::VillageCode).await
    );
    assert_eq!(
        from_stats(&county["by_category"]),
        grouped(order::Column::CategoryId).await
    );
    assert_eq!(
        from_stats(&county["by_province"]),
        grouped(order::Column::ProvinceCode).await
    );
    assert_eq!(
        from_stats(&county["by_city"]),
        grouped(order::Column::CityCode).await
    );
    assert_eq!(
        from_stats(&county["top_products"]),
        grouped(order::Column::ListingId).await
    );
    let all = grouped(order::Column::Status).await;
    assert_eq!(county["orders"].as_i64(), Some(all[0].orders));
    assert_eq!(county["amount_fen"].as_i64(), Some(all[0].amount_fen));
    assert_eq!(county["households"], 2);
    let months = from_stats(&county["by_month"]);
    assert_eq!(months.iter().map(|g| g.orders).sum::<i64>(), all[0].orders);
    let townships = from_stats(&county["by_township"]);
    assert_eq!(
        townships.iter().map(|g| g.key.as_str()).collect::<Vec<_>>(),
        ["500235101000", "500235102000"]
    );
    assert_eq!(
        county["by_township"][0]["name"].as_str().map(str::is_empty),
        Some(false)
    );

    // The income credited equals the sales, household by household.
    assert_eq!(
        m.ecommerce_income(m.seller_household).await + m.ecommerce_income(other_household).await,
        all[0].amount_fen
    );

    // Scoped: a township official sees their township only; a village cadre not the county.
    support::official(
        &m.app,
        "13900000003",
        Role::TownshipOfficial,
        "500235101000",
    )
    .await;
    let (township, _) = support::tokens(&m.app, "13900000003").await;
    let (status, mine) = stats(None, &township).await;
    assert_eq!(status, 200);
    assert_eq!(mine["by_village"].as_array().unwrap().len(), 1);
    assert_eq!(mine["by_village"][0]["key"], VILLAGE_A);
    let (status, _) = stats(Some("500235"), &township).await;
    assert_eq!(status, 403);
    let (status, _) = stats(None, &m.buyer).await;
    assert_eq!(status, 403);

    // Cached, yet a new completion shows at once.
    let id = m.delivered_order(noodles, 1).await;
    assert_eq!(m.step(&m.buyer, id, "complete").await.0, 200);
    let (_, after) = stats(None, &m.county).await;
    assert_eq!(after["orders"].as_i64(), Some(all[0].orders + 1));
    assert_eq!(after["amount_fen"].as_i64(), Some(all[0].amount_fen + 2500));
}

#[tokio::test]
async fn the_demo_marketplace_has_photos_a_year_of_orders_and_matching_income() {
    use api::service::market::demo;
    let app = TestApp::spawn().await;
    let mut households = Vec::new();
    for n in 1..=6 {
        let village = if n % 2 == 0 { VILLAGE_A } else { VILLAGE_B };
        households.push(support::household_in(&app, village, n).await);
    }
    let db = &app.state.db;
    let seeded = demo::seed_demo_market(db, &app.state.photos).await.unwrap();
    assert!((6..=12).contains(&seeded.listings), "{seeded:?}");
    assert_eq!(seeded.orders, demo::DEMO_ORDERS);

    // Every listing shows a photo drawn for it; no two share one.
    let photos = entities::listing_photo::Entity::find()
        .all(db.conn())
        .await
        .unwrap();
    assert_eq!(photos.len(), seeded.listings);
    let distinct: std::collections::HashSet<_> = photos.iter().map(|p| &p.photo_id).collect();
    assert_eq!(distinct.len(), seeded.listings);

    // A year of orders up to today, to the nation's cities, credited as income when completed.
    let orders = order::Entity::find().all(db.conn()).await.unwrap();
    let oldest = orders.iter().map(|o| o.placed_at).min().unwrap();
    assert!(chrono::Utc::now() - oldest > chrono::Duration::days(300));
    assert!(orders.iter().all(|o| {
        api::domain::region::Destination::parse(&o.province_code, &o.city_code).is_ok()
    }));
    let completed: Vec<_> = orders
        .iter()
        .filter(|o| o.status == OrderStatus::Completed)
        .collect();
    assert_eq!(completed.len(), seeded.completed);
    let income: i64 = household_income::Entity::find()
        .filter(household_income::Column::Source.eq(IncomeSource::Ecommerce))
        .all(db.conn())
        .await
        .unwrap()
        .iter()
        .map(|i| i.amount_fen)
        .sum();
    assert_eq!(income, completed.iter().map(|o| o.amount_fen).sum::<i64>());
    let county = api::domain::AreaCode::parse("500235").unwrap();
    let stats = api::service::market::sales::compute(db.conn(), &county, None)
        .await
        .unwrap();
    assert_eq!(stats.orders as usize, seeded.completed);
    // Completions run from a year ago to two weeks ago: twelve or thirteen calendar months.
    assert!(
        (12..=13).contains(&stats.by_month.len()),
        "{:?}",
        stats.by_month
    );

    // Seeding again adds nothing.
    let again = demo::seed_demo_market(db, &app.state.photos).await.unwrap();
    assert_eq!(again, demo::DemoMarket::default());
}

/// A co-operative sells its members' goods: its manager lists, ships and is the seller; each
/// sale stays the producing household's, in its village and its income.
#[tokio::test]
async fn a_cooperative_sells_for_its_member_households() {
    let m = Market::open().await;
    let member = support::household_in(&m.app, VILLAGE_A, 2).await;
    let outsider = support::household_in(&m.app, VILLAGE_B, 3).await;
    support::farmer_account(&m.app, "13600000002", member).await;
    let (member_farmer, _) = support::tokens(&m.app, "13600000002").await;
    let manager = api::testing::account(
        &m.app.state.db,
        "13600000009",
        Role::Farmer,
        None,
        support::PASSWORD,
    )
    .await;
    let (manager_token, _) = support::tokens(&m.app, "13600000009").await;
    let post = |path: String, token: &str, body: Value| {
        let req = m
            .app
            .client
            .post(path)
            .header("authorization", format!("Bearer {token}"))
            .body_json(&body);
        async move {
            let resp = req.send().await;
            let status = resp.0.status().as_u16();
            (status, json_of(resp).await)
        }
    };

    // A village cadre elsewhere cannot register one in this township; the county can.
    support::official(&m.app, "13900000002", Role::VillageCadre, VILLAGE_B).await;
    let (cadre, _) = support::tokens(&m.app, "13900000002").await;
    let input = json!({ "name": "龙角镇红苕粉合作社", "area_code": "500235101000",
                        "manager_user_id": manager.id });
    let (status, _) = post("/api/v1/cooperatives".into(), &cadre, input.clone()).await;
    assert_eq!(status, 403);
    let (status, coop) = post("/api/v1/cooperatives".into(), &m.county, input.clone()).await;
    assert_eq!(status, 201, "{coop}");
    let coop_id = coop["id"].as_i64().unwrap();
    let (status, _) = post("/api/v1/cooperatives".into(), &m.county, input).await;
    assert_eq!(status, 422, "one co-operative per manager");
    // Added twice at the same moment (a double tap): one membership, one audit entry.
    let add = || {
        post(
            format!("/api/v1/cooperatives/{coop_id}/members"),
            &m.county,
            json!({ "household_id": member }),
        )
    };
    let ((status, coop), (again, _)) = tokio::join!(add(), add());
    assert_eq!(
        (status, again, coop["member_household_ids"].clone()),
        (200, 200, json!([member]))
    );
    {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let added = entities::audit_log::Entity::find()
            .filter(entities::audit_log::Column::Action.eq("cooperative.member_added"))
            .count(m.app.state.db.conn())
            .await
            .unwrap();
        assert_eq!(added, 1);
    }

    // The manager lists for a member, not for an outsider.
    let category = api::service::market::catalogue::list(&m.app.state.db, false)
        .await
        .unwrap()[0]
        .id;
    let listing = |household: i64| {
        json!({ "household_id": household, "category_id": category, "title": "合作社红苕粉",
                "price_fen": 3000, "stock": 20, "status": "on_sale" })
    };
    let (status, body) = post("/api/v1/listings".into(), &manager_token, listing(outsider)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("market.invalid"))
    );
    let (status, listed) = post("/api/v1/listings".into(), &manager_token, listing(member)).await;
    assert_eq!(status, 201, "{listed}");
    assert_eq!(listed["household_id"], member);
    assert_eq!(listed["cooperative_id"], coop_id);
    assert_eq!(listed["village_code"], VILLAGE_A);
    let listing_id = listed["id"].as_i64().unwrap();

    // The co-operative's listing is the manager's to change, not the member farmer's.
    for (token, expected) in [(&member_farmer, 404), (&manager_token, 200)] {
        let resp = m
            .app
            .client
            .patch(format!("/api/v1/listings/{listing_id}"))
            .header("authorization", format!("Bearer {token}"))
            .body_json(&json!({ "price_fen": 2800 }))
            .send()
            .await;
        assert_eq!(resp.0.status().as_u16(), expected);
    }

    // Sold through the co-operative: the manager ships, the member household is credited.
    let (status, order) = m.order(&m.buyer, listing_id, 2, None).await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_i64().unwrap();
    // The member farmer is not the seller here: the order is not theirs to see.
    assert_eq!(m.step(&member_farmer, id, "pay").await.0, 404);
    for action in ["pay", "ship", "deliver"] {
        assert_eq!(m.step(&manager_token, id, action).await.0, 200, "{action}");
    }
    assert_eq!(m.step(&m.buyer, id, "complete").await.0, 200);
    assert_eq!(m.ecommerce_income(member).await, 5600);

    let list = |path: &'static str, token: String| {
        let req = m
            .app
            .client
            .get(path)
            .header("authorization", format!("Bearer {token}"));
        async move { json_of(req.send().await).await["items"].clone() }
    };
    assert_eq!(
        list("/api/v1/my/sales", manager_token.clone()).await[0]["id"],
        id
    );
    assert_eq!(
        list("/api/v1/my/sales", member_farmer.clone()).await,
        json!([])
    );
    assert_eq!(
        list("/api/v1/my/listings", manager_token.clone()).await[0]["id"],
        listing_id
    );
    assert_eq!(
        list("/api/v1/my/listings", member_farmer.clone()).await,
        json!([])
    );
}

/// Finding: a co-operative in one township took a member household from another.
#[tokio::test]
async fn a_cooperative_takes_member_households_of_its_own_township_only() {
    let m = Market::open().await;
    let neighbour = support::household_in(&m.app, "500235101202", 2).await;
    let elsewhere = support::household_in(&m.app, VILLAGE_B, 3).await;
    let manager = api::testing::account(
        &m.app.state.db,
        "13600000009",
        Role::Farmer,
        None,
        support::PASSWORD,
    )
    .await;
    let post = |path: String, body: Value| {
        let req = m
            .app
            .client
            .post(path)
            .header("authorization", format!("Bearer {}", m.county))
            .body_json(&body);
        async move {
            let resp = req.send().await;
            let status = resp.0.status().as_u16();
            (status, json_of(resp).await)
        }
    };
    // Registered in a village of the township: members come from any village of the township.
    let (status, coop) = post(
        "/api/v1/cooperatives".into(),
        json!({ "name": "龙角镇红苕粉合作社", "area_code": VILLAGE_A,
                "manager_user_id": manager.id }),
    )
    .await;
    assert_eq!(status, 201, "{coop}");
    let members = format!("/api/v1/cooperatives/{}/members", coop["id"]);

    let (status, body) = post(members.clone(), json!({ "household_id": elsewhere })).await;
    assert_eq!(
        (status, body["details"]["reason_code"].as_str()),
        (422, Some("cooperative.member_outside_township")),
        "{body}"
    );
    assert_eq!(
        body["message"],
        "这户不在合作社所在的乡镇，不能加入这个合作社"
    );
    let (status, body) = post(members, json!({ "household_id": neighbour })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["member_household_ids"], json!([neighbour]));
}

/// Finding: a village cadre ordered from his own village, took payment, shipping, delivery and
/// completion himself, and raised the household's income without a sale.
#[tokio::test]
async fn an_official_buying_from_their_own_area_takes_no_sellers_step_and_their_order_waits_for_a_second_official()
 {
    let m = Market::open().await;
    support::official(&m.app, "13900000011", Role::VillageCadre, VILLAGE_A).await;
    support::official(&m.app, "13900000012", Role::TownshipOfficial, "500235101").await;
    let (cadre, _) = support::tokens(&m.app, "13900000011").await;
    let (township, _) = support::tokens(&m.app, "13900000012").await;
    let listing = m
        .listing(m.seller_household, "potato_chips", 1500, 20)
        .await;

    let (status, placed) = m.order(&cadre, listing, 2, None).await;
    assert_eq!(status, 201, "{placed}");
    let id = placed["id"].as_i64().unwrap();
    assert_eq!(placed["next_actions"], json!(["cancel"]));
    // The buyer records neither payment nor shipping, though he is an official of the village.
    let (status, body) = m.step(&cadre, id, "pay").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("auth.forbidden"))
    );
    for action in ["pay", "ship", "deliver"] {
        let (status, body) = m.step(&m.seller, id, action).await;
        assert_eq!(status, 200, "{action}: {body}");
    }
    let (status, done) = m.step(&cadre, id, "complete").await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "completed");
    assert_eq!(done["income_confirmation"], "pending");
    assert_eq!(m.ecommerce_income(m.seller_household).await, 0);

    // The assessment shows the amount held, not counted.
    let year = order::Entity::find_by_id(id)
        .one(m.app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .income_year
        .unwrap();
    let assessment = |token: String| {
        let app = m.app.clone();
        let household = m.seller_household;
        async move {
            let resp = app
                .client
                .get(format!(
                    "/api/v1/households/{household}/assessment?year={year}"
                ))
                .header("authorization", format!("Bearer {token}"))
                .send()
                .await;
            resp.assert_status_is_ok();
            json_of(resp).await
        }
    };
    let before = assessment(m.county.clone()).await;
    assert_eq!(before["income_fen"], 0);
    assert_eq!(before["ecommerce"]["held_fen"], 3000);
    assert_eq!(before["ecommerce"]["held_orders"], 1);

    // Neither the buyer nor the seller confirms; a second official of the township does, once.
    for token in [&cadre, &m.seller] {
        let (status, body) = m.step(token, id, "confirm").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("auth.forbidden"))
        );
    }
    let (status, body) = m.step(&township, id, "confirm").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["income_confirmation"], "second_official");
    assert_eq!(m.ecommerce_income(m.seller_household).await, 3000);
    let (status, body) = m.step(&m.county, id, "confirm").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("order.step_not_allowed"))
    );
    let after = assessment(m.county.clone()).await;
    assert_eq!(after["income_fen"], 3000);
    assert_eq!(after["ecommerce"]["by_second_official_fen"], 3000);
    assert_eq!(after["ecommerce"]["held_fen"], 0);

    // An ordinary buyer's order counts at once, shown as completed by the buyer.
    let other = m.delivered_order(listing, 1).await;
    let (status, body) = m.step(&m.buyer, other, "complete").await;
    assert_eq!(
        (status, body["income_confirmation"].as_str()),
        (200, Some("buyer"))
    );
    assert_eq!(
        assessment(m.county.clone()).await["ecommerce"]["by_buyer_fen"],
        1500
    );
}

/// Nobody takes both sides of one order: whoever recorded payment or shipping for the seller
/// does not complete it for the buyer.
#[tokio::test]
async fn whoever_recorded_the_sellers_side_does_not_complete_the_order() {
    let m = Market::open().await;
    let listing = m.listing(m.seller_household, "black_fungus", 900, 20).await;
    let (_, placed) = m.order(&m.buyer, listing, 1, None).await;
    let id = placed["id"].as_i64().unwrap();
    let (status, _) = m.step(&m.county, id, "pay").await;
    assert_eq!(status, 200);
    for action in ["ship", "deliver"] {
        let (status, body) = m.step(&m.seller, id, action).await;
        assert_eq!(status, 200, "{action}: {body}");
    }
    let resp = m
        .app
        .client
        .get(format!("/api/v1/orders/{id}"))
        .header("authorization", format!("Bearer {}", m.county))
        .send()
        .await;
    assert_eq!(json_of(resp).await["next_actions"], json!([]));
    let (status, body) = m.step(&m.county, id, "complete").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("order.both_sides"))
    );
    assert_eq!(m.ecommerce_income(m.seller_household).await, 0);
    // Another official may complete for the buyer: counted as completed by an official.
    support::official(&m.app, "13900000013", Role::TownshipOfficial, "500235101").await;
    let (township, _) = support::tokens(&m.app, "13900000013").await;
    let (status, body) = m.step(&township, id, "complete").await;
    assert_eq!(
        (status, body["income_confirmation"].as_str()),
        (200, Some("official"))
    );
    assert_eq!(m.ecommerce_income(m.seller_household).await, 900);
}

#[tokio::test]
async fn the_buyer_reads_how_to_pay_then_the_carrier_waybill_and_tracking_link() {
    let m = Market::open().await;
    let listing = m
        .listing(m.seller_household, "red_tangerine", 800, 50)
        .await;

    // The seller writes how to be paid; a buyer cannot, and nobody writes a long essay.
    let said = "微信转账给 136 0000 0001，备注订单号";
    let put = |token: &str, text: &str| {
        let body = json!({ "instructions": text });
        let token = token.to_owned();
        let m = &m;
        async move {
            m.call("PUT", &token, "/api/v1/my/payment-instructions", Some(body))
                .await
        }
    };
    let (status, body) = put(&m.seller, &format!("  {said} ")).await;
    assert_eq!((status, body["instructions"].as_str()), (200, Some(said)));
    let (status, body) = put(&m.buyer, said).await;
    assert_eq!(
        (status, body["details"]["reason_code"].as_str()),
        (422, Some("order.payment_instructions_seller"))
    );
    let (status, body) = m
        .call("GET", &m.seller, "/api/v1/my/payment-instructions", None)
        .await;
    assert_eq!((status, body["instructions"].as_str()), (200, Some(said)));

    // After ordering the buyer sees the seller, their phone and how to pay.
    let (status, placed) = m.order(&m.buyer, listing, 5, None).await;
    assert_eq!(status, 201);
    assert_eq!(placed["payment_instructions"], said);
    assert_eq!(placed["seller_phone"], "13600000001");
    assert!(placed.get("shipment").is_none());
    let id = placed["id"].as_i64().unwrap();
    let (_, paid) = m.step(&m.seller, id, "pay").await;
    assert!(paid.get("payment_instructions").is_none(), "{paid}");

    // Shipping needs a carrier of the list and a number of its shape.
    for (body, code) in [
        (json!({ "action": "ship" }), "order.waybill_required"),
        (
            json!({ "action": "ship", "carrier": "dhl", "waybill_number": "1234567890" }),
            "order.carrier_unknown",
        ),
        (
            json!({ "action": "ship", "carrier": "zto", "waybill_number": "13600000001" }),
            "order.waybill_digits",
        ),
        (
            json!({ "action": "ship", "carrier": "sf", "waybill_number": "顺丰" }),
            "order.waybill_letters_and_digits",
        ),
    ] {
        let (status, refused) = m.step_with(&m.seller, id, body).await;
        assert_eq!(
            (status, refused["details"]["reason_code"].as_str()),
            (422, Some(code)),
            "{refused}"
        );
        assert!(!refused["message"].as_str().unwrap().is_empty());
    }
    let (status, shipped) = m
        .step_with(
            &m.seller,
            id,
            json!({ "action": "ship", "carrier": "zto", "waybill_number": "7831 2345 6789" }),
        )
        .await;
    assert_eq!((status, shipped["status"].as_str()), (200, Some("shipped")));

    // The buyer reads the carrier, the number and where to follow it.
    let (_, seen) = m
        .call("GET", &m.buyer, &format!("/api/v1/orders/{id}"), None)
        .await;
    assert_eq!(
        seen["shipment"],
        json!({
            "carrier": "zto",
            "carrier_name": "中通快递",
            "waybill_number": "783123456789",
            "tracking_url": "https://m.kuaidi100.com/result.jsp?nu=783123456789",
        })
    );
    let stored = order::Entity::find_by_id(id)
        .one(m.app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.carrier.as_deref(), stored.waybill_number.as_deref()),
        (Some("zto"), Some("783123456789"))
    );
    let (_, mine) = m.call("GET", &m.buyer, "/api/v1/my/orders", None).await;
    assert_eq!(
        mine["items"][0]["shipment"]["waybill_number"],
        "783123456789"
    );

    // The catalogue lists the carriers a seller chooses from.
    let (status, carriers) = m.call("GET", &m.buyer, "/api/v1/carriers", None).await;
    assert_eq!(status, 200);
    let codes: Vec<&str> = carriers
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    for code in ["ems", "sf", "zto", "yto", "sto", "yunda", "jt", "jd"] {
        assert!(codes.contains(&code), "{code}");
    }

    // Blank takes the instructions away.
    let (status, body) = put(&m.seller, " ").await;
    assert_eq!((status, body.get("instructions")), (200, None));
}

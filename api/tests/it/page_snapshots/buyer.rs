//! Ordering from the pages and following the orders: the order form and its refusals, the
//! buyer's orders in every state, the farmer's orders with their steps, and the farmer's
//! income this year.

use api::{
    domain::{Phone, region::Destination},
    service::{
        market::{
            listings::{self, ListingFields},
            orders::{self, NewOrder, OrderAction},
        },
        policy::Actor,
        users::Origin,
    },
    testing::{self, TestApp},
};

use entities::{
    listing::{ListingStatus, Unit},
    user::Role,
};
use poem::http::StatusCode;

use super::{Page, cookie_for, open, post};
use sea_orm::EntityTrait;

use crate::{assert_page, support};

const VILLAGE: &str = "500235101201";
const FARMER: &str = "13600000001";
const BUYER: &str = "13700000001";

/// The anti-forgery token on a page's forms.
fn csrf_in(page: &Page) -> String {
    let start = page.html.find("name=\"csrf\" value=\"").expect("a form") + 19;
    page.html[start..]
        .split('"')
        .next()
        .expect("a token")
        .to_owned()
}

/// A page with what differs between runs named instead: the order form's own key, this year,
/// and the orders' ids where the filters do not see them.
fn steady(mut page: Page, orders: &[i64]) -> Page {
    if let Some(at) = page.html.find("name=\"key\" value=\"") {
        let start = at + 18;
        page.html.replace_range(start..start + 24, "[key]");
    }
    let year = api::domain::county_time::year_of(chrono::Utc::now());
    page.html = page.html.replace(&format!("{year} "), "[year] ");
    for id in orders {
        page.html = page
            .html
            .replace(&format!("order-{id}\""), "order-[id]\"")
            .replace(&format!("reason-{id}\""), "reason-[id]\"");
    }
    page
}

/// A form posted from one of our pages.
async fn send(app: &TestApp, path: &str, cookie: &str, form: &[(&str, String)]) -> Page {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post(app, path, Some(cookie), &form).await
}

struct Shop {
    app: TestApp,
    farmer: Actor,
    buyer: Actor,
    noodles: i64,
    eggs: i64,
}

async fn shop() -> Shop {
    let app = TestApp::spawn().await;
    let household = support::household_in(&app, VILLAGE, 1).await;
    let farmer = support::farmer_account(&app, FARMER, household).await;
    let farmer = Actor {
        user_id: farmer.id,
        role: Role::Farmer,
        area: None,
        household_id: Some(household),
    };
    let buyer = support::buyer_account(&app, BUYER).await;
    let buyer = Actor {
        user_id: buyer.id,
        role: Role::Buyer,
        area: None,
        household_id: None,
    };
    let listing = |category: i64, title: &str, price_fen: i64, unit: Unit| ListingFields {
        category_id: Some(category),
        title: Some(title.into()),
        price_fen: Some(price_fen),
        unit: Some(unit),
        stock: Some(40),
        min_order: Some(2),
        status: Some(ListingStatus::OnSale),
        ..Default::default()
    };
    let vermicelli = support::category_id(&app, "sweet_potato_vermicelli").await;
    let eggs = support::category_id(&app, "free_range_eggs").await;
    let noodles = listings::create(
        &app.state.db,
        &farmer,
        listing(vermicelli, "手工红苕粉 5斤装", 3_000, Unit::Jin),
    )
    .await
    .unwrap()
    .id;
    let eggs = listings::create(
        &app.state.db,
        &farmer,
        listing(eggs, "散养土鸡蛋 30枚", 4_550, Unit::Box),
    )
    .await
    .unwrap()
    .id;
    Shop {
        app,
        farmer,
        buyer,
        noodles,
        eggs,
    }
}

impl Shop {
    /// An order of the buyer's, taken through `steps` by whoever may take each.
    async fn order(&self, listing: i64, quantity: i64, steps: &[OrderAction]) -> i64 {
        let db = &self.app.state.db;
        let order = orders::place(
            db,
            &self.buyer,
            NewOrder {
                listing_id: listing,
                quantity,
                destination: Destination::of_city("440300").unwrap(),
                address: "南山区科技园 1 号 <3 栋>".into(),
                recipient_name: "王小明".into(),
                recipient_phone: Phone::parse("13800138000").unwrap(),
                idempotency_key: None,
            },
        )
        .await
        .unwrap()
        .order;
        for step in steps {
            let actor = match step {
                OrderAction::Pay | OrderAction::Ship => &self.farmer,
                _ => &self.buyer,
            };
            if *step == OrderAction::Ship {
                orders::ship(
                    db,
                    actor,
                    order.id,
                    "zto",
                    "783123456789",
                    &Origin::default(),
                )
                .await
                .unwrap();
                continue;
            }
            orders::act(
                db,
                actor,
                order.id,
                *step,
                Some("买多了".into()),
                &Origin::default(),
            )
            .await
            .unwrap();
        }
        order.id
    }
}

#[tokio::test]
async fn the_order_form_and_its_refusals() {
    let shop = shop().await;
    let app = &shop.app;
    let buyer = cookie_for(app, BUYER).await;
    let path = format!("/m/listings/{}/order", shop.noodles);

    let form = open(app, &path, Some(&buyer), "zh").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = csrf_in(&form);
    assert_page!("order_form", steady(form, &[]));
    assert_page!(
        "order_form_en",
        steady(open(app, &path, Some(&buyer), "en").await, &[])
    );

    let filled = |phone: &'static str, quantity: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("key", "k1".to_owned()),
            ("quantity", quantity.to_owned()),
            ("name", "王小明".to_owned()),
            ("phone", phone.to_owned()),
            ("city", "440300".to_owned()),
            ("address", "南山区科技园 1 号 <3 栋>".to_owned()),
        ]
    };
    // A mobile number with too few digits: the form again, as filled in.
    let refused = send(app, &path, &buyer, &filled("12345", "２")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_page!("order_refused_phone", steady(refused, &[]));
    // More than is in stock: the market's refusal, with its reason.
    let refused = send(app, &path, &buyer, &filled("13800138000", "41")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_page!("order_refused_stock", steady(refused, &[]));

    // A listing off the shelf cannot be ordered.
    listings::update(
        &app.state.db,
        &shop.farmer,
        shop.eggs,
        ListingFields {
            status: Some(ListingStatus::OffShelf),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let gone = open(
        app,
        &format!("/m/listings/{}/order", shop.eggs),
        Some(&buyer),
        "zh",
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_page!("order_form_not_on_sale", gone);
}

#[tokio::test]
async fn the_buyers_and_the_farmers_orders() {
    let shop = shop().await;
    let app = &shop.app;
    let buyer = cookie_for(app, BUYER).await;
    let farmer = cookie_for(app, FARMER).await;
    assert_page!(
        "my_orders_empty",
        open(app, "/m/orders", Some(&buyer), "zh").await
    );
    assert_page!(
        "farmer_orders_empty",
        open(app, "/f/orders", Some(&farmer), "zh").await
    );

    use OrderAction::*;
    let placed = shop.order(shop.noodles, 2, &[]).await;
    let paid = shop.order(shop.eggs, 3, &[Pay]).await;
    let shipped = shop.order(shop.noodles, 5, &[Pay, Ship]).await;
    let delivered = shop.order(shop.eggs, 2, &[Pay, Ship, Deliver]).await;
    let completed = shop
        .order(shop.noodles, 4, &[Pay, Ship, Deliver, Complete])
        .await;
    let cancelled = shop.order(shop.eggs, 2, &[Cancel]).await;
    let ids = [placed, paid, shipped, delivered, completed, cancelled];

    let mine = open(app, "/m/orders", Some(&buyer), "zh").await;
    let csrf = csrf_in(&mine);
    assert_page!("my_orders", steady(mine, &ids));
    assert_page!(
        "my_orders_en",
        steady(open(app, "/m/orders", Some(&buyer), "en").await, &ids)
    );
    // A step that is not the buyer's to take now: the orders again, saying so.
    let refused = post(
        app,
        &format!("/m/orders/{placed}/deliver"),
        Some(&buyer),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_page!("my_orders_refused_step", steady(refused, &ids));
    let unknown = post(
        app,
        &format!("/m/orders/{placed}/fly"),
        Some(&buyer),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.html.contains("没有这个操作"));

    let sales = open(app, "/f/orders", Some(&farmer), "zh").await;
    let csrf = csrf_in(&sales);
    assert_page!("farmer_orders", steady(sales, &ids));
    // Shipped before it is paid for.
    let refused = post(
        app,
        &format!("/f/orders/{placed}/ship"),
        Some(&farmer),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_page!("farmer_orders_refused_step", steady(refused, &ids));

    // Receiving a shipped order finishes it for the buyer in one press.
    let mine = open(app, "/m/orders", Some(&buyer), "zh").await;
    let csrf = csrf_in(&mine);
    let received = post(
        app,
        &format!("/m/orders/{shipped}/deliver"),
        Some(&buyer),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(received.status, StatusCode::SEE_OTHER, "{}", received.html);
    let order = entities::order::Entity::find_by_id(shipped)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, entities::order::OrderStatus::Completed);
    assert!(order.delivered_at.is_some() && order.completed_at.is_some());
}

#[tokio::test]
async fn the_farmers_income() {
    let shop = shop().await;
    let app = &shop.app;
    let farmer = cookie_for(app, FARMER).await;
    assert_page!(
        "income_unrecorded",
        steady(open(app, "/f/income", Some(&farmer), "zh").await, &[])
    );
    use OrderAction::*;
    shop.order(shop.noodles, 4, &[Pay, Ship, Deliver, Complete])
        .await;
    shop.order(shop.eggs, 3, &[Pay, Ship, Deliver, Complete])
        .await;
    assert_page!(
        "income",
        steady(open(app, "/f/income", Some(&farmer), "zh").await, &[])
    );
    assert_page!(
        "income_en",
        steady(open(app, "/f/income", Some(&farmer), "en").await, &[])
    );
    // A farmer's account that no household is linked to yet.
    testing::account(
        &app.state.db,
        "13600000009",
        Role::Farmer,
        None,
        support::PASSWORD,
    )
    .await;
    let unlinked = cookie_for(app, "13600000009").await;
    assert_page!(
        "income_unlinked",
        steady(open(app, "/f/income", Some(&unlinked), "zh").await, &[])
    );
}

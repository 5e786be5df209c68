//! The catalogue and listings against a real database: rules, ownership and public browsing.

use api::{
    domain::AreaCode,
    service::{
        market::{
            MarketError,
            catalogue::{self, CategoryFields, DEFAULT_CATEGORIES},
            listings::{self, ListingFields, ListingFilter},
        },
        pagination::PageRequest,
        policy::Actor,
    },
    testing::TestApp,
};
use entities::{
    listing::{ListingStatus, Unit},
    user::Role,
};

use crate::support;

fn farmer(user_id: i64, household_id: i64) -> Actor {
    Actor {
        user_id,
        role: Role::Farmer,
        area: None,
        household_id: Some(household_id),
    }
}

fn vermicelli(category_id: i64, price_fen: i64, stock: i64) -> ListingFields {
    ListingFields {
        category_id: Some(category_id),
        title: Some("手工红苕粉 5斤装".into()),
        description: Some("高山红薯，传统工艺".into()),
        price_fen: Some(price_fen),
        unit: None,
        stock: Some(stock),
        min_order: Some(2),
        status: Some(ListingStatus::OnSale),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_catalogue_starts_with_the_countys_goods_and_county_officials_manage_it() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let all = catalogue::list(db, false).await.unwrap();
    assert_eq!(all.len(), DEFAULT_CATEGORIES.len());
    assert!(
        all.iter()
            .any(|c| c.name_zh == "红苕粉" && c.default_unit == Unit::Jin)
    );
    // Preparing again adds nothing.
    assert_eq!(catalogue::ensure_defaults(db).await.unwrap(), 0);

    let county = Actor {
        user_id: 1,
        role: Role::CountyOfficial,
        area: Some(AreaCode::parse("500235").unwrap()),
        household_id: None,
    };
    let cadre = Actor {
        role: Role::VillageCadre,
        area: Some(AreaCode::parse("500235101201").unwrap()),
        ..county.clone()
    };
    let new = CategoryFields {
        code: Some("kiwi".into()),
        name_zh: Some("猕猴桃".into()),
        name_en: Some("Kiwi fruit".into()),
        default_unit: Some(Unit::Jin),
        reference_price_fen: Some(Some(800)),
        active: None,
    };
    assert!(matches!(
        catalogue::create(db, &cadre, new.clone())
            .await
            .unwrap_err(),
        MarketError::Forbidden
    ));
    let kiwi = catalogue::create(db, &county, new.clone()).await.unwrap();
    assert!(matches!(
        catalogue::create(db, &county, new.clone())
            .await
            .unwrap_err(),
        MarketError::CategoryTaken(_)
    ));
    let bad = CategoryFields {
        code: Some("Kiwi Fruit".into()),
        ..new
    };
    assert!(matches!(
        catalogue::create(db, &county, bad).await.unwrap_err(),
        MarketError::Invalid(_)
    ));
    let retired = catalogue::update(
        db,
        &county,
        kiwi.id,
        CategoryFields {
            active: Some(false),
            reference_price_fen: Some(None),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!retired.active && retired.reference_price_fen.is_none());
    assert_eq!(
        catalogue::list(db, false).await.unwrap().len(),
        DEFAULT_CATEGORIES.len()
    );
}

#[tokio::test]
async fn farmers_list_their_own_goods_within_the_rules() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let mine = support::household_in(&app, "500235101201", 1).await;
    let theirs = support::household_in(&app, "500235102201", 2).await;
    let vermicelli_id = support::category_id(&app, "sweet_potato_vermicelli").await;

    // Buyers and unbound farmers do not sell.
    let buyer = Actor {
        user_id: 9,
        role: Role::Buyer,
        area: None,
        household_id: None,
    };
    assert!(matches!(
        listings::create(db, &buyer, vermicelli(vermicelli_id, 3_000, 10))
            .await
            .unwrap_err(),
        MarketError::Forbidden
    ));
    for bad in [
        vermicelli(vermicelli_id, 0, 10),
        vermicelli(vermicelli_id, 3_000, -1),
        vermicelli(vermicelli_id, 3_000, 1), // on sale below its minimum order of 2
        ListingFields {
            title: Some(" ".into()),
            ..vermicelli(vermicelli_id, 3_000, 10)
        },
        ListingFields {
            status: Some(ListingStatus::SoldOut),
            ..vermicelli(vermicelli_id, 3_000, 10)
        },
        vermicelli(999_999, 3_000, 10),
    ] {
        let err = listings::create(db, &farmer(1, mine), bad)
            .await
            .unwrap_err();
        assert!(matches!(err, MarketError::Invalid(_)), "{err:?}");
    }
    let listing = listings::create(db, &farmer(1, mine), vermicelli(vermicelli_id, 3_000, 10))
        .await
        .unwrap();
    assert_eq!(listing.village_code, "500235101201");
    assert_eq!(listing.unit, Unit::Jin, "the category's unit by default");

    // Another household's farmer cannot touch it, whatever id they guess.
    let err = listings::update(
        db,
        &farmer(2, theirs),
        listing.id,
        ListingFields {
            price_fen: Some(1),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, MarketError::NotFound));

    // Stock running out makes it sold out; restocking puts it back on sale.
    let out = listings::update(
        db,
        &farmer(1, mine),
        listing.id,
        ListingFields {
            stock: Some(0),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(out.status, ListingStatus::SoldOut);
    let back = listings::update(
        db,
        &farmer(1, mine),
        listing.id,
        ListingFields {
            stock: Some(20),
            price_fen: Some(2_800),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(back.status, ListingStatus::OnSale);
    assert_eq!(back.price_fen, 2_800);
}

#[tokio::test]
async fn anyone_browses_what_is_on_sale_by_category_area_price_and_text() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let a = support::household_in(&app, "500235101201", 1).await;
    let b = support::household_in(&app, "500235102201", 2).await;
    let vermicelli_id = support::category_id(&app, "sweet_potato_vermicelli").await;
    let eggs_id = support::category_id(&app, "free_range_eggs").await;
    let on_sale = listings::create(db, &farmer(1, a), vermicelli(vermicelli_id, 3_000, 10))
        .await
        .unwrap();
    let eggs = listings::create(
        db,
        &farmer(2, b),
        ListingFields {
            title: Some("散养土鸡蛋 30枚".into()),
            ..vermicelli(eggs_id, 150, 300)
        },
    )
    .await
    .unwrap();
    let draft = listings::create(
        db,
        &farmer(1, a),
        ListingFields {
            status: None,
            ..vermicelli(vermicelli_id, 5_000, 10)
        },
    )
    .await
    .unwrap();
    assert_eq!(draft.status, ListingStatus::Draft);

    let ids = |filter: ListingFilter| {
        let db = db.clone();
        async move {
            listings::browse(&db, &filter, None, &PageRequest::new(None, None))
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|l| l.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids(ListingFilter::default()).await,
        vec![eggs.id, on_sale.id]
    );
    assert_eq!(
        ids(ListingFilter {
            category_id: Some(eggs_id),
            ..Default::default()
        })
        .await,
        vec![eggs.id]
    );
    assert_eq!(
        ids(ListingFilter {
            area: Some(AreaCode::parse("500235101").unwrap()),
            ..Default::default()
        })
        .await,
        vec![on_sale.id]
    );
    assert_eq!(
        ids(ListingFilter {
            min_price_fen: Some(1_000),
            max_price_fen: Some(4_000),
            ..Default::default()
        })
        .await,
        vec![on_sale.id]
    );
    assert_eq!(
        ids(ListingFilter {
            text: Some("土鸡蛋".into()),
            ..Default::default()
        })
        .await,
        vec![eggs.id]
    );

    // A draft is the farmer's own business.
    assert!(matches!(
        listings::get(db, None, draft.id).await.unwrap_err(),
        MarketError::NotFound
    ));
    assert_eq!(
        listings::get(db, Some(&farmer(1, a)), draft.id)
            .await
            .unwrap()
            .id,
        draft.id
    );
    let own = listings::browse(
        db,
        &ListingFilter::default(),
        Some(&farmer(1, a)),
        &PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(own.items.len(), 2);

    // Over HTTP, without signing in.
    let resp = app.client.get("/api/v1/categories").send().await;
    resp.assert_status_is_ok();
    let resp = app
        .client
        .get(format!("/api/v1/listings?category_id={eggs_id}"))
        .send()
        .await;
    resp.assert_status_is_ok();
    let body = crate::support::json_of(resp).await;
    assert_eq!(body["items"][0]["title"], "散养土鸡蛋 30枚");
    assert_eq!(body["items"][0]["unit"], "piece");
    app.client
        .get(format!("/api/v1/listings/{}", draft.id))
        .send()
        .await
        .assert_status(poem::http::StatusCode::NOT_FOUND);
}

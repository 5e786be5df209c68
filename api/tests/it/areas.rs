//! The area tree's rules against a real database holding the demo county.

use api::{
    domain::{AreaCode, AreaCodePrefix},
    service::{
        areas::{self, AreaError, AreaSearch},
        pagination::PageRequest,
        seed,
    },
    testing::TestDatabase,
};
use entities::area::AreaLevel;

async fn demo_county() -> TestDatabase {
    let test_db = TestDatabase::migrated().await;
    seed::seed_demo(&test_db.db, None).await.unwrap();
    test_db
}

fn code(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}

#[tokio::test]
async fn the_county_lists_its_townships_and_adds_up_its_villages() {
    let test_db = demo_county().await;
    let demo = seed::demo_areas();
    let detail = areas::get(&test_db.db, &code("500235")).await.unwrap();

    assert_eq!(detail.area.code, "500235000000");
    assert_eq!(detail.area.level, AreaLevel::County);
    assert_eq!(detail.parent, None);
    assert_eq!(detail.children.len(), seed::DEMO_TOWNSHIPS);
    assert!(
        detail
            .children
            .iter()
            .all(|c| c.level == AreaLevel::Township)
    );
    assert_eq!(detail.area.village_count, Some(seed::DEMO_VILLAGES as u64));
    assert_eq!(
        detail.area.poor_village_count,
        Some(seed::DEMO_POOR_VILLAGES as u64)
    );
    let population: i64 = demo.iter().map(|a| a.rural_population).sum();
    assert_eq!(detail.area.rural_population, population);
    // The townships' totals add up to the county's.
    let township_total: i64 = detail.children.iter().map(|c| c.rural_population).sum();
    assert_eq!(township_total, population);
    let township_poor: u64 = detail
        .children
        .iter()
        .filter_map(|c| c.poor_village_count)
        .sum();
    assert_eq!(township_poor, seed::DEMO_POOR_VILLAGES as u64);
}

#[tokio::test]
async fn a_village_shows_its_own_figures_and_its_township() {
    let test_db = demo_county().await;
    let demo = seed::demo_areas();
    let village = demo
        .iter()
        .find(|a| a.code.level() == AreaLevel::Village)
        .unwrap();
    let detail = areas::get(&test_db.db, &village.code).await.unwrap();
    assert_eq!(detail.area.name, village.name);
    assert_eq!(detail.area.rural_population, village.rural_population);
    assert_eq!(detail.area.is_poor_village, Some(village.is_poor_village));
    assert_eq!(detail.area.village_count, None);
    assert_eq!(
        detail.parent.unwrap().code,
        village.code.parent().unwrap().to_string()
    );
    assert!(detail.children.is_empty());
}

#[tokio::test]
async fn an_unknown_code_is_not_found() {
    let test_db = demo_county().await;
    let err = areas::get(&test_db.db, &code("500235999000"))
        .await
        .unwrap_err();
    assert!(matches!(err, AreaError::NotFound(c) if c.as_str() == "500235999000"));
}

#[tokio::test]
async fn paging_through_children_visits_each_once_in_code_order() {
    let test_db = demo_county().await;
    let mut page = PageRequest::new(None, Some(7));
    let mut seen = Vec::new();
    loop {
        let result = areas::children(&test_db.db, &code("500235"), &page)
            .await
            .unwrap();
        assert!(result.items.len() <= 7);
        seen.extend(result.items.into_iter().map(|a| a.code));
        match result.next_after {
            Some(after) => page = PageRequest::new(Some(after), Some(7)),
            None => break,
        }
    }
    assert_eq!(seen.len(), seed::DEMO_TOWNSHIPS);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted);
}

#[tokio::test]
async fn the_tree_nests_to_the_depth_asked() {
    let test_db = demo_county().await;
    let full = areas::tree(&test_db.db, &code("500235"), 2).await.unwrap();
    assert_eq!(full.children.len(), seed::DEMO_TOWNSHIPS);
    let villages: usize = full.children.iter().map(|t| t.children.len()).sum();
    assert_eq!(villages, seed::DEMO_VILLAGES);
    for township in &full.children {
        assert_eq!(
            township.area.village_count,
            Some(township.children.len() as u64)
        );
    }

    let shallow = areas::tree(&test_db.db, &code("500235"), 1).await.unwrap();
    assert!(shallow.children.iter().all(|t| t.children.is_empty()));
    let root_only = areas::tree(&test_db.db, &code("500235"), 0).await.unwrap();
    assert!(root_only.children.is_empty());
}

#[tokio::test]
async fn search_filters_by_name_prefix_and_level() {
    let test_db = demo_county().await;
    let page = PageRequest::new(None, Some(100));
    let by_name = areas::search(
        &test_db.db,
        &AreaSearch {
            name: Some("示范村 00".into()),
            ..Default::default()
        },
        &page,
    )
    .await
    .unwrap();
    // 示范村 001 … 示范村 009
    assert_eq!(by_name.items.len(), 9);
    assert!(by_name.next_after.is_none());

    let in_township = areas::search(
        &test_db.db,
        &AreaSearch {
            code_prefix: Some(AreaCodePrefix::parse("500235101").unwrap()),
            level: Some(AreaLevel::Village),
            ..Default::default()
        },
        &page,
    )
    .await
    .unwrap();
    let township = areas::get(&test_db.db, &code("500235101")).await.unwrap();
    assert_eq!(
        in_township.items.len() as u64,
        township.area.village_count.unwrap()
    );

    let wildcard = areas::search(
        &test_db.db,
        &AreaSearch {
            name: Some("%".into()),
            ..Default::default()
        },
        &page,
    )
    .await
    .unwrap();
    assert!(wildcard.items.is_empty(), "% is matched literally");
}

#[tokio::test]
async fn search_without_filters_walks_the_whole_county() {
    let test_db = demo_county().await;
    let mut page = PageRequest::new(None, Some(100));
    let mut total = 0;
    loop {
        let result = areas::search(&test_db.db, &AreaSearch::default(), &page)
            .await
            .unwrap();
        total += result.items.len();
        match result.next_after {
            Some(after) => page = PageRequest::new(Some(after), Some(100)),
            None => break,
        }
    }
    assert_eq!(total, 1 + seed::DEMO_TOWNSHIPS + seed::DEMO_VILLAGES);
}

#[tokio::test]
async fn lookup_returns_areas_in_order_and_names_the_missing() {
    let test_db = demo_county().await;
    let (found, missing) = areas::lookup(
        &test_db.db,
        &[
            code("500235101"),
            code("500235"),
            code("500235999000"),
            code("500235"),
        ],
    )
    .await
    .unwrap();
    let codes: Vec<_> = found.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(codes, ["500235101000", "500235000000"]);
    assert_eq!(missing, [code("500235999000")]);
}

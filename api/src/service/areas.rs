//! The area tree: the county, its townships and their villages.
//!
//! The national code's shape *is* the tree (a township shares its county's first 6 digits, a
//! village its township's first 9), so everything under an area is one prefix query, and the
//! totals of a county or township are rolled up from its villages rather than stored twice.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use entities::area::{self, AreaLevel};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::pagination::{Page, PageRequest};
use crate::{
    domain::{AreaCode, AreaCodePrefix},
    infra::db::Database,
};

/// The county's code (the top of the tree), if the areas are loaded.
pub async fn county_code(conn: &impl ConnectionTrait) -> Result<Option<AreaCode>, DbErr> {
    Ok(area::Entity::find()
        .filter(area::Column::Level.eq(AreaLevel::County))
        .one(conn)
        .await?
        .and_then(|a| AreaCode::parse(&a.code).ok()))
}

/// The area an official's statistics are about: the one asked for, else their own, else (an
/// admin's) the county. `None` when no areas are loaded.
pub async fn asked_or_own(
    conn: &impl ConnectionTrait,
    actor_area: Option<&AreaCode>,
    asked: Option<AreaCode>,
) -> Result<Option<AreaCode>, DbErr> {
    match asked.or_else(|| actor_area.cloned()) {
        Some(area) => Ok(Some(area)),
        None => county_code(conn).await,
    }
}

/// The names of the areas with these codes.
pub async fn names_of(
    conn: &impl ConnectionTrait,
    codes: impl IntoIterator<Item = String>,
) -> Result<BTreeMap<String, String>, DbErr> {
    let codes: Vec<String> = codes.into_iter().collect();
    let mut names = BTreeMap::new();
    for chunk in codes.chunks(500) {
        let found = area::Entity::find()
            .filter(area::Column::Code.is_in(chunk.iter().cloned()))
            .all(conn)
            .await?;
        names.extend(found.into_iter().map(|a| (a.code, a.name)));
    }
    Ok(names)
}

/// Deepest tree one request may ask for: county → townships → villages.
pub const MAX_TREE_DEPTH: u32 = 2;
/// Most codes one lookup may name.
pub const MAX_LOOKUP_CODES: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum AreaError {
    #[error("no area has the code {0}")]
    NotFound(AreaCode),
    #[error("area {code} cannot be stored: {reason}")]
    Invalid { code: AreaCode, reason: String },
    #[error("at most {MAX_LOOKUP_CODES} codes can be looked up at once")]
    TooManyCodes,
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// An area as readers see it. For a county or township the population and counts are the
/// totals of the villages below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Area {
    pub code: String,
    pub parent_code: Option<String>,
    pub level: AreaLevel,
    pub name: String,
    pub rural_population: i64,
    /// Villages only.
    pub is_poor_village: Option<bool>,
    /// Counties and townships only: villages below.
    pub village_count: Option<u64>,
    /// Counties and townships only: registered poor villages below.
    pub poor_village_count: Option<u64>,
}

/// One area with the area above it and the areas directly below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaDetail {
    pub area: Area,
    pub parent: Option<Area>,
    pub children: Vec<Area>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaTree {
    pub area: Area,
    pub children: Vec<AreaTree>,
}

/// What a search asks for; every filter is optional and they combine with AND.
#[derive(Clone, Debug, Default)]
pub struct AreaSearch {
    /// Part of the name.
    pub name: Option<String>,
    pub code_prefix: Option<AreaCodePrefix>,
    pub level: Option<AreaLevel>,
}

/// An area to store. Its level and parent follow from its code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewArea {
    pub code: AreaCode,
    pub name: String,
    pub rural_population: i64,
    pub is_poor_village: bool,
}

pub async fn get(db: &Database, code: &AreaCode) -> Result<AreaDetail, AreaError> {
    let conn = db.conn();
    let model = find(conn, code).await?;
    let parent = match &model.parent_code {
        Some(parent) => area::Entity::find_by_id(parent.clone()).one(conn).await?,
        None => None,
    };
    let children = area::Entity::find()
        .filter(area::Column::ParentCode.eq(code.as_str()))
        .order_by_asc(area::Column::Code)
        .all(conn)
        .await?;
    let mut everything: Vec<&area::Model> = vec![&model];
    everything.extend(parent.iter());
    everything.extend(children.iter());
    let rollups = rollups(conn, &everything).await?;
    Ok(AreaDetail {
        area: view(&model, &rollups),
        parent: parent.as_ref().map(|p| view(p, &rollups)),
        children: children.iter().map(|c| view(c, &rollups)).collect(),
    })
}

pub async fn children(
    db: &Database,
    code: &AreaCode,
    page: &PageRequest,
) -> Result<Page<Area>, AreaError> {
    let conn = db.conn();
    find(conn, code).await?;
    let query = area::Entity::find().filter(area::Column::ParentCode.eq(code.as_str()));
    fetch_page(conn, query, page).await
}

/// The area and everything below it, `depth` levels down (at most [`MAX_TREE_DEPTH`]).
pub async fn tree(db: &Database, code: &AreaCode, depth: u32) -> Result<AreaTree, AreaError> {
    let conn = db.conn();
    let root = find(conn, code).await?;
    let below = area::Entity::find()
        .filter(area::Column::Code.starts_with(code.descendant_prefix()))
        .filter(area::Column::Code.ne(code.as_str()))
        .order_by_asc(area::Column::Code)
        .all(conn)
        .await?;
    let mut all: Vec<&area::Model> = vec![&root];
    all.extend(below.iter());
    let rollups = rollups(conn, &all).await?;

    let mut by_parent: HashMap<&str, Vec<&area::Model>> = HashMap::new();
    for model in &below {
        if let Some(parent) = &model.parent_code {
            by_parent.entry(parent.as_str()).or_default().push(model);
        }
    }
    fn build(
        model: &area::Model,
        depth: u32,
        by_parent: &HashMap<&str, Vec<&area::Model>>,
        rollups: &HashMap<String, Rollup>,
    ) -> AreaTree {
        let children = if depth == 0 {
            Vec::new()
        } else {
            by_parent
                .get(model.code.as_str())
                .map(|kids| {
                    kids.iter()
                        .map(|kid| build(kid, depth - 1, by_parent, rollups))
                        .collect()
                })
                .unwrap_or_default()
        };
        AreaTree {
            area: view(model, rollups),
            children,
        }
    }
    Ok(build(
        &root,
        depth.min(MAX_TREE_DEPTH),
        &by_parent,
        &rollups,
    ))
}

pub async fn search(
    db: &Database,
    search: &AreaSearch,
    page: &PageRequest,
) -> Result<Page<Area>, AreaError> {
    let conn = db.conn();
    let mut query = area::Entity::find();
    if let Some(name) = search
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        query = query.filter(area::Column::Name.like(super::contains_pattern(name)));
    }
    if let Some(prefix) = &search.code_prefix {
        query = query.filter(area::Column::Code.starts_with(prefix.as_str()));
    }
    if let Some(level) = search.level {
        query = query.filter(area::Column::Level.eq(level));
    }
    fetch_page(conn, query, page).await
}

/// One page of a query in code order, with the totals of the counties and townships on it.
async fn fetch_page(
    conn: &impl ConnectionTrait,
    mut query: Select<area::Entity>,
    page: &PageRequest,
) -> Result<Page<Area>, AreaError> {
    if let Some(after) = &page.after {
        query = query.filter(area::Column::Code.gt(after.as_str()));
    }
    let rows = query
        .order_by_asc(area::Column::Code)
        .limit(page.fetch_limit())
        .all(conn)
        .await?;
    let page = Page::from_rows(rows, page, |m| m.code.clone());
    let rollups = rollups(conn, &page.items.iter().collect::<Vec<_>>()).await?;
    Ok(page.map(|m| view(&m, &rollups)))
}

/// Several areas by code in one round trip; the codes that name nothing come back apart.
pub async fn lookup(
    db: &Database,
    codes: &[AreaCode],
) -> Result<(Vec<Area>, Vec<AreaCode>), AreaError> {
    if codes.len() > MAX_LOOKUP_CODES {
        return Err(AreaError::TooManyCodes);
    }
    let conn = db.conn();
    let wanted: Vec<&str> = codes.iter().map(AreaCode::as_str).collect();
    let rows = area::Entity::find()
        .filter(area::Column::Code.is_in(wanted))
        .all(conn)
        .await?;
    let rollups = rollups(conn, &rows.iter().collect::<Vec<_>>()).await?;
    let found: HashMap<&str, &area::Model> = rows.iter().map(|m| (m.code.as_str(), m)).collect();
    let mut seen = HashSet::new();
    let mut areas = Vec::new();
    let mut missing = Vec::new();
    for code in codes {
        if !seen.insert(code.as_str()) {
            continue;
        }
        match found.get(code.as_str()) {
            Some(model) => areas.push(view(model, &rollups)),
            None => missing.push(code.clone()),
        }
    }
    Ok((areas, missing))
}

pub async fn count(db: &Database) -> Result<u64, AreaError> {
    Ok(area::Entity::find().count(db.conn()).await?)
}

/// Stores the areas not stored yet, parents before children, in one transaction; areas that
/// already exist are left exactly as they are. Returns how many were stored.
pub async fn insert_missing(db: &Database, areas: &[NewArea]) -> Result<usize, AreaError> {
    for new in areas {
        validate(new)?;
    }
    let txn = db.begin_write().await?;
    match insert_missing_in(&txn, areas).await {
        Ok(inserted) => {
            txn.commit().await?;
            Ok(inserted)
        }
        Err(err) => {
            // Roll back now rather than when the connection is next used, so no lock outlives
            // the failure.
            txn.rollback().await?;
            Err(err)
        }
    }
}

async fn insert_missing_in(
    txn: &DatabaseTransaction,
    areas: &[NewArea],
) -> Result<usize, AreaError> {
    let mut existing: HashSet<String> = HashSet::new();
    for chunk in areas.chunks(500) {
        let codes: Vec<&str> = chunk.iter().map(|a| a.code.as_str()).collect();
        let found: Vec<String> = area::Entity::find()
            .select_only()
            .column(area::Column::Code)
            .filter(area::Column::Code.is_in(codes))
            .into_tuple()
            .all(txn)
            .await?;
        existing.extend(found);
    }
    // Codes sort parents first: a county's code is below its townships', theirs below their
    // villages'.
    let mut missing: Vec<&NewArea> = areas
        .iter()
        .filter(|a| !existing.contains(a.code.as_str()))
        .collect();
    missing.sort_by(|a, b| a.code.cmp(&b.code));
    missing.dedup_by(|a, b| a.code == b.code);
    let now = Utc::now();
    for chunk in missing.chunks(200) {
        let models = chunk.iter().map(|new| area::ActiveModel {
            code: Set(new.code.as_str().to_owned()),
            parent_code: Set(new.code.parent().map(|p| p.as_str().to_owned())),
            level: Set(new.code.level()),
            name: Set(new.name.trim().to_owned()),
            rural_population: Set(new.rural_population),
            is_poor_village: Set(new.is_poor_village),
            delisted_year: Set(None),
            delist_source: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
        area::Entity::insert_many(models).exec(txn).await?;
    }
    Ok(missing.len())
}

fn validate(new: &NewArea) -> Result<(), AreaError> {
    let invalid = |reason: &str| AreaError::Invalid {
        code: new.code.clone(),
        reason: reason.to_owned(),
    };
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(invalid("a name has 1 to 64 characters"));
    }
    if new.rural_population < 0 {
        return Err(invalid("population cannot be negative"));
    }
    if new.code.level() != AreaLevel::Village && (new.is_poor_village || new.rural_population != 0)
    {
        return Err(invalid(
            "population and the poor-village flag belong to villages; higher levels add them up",
        ));
    }
    Ok(())
}

async fn find(conn: &impl ConnectionTrait, code: &AreaCode) -> Result<area::Model, AreaError> {
    area::Entity::find_by_id(code.as_str().to_owned())
        .one(conn)
        .await?
        .ok_or_else(|| AreaError::NotFound(code.clone()))
}

/// Totals of the villages under a county or township.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Rollup {
    villages: u64,
    poor_villages: u64,
    rural_population: i64,
}

/// Totals for every county and township among `areas`, from one query per county involved.
async fn rollups(
    conn: &impl ConnectionTrait,
    areas: &[&area::Model],
) -> Result<HashMap<String, Rollup>, DbErr> {
    let wanted: HashSet<&str> = areas
        .iter()
        .filter(|a| a.level != AreaLevel::Village)
        .map(|a| a.code.as_str())
        .collect();
    let counties: BTreeMap<&str, ()> = wanted.iter().map(|code| (&code[..6], ())).collect();
    let mut totals: HashMap<String, Rollup> = wanted
        .iter()
        .map(|c| ((*c).to_owned(), Rollup::default()))
        .collect();
    for county in counties.keys() {
        let villages: Vec<(String, bool, i64)> = area::Entity::find()
            .select_only()
            .column(area::Column::Code)
            .column(area::Column::IsPoorVillage)
            .column(area::Column::RuralPopulation)
            .filter(area::Column::Code.starts_with(*county))
            .filter(area::Column::Level.eq(AreaLevel::Village))
            .into_tuple()
            .all(conn)
            .await?;
        for (code, poor, population) in villages {
            let county_code = format!("{}000000", &code[..6]);
            let township_code = format!("{}000", &code[..9]);
            for key in [county_code, township_code] {
                if let Some(total) = totals.get_mut(&key) {
                    total.villages += 1;
                    total.poor_villages += u64::from(poor);
                    total.rural_population += population;
                }
            }
        }
    }
    Ok(totals)
}

fn view(model: &area::Model, rollups: &HashMap<String, Rollup>) -> Area {
    let is_village = model.level == AreaLevel::Village;
    let rollup = rollups.get(&model.code).copied().unwrap_or_default();
    Area {
        code: model.code.clone(),
        parent_code: model.parent_code.clone(),
        level: model.level,
        name: model.name.clone(),
        rural_population: if is_village {
            model.rural_population
        } else {
            rollup.rural_population
        },
        is_poor_village: is_village.then_some(model.is_poor_village),
        village_count: (!is_village).then_some(rollup.villages),
        poor_village_count: (!is_village).then_some(rollup.poor_villages),
    }
}

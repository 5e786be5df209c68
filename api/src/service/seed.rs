//! The synthetic demo county: county 500235 with 40 townships and 400 villages, 162 of them
//! registered poor villages, as the reference county had in 2017, and in those villages 45,000
//! registered poor households with 135,000 people. Names are plainly synthetic ("示范村 001",
//! made-up personal names); ID numbers carry correct check digits but synthetic birth dates and
//! serials. A fixed seed makes the county the same on every machine, and seeding twice changes
//! nothing.

use std::{collections::HashSet, sync::Arc};

use chrono::{Datelike, NaiveDate};
use entities::{
    household::PovertyCause,
    household_member::{Health, LabourCapacity, MemberRelation, Schooling},
};
use rand::{Rng, SeedableRng, seq::IndexedRandom, seq::index};
use rand_chacha::ChaCha8Rng;
use sea_orm::{DbErr, Iterable};

use super::{
    areas::{self, AreaError, NewArea},
    exit::{demo, rules::ExitRules},
    households::{NewHousehold, NewMember, store},
    market::{self, MarketError, catalogue, demo::DemoMarket, photos::Photos},
    trace::{self, TraceError, demo::DemoTrace},
    users::Origin,
};
use crate::{
    domain::{AreaCode, IdNumber},
    infra::{cache::Cache, db::Database, pii::PiiVault},
};

pub const DEMO_COUNTY_CODE: &str = "500235000000";
pub const DEMO_COUNTY_NAME: &str = "示范县";
pub const DEMO_TOWNSHIPS: usize = 40;
pub const DEMO_VILLAGES: usize = 400;
pub const DEMO_POOR_VILLAGES: usize = 162;
pub const DEMO_POOR_PEOPLE: usize = 135_000;
const SEED: u64 = 2017;

/// What a seeding run stored; zero everywhere when the county was already there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub areas_inserted: usize,
    pub households_inserted: usize,
    pub people_inserted: usize,
    /// Households the demo's recorded progress took out of poverty.
    pub households_exited: usize,
}

/// What seeding the demo registry needs: the vault that seals ID numbers and the exit rules
/// its recorded progress must satisfy.
#[derive(Clone, Copy)]
pub struct DemoRegistry<'a> {
    pub vault: &'a PiiVault,
    pub rules: &'a ExitRules,
}

/// What seeding the whole demo county added: its goods come only with its registry.
#[derive(Clone, Debug, Default)]
pub struct DemoCountyReport {
    pub categories_added: usize,
    pub county: SeedReport,
    pub market: DemoMarket,
    pub trace: DemoTrace,
    pub monitoring: crate::service::monitoring::demo::DemoMonitoring,
}

/// The demo county as `serve` loads it and `shanhuo seed demo` does, on a database of any kind
/// and in either order: the catalogue's categories first (the goods are listed under them),
/// then areas, and with `registry` its households, progress, marketplace, traceable goods and
/// monitored households.
/// Running it again adds nothing.
pub async fn seed_demo_county(
    db: &Database,
    registry: Option<DemoRegistry<'_>>,
    photos: &Photos,
    cache: &Arc<dyn Cache>,
    clock: &dyn crate::domain::county_time::Clock,
) -> Result<DemoCountyReport, SeedError> {
    let mut report = DemoCountyReport {
        categories_added: catalogue::ensure_defaults(db).await?,
        county: seed_demo(db, registry).await?,
        ..Default::default()
    };
    if registry.is_some() {
        report.market = market::demo::seed_demo_market(db, photos).await?;
        report.trace = trace::demo::seed_demo_trace(db, cache, photos.blobs()).await?;
    }
    if let Some(registry) = registry {
        report.monitoring = crate::service::monitoring::demo::seed_demo_monitoring(
            db,
            clock,
            registry.rules,
            photos,
        )
        .await?;
    }
    Ok(report)
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Market(#[from] MarketError),
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error(transparent)]
    Monitoring(#[from] crate::service::monitoring::MonitoringError),
    #[error(transparent)]
    Areas(#[from] AreaError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// The demo county's areas and, with `registry`, its registered poor households and their
/// progress toward exit. Only what is missing is added; a household that clashes with one
/// already registered is left out, and progress is recorded only once.
pub async fn seed_demo(
    db: &Database,
    registry: Option<DemoRegistry<'_>>,
) -> Result<SeedReport, SeedError> {
    let mut report = SeedReport {
        areas_inserted: areas::insert_missing(db, &demo_areas()).await?,
        ..Default::default()
    };
    if let Some(DemoRegistry { vault, rules }) = registry {
        let demo = demo_households();
        let txn = db.begin_write().await?;
        let clashing: HashSet<usize> = store::find_clashes(&txn, vault, None, &demo)
            .await?
            .into_iter()
            .map(|clash| match clash {
                store::Clash::UnknownVillage { household }
                | store::Clash::OutsideArea { household }
                | store::Clash::NumberTaken { household, .. }
                | store::Clash::PersonRegistered { household, .. } => household,
            })
            .collect();
        let missing: Vec<NewHousehold> = demo
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !clashing.contains(i))
            .map(|(_, h)| h)
            .collect();
        store::insert_households(
            &txn,
            vault,
            &missing,
            "household.seeded",
            None,
            &Origin::default(),
        )
        .await?;
        if !missing.is_empty() {
            report.households_exited = demo::seed_demo_progress(&txn, rules)
                .await?
                .households_exited;
        }
        txn.commit().await?;
        report.households_inserted = missing.len();
        report.people_inserted = missing.iter().map(|h| h.members.len()).sum();
    }
    Ok(report)
}

/// The demo county, computed afresh (and identically) each time.
pub fn demo_areas() -> Vec<NewArea> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let per_township = villages_per_township(&mut rng);
    let poor: std::collections::HashSet<usize> =
        index::sample(&mut rng, DEMO_VILLAGES, DEMO_POOR_VILLAGES)
            .into_iter()
            .collect();

    let mut areas = vec![area(
        DEMO_COUNTY_CODE,
        DEMO_COUNTY_NAME.to_owned(),
        0,
        false,
    )];
    let mut village_number = 0usize;
    for (t, &villages) in per_township.iter().enumerate() {
        let township = format!("500235{:03}", 101 + t);
        areas.push(area(&township, format!("示范镇 {:02}", t + 1), 0, false));
        for v in 0..villages {
            let is_poor = poor.contains(&village_number);
            // Poor villages sit higher in the mountains and are smaller.
            let population = if is_poor {
                rng.random_range(700..=2_600)
            } else {
                rng.random_range(1_200..=3_800)
            };
            village_number += 1;
            areas.push(area(
                &format!("{township}{:03}", 201 + v),
                format!("示范村 {village_number:03}"),
                population,
                is_poor,
            ));
        }
    }
    areas
}

/// The demo county's registered poor households: [`DEMO_POOR_PEOPLE`] people in about 45,000
/// households across the poor villages, shared out by village population.
pub fn demo_households() -> Vec<NewHousehold> {
    let villages: Vec<NewArea> = demo_areas()
        .into_iter()
        .filter(|a| a.is_poor_village)
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
    let mut ids = SyntheticIds::default();
    let total_population: i64 = villages.iter().map(|v| v.rural_population).sum();
    let mut households = Vec::with_capacity(DEMO_POOR_PEOPLE / 3 + 1);
    let mut assigned = 0usize;
    for (v, village) in villages.iter().enumerate() {
        // Largest share last, so the quotas add up to exactly the county's number.
        let quota = if v + 1 == villages.len() {
            DEMO_POOR_PEOPLE - assigned
        } else {
            (DEMO_POOR_PEOPLE as i64 * village.rural_population / total_population) as usize
        };
        assigned += quota;
        let mut left = quota;
        let mut serial = 0;
        while left > 0 {
            serial += 1;
            let size = household_size(&mut rng).min(left);
            left -= size;
            households.push(demo_household(
                &mut rng,
                &mut ids,
                &village.code,
                serial,
                size,
            ));
        }
    }
    households
}

/// 1 to 7 people, about 3 on average, as in the reference county's registry.
fn household_size(rng: &mut ChaCha8Rng) -> usize {
    const WEIGHTS: [(usize, u32); 7] = [(1, 14), (2, 25), (3, 27), (4, 19), (5, 9), (6, 4), (7, 2)];
    let roll = rng.random_range(0..100);
    let mut acc = 0;
    for (size, weight) in WEIGHTS {
        acc += weight;
        if roll < acc {
            return size;
        }
    }
    3
}

const SURNAMES: [&str; 20] = [
    "陈", "李", "王", "张", "刘", "杨", "黄", "谭", "向", "冉", "彭", "邓", "周", "吴", "徐", "孙",
    "胡", "朱", "郭", "何",
];
const GIVEN: [&str; 24] = [
    "明", "华", "强", "芳", "秀", "英", "军", "平", "兰", "勇", "丽", "国", "林", "红", "云", "春",
    "海", "梅", "志", "德", "玉", "成", "桂", "发",
];

fn given_name(rng: &mut ChaCha8Rng) -> String {
    let len = rng.random_range(1..=2);
    (0..len)
        .map(|_| *GIVEN.choose(rng).expect("not empty"))
        .collect()
}

fn demo_household(
    rng: &mut ChaCha8Rng,
    ids: &mut SyntheticIds,
    village: &AreaCode,
    serial: usize,
    size: usize,
) -> NewHousehold {
    let surname = *SURNAMES.choose(rng).expect("not empty");
    let head_year = rng.random_range(1942..=1990);
    let head_male = rng.random_bool(0.8);
    let head_name = format!("{surname}{}", given_name(rng));
    let mut members = vec![demo_member(
        rng,
        ids,
        head_name,
        MemberRelation::Head,
        head_year,
        head_male,
    )];
    let mut relations = Vec::new();
    if size >= 2 {
        relations.push(MemberRelation::Spouse);
    }
    for i in 2..size {
        relations.push(match i {
            5 if head_year < 1975 => MemberRelation::Grandchild,
            6 if head_year > 1970 => MemberRelation::Parent,
            _ => MemberRelation::Child,
        });
    }
    for relation in relations {
        let (year, male, name) = match relation {
            MemberRelation::Spouse => (
                (head_year + rng.random_range(-4..=4)).min(1995),
                !head_male,
                format!(
                    "{}{}",
                    SURNAMES.choose(rng).expect("not empty"),
                    given_name(rng)
                ),
            ),
            MemberRelation::Parent => (
                head_year - rng.random_range(22..=30),
                rng.random_bool(0.5),
                format!("{surname}{}", given_name(rng)),
            ),
            MemberRelation::Grandchild => (
                (head_year + rng.random_range(44..=56)).min(2016),
                rng.random_bool(0.5),
                format!("{surname}{}", given_name(rng)),
            ),
            _ => (
                (head_year + rng.random_range(20..=34)).min(2016),
                rng.random_bool(0.5),
                format!("{surname}{}", given_name(rng)),
            ),
        };
        members.push(demo_member(rng, ids, name, relation, year, male));
    }
    NewHousehold {
        household_number: format!("{village}{serial:04}"),
        village: village.clone(),
        phone: None,
        poverty_cause: *PovertyCause::iter()
            .collect::<Vec<_>>()
            .choose(rng)
            .expect("not empty"),
        responsible_cadre_id: None,
        registered_year: if rng.random_bool(0.85) {
            2014
        } else {
            rng.random_range(2015..=2017)
        },
        members,
    }
}

fn demo_member(
    rng: &mut ChaCha8Rng,
    ids: &mut SyntheticIds,
    name: String,
    relation: MemberRelation,
    birth_year: i32,
    male: bool,
) -> NewMember {
    let id_number = ids.next(rng, birth_year, male);
    let age_in_2017 = 2017 - id_number.birth_date().year();
    let labour_capacity = match age_in_2017 {
        18..=59 if rng.random_bool(0.8) => LabourCapacity::Full,
        16..=69 => LabourCapacity::Partial,
        _ => LabourCapacity::None,
    };
    let health = match rng.random_range(0..100) {
        0..70 => Health::Healthy,
        70..85 => Health::Chronic,
        85..93 => Health::Serious,
        _ => Health::Disabled,
    };
    let schooling = match age_in_2017 {
        ..6 => Schooling::Preschool,
        6..12 => Schooling::Primary,
        12..15 => Schooling::JuniorSecondary,
        15..18 => Schooling::SeniorSecondary,
        _ => *[
            Schooling::None,
            Schooling::Primary,
            Schooling::Primary,
            Schooling::JuniorSecondary,
            Schooling::JuniorSecondary,
            Schooling::SeniorSecondary,
            Schooling::Vocational,
        ]
        .choose(rng)
        .expect("not empty"),
    };
    NewMember {
        name,
        id_number,
        relation,
        declared_sex: None,
        declared_birth_date: None,
        labour_capacity,
        health,
        schooling,
        medical_insurance: rng.random_bool(0.97),
    }
}

/// Unique synthetic ID numbers in the demo county's region: a random birth date in the year,
/// and a serial whose last digit is odd for men and even for women, as GB 11643 has it.
#[derive(Default)]
struct SyntheticIds {
    used: HashSet<(NaiveDate, u16)>,
}

impl SyntheticIds {
    fn next(&mut self, rng: &mut ChaCha8Rng, year: i32, male: bool) -> IdNumber {
        loop {
            let day = rng.random_range(0..365);
            let date = NaiveDate::from_yo_opt(year, day + 1).expect("a day of the year");
            let serial = rng.random_range(0..500u16) * 2 + u16::from(male);
            if self.used.insert((date, serial)) {
                let body = format!(
                    "{}{}{serial:03}",
                    &DEMO_COUNTY_CODE[..6],
                    date.format("%Y%m%d")
                );
                return IdNumber::from_body(&body).expect("synthetic numbers are well-formed");
            }
        }
    }
}

/// Between 6 and 14 villages a township, exactly [`DEMO_VILLAGES`] in all.
fn villages_per_township(rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut counts: Vec<usize> = (0..DEMO_TOWNSHIPS)
        .map(|_| rng.random_range(6..=14))
        .collect();
    loop {
        let total: usize = counts.iter().sum();
        if total == DEMO_VILLAGES {
            return counts;
        }
        let i = rng.random_range(0..DEMO_TOWNSHIPS);
        if total < DEMO_VILLAGES && counts[i] < 14 {
            counts[i] += 1;
        } else if total > DEMO_VILLAGES && counts[i] > 6 {
            counts[i] -= 1;
        }
    }
}

fn area(code: &str, name: String, rural_population: i64, is_poor_village: bool) -> NewArea {
    NewArea {
        code: AreaCode::parse(code).expect("demo codes are well-formed"),
        name,
        rural_population,
        is_poor_village,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entities::area::AreaLevel;

    #[test]
    fn the_demo_county_has_the_registered_numbers() {
        let areas = demo_areas();
        let count = |level| areas.iter().filter(|a| a.code.level() == level).count();
        assert_eq!(count(AreaLevel::County), 1);
        assert_eq!(count(AreaLevel::Township), DEMO_TOWNSHIPS);
        assert_eq!(count(AreaLevel::Village), DEMO_VILLAGES);
        assert_eq!(
            areas.iter().filter(|a| a.is_poor_village).count(),
            DEMO_POOR_VILLAGES
        );
        let population: i64 = areas.iter().map(|a| a.rural_population).sum();
        assert!((600_000..1_200_000).contains(&population), "{population}");
        for a in &areas {
            if let Some(parent) = a.code.parent() {
                assert!(
                    areas.iter().any(|p| p.code == parent),
                    "{} has no parent",
                    a.code
                );
            }
        }
    }

    #[test]
    fn the_demo_county_is_the_same_every_time() {
        assert_eq!(demo_areas(), demo_areas());
    }

    #[test]
    fn the_demo_registry_has_the_county_numbers_and_valid_households() {
        let households = demo_households();
        let people: usize = households.iter().map(|h| h.members.len()).sum();
        assert_eq!(people, DEMO_POOR_PEOPLE);
        assert!(
            (40_000..50_000).contains(&households.len()),
            "{} households",
            households.len()
        );
        let poor: HashSet<AreaCode> = demo_areas()
            .into_iter()
            .filter(|a| a.is_poor_village)
            .map(|a| a.code)
            .collect();
        let villages: HashSet<&AreaCode> = households.iter().map(|h| &h.village).collect();
        assert_eq!(villages.len(), DEMO_POOR_VILLAGES);
        let mut ids = HashSet::new();
        for household in &households {
            assert!(poor.contains(&household.village));
            assert_eq!(crate::service::households::flaws(household), vec![]);
            for member in &household.members {
                assert!(ids.insert(member.id_number.clone()), "a repeated ID number");
            }
        }
        let first = &households[0].members[0];
        assert_eq!(demo_households()[0].members[0].id_number, first.id_number);
    }
}

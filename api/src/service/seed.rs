//! The synthetic demo county: county 500235 with 40 townships and 400 villages, 162 of them
//! registered poor villages, as the reference county had in 2017. Names are plainly synthetic
//! ("示范村 001"); a fixed seed makes the county the same on every machine, and seeding twice
//! changes nothing.

use rand::{Rng, SeedableRng, seq::index};
use rand_chacha::ChaCha8Rng;

use super::areas::{self, AreaError, NewArea};
use crate::{domain::AreaCode, infra::db::Database};

pub const DEMO_COUNTY_CODE: &str = "500235000000";
pub const DEMO_COUNTY_NAME: &str = "示范县";
pub const DEMO_TOWNSHIPS: usize = 40;
pub const DEMO_VILLAGES: usize = 400;
pub const DEMO_POOR_VILLAGES: usize = 162;
const SEED: u64 = 2017;

/// What a seeding run stored; zero everywhere when the county was already there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub areas_inserted: usize,
}

pub async fn seed_demo(db: &Database) -> Result<SeedReport, AreaError> {
    let areas_inserted = areas::insert_missing(db, &demo_areas()).await?;
    Ok(SeedReport { areas_inserted })
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
}

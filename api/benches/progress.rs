//! The county dashboard on the seeded demo county (135,000 people in about 45,000 households):
//! a cold computation from the rows and a warm read from the cache, median and p99, and the
//! ratio between them.
//!
//! Runs on SQLite by default; on PostgreSQL (and Redis) as the tests do:
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test TEST_REDIS_URL=redis://127.0.0.1:6379 \
//!  cargo bench -p api --bench progress`.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use api::{
    config::Settings,
    domain::AreaCode,
    infra::{
        cache::{Cache, MemoryCache},
        pii::PiiVault,
    },
    service::{
        exit::{progress, rules::ExitRules},
        policy::Actor,
        seed,
    },
    testing::{TestDatabase, test_redis},
};
use entities::user::Role;

const COLD_RUNS: usize = 30;
const WARM_RUNS: usize = 2_000;

#[tokio::main]
async fn main() {
    let database = TestDatabase::migrated().await;
    let settings = Settings::default();
    let vault = PiiVault::from_keys(&settings.pii_keys());
    let rules = ExitRules::new(&settings.exit_rules()).expect("default rules");
    let started = Instant::now();
    let registry = seed::DemoRegistry {
        vault: &vault,
        rules: &rules,
    };
    let report = seed::seed_demo(&database.db, Some(registry))
        .await
        .expect("the demo county seeds");
    println!(
        "{:?}: seeded {} households, {} people ({} households exited) in {:.1} s",
        database.backend(),
        report.households_inserted,
        report.people_inserted,
        report.households_exited,
        started.elapsed().as_secs_f64()
    );
    let cache: Arc<dyn Cache> = match test_redis().await {
        Some(redis) => redis,
        None => Arc::new(MemoryCache::new(10_000)),
    };
    let county = AreaCode::parse(seed::DEMO_COUNTY_CODE).expect("the county code");
    let actor = Actor {
        user_id: 1,
        role: Role::CountyOfficial,
        area: Some(county.clone()),
        household_id: None,
    };
    println!("cache: {}", cache.kind());

    for area in [
        county.clone(),
        AreaCode::parse("500235101").expect("a township"),
    ] {
        let mut cold = Vec::with_capacity(COLD_RUNS);
        for _ in 0..COLD_RUNS {
            let started = Instant::now();
            let computed = progress::compute(database.db.conn(), &rules, &area, 0)
                .await
                .expect("progress computes");
            cold.push(started.elapsed());
            assert!(computed.people.registered > 0);
        }
        // The first read fills the cache; the rest are warm.
        progress::progress(&database.db, &cache, &rules, &actor, Some(area.clone()))
            .await
            .expect("progress reads");
        let mut warm = Vec::with_capacity(WARM_RUNS);
        for _ in 0..WARM_RUNS {
            let started = Instant::now();
            progress::progress(&database.db, &cache, &rules, &actor, Some(area.clone()))
                .await
                .expect("progress reads");
            warm.push(started.elapsed());
        }
        let (cold_median, cold_p99) = percentiles(&mut cold);
        let (warm_median, warm_p99) = percentiles(&mut warm);
        println!(
            "{area}: cold median {:7.2} ms  p99 {:7.2} ms | warm median {:6.3} ms  p99 {:6.3} ms | cold/warm {:.0}x",
            ms(cold_median),
            ms(cold_p99),
            ms(warm_median),
            ms(warm_p99),
            cold_median.as_secs_f64() / warm_median.as_secs_f64()
        );
    }
}

fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

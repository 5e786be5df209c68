//! One suite, every cache implementation.

use std::{sync::Arc, time::Duration};

use api::{
    infra::cache::{CacheError, ScanKeys, ScanReading},
    testing::test_caches,
};

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_value_set_can_be_read_back_until_deleted() {
    for cache in test_caches().await {
        assert_eq!(
            cache.get("greeting").await.unwrap(),
            None,
            "{}",
            cache.kind()
        );
        cache
            .set("greeting", "你好".as_bytes(), MINUTE)
            .await
            .unwrap();
        assert_eq!(
            cache.get("greeting").await.unwrap().as_deref(),
            Some("你好".as_bytes())
        );
        cache.set("greeting", b"again", MINUTE).await.unwrap();
        assert_eq!(
            cache.get("greeting").await.unwrap().as_deref(),
            Some(&b"again"[..])
        );
        assert!(cache.delete("greeting").await.unwrap(), "{}", cache.kind());
        assert!(!cache.delete("greeting").await.unwrap(), "{}", cache.kind());
        assert_eq!(
            cache.get("greeting").await.unwrap(),
            None,
            "{}",
            cache.kind()
        );
    }
}

#[tokio::test]
async fn a_value_is_gone_once_its_ttl_passes() {
    for cache in test_caches().await {
        cache
            .set("short", b"x", Duration::from_millis(150))
            .await
            .unwrap();
        assert!(
            cache.get("short").await.unwrap().is_some(),
            "{}",
            cache.kind()
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(cache.get("short").await.unwrap(), None, "{}", cache.kind());
    }
}

#[tokio::test]
async fn set_if_absent_stores_only_the_first_value() {
    for cache in test_caches().await {
        assert!(cache.set_if_absent("once", b"first", MINUTE).await.unwrap());
        assert!(
            !cache
                .set_if_absent("once", b"second", MINUTE)
                .await
                .unwrap()
        );
        assert_eq!(
            cache.get("once").await.unwrap().as_deref(),
            Some(&b"first"[..])
        );

        cache
            .set("expiring", b"old", Duration::from_millis(100))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            cache
                .set_if_absent("expiring", b"new", MINUTE)
                .await
                .unwrap(),
            "an expired value counts as absent on {}",
            cache.kind()
        );
    }
}

#[tokio::test]
async fn set_if_absent_lets_exactly_one_of_many_racers_win() {
    for cache in test_caches().await {
        let racers = (0..32).map(|i| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move {
                cache
                    .set_if_absent("lock", i.to_string().as_bytes(), MINUTE)
                    .await
                    .unwrap()
            })
        });
        let mut winners = 0;
        for racer in racers {
            winners += usize::from(racer.await.unwrap());
        }
        assert_eq!(winners, 1, "{}", cache.kind());
    }
}

#[tokio::test]
async fn concurrent_increments_are_all_counted() {
    for cache in test_caches().await {
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { cache.increment("hits", 1, MINUTE).await.unwrap() })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        results.sort_unstable();
        assert_eq!(results, (1..=100).collect::<Vec<i64>>(), "{}", cache.kind());
        assert_eq!(cache.increment("hits", -10, MINUTE).await.unwrap(), 90);
        assert_eq!(
            cache.get("hits").await.unwrap().as_deref(),
            Some(&b"90"[..])
        );
    }
}

#[tokio::test]
async fn a_counter_keeps_the_ttl_of_its_first_increment() {
    for cache in test_caches().await {
        let window = Duration::from_millis(400);
        assert_eq!(cache.increment("window", 1, window).await.unwrap(), 1);
        tokio::time::sleep(Duration::from_millis(250)).await;
        // A later increment must not push the window's end further out.
        assert_eq!(cache.increment("window", 1, window).await.unwrap(), 2);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(
            cache.increment("window", 1, window).await.unwrap(),
            1,
            "the window restarts after its TTL on {}",
            cache.kind()
        );
    }
}

#[tokio::test]
async fn a_number_set_as_text_counts_on_and_can_be_set_again() {
    for cache in test_caches().await {
        assert!(cache.set_if_absent("total", b"41", MINUTE).await.unwrap());
        assert_eq!(cache.increment("total", 1, MINUTE).await.unwrap(), 42);
        assert!(!cache.set_if_absent("total", b"0", MINUTE).await.unwrap());
        assert_eq!(cache.increment("total", 2, MINUTE).await.unwrap(), 44);
        cache.set("total", b"7", MINUTE).await.unwrap();
        assert_eq!(
            cache.get("total").await.unwrap().as_deref(),
            Some(&b"7"[..]),
            "{}",
            cache.kind()
        );
        assert_eq!(cache.increment("total", 1, MINUTE).await.unwrap(), 8);
        assert!(cache.delete("total").await.unwrap());
        assert_eq!(cache.increment("total", 1, MINUTE).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn incrementing_text_is_an_error_and_leaves_the_value() {
    for cache in test_caches().await {
        cache.set("name", b"shanhuo", MINUTE).await.unwrap();
        let err = cache.increment("name", 1, MINUTE).await.unwrap_err();
        assert!(
            matches!(err, CacheError::NotAnInteger(_)),
            "{err} on {}",
            cache.kind()
        );
        assert_eq!(
            cache.get("name").await.unwrap().as_deref(),
            Some(&b"shanhuo"[..])
        );
    }
}

#[tokio::test]
async fn a_set_is_added_to_only_once_seeded_and_a_second_seed_changes_nothing() {
    for cache in test_caches().await {
        let kind = cache.kind();
        assert_eq!(
            cache.add_to_existing_set("places", "a").await.unwrap(),
            None,
            "{kind}"
        );
        assert_eq!(cache.set_size("places").await.unwrap(), None, "{kind}");
        cache
            .seed_set("places", &["a".to_owned(), "b".to_owned()], MINUTE)
            .await
            .unwrap();
        assert_eq!(cache.set_size("places").await.unwrap(), Some(2), "{kind}");
        // The first seed stands.
        cache.seed_set("places", &[], MINUTE).await.unwrap();
        assert_eq!(
            cache.add_to_existing_set("places", "a").await.unwrap(),
            Some((false, 2)),
            "{kind}"
        );
        assert_eq!(
            cache.add_to_existing_set("places", "c").await.unwrap(),
            Some((true, 3)),
            "{kind}"
        );
        // A set seeded empty exists.
        cache.seed_set("none yet", &[], MINUTE).await.unwrap();
        assert_eq!(cache.set_size("none yet").await.unwrap(), Some(0), "{kind}");
        assert_eq!(
            cache.add_to_existing_set("none yet", "x").await.unwrap(),
            Some((true, 1)),
            "{kind}"
        );
        // Larger than one call's worth of members.
        let many: Vec<String> = (0..1_234).map(|i| format!("10.0.{i}.0/24")).collect();
        cache.seed_set("many", &many, MINUTE).await.unwrap();
        assert_eq!(cache.set_size("many").await.unwrap(), Some(1_234), "{kind}");
        // A set is not a counter, and a counter not a set.
        assert!(matches!(
            cache.increment_existing("places", 1).await,
            Err(CacheError::NotAnInteger(_))
        ));
        cache.increment("counter", 1, MINUTE).await.unwrap();
        assert!(
            matches!(
                cache.add_to_existing_set("counter", "a").await,
                Err(CacheError::NotASet(_))
            ),
            "{kind}"
        );
        cache.clear().await.unwrap();
        assert_eq!(cache.set_size("places").await.unwrap(), None, "{kind}");
    }
}

#[tokio::test]
async fn concurrent_seeds_and_adds_lose_no_member() {
    for cache in test_caches().await {
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move {
                    let member = format!("place-{i}");
                    loop {
                        if let Some((_, size)) =
                            cache.add_to_existing_set("racing", &member).await.unwrap()
                        {
                            return size;
                        }
                        cache
                            .seed_set("racing", std::slice::from_ref(&member), MINUTE)
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            cache.set_size("racing").await.unwrap(),
            Some(40),
            "{}",
            cache.kind()
        );
    }
}

#[tokio::test]
async fn a_zero_ttl_is_refused() {
    for cache in test_caches().await {
        assert!(matches!(
            cache.set("k", b"v", Duration::ZERO).await,
            Err(CacheError::ZeroTtl)
        ));
        assert!(matches!(
            cache.increment("k", 1, Duration::ZERO).await,
            Err(CacheError::ZeroTtl)
        ));
        cache.ping().await.unwrap();
    }
}

/// With `TEST_REDIS_URL` set, the suite above ran on Redis as well as in-process; with
/// `TEST_REDIS_CLUSTER_URL`, on a Redis Cluster too.
#[tokio::test]
async fn redis_is_under_test_when_configured() {
    let kinds: Vec<&str> = test_caches().await.iter().map(|c| c.kind()).collect();
    let configured = |variable| std::env::var(variable).is_ok_and(|u| !u.trim().is_empty());
    let mut expected = vec!["in-process"];
    if configured("TEST_REDIS_URL") {
        expected.push("redis");
    }
    if configured("TEST_REDIS_CLUSTER_URL") {
        expected.push("redis-cluster");
    }
    assert_eq!(kinds, expected);
    eprintln!("cache tests run on {kinds:?}");
}

/// Forgetting everything reaches every node of a cluster, and only this cache's prefix.
#[tokio::test]
async fn clearing_forgets_every_key_on_every_node_and_nothing_else() {
    for cache in test_caches().await {
        let other = test_caches()
            .await
            .into_iter()
            .find(|c| c.kind() == cache.kind())
            .unwrap();
        // Keys in many slots, so a cluster spreads them over all its nodes.
        for i in 0..200 {
            cache.set(&format!("k{i}"), b"1", MINUTE).await.unwrap();
        }
        cache.seed_set("{b7}:places", &[], MINUTE).await.unwrap();
        other.set("kept", b"1", MINUTE).await.unwrap();
        cache.clear().await.unwrap();
        for i in 0..200 {
            assert_eq!(
                cache.get(&format!("k{i}")).await.unwrap(),
                None,
                "{}",
                cache.kind()
            );
        }
        assert_eq!(cache.set_size("{b7}:places").await.unwrap(), None);
        if cache.kind() != "in-process" {
            // Another prefix on the same server keeps its keys.
            assert_eq!(other.get("kept").await.unwrap().as_deref(), Some(&b"1"[..]));
        }
    }
}

#[tokio::test]
async fn a_scan_tally_adds_only_to_what_is_there_and_reads_the_rest() {
    for cache in test_caches().await {
        let keys = ScanKeys {
            version: Some("{b1}:version"),
            count: "{b1}:count",
            first: "{b1}:first",
            places: "{b1}:places",
        };
        // Nothing there: nothing is made.
        let reading = cache.tally_scan(keys, Some("120.1.2.0/24")).await.unwrap();
        assert_eq!(reading, ScanReading::default(), "{}", cache.kind());
        assert_eq!(
            cache.get(keys.count).await.unwrap(),
            None,
            "{}",
            cache.kind()
        );
        assert_eq!(cache.set_size(keys.places).await.unwrap(), None);

        cache.set(keys.count, b"41", MINUTE).await.unwrap();
        cache
            .set(keys.first, b"1700000000000000", MINUTE)
            .await
            .unwrap();
        cache.set("{b1}:version", b"3", MINUTE).await.unwrap();
        cache
            .seed_set(keys.places, &["36.5.6.0/24".to_owned()], MINUTE)
            .await
            .unwrap();
        let reading = cache.tally_scan(keys, Some("120.1.2.0/24")).await.unwrap();
        assert_eq!(
            reading,
            ScanReading {
                version: Some(b"3".to_vec()),
                count: Some(42),
                first: Some(b"1700000000000000".to_vec()),
                places: Some(2),
            },
            "{}",
            cache.kind()
        );
        // A known place, or none, adds no place; without a version key none is read.
        let reading = cache
            .tally_scan(
                ScanKeys {
                    version: None,
                    ..keys
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(reading.count, Some(43));
        assert_eq!(reading.places, Some(2));
        assert_eq!(reading.version, None);
        let reading = cache.tally_scan(keys, Some("36.5.6.0/24")).await.unwrap();
        assert_eq!(reading.places, Some(2), "{}", cache.kind());
        assert_eq!(
            cache.get(keys.count).await.unwrap().as_deref(),
            Some(&b"44"[..])
        );

        // Text where a counter should be is an error, and the value stays.
        cache.set(keys.count, b"many", MINUTE).await.unwrap();
        assert!(matches!(
            cache.tally_scan(keys, None).await,
            Err(CacheError::NotAnInteger(_))
        ));
        assert_eq!(
            cache.get(keys.count).await.unwrap().as_deref(),
            Some(&b"many"[..])
        );
    }
}

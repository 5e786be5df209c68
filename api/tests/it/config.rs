//! Settings: defaults, file and environment, and what production refuses.

// `Jail`'s closures must return figment's own (large) error type.
#![allow(clippy::result_large_err)]

use api::{
    config::{DEVELOPMENT_SECRET_KEY, LogFormat, RunMode, Settings},
    service::exit::rules::ExitRules,
};
use figment::Jail;
use secrecy::ExposeSecret;

#[test]
fn the_defaults_run_on_a_laptop_with_nothing_else() {
    let settings = Settings::default();
    assert_eq!(settings.env, RunMode::Development);
    assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(settings.database_url, "sqlite://shanhuo.db?mode=rwc");
    assert!(settings.redis_url.is_none());
    assert!(settings.uses_embedded_database());
    assert_eq!(settings.log_format(), LogFormat::Pretty);
    assert!(settings.check_production_safety().is_ok());
}

#[test]
fn the_file_then_the_environment_override_the_defaults() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "shanhuo.toml",
            r#"
                listen = "0.0.0.0:9000"
                database_url = "postgres://from-file/db"
                cors_origins = ["https://a.example"]
            "#,
        )?;
        jail.set_env("DATABASE_URL", "postgres://from-env/db");
        jail.set_env("REDIS_URL", "redis://127.0.0.1:6379");
        jail.set_env("SHANHUO_LISTEN", "127.0.0.1:9100");
        jail.set_env(
            "SHANHUO_CORS_ORIGINS",
            "https://b.example, https://c.example",
        );
        let settings = Settings::load(None).expect("loads");
        assert_eq!(settings.listen.to_string(), "127.0.0.1:9100");
        assert_eq!(settings.database_url, "postgres://from-env/db");
        assert_eq!(
            settings.redis_url.as_deref(),
            Some("redis://127.0.0.1:6379")
        );
        assert_eq!(
            settings.cors_origins,
            ["https://b.example", "https://c.example"]
        );

        jail.set_env("SHANHUO_DATABASE_URL", "mysql://prefixed/db");
        jail.set_env("REDIS_URL", "");
        let settings = Settings::load(None).expect("loads");
        assert_eq!(settings.database_url, "mysql://prefixed/db");
        assert_eq!(
            settings.redis_url, None,
            "an empty REDIS_URL means no Redis"
        );
        Ok(())
    });
}

#[test]
fn an_unknown_setting_or_a_missing_file_is_an_error() {
    Jail::expect_with(|jail| {
        jail.set_env("SHANHUO_LISTN", "127.0.0.1:1");
        assert!(
            Settings::load(None).is_err(),
            "a misspelt variable is reported"
        );
        Ok(())
    });
    Jail::expect_with(|_| {
        assert!(Settings::load(Some("nowhere.toml".into())).is_err());
        Ok(())
    });
}

#[test]
fn production_lists_every_unsafe_default() {
    let settings = Settings {
        env: RunMode::Production,
        ..Settings::default()
    };
    assert_eq!(settings.secret_key.expose_secret(), DEVELOPMENT_SECRET_KEY);
    let problems = settings.check_production_safety().unwrap_err().0;
    assert_eq!(problems.len(), 6, "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("SHANHUO_AUDIT_KEY")));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("SHANHUO_AUDIT_SIGNING_KEY"))
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("SHANHUO_SMS_GATEWAY_URL"))
    );
    assert!(problems.iter().any(|p| p.contains("SHANHUO_SECRET_KEY")));
    assert!(problems.iter().any(|p| p.contains("SQLite")));
    assert!(problems.iter().any(|p| p.contains("REDIS_URL")));
    assert_eq!(settings.log_format(), LogFormat::Json);
}

#[test]
fn production_starts_with_a_real_secret_a_server_database_and_redis() {
    Jail::expect_with(|jail| {
        jail.set_env("SHANHUO_ENV", "production");
        jail.set_env("SHANHUO_SECRET_KEY", "short");
        jail.set_env("DATABASE_URL", "postgres://db/shanhuo");
        jail.set_env("REDIS_URL", "redis://cache");
        jail.set_env("SHANHUO_SMS_GATEWAY_URL", "https://sms.example/send");
        let settings = Settings::load(None).expect("loads");
        let problems = settings.check_production_safety().unwrap_err().0;
        assert_eq!(
            problems,
            [
                "SHANHUO_SECRET_KEY is shorter than 32 characters",
                "SHANHUO_AUDIT_KEY is not set; the audit chain needs a key outside the database",
                "SHANHUO_AUDIT_SIGNING_KEY is not set; audit checkpoints need a signing key",
            ]
        );
        jail.set_env("SHANHUO_AUDIT_KEY", "short");
        jail.set_env("SHANHUO_AUDIT_SIGNING_KEY", "ab".repeat(32));
        let problems = Settings::load(None)
            .unwrap()
            .check_production_safety()
            .unwrap_err()
            .0;
        assert!(problems.contains(&"SHANHUO_AUDIT_KEY is shorter than 32 characters".into()));
        jail.set_env(
            "SHANHUO_AUDIT_KEY",
            "another-long-random-secret-for-the-audit-chain",
        );

        jail.set_env(
            "SHANHUO_SECRET_KEY",
            "a-long-random-secret-of-more-than-32-chars",
        );
        assert!(
            Settings::load(None)
                .unwrap()
                .check_production_safety()
                .is_ok()
        );
        Ok(())
    });
}

#[test]
fn exit_rules_come_from_a_table_or_the_environment_and_bad_ones_are_refused() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "shanhuo.toml",
            "[income_lines]\n2014 = 2800\n2021 = 4200\n\n[yearly_goal_villages]\n2017 = 40\n",
        )?;
        jail.set_env("SHANHUO_YEARLY_GOAL_PEOPLE", "2017=30000, 2018=80000");
        jail.set_env("SHANHUO_PUBLIC_NOTICE_DAYS", "0.5");
        let settings = Settings::load(None).expect("valid settings");
        assert_eq!(settings.income_lines.get(&2021), Some(&4200));
        assert_eq!(settings.income_lines.len(), 2);
        assert_eq!(settings.yearly_goal_villages.get(&2017), Some(&40));
        assert_eq!(settings.yearly_goal_people.get(&2018), Some(&80_000));
        assert_eq!(settings.public_notice_days, 0.5);

        jail.set_env("SHANHUO_INCOME_LINES", "2014=lots");
        assert!(Settings::load(None).is_err());
        // Rules that read but make no sense are refused where the rules are built, which the
        // server does before it serves.
        let rules_of = || ExitRules::new(&Settings::load(None).unwrap().exit_rules());
        jail.set_env("SHANHUO_INCOME_LINES", "2014=2800");
        assert!(rules_of().is_ok());
        jail.set_env("SHANHUO_VILLAGE_REQUIRED_INDICATORS", "power,airport");
        assert!(rules_of().is_err());
        jail.set_env("SHANHUO_VILLAGE_REQUIRED_INDICATORS", "power,clinic");
        jail.set_env("SHANHUO_POVERTY_INCIDENCE_THRESHOLD_PERCENT", "150");
        assert!(rules_of().is_err());
        Ok(())
    });
}

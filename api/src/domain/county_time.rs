//! The county's own time. Every date or time a person types or reads — a batch's day, a step of
//! its journey, an order, a notice, an income year, a dashboard's "as of" — is in the county's time
//! zone (`SHANHUO_TIME_ZONE`, Beijing time by default), through this module: a farmer's "today"
//! at 7 a.m. is the county's today, and an order completed on New Year's Eve evening counts for
//! the year that is ending. Times are stored in UTC.
//!
//! "Now" comes from a [`Clock`] that services take as a parameter, so a test can run a whole
//! flow at 23:30 UTC (07:30 the next morning in Beijing) with a [`FixedClock`].

use std::{
    fmt,
    sync::{Arc, OnceLock},
};

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The county's zone when none is configured.
pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Shanghai;

static ZONE: OnceLock<Tz> = OnceLock::new();

/// Reads a zone's IANA name (`Asia/Shanghai`, `Asia/Urumqi`).
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| format!("{name:?} is not an IANA time zone such as Asia/Shanghai"))
}

/// Sets the county's zone for the process, from the settings at start. The first call wins: one
/// server serves one county.
pub fn install_zone(zone: Tz) {
    if ZONE.set(zone).is_err() && ZONE.get() != Some(&zone) {
        tracing::warn!(zone = %zone, kept = %self::zone(), "the county's time zone is already set");
    }
}

/// The county's zone.
pub fn zone() -> Tz {
    *ZONE.get().unwrap_or(&DEFAULT_ZONE)
}

/// An instant as the county's clocks show it.
pub fn local(at: DateTime<Utc>) -> DateTime<Tz> {
    at.with_timezone(&zone())
}

/// The county's date at an instant.
pub fn date_of(at: DateTime<Utc>) -> NaiveDate {
    local(at).date_naive()
}

/// The county's year at an instant (the year an order's income counts for).
pub fn year_of(at: DateTime<Utc>) -> i32 {
    use chrono::Datelike;
    local(at).year()
}

/// `2026-12-02 07:30`: an instant as a person reads it, to the minute.
pub fn minute(at: DateTime<Utc>) -> String {
    local(at).format("%Y-%m-%d %H:%M").to_string()
}

/// `2026-12-02 07:30:05`: to the second, where seconds matter (audit checkpoints).
pub fn second(at: DateTime<Utc>) -> String {
    local(at).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `2026-12`: the month an instant falls in, for monthly figures.
pub fn month(at: DateTime<Utc>) -> String {
    local(at).format("%Y-%m").to_string()
}

/// The instant a person means by a day and a time on the county's clocks. A time that a clock
/// change skips is read as the hour after; one it repeats as its first occurrence.
pub fn instant(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    instant_in(zone(), day.and_time(time))
}

fn instant_in(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
        LocalResult::None => instant_in(zone, local + chrono::Duration::hours(1)),
    }
}

/// Where "now" comes from. Services take one so that tests can fix the hour.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// The county's date now.
    fn today(&self) -> NaiveDate {
        date_of(self.now())
    }

    /// The county's year now.
    fn this_year(&self) -> i32 {
        year_of(self.now())
    }
}

/// The clock on the wall.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant, for tests.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// The clock a server shares among its parts.
pub type SharedClock = Arc<dyn Clock>;

/// The clock on the wall, shared.
pub fn system_clock() -> SharedClock {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn early_morning_in_the_county_is_still_yesterday_in_utc() {
        let clock = FixedClock(Utc.with_ymd_and_hms(2026, 12, 1, 23, 30, 0).unwrap());
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2026, 12, 2).unwrap());
        assert_eq!(minute(clock.now()), "2026-12-02 07:30");
    }

    #[test]
    fn late_afternoon_in_utc_is_already_midnight_in_the_county() {
        let clock = FixedClock(Utc.with_ymd_and_hms(2026, 12, 31, 16, 30, 0).unwrap());
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert_eq!(clock.this_year(), 2027);
        assert_eq!(month(clock.now()), "2027-01");
    }

    #[test]
    fn a_day_and_time_typed_in_the_county_is_eight_hours_ahead_of_utc() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let at = instant(day, NaiveTime::from_hms_opt(7, 30, 0).unwrap());
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 12, 1, 23, 30, 0).unwrap());
    }

    #[test]
    fn a_time_a_clock_change_skips_is_read_as_the_hour_after() {
        let zone = parse_zone("Europe/Berlin").unwrap();
        let skipped = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(
            instant_in(zone, skipped),
            Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap()
        );
    }

    #[test]
    fn a_zone_is_read_by_its_iana_name() {
        assert_eq!(parse_zone(" Asia/Shanghai ").unwrap(), DEFAULT_ZONE);
        assert!(parse_zone("Beijing").is_err());
        assert!(parse_zone("UTC+8").is_err());
    }
}

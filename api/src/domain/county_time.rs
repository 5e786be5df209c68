//! The county keeps Beijing time: a farmer's "today" at 7 a.m. is Beijing's today, and an order
//! completed on New Year's Eve evening counts for the year that is ending.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Beijing time, UTC+8 all year.
pub fn china_time(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
}

/// The county's date now.
pub fn county_today() -> NaiveDate {
    china_time(Utc::now()).date_naive()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn early_morning_in_the_county_is_still_yesterday_in_utc() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 23, 0, 0).unwrap();
        assert_eq!(
            china_time(at).date_naive(),
            NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
        );
    }
}

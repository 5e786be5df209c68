//! The exit criteria as configured: income lines, the incidence threshold and the village
//! indicators that must be met.

use std::collections::BTreeMap;

/// A village indicator a county may require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    HardenedRoad,
    SafeWater,
    Power,
    Broadband,
    Clinic,
    CulturalRoom,
    CollectiveIncome,
}

impl Indicator {
    pub const ALL: [Indicator; 7] = [
        Indicator::HardenedRoad,
        Indicator::SafeWater,
        Indicator::Power,
        Indicator::Broadband,
        Indicator::Clinic,
        Indicator::CulturalRoom,
        Indicator::CollectiveIncome,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Indicator::HardenedRoad => "hardened_road",
            Indicator::SafeWater => "safe_water",
            Indicator::Power => "power",
            Indicator::Broadband => "broadband",
            Indicator::Clinic => "clinic",
            Indicator::CulturalRoom => "cultural_room",
            Indicator::CollectiveIncome => "collective_income",
        }
    }

    pub fn parse(name: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|i| i.name() == name.trim())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExitRules {
    /// Yuan per person per year, by year.
    pub income_lines: BTreeMap<i32, i64>,
    /// The incidence threshold in basis points (3% is 300).
    pub incidence_threshold_bp: i64,
    pub required_indicators: Vec<Indicator>,
    pub min_collective_income_fen: i64,
    pub notice: chrono::Duration,
    /// The monitoring range, yuan per person per year, by year.
    pub monitoring_lines: BTreeMap<i32, i64>,
    /// How long a monitoring notice runs.
    pub monitoring_notice: chrono::Duration,
    /// Warn of incomes above the monitoring line by at most this percentage of it.
    pub monitoring_margin_percent: u32,
    /// Warn of e-commerce income that fell by at least this percentage in a year.
    pub monitoring_ecommerce_drop_percent: u32,
    pub goal_villages: u32,
    pub goal_people: u32,
    /// Cumulative targets by the end of each year: (villages, people).
    pub yearly_goals: BTreeMap<i32, (Option<i64>, Option<i64>)>,
}

/// The exit criteria and goals as a county configures them, before they are checked.
#[derive(Clone, Debug)]
pub struct RuleSettings {
    /// Yuan per person per year, by year.
    pub income_lines: BTreeMap<i32, i64>,
    pub poverty_incidence_threshold_percent: f64,
    pub public_notice_days: f64,
    /// The monitoring range, yuan per person per year, by year.
    pub monitoring_lines: BTreeMap<i32, i64>,
    pub monitoring_notice_days: f64,
    pub monitoring_margin_percent: u32,
    pub monitoring_ecommerce_drop_percent: u32,
    /// Indicator names, as `Indicator::name` spells them.
    pub village_required_indicators: Vec<String>,
    pub village_min_collective_income_yuan: i64,
    pub goal_villages: u32,
    pub goal_people: u32,
    pub yearly_goal_villages: BTreeMap<i32, i64>,
    pub yearly_goal_people: BTreeMap<i32, i64>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRules(String);

impl ExitRules {
    /// The rules as configured, checked: every indicator known, the threshold a percentage,
    /// the notice within a year, at least one income line.
    pub fn new(settings: &RuleSettings) -> Result<Self, InvalidRules> {
        let required_indicators = settings
            .village_required_indicators
            .iter()
            .map(|name| {
                Indicator::parse(name).ok_or_else(|| {
                    InvalidRules(format!(
                        "unknown village indicator {name:?}; known: {}",
                        Indicator::ALL.map(Indicator::name).join(", ")
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let threshold = settings.poverty_incidence_threshold_percent;
        if !(0.0..=100.0).contains(&threshold) {
            return Err(InvalidRules(
                "the poverty incidence threshold is a percentage from 0 to 100".into(),
            ));
        }
        if !(0.0..=365.0).contains(&settings.public_notice_days) {
            return Err(InvalidRules(
                "a public notice runs from 0 to 365 days".into(),
            ));
        }
        if !(0.0..=365.0).contains(&settings.monitoring_notice_days) {
            return Err(InvalidRules(
                "a monitoring notice runs from 0 to 365 days".into(),
            ));
        }
        if settings.monitoring_lines.values().any(|yuan| *yuan <= 0) {
            return Err(InvalidRules(
                "a monitoring line is a positive amount of yuan".into(),
            ));
        }
        if settings.monitoring_margin_percent > 100 {
            return Err(InvalidRules(
                "the monitoring margin is a percentage from 0 to 100".into(),
            ));
        }
        if !(1..=100).contains(&settings.monitoring_ecommerce_drop_percent) {
            return Err(InvalidRules(
                "the e-commerce drop that warns is a percentage from 1 to 100".into(),
            ));
        }
        if settings.income_lines.is_empty() {
            return Err(InvalidRules("at least one income line is needed".into()));
        }
        Ok(Self {
            income_lines: settings.income_lines.clone(),
            incidence_threshold_bp: (threshold * 100.0).round() as i64,
            required_indicators,
            min_collective_income_fen: settings.village_min_collective_income_yuan * 100,
            notice: chrono::Duration::milliseconds(
                (settings.public_notice_days * 86_400_000.0).round() as i64,
            ),
            monitoring_lines: settings.monitoring_lines.clone(),
            monitoring_notice: chrono::Duration::milliseconds(
                (settings.monitoring_notice_days * 86_400_000.0).round() as i64,
            ),
            monitoring_margin_percent: settings.monitoring_margin_percent,
            monitoring_ecommerce_drop_percent: settings.monitoring_ecommerce_drop_percent,
            goal_villages: settings.goal_villages,
            goal_people: settings.goal_people,
            yearly_goals: settings
                .yearly_goal_villages
                .keys()
                .chain(settings.yearly_goal_people.keys())
                .map(|year| {
                    let villages = settings.yearly_goal_villages.get(year).copied();
                    let people = settings.yearly_goal_people.get(year).copied();
                    (*year, (villages, people))
                })
                .collect(),
        })
    }

    /// The line for `year` in fen per person: the year's own, or the latest earlier one; `None`
    /// before the first configured year.
    pub fn income_line_fen(&self, year: i32) -> Option<i64> {
        self.income_lines
            .range(..=year)
            .next_back()
            .map(|(_, yuan)| yuan * 100)
    }
}

impl ExitRules {
    /// The monitoring line for `year` in fen per person: the year's own or the latest earlier
    /// one; `None` before the first configured year.
    pub fn monitoring_line_fen(&self, year: i32) -> Option<i64> {
        self.monitoring_lines
            .range(..=year)
            .next_back()
            .map(|(_, yuan)| yuan * 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn a_year_without_a_line_uses_the_latest_earlier_one() {
        let rules = ExitRules::new(&Settings::default().exit_rules()).unwrap();
        assert_eq!(rules.income_line_fen(2016), Some(295_200));
        assert_eq!(rules.income_line_fen(2023), Some(400_000));
        assert_eq!(rules.income_line_fen(2013), None);
        assert_eq!(rules.incidence_threshold_bp, 300);
        assert_eq!(rules.required_indicators.len(), 7);
        assert_eq!(rules.monitoring_line_fen(2020), None);
        assert_eq!(rules.monitoring_line_fen(2021), Some(600_000));
        assert_eq!(rules.monitoring_line_fen(2024), Some(600_000));
    }

    #[test]
    fn unknown_indicators_are_refused() {
        let settings = Settings {
            village_required_indicators: vec!["airport".into()],
            ..Settings::default()
        };
        assert!(ExitRules::new(&settings.exit_rules()).is_err());
    }
}

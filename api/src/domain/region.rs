//! Delivery regions: the national code list (GB/T 2260) of provinces and prefecture-level
//! cities, shipped with the binary.

use std::{collections::BTreeMap, sync::LazyLock};

static LIST: &str = include_str!("regions.tsv");

/// A province with its prefecture-level cities, in code order.
#[derive(Clone, Debug)]
pub struct Province {
    pub code: &'static str,
    pub name: &'static str,
    pub cities: Vec<City>,
}

#[derive(Clone, Copy, Debug)]
pub struct City {
    pub code: &'static str,
    pub name: &'static str,
}

static PROVINCES: LazyLock<BTreeMap<&'static str, Province>> = LazyLock::new(|| {
    let mut provinces: BTreeMap<&'static str, Province> = BTreeMap::new();
    for line in LIST
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (code, name) = line.split_once('\t').expect("code<TAB>name");
        if code.ends_with("0000") {
            provinces.insert(
                code,
                Province {
                    code,
                    name,
                    cities: Vec::new(),
                },
            );
        } else {
            let province = provinces
                .get_mut(province_of(code).as_str())
                .expect("a city follows its province");
            province.cities.push(City { code, name });
        }
    }
    provinces
});

fn province_of(code: &str) -> String {
    format!("{}0000", &code[..2])
}

/// Every province, in code order.
pub fn provinces() -> impl Iterator<Item = &'static Province> {
    PROVINCES.values()
}

pub fn province(code: &str) -> Option<&'static Province> {
    PROVINCES.get(code)
}

/// A destination a parcel can be sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Destination {
    pub province_code: &'static str,
    pub city_code: &'static str,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegionError {
    #[error("{0} is not a province code of the national list")]
    UnknownProvince(String),
    #[error("{city} is not a city of province {province}")]
    UnknownCity { province: String, city: String },
}

impl Destination {
    /// The destination of a city's code alone: its province is in its first two digits.
    pub fn of_city(city_code: &str) -> Result<Self, RegionError> {
        let province = match city_code.get(..2) {
            Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => province_of(city_code),
            _ => return Err(RegionError::UnknownProvince(city_code.to_owned())),
        };
        Self::parse(&province, city_code)
    }

    pub fn parse(province_code: &str, city_code: &str) -> Result<Self, RegionError> {
        let province = province(province_code)
            .ok_or_else(|| RegionError::UnknownProvince(province_code.into()))?;
        let city = province
            .cities
            .iter()
            .find(|c| c.code == city_code)
            .ok_or_else(|| RegionError::UnknownCity {
                province: province_code.into(),
                city: city_code.into(),
            })?;
        Ok(Self {
            province_code: province.code,
            city_code: city.code,
        })
    }
}

/// How a province or city is named; a municipality's 市辖区 and 县 are named after it.
pub fn name_of(code: &str) -> Option<&'static str> {
    let province = province(&province_of(code.get(..6)?))?;
    if code == province.code {
        return Some(province.name);
    }
    let city = province.cities.iter().find(|c| c.code == code)?;
    Some(match city.name {
        "市辖区" | "县" => province.name,
        name => name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_has_every_province_and_its_cities() {
        assert_eq!(provinces().count(), 34);
        assert_eq!(name_of("440300"), Some("深圳市"));
        assert_eq!(name_of("500100"), Some("重庆市"));
        assert_eq!(name_of("510000"), Some("四川省"));
        assert!(Destination::parse("440000", "440100").is_ok());
        assert!(matches!(
            Destination::parse("440000", "510100"),
            Err(RegionError::UnknownCity { .. })
        ));
        assert!(matches!(
            Destination::parse("990000", "990100"),
            Err(RegionError::UnknownProvince(_))
        ));
        assert_eq!(
            Destination::of_city("440300"),
            Ok(Destination {
                province_code: "440000",
                city_code: "440300"
            })
        );
        assert!(Destination::of_city("4").is_err());
        assert!(Destination::of_city("中文").is_err());
    }
}

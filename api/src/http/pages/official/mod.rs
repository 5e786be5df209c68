pub mod certificates;
pub mod monitoring;
pub mod progress;
pub mod reports;
pub mod sector;
pub mod village;
pub mod work;

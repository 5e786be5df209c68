pub mod certificates;
pub mod progress;
pub mod reports;
pub mod village;
pub mod work;

pub mod progress;
pub mod reports;
pub mod work;

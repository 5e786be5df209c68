pub mod certificates;
pub mod figures;
pub mod help;
pub mod progress;
pub mod reports;
pub mod village;
pub mod work;

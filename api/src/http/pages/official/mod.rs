pub mod progress;
pub mod work;

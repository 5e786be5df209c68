pub mod audit;
pub mod home;
pub mod market;
pub mod scan;

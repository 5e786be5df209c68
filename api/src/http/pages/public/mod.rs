pub mod audit;
pub mod market;
pub mod scan;

pub mod market;
pub mod scan;

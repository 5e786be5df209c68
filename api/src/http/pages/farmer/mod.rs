pub mod batches;
pub mod certificates;
pub mod listings;
pub mod monitoring;
pub mod plots;
pub mod sales;

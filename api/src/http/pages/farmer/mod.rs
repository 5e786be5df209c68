pub mod batches;
pub mod listings;
pub mod plots;
pub mod sales;

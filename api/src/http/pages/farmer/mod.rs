pub mod batches;
pub mod listings;
pub mod sales;

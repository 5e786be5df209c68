pub mod audit;
pub mod certificate;
pub mod home;
pub mod market;
pub mod notices;
pub mod report;
pub mod scan;

//! The scenarios, one module each.

pub mod client;
pub mod compare;
pub mod connections;
pub mod crash;
pub mod durable;
pub mod fanout;
pub mod flood;
pub mod history;
pub mod instances;
pub mod soak;
pub mod throughput;

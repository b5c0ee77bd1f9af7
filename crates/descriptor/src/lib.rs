//! Capability descriptors of the Tool Capability Protocol (TCP).
//!
//! A descriptor says what a command can do: its [`Risk`] level and its [`Capabilities`].
#![cfg_attr(not(test), warn(missing_docs))]

mod caps;
mod risk;

pub use caps::{Capabilities, UnknownCapability};
pub use risk::{Risk, UnknownRisk};

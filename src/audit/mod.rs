//! The tamper-evident audit log: every read and write of a person's data,
//! every denied attempt, every login and every key operation appends one
//! event, in the same transaction as what it records. A background sequencer
//! links committed events into a SHA-256 hash chain; `verify` walks it.
//!
//! - [`model`]: what an event may say ([`NewEvent`], [`Action`], [`Outcome`]).
//! - [`store`]: [`append`] (inside the caller's transaction) and [`list`].
//! - [`chain`]: the sequencer, [`verify`] and the canonical encoding.

pub mod chain;
pub mod model;
pub mod routes;
pub mod store;

pub use chain::{
    Anchor, AnchorCheck, Verification, check_anchor, sequence_pending, spawn_sequencer, verify,
};
pub use model::{Action, Entity, Event, NewEvent, Outcome};
pub use store::{AuditFilter, append, list};

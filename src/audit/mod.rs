//! The audit log, which needs the keyring to forge: every read and write of
//! a person's data (naming every person an answer showed), every denied
//! attempt, every login and every key operation appends one event, sealed
//! with an HMAC under the audit key, in the same transaction as what it
//! records. A background sequencer links committed events into a chain of
//! MACs; `verify` walks it, and anchors pin its head outside the database.
//!
//! - [`model`] and [`vocabulary`]: what an event may say ([`NewEvent`],
//!   [`Action`], [`Outcome`], [`SubjectKind`]).
//! - [`store`]: [`append`] (inside the caller's transaction) and [`list`].
//! - [`mac`]: the canonical encoding and the three MACs.
//! - [`chain`]: the sequencer; [`verify`](mod@verify): verification and
//!   anchors; [`rechain`]: sealing the events from before the audit key,
//!   once ([`legacy`]: their old SHA-256 chain).
//! - [`lookup`]: which events searched for a term.

pub mod chain;
pub mod legacy;
pub mod lookup;
pub mod mac;
pub mod model;
pub mod rechain;
pub mod routes;
pub mod store;
pub mod verify;
pub mod vocabulary;

pub use chain::{sequence_pending, spawn_sequencer};
pub use model::{Action, Entity, Event, NewEvent, Outcome, SubjectKind, SubjectRow};
pub use store::{AuditFilter, append, append_with, list};
pub use verify::{Anchor, AnchorCheck, Verification, check_anchor, verify};

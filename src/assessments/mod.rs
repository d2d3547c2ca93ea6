//! Assessments: is the person better off? Instruments are published,
//! immutable versions (items by dimension, answer values, weights, labels
//! in three languages; the default compiled in); an assessment of a case
//! is a draft, then submitted (the server scores it), then reviewed or
//! voided by a supervisor who did not write it. Answers are sealed with the
//! person's key; scores are plaintext tenths, which statistics count.
//! `docs/assessments.md` explains the instrument and the scoring.

pub mod instrument;
pub mod instruments;
pub mod model;
pub mod routes;
pub mod store;

//! Transfers: returnees move. A worker asks to move a case (with its
//! household, when the whole household moves) to another city; a supervisor
//! of the receiving city accepts or rejects; the sender may cancel. On
//! accept the case, its notes and its household are re-encrypted under the
//! new city in one transaction, and the sending city loses access at once.

pub mod model;
pub mod routes;
pub mod store;

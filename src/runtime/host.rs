//! What a running network asks of the program that drives it, at its old
//! path.
//!
//! In: nothing of its own. Out: [`Host`] and [`NoHost`], which live in
//! [`crate::runtime::exec::host`] (a host is handed the paused
//! [`Executor`](crate::runtime::exec::Executor), so it belongs to the
//! executor's component); `session.rs` and the pipeline name them here.

pub use crate::runtime::exec::host::{Host, NoHost};

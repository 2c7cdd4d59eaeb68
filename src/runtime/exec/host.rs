//! What a running network asks of the program that drives it.
//!
//! In: a network run reaching a `network_operation` (a Python function
//! Brian calls at its clock's steps) or a report time with a Python `report=`
//! callable. Out: the [`Host`] calls Python (a live session: `session.rs`)
//! while the executor waits between two code objects, with every value
//! readable and writable; `brisk run` has no Python and runs neither
//! ([`NoHost`]: the device refuses both before they get here).
//!
//! Part of the executor's component: a host is handed the paused
//! [`Executor`] and the executor calls the host, so the two live together;
//! `runtime::host` re-exports both at their old path.

use super::Executor;
use crate::diag::{Error, Result};

/// The Python side of a live session, as a run sees it.
pub trait Host {
    /// `network_operation` number `id` is due at `t` (seconds). The executor
    /// is paused: the clocks' arrays and monitors are up to date, and the
    /// host may read and write arrays through it. Returns whether the
    /// operation stopped the network (`Network.stop()`): the run then ends
    /// after the current step.
    fn network_operation(&mut self, exec: &mut Executor<'_>, id: u32, t: f64) -> Result<bool>;
    /// A Python `report=` callable's call: seconds of wall time so far, the
    /// completed fraction, the run's start and duration (seconds).
    fn report(&mut self, elapsed: f64, completed: f64, t_start: f64, duration: f64) -> Result<()>;
}

/// No Python: `brisk run` and bundles.
pub struct NoHost;

impl Host for NoHost {
    fn network_operation(&mut self, _exec: &mut Executor<'_>, id: u32, _t: f64) -> Result<bool> {
        Err(Error::not_implemented(format!(
            "network_operation {id} needs Python: it runs only in a live session (set_device('brisk') with build_on_run=True)"
        )))
    }

    fn report(
        &mut self,
        _elapsed: f64,
        _completed: f64,
        _t_start: f64,
        _duration: f64,
    ) -> Result<()> {
        Ok(())
    }
}

//! Stopping a live session's run from outside: Brian's "stop requested".
//!
//! In: `SIGUSR1`, sent by the Python device when the user presses Ctrl-C
//! during `run()` (Brian's own SIGINT handler sets `Network._globally_stopped`)
//! or a `network_operation` calls `Network.stop()`. Out: [`take`] turns true
//! once; the network loop then ends the run after the current step, as Brian's
//! runtime does, and the session stays usable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Makes `SIGUSR1` set the stop flag (the `brisk session` command calls it once).
pub fn install() -> std::io::Result<()> {
    let flag = FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)));
    signal_hook::flag::register(signal_hook::consts::SIGUSR1, Arc::clone(flag)).map(|_| ())
}

/// Whether a stop was requested since the last call; clears the request.
pub fn take() -> bool {
    FLAG.get().is_some_and(|f| f.swap(false, Ordering::SeqCst))
}

/// Forgets a request that arrived between runs (it was for a run that had ended).
pub fn clear() {
    let _ = take();
}

//! Progress of the long phases (compiling the generated code, `connect()`).
//!
//! In: a phase's description when it starts and a detail when it ends. Out:
//! on a terminal, an `indicatif` spinner on stderr, replaced by one line when
//! the phase ends; with `BRISK_PROGRESS=1` (the Python device sets it when
//! its own output is a terminal, and relays the binary's stderr line by
//! line), one line per phase when it ends; otherwise nothing. The run itself
//! reports as Brian's `report=` asks (`runtime::exec`).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How progress is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Spinner,
    Lines,
    Quiet,
}

fn mode() -> Mode {
    if std::io::stderr().is_terminal() {
        Mode::Spinner
    } else if std::env::var("BRISK_PROGRESS").is_ok_and(|v| v == "1") {
        Mode::Lines
    } else {
        Mode::Quiet
    }
}

/// A phase in progress; [`Phase::finish`] ends it.
pub struct Phase {
    what: String,
    start: Instant,
    mode: Mode,
    bar: Option<ProgressBar>,
}

/// Starts showing phase `what` (e.g. "compiling the generated C++").
pub fn phase(what: impl Into<String>) -> Phase {
    let what = what.into();
    let mode = mode();
    let bar = (mode == Mode::Spinner).then(|| {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("brisk: {spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(what.clone());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    Phase {
        what,
        start: Instant::now(),
        mode,
        bar,
    }
}

impl Phase {
    /// Ends the phase with `detail` (e.g. "cached" or "4000 synapses").
    pub fn finish(self, detail: &str) {
        let line = format!(
            "brisk: {}: {detail} ({:.1} s)",
            self.what,
            self.start.elapsed().as_secs_f64()
        );
        match (self.mode, self.bar) {
            (Mode::Spinner, Some(bar)) => {
                bar.finish_with_message(format!("{}: {detail}", self.what))
            }
            (Mode::Lines, _) => eprintln!("{line}"),
            _ => {}
        }
    }
}

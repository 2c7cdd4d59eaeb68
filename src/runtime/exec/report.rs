//! Brian's `report=` progress during a network run.
//!
//! In: a run's report option, its start and duration, the elapsed wall time
//! and the completed fraction. Out: Brian's text lines (`'text'`, `'stdout'`,
//! `'stderr'`, formatted as cpp_standalone's `report_progress`), or, for a
//! Python callable in a live session, the four numbers Brian passes it,
//! handed to the [`Host`]. Part of the executor's component (it calls the
//! host, which is handed the executor).

use std::io::Write;
use std::time::Instant;

use super::host::Host;
use crate::diag::Result;
use crate::export::RunNetwork;

/// Brian's `report=` progress lines, every `report_period` seconds of wall
/// time from the run's start.
pub(super) struct Reporter {
    stream: Option<ReportStream>,
    t_start: f64,
    duration: f64,
    period: f64,
    /// The wall time the run started (at [`Reporter::start`]).
    started: Instant,
    next: f64,
}

#[derive(Clone, Copy)]
enum ReportStream {
    Stdout,
    Stderr,
    /// a Python callable (live sessions)
    Host,
}

impl Reporter {
    pub(super) fn new(run: &RunNetwork, t_start: f64) -> Reporter {
        let stream = match run.report.as_deref() {
            Some("text") | Some("stdout") => Some(ReportStream::Stdout),
            Some("stderr") => Some(ReportStream::Stderr),
            Some("python") => Some(ReportStream::Host),
            _ => None,
        };
        Reporter {
            stream,
            t_start,
            duration: run.duration,
            period: run.report_period,
            started: Instant::now(),
            next: run.report_period,
        }
    }

    /// The wall time the run started.
    pub(super) fn started(&self) -> Instant {
        self.started
    }

    /// Before a step at biological time `t`: a progress line when the
    /// report period has passed since the last.
    pub(super) fn tick(&mut self, out: &mut dyn Write, host: &mut dyn Host, t: f64) -> Result<()> {
        if self.stream.is_none() {
            return Ok(());
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        if elapsed > self.next {
            self.progress(out, host, elapsed, (t - self.t_start) / self.duration)?;
            self.next += self.period;
        }
        Ok(())
    }

    fn emit(&self, out: &mut dyn Write, line: &str) {
        match self.stream {
            Some(ReportStream::Stdout) => {
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            Some(ReportStream::Stderr) => eprintln!("{line}"),
            Some(ReportStream::Host) | None => {}
        }
    }

    /// The run's first line; the run's wall time counts from here.
    pub(super) fn start(&mut self, out: &mut dyn Write, host: &mut dyn Host) -> Result<()> {
        let reported = if matches!(self.stream, Some(ReportStream::Host)) {
            host.report(0.0, 0.0, self.t_start, self.duration)
        } else {
            self.emit_start(out);
            Ok(())
        };
        self.started = Instant::now();
        reported
    }

    fn emit_start(&self, out: &mut dyn Write) {
        self.emit(
            out,
            &format!(
                "Starting simulation at t={} s for duration {} s",
                fmt_g(self.t_start),
                fmt_g(self.duration)
            ),
        );
    }

    pub(super) fn progress(
        &self,
        out: &mut dyn Write,
        host: &mut dyn Host,
        elapsed: f64,
        completed: f64,
    ) -> Result<()> {
        if matches!(self.stream, Some(ReportStream::Host)) {
            return host.report(elapsed, completed, self.t_start, self.duration);
        }
        let mut line = format!(
            "{} s ({}%) simulated in {}",
            fmt_g(completed * self.duration),
            (completed * 100.0) as i64,
            format_time(elapsed)
        );
        if completed < 1.0 && completed > 0.0 {
            let remaining = ((1.0 - completed) / completed * elapsed + 0.5) as i64;
            line.push_str(&format!(
                ", estimated {} remaining.",
                format_time(remaining as f64)
            ));
        }
        self.emit(out, &line);
        Ok(())
    }
}

/// C++ `ostream <<` formatting of a double (6 significant digits).
fn fmt_g(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let exp = x.abs().log10().floor() as i32;
    if !(-5..6).contains(&exp) {
        return format!("{:e}", x);
    }
    let decimals = (5 - exp).max(0) as usize;
    let s = format!("{:.*}", decimals, x);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Brian's `_format_time`: `1h 2m 3s`, or `< 1s`.
fn format_time(seconds: f64) -> String {
    let mut remaining = seconds;
    let mut parts = Vec::new();
    for (div, letter) in [(86400.0, 'd'), (3600.0, 'h'), (60.0, 'm'), (1.0, 's')] {
        let n = (remaining / div) as i64;
        remaining -= n as f64 * div;
        if n > 0 || !parts.is_empty() {
            parts.push(format!("{n}{letter}"));
        }
    }
    if parts.is_empty() {
        "< 1s".to_string()
    } else {
        parts.join(" ")
    }
}

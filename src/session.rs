//! A live session (`brisk session`): the simulation stays resident between
//! the Python device's calls, as Brian's runtime mode keeps it in Python.
//!
//! In: requests, one JSON line each on standard input:
//! * `{"op": "sync", "export": DIR, "check": [ARRAY, ...]}`: the export as the script stands now,
//!   whose main queue holds the entries added since the last sync (values
//!   set from Python, `connect()`, `run()`, `store()`); the session runs them.
//!   The runs of earlier syncs take part in planning (not in running), so
//!   that a loop of `run()` calls plans one program. When the new export
//!   plans the same program, the state stays where it is (the export and plan
//!   are swapped under it); otherwise the new program is generated and
//!   compiled and the state carried into it by name (`runtime::exec::carry`). The
//!   answer's `invalid` names the arrays of `check` that hold a NaN or a huge
//!   value afterwards (Brian's runtime warns of them after each run).
//! * `{"op": "run", "entries": [...]}`: main-queue entries that need nothing
//!   new (a `run()` with the objects and schedule of an earlier one, its code
//!   objects' before- and after-run code, values set from Python, seeds),
//!   validated and run on the resident export, with no reading, planning or
//!   generating; `"static_arrays": {NAME: {"dtype", "size"}}` declares the
//!   files Python wrote for them.
//! * `{"op": "read", "array": NAME}`: the current values of a Brian array.
//! * `{"op": "random_state"}`: the random-number key and stream position.
//! * `{"op": "save_state", "network": N, "name": S}`: the state `store(S)`
//!   kept, as bytes (`store(filename=...)`); `{"op": "load_state", ...,
//!   "bytes": B}` followed by B bytes keeps such a state for a `restore()`.
//! * `{"op": "resume", "stop": bool}`: ends a `network_operation` call.
//! * `{"op": "close"}`.
//!
//! Out: one JSON line per request on the reply pipe (`--reply-fd`): `{"ok":
//! true, ...}` (for `read` and `save_state`, followed by the bytes) or
//! `{"ok": false, "error": {...}}` (the error as `brisk-error-json` carries
//! it). While a run goes on, it may also send `{"network_operation": ID,
//! "t": T}` (Python calls the function, with reads, writes and syncs that
//! set values, then sends `resume`) and `{"report": [elapsed, completed,
//! start, duration]}` (a Python `report=` callable; no answer). Standard
//! output and error stay the user's: `report=` lines, the generated code's
//! output. `SIGUSR1` stops a running `run()` after the current step
//! (`runtime::stop`). The session ends at `close`, at the end of its input
//! (the Python process is gone) or with its parent.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;
use serde_json::json;

use crate::codegen::{self, Target};
use crate::diag::{Error, Result};
use crate::export::{Export, QueueEntry, StaticArrayDecl};
use crate::pipeline::{self, Backend, Prepared, Timings};
use crate::plan::Plan;
use crate::runtime::exec::Executor;
use crate::runtime::host::Host;
use crate::runtime::stop;

/// One request of the Python device.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    /// `reload`: static arrays (TimedArray values) Python wrote anew under an earlier name.
    /// `check`: arrays whose NaN or huge values the answer names (`invalid`).
    Sync {
        export: PathBuf,
        #[serde(default)]
        reload: Vec<String>,
        #[serde(default)]
        check: Vec<String>,
    },
    /// Main-queue entries that need no new code or arrays (a `run()` repeated
    /// with the objects and schedule of an earlier one, the before- and
    /// after-run code of its code objects, values set from Python, seeds): run
    /// on the export as it stands, without reading, planning or generating
    /// anything (planning depends on the runs alone).
    /// `static_arrays`: the files Python wrote for them (values set from Python).
    Run {
        entries: Vec<QueueEntry>,
        #[serde(default)]
        static_arrays: BTreeMap<String, StaticArrayDecl>,
        #[serde(default)]
        check: Vec<String>,
    },
    Read {
        array: String,
    },
    RandomState,
    SaveState {
        network: String,
        name: String,
    },
    /// followed by `bytes` bytes of a saved state on the input
    LoadState {
        network: String,
        name: String,
        bytes: usize,
    },
    Resume {
        stop: bool,
    },
    Close,
}

/// The resident simulation.
struct Live {
    /// The plan as JSON: a newer export with the same plan and program keeps the state in place.
    plan_json: serde_json::Value,
    source: String,
    exec: Executor<'static>,
    /// The runs of earlier syncs, one per distinct schedule: planning takes them into account.
    past_runs: Vec<QueueEntry>,
}

/// The session's two pipes.
struct Io<'io> {
    input: &'io mut dyn BufRead,
    reply: &'io mut dyn Write,
}

/// Serves requests from `input` until `close` or its end; replies go to `reply`.
pub fn serve(backend: Backend, input: &mut dyn BufRead, reply: &mut dyn Write) -> Result<()> {
    stop::install().map_err(|e| Error::runtime(format!("cannot install the stop signal: {e}")))?;
    let (target, why) = pipeline::choose_backend(backend)?;
    let mut io = Io { input, reply };
    let mut live: Option<Live> = None;
    loop {
        let Some(request) = io.next_request()? else {
            return Ok(());
        };
        match request {
            Request::Close => return Ok(()),
            Request::Sync {
                export,
                reload,
                check,
            } => {
                stop::clear();
                let answer = sync(&mut live, target, &export, &reload, &check, &mut io);
                match answer {
                    Ok(mut info) => {
                        info["why"] = json!(why);
                        io.send(&info, &[])?;
                    }
                    Err(e) => io.send_error(&e)?,
                }
            }
            Request::Run {
                entries,
                static_arrays,
                check,
            } => {
                stop::clear();
                let answer = match live.as_mut() {
                    Some(l) => run_entries(l, &entries, &static_arrays, &check, &mut io),
                    None => Err(Error::runtime(
                        "session: a run request before the first sync",
                    )),
                };
                match answer {
                    Ok(mut info) => {
                        info["why"] = json!(why);
                        io.send(&info, &[])?;
                    }
                    Err(e) => io.send_error(&e)?,
                }
            }
            Request::Resume { .. } => io.send_error(&Error::runtime(
                "session: resume outside a network_operation",
            ))?,
            other => match live.as_mut() {
                Some(l) => io.answer(&mut l.exec, other)?,
                None => io.send_error(&Error::runtime("the session has no simulation yet"))?,
            },
        }
    }
}

/// Reads the export in `dir` with the runs of earlier syncs before its entries; returns it
/// prepared and the number of entries put before (not to be run again).
fn prepare(dir: &std::path::Path, past_runs: &[QueueEntry]) -> Result<(Prepared, usize)> {
    let mut export = crate::validate::read(dir)?;
    export.main_queue.splice(0..0, past_runs.iter().cloned());
    Ok((pipeline::prepare_export(export)?, past_runs.len()))
}

/// What planning takes from a run entry: its schedule.
type RunKey = (bool, Vec<(String, Option<String>)>);

fn run_key(entry: &QueueEntry) -> Option<RunKey> {
    match entry {
        QueueEntry::RunNetwork(r) => Some((
            r.profile,
            r.objects
                .iter()
                .map(|o| (o.clock.clone(), o.code_object.clone()))
                .collect(),
        )),
        _ => None,
    }
}

/// The distinct run schedules of `entries`, added to `past`.
fn remember_runs(past: &mut Vec<QueueEntry>, entries: &[QueueEntry]) {
    for entry in entries {
        if let Some(k) = run_key(entry) {
            if !past.iter().any(|p| run_key(p).as_ref() == Some(&k)) {
                past.push(entry.clone());
            }
        }
    }
}

fn plan_json(plan: &crate::plan::Plan) -> Result<serde_json::Value> {
    serde_json::to_value(plan).map_err(|e| Error::internal(e.to_string()))
}

/// Brings the resident simulation to the export in `dir` and runs its new main-queue entries.
fn sync(
    live: &mut Option<Live>,
    target: Target,
    dir: &std::path::Path,
    reload: &[String],
    check: &[String],
    io: &mut Io<'_>,
) -> Result<serde_json::Value> {
    let start = Instant::now();
    let past = live
        .as_ref()
        .map(|l| l.past_runs.clone())
        .unwrap_or_default();
    let (prepared, injected) = prepare(dir, &past)?;
    let mut timings = Timings {
        prepare: start.elapsed().as_secs_f64(),
        ..Timings::default()
    };
    let plan_json = plan_json(&prepared.plan)?;
    if let Some(dir) = std::env::var_os("BRISK_SESSION_PLANS") {
        // (debugging: every sync's plan, numbered)
        let n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        let _ = std::fs::write(
            std::path::Path::new(&dir).join(format!("plan-{n:04}.json")),
            plan_json.to_string(),
        );
    }
    let same_plan = live.as_ref().is_some_and(|l| l.plan_json == plan_json);
    let start = Instant::now();
    let program = codegen::generate(&prepared.plan, &prepared.code_objects, target)?;
    timings.generate = start.elapsed().as_secs_f64();
    let rebuilt = match live.as_mut() {
        Some(l) if same_plan && l.source == program.source => {
            l.exec
                .rebind(Arc::clone(&prepared.export), Arc::clone(&prepared.plan));
            for name in reload {
                l.exec.reload_static(name)?;
            }
            false
        }
        _ => {
            let device = pipeline::build_device(&prepared, &program, &mut timings)?;
            let mut exec = Executor::new(
                Arc::clone(&prepared.export),
                Arc::clone(&prepared.plan),
                device,
            )?;
            if let Some(mut old) = live.take() {
                let carried = old.exec.carry()?;
                drop(old);
                exec.restore_carried(carried)?;
            }
            *live = Some(Live {
                plan_json,
                source: program.source,
                exec,
                past_runs: past,
            });
            true
        }
    };
    let Some(l) = live.as_mut() else {
        return Err(Error::internal("session: no simulation after a sync"));
    };
    remember_runs(&mut l.past_runs, &prepared.export.main_queue[injected..]);
    run_new(l, None, injected, timings, rebuilt, check, io)
}

/// A `run` request: `entries` run on the resident export and plan, which
/// took their schedules into account (each run's is one of `past_runs`),
/// with the static arrays `added` for them (and forgotten after them).
fn run_entries(
    l: &mut Live,
    entries: &[QueueEntry],
    added: &BTreeMap<String, StaticArrayDecl>,
    check: &[String],
    io: &mut Io<'_>,
) -> Result<serde_json::Value> {
    let start = Instant::now();
    let restore = declare_static_arrays(&mut l.exec, added);
    let answer = check_run_request(&mut l.exec, entries, added, &l.past_runs).and_then(|()| {
        let timings = Timings {
            prepare: start.elapsed().as_secs_f64(),
            ..Timings::default()
        };
        run_new(l, Some(entries), 0, timings, false, check, io)
    });
    if let Some((export, plan)) = restore {
        l.exec.rebind(export, plan);
    }
    answer
}

/// Rebinds `exec` to its export with the static arrays `added` of a `run`
/// request declared; returns the export and plan to rebind to afterwards
/// (`None`: nothing was added, nothing to undo).
fn declare_static_arrays(
    exec: &mut Executor<'_>,
    added: &BTreeMap<String, StaticArrayDecl>,
) -> Option<(Arc<Export>, Arc<Plan>)> {
    if added.is_empty() {
        return None;
    }
    let (export, plan) = exec.export_and_plan();
    let mut with = (*export).clone();
    with.static_arrays
        .extend(added.iter().map(|(k, v)| (k.clone(), v.clone())));
    exec.rebind(Arc::new(with), Arc::clone(&plan));
    Some((export, plan))
}

/// Validates a `run` request's `entries` for `exec`, whose export holds the
/// static arrays `added` for them and whose plan took the runs `past_runs`
/// into account.
fn check_run_request(
    exec: &mut Executor<'_>,
    entries: &[QueueEntry],
    added: &BTreeMap<String, StaticArrayDecl>,
    past_runs: &[QueueEntry],
) -> Result<()> {
    for (q, entry) in entries.iter().enumerate() {
        match entry {
            QueueEntry::RunNetwork(_) if !past_runs.iter().any(|p| run_key(p) == run_key(entry)) => {
                return Err(Error::internal(format!(
                    "session: run request[{q}] repeats no run of an earlier sync (the device sends a sync instead)"
                )))
            }
            QueueEntry::RunNetwork(_)
            | QueueEntry::RunCodeObject { .. }
            | QueueEntry::BeforeRunCodeObject { .. }
            | QueueEntry::AfterRunCodeObject { .. }
            | QueueEntry::SetByConstant { .. }
            | QueueEntry::SetBySingleValue { .. }
            | QueueEntry::SetByArray { .. }
            | QueueEntry::SetArrayByArray { .. }
            | QueueEntry::Seed { .. }
            | QueueEntry::SetRandomState { .. } => {}
            _ => {
                return Err(Error::internal(format!(
                    "session: run request[{q}] needs what only a sync brings (new code, arrays or stored states)"
                )))
            }
        }
    }
    let (export, _) = exec.export_and_plan();
    crate::validate::queue_entries(&export, added, entries, exec.clock_dts()?, "run request")
}

/// Runs `given` entries, or those of the resident export from `from` on, and answers with
/// the state after them (`invalid`: those of the arrays `check` with NaN or huge values).
fn run_new(
    l: &mut Live,
    given: Option<&[QueueEntry]>,
    from: usize,
    mut timings: Timings,
    rebuilt: bool,
    check: &[String],
    io: &mut Io<'_>,
) -> Result<serde_json::Value> {
    let start = Instant::now();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut host = SessionHost { io };
    let ran = match given {
        Some(entries) => l.exec.run_given(entries, &mut out, &mut host),
        None => l.exec.run_entries(from, &mut out, &mut host),
    };
    let _ = out.flush();
    ran?;
    timings.run = start.elapsed().as_secs_f64();
    let invalid = l.exec.invalid_values(check)?;
    Ok(json!({
        "ok": true,
        "invalid": invalid,
        "backend": l.exec.backend(),
        "rebuilt": rebuilt,
        "network_t": l.exec.network_times(),
        "last_run": l.exec.last_run(),
        "profile": l.exec.profile(),
        "timings": timings,
    }))
}

/// The Python side during a run: `network_operation` calls and a `report=` callable.
struct SessionHost<'a, 'io> {
    io: &'a mut Io<'io>,
}

impl Host for SessionHost<'_, '_> {
    fn network_operation(&mut self, exec: &mut Executor<'_>, id: u32, t: f64) -> Result<bool> {
        self.io
            .send(&json!({"network_operation": id, "t": t}), &[])?;
        loop {
            let Some(request) = self.io.next_request()? else {
                return Err(Error::runtime(
                    "the Python side of the session went away during a network_operation",
                ));
            };
            match request {
                Request::Resume { stop } => return Ok(stop),
                Request::Close => {
                    return Err(Error::runtime(
                        "the session was closed during a network_operation",
                    ))
                }
                Request::Run {
                    entries,
                    static_arrays,
                    ..
                } => {
                    let answer = self.run_paused(exec, &entries, &static_arrays);
                    match answer {
                        Ok(()) => self.io.send(&json!({"ok": true}), &[])?,
                        Err(e) => self.io.send_error(&e)?,
                    }
                }
                Request::Sync { export, .. } => {
                    let answer = self.sync_paused(exec, &export);
                    match answer {
                        Ok(()) => self.io.send(&json!({"ok": true}), &[])?,
                        Err(e) => self.io.send_error(&e)?,
                    }
                }
                other => self.io.answer(exec, other)?,
            }
        }
    }

    fn report(&mut self, elapsed: f64, completed: f64, t_start: f64, duration: f64) -> Result<()> {
        self.io.send(
            &json!({"report": [elapsed, completed, t_start, duration]}),
            &[],
        )
    }
}

impl SessionHost<'_, '_> {
    /// A `run` request inside a `network_operation`: values set from Python (no run).
    fn run_paused(
        &mut self,
        exec: &mut Executor<'_>,
        entries: &[QueueEntry],
        added: &BTreeMap<String, StaticArrayDecl>,
    ) -> Result<()> {
        if let Some(QueueEntry::RunNetwork(run)) = entries
            .iter()
            .find(|e| matches!(e, QueueEntry::RunNetwork(_)))
        {
            return Err(network_inside_run(&run.network));
        }
        let restore = declare_static_arrays(exec, added);
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let ran = check_run_request(exec, entries, added, &[])
            .and_then(|()| exec.run_given(entries, &mut out, &mut crate::runtime::host::NoHost));
        if let Some((export, plan)) = restore {
            exec.rebind(export, plan);
        }
        ran
    }

    /// A sync inside a `network_operation`: values set from Python (no run, no new code).
    fn sync_paused(&mut self, exec: &mut Executor<'_>, dir: &std::path::Path) -> Result<()> {
        // planned with the runs the executor's export has (the one running among them)
        let (export_now, plan_now) = exec.export_and_plan();
        let past: Vec<QueueEntry> = export_now
            .main_queue
            .iter()
            .filter(|e| matches!(e, QueueEntry::RunNetwork(_)))
            .cloned()
            .collect();
        let (prepared, injected) = prepare(dir, &past)?;
        let new_run = prepared.export.main_queue[injected..]
            .iter()
            .find_map(|e| match e {
                QueueEntry::RunNetwork(run) => Some(run),
                _ => None,
            });
        if let Some(run) = new_run {
            return Err(network_inside_run(&run.network));
        }
        if plan_json(&prepared.plan)? != plan_json(&plan_now)? {
            return Err(Error::not_implemented(
                "a network_operation adds objects or code (a new group, monitor, connect() or string-expression \
                 write): Brisk runs values set from Python there, not new code; do it between runs",
            ));
        }
        exec.rebind(Arc::clone(&prepared.export), Arc::clone(&prepared.plan));
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        exec.run_entries(injected, &mut out, &mut crate::runtime::host::NoHost)
    }
}

fn network_inside_run(network: &str) -> Error {
    Error::not_implemented(format!(
        "a network_operation runs the network '{network}': Brisk cannot run a network inside another's run"
    ))
}

impl Io<'_> {
    /// The next request; `None` at the end of the input.
    fn next_request(&mut self) -> Result<Option<Request>> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.input.read_line(&mut line)? == 0 {
                return Ok(None);
            }
            match serde_json::from_str(line.trim()) {
                Ok(r) => return Ok(Some(r)),
                Err(e) => self.send_error(&Error::runtime(format!(
                    "session: a request that is not understood: {e}"
                )))?,
            }
        }
    }

    /// Requests that read or keep state: `read`, `random_state`, `save_state`, `load_state`.
    fn answer(&mut self, exec: &mut Executor<'_>, request: Request) -> Result<()> {
        match request {
            Request::Read { array } => match exec.read_array(&array) {
                Ok((bytes, len)) => self.send(
                    &json!({"ok": true, "bytes": bytes.len(), "len": len}),
                    &bytes,
                ),
                Err(e) => self.send_error(&e),
            },
            Request::RandomState => {
                let (seed, stream) = exec.random_state();
                self.send(&json!({"ok": true, "seed": seed, "stream": stream}), &[])
            }
            Request::SaveState { network, name } => match exec.save_state(&network, &name) {
                Ok(bytes) => self.send(&json!({"ok": true, "bytes": bytes.len()}), &bytes),
                Err(e) => self.send_error(&e),
            },
            Request::LoadState {
                network,
                name,
                bytes,
            } => {
                let mut data = Vec::new();
                data.try_reserve_exact(bytes).map_err(|_| {
                    Error::runtime(format!(
                        "restore(): no memory for a stored state of {bytes} bytes"
                    ))
                })?;
                data.resize(bytes, 0);
                self.input.read_exact(&mut data)?;
                match exec.load_state(&network, &name, &data) {
                    Ok(()) => self.send(&json!({"ok": true}), &[]),
                    Err(e) => self.send_error(&e),
                }
            }
            Request::Sync { .. }
            | Request::Run { .. }
            | Request::Resume { .. }
            | Request::Close => self.send_error(&Error::internal(
                "session: a request answered in the wrong place",
            )),
        }
    }

    fn send(&mut self, head: &serde_json::Value, payload: &[u8]) -> Result<()> {
        let mut text = serde_json::to_string(head).map_err(|e| Error::internal(e.to_string()))?;
        text.push('\n');
        self.reply.write_all(text.as_bytes())?;
        self.reply.write_all(payload)?;
        self.reply.flush()?;
        Ok(())
    }

    fn send_error(&mut self, e: &Error) -> Result<()> {
        self.send(&json!({"ok": false, "error": e}), &[])
    }
}

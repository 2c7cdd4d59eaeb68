//! A live session (`brisk session`): the simulation stays resident between
//! the Python device's calls, as Brian's runtime mode keeps it in Python.
//!
//! In: requests, one JSON line each on standard input:
//! * `{"op": "sync", "export": DIR}`: the export as the script stands now,
//!   whose main queue holds the entries added since the last sync (values
//!   set from Python, `connect()`, `run()`, `store()`); the session runs them.
//!   When the new export plans the same program, the state stays where it is
//!   (the export and plan are swapped under it); otherwise the new program is
//!   generated and compiled and the state carried into it by name
//!   (`runtime::carry`).
//! * `{"op": "read", "array": NAME}`: the current values of a Brian array.
//! * `{"op": "random_state"}`: the random-number key and stream position.
//! * `{"op": "save_state", "network": N, "name": S}`: the state `store(S)`
//!   kept, as bytes (`store(filename=...)`); `{"op": "load_state", ...,
//!   "bytes": B}` followed by B bytes keeps such a state for a `restore()`.
//! * `{"op": "close"}`.
//!
//! Out: one JSON line per request on the reply pipe (`--reply-fd`): `{"ok":
//! true, ...}` (for `read`, followed by the array's raw bytes) or `{"ok":
//! false, "error": {...}}` (the error as `brisk-error-json` carries it).
//! Standard output and error stay the user's: `report=` lines, the
//! generated code's output. `SIGUSR1` stops a running `run()` after the
//! current step (`runtime::stop`). The session ends at `close`, at the end of
//! its input (the Python process is gone) or with its parent.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;
use serde_json::json;

use crate::codegen::{self, Target};
use crate::diag::{Error, Result};
use crate::pipeline::{self, Backend, Prepared, Timings};
use crate::runtime::exec::Executor;
use crate::runtime::stop;

/// One request of the Python device.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    Sync { export: PathBuf },
    Read { array: String },
    RandomState,
    SaveState { network: String, name: String },
    /// followed by `bytes` bytes of a saved state on the input
    LoadState { network: String, name: String, bytes: usize },
    Close,
}

/// The resident simulation.
struct Live {
    prepared: Prepared,
    /// The plan as JSON: a newer export with the same plan and program keeps the state in place.
    plan_json: serde_json::Value,
    source: String,
    exec: Executor<'static>,
}

/// Serves requests from `input` until `close` or its end; replies go to `reply`.
pub fn serve(backend: Backend, input: &mut dyn BufRead, reply: &mut dyn Write) -> Result<()> {
    stop::install().map_err(|e| Error::runtime(format!("cannot install the stop signal: {e}")))?;
    let (target, why) = pipeline::choose_backend(backend)?;
    let mut live: Option<Live> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let request: Request = match serde_json::from_str(line.trim()) {
            Ok(r) => r,
            Err(e) => {
                send_error(reply, &Error::runtime(format!("session: a request that is not understood: {e}")))?;
                continue;
            }
        };
        match request {
            Request::Close => return Ok(()),
            Request::Sync { export } => {
                stop::clear();
                let stdout = std::io::stdout();
                let mut out = stdout.lock();
                let answer = sync(&mut live, target, &export, &mut out);
                let _ = out.flush();
                match answer {
                    Ok(mut info) => {
                        info["why"] = json!(why);
                        send(reply, &info, &[])?;
                    }
                    Err(e) => send_error(reply, &e)?,
                }
            }
            Request::RandomState => match live.as_ref() {
                Some(l) => {
                    let (seed, stream) = l.exec.random_state();
                    send(reply, &json!({"ok": true, "seed": seed, "stream": stream}), &[])?;
                }
                None => send_error(reply, &Error::runtime("random_state: the session has no simulation yet"))?,
            },
            Request::SaveState { network, name } => {
                let answer = match live.as_ref() {
                    Some(l) => l.exec.save_state(&network, &name),
                    None => Err(Error::runtime("store(): the session has no simulation yet")),
                };
                match answer {
                    Ok(bytes) => send(reply, &json!({"ok": true, "bytes": bytes.len()}), &bytes)?,
                    Err(e) => send_error(reply, &e)?,
                }
            }
            Request::LoadState { network, name, bytes } => {
                let mut data = Vec::new();
                data.try_reserve_exact(bytes)
                    .map_err(|_| Error::runtime(format!("restore(): no memory for a stored state of {bytes} bytes")))?;
                data.resize(bytes, 0);
                input.read_exact(&mut data)?;
                let answer = match live.as_mut() {
                    Some(l) => l.exec.load_state(&network, &name, &data),
                    None => Err(Error::runtime("restore(): the session has no simulation yet")),
                };
                match answer {
                    Ok(()) => send(reply, &json!({"ok": true}), &[])?,
                    Err(e) => send_error(reply, &e)?,
                }
            }
            Request::Read { array } => {
                let answer = match live.as_mut() {
                    Some(l) => l.exec.read_array(&array),
                    None => Err(Error::runtime("read: the session has no simulation yet")),
                };
                match answer {
                    Ok((bytes, len)) => send(reply, &json!({"ok": true, "bytes": bytes.len(), "len": len}), &bytes)?,
                    Err(e) => send_error(reply, &e)?,
                }
            }
        }
    }
}

/// Brings the resident simulation to the export in `dir` and runs its new main-queue entries.
fn sync(live: &mut Option<Live>, target: Target, dir: &std::path::Path, out: &mut dyn Write) -> Result<serde_json::Value> {
    let start = Instant::now();
    let prepared = pipeline::prepare(dir)?;
    let mut timings = Timings { prepare: start.elapsed().as_secs_f64(), ..Timings::default() };
    let plan_json = serde_json::to_value(&*prepared.plan).map_err(|e| Error::internal(e.to_string()))?;
    let same_plan = live.as_ref().is_some_and(|l| l.plan_json == plan_json);
    let start = Instant::now();
    let program = codegen::generate(&prepared.plan, &prepared.code_objects, target)?;
    timings.generate = start.elapsed().as_secs_f64();
    let rebuilt = match live.as_mut() {
        Some(l) if same_plan && l.source == program.source => {
            l.exec.rebind(Arc::clone(&prepared.export), Arc::clone(&prepared.plan));
            l.prepared = prepared;
            false
        }
        _ => {
            let device = pipeline::build_device(&prepared, &program, &mut timings)?;
            let mut exec = Executor::new(Arc::clone(&prepared.export), Arc::clone(&prepared.plan), device)?;
            if let Some(mut old) = live.take() {
                let carried = old.exec.carry()?;
                drop(old);
                exec.restore_carried(carried)?;
            }
            *live = Some(Live { prepared, plan_json, source: program.source, exec });
            true
        }
    };
    let Some(l) = live.as_mut() else { return Err(Error::internal("session: no simulation after a sync")) };
    let start = Instant::now();
    l.exec.run_entries(0, out)?;
    timings.run = start.elapsed().as_secs_f64();
    Ok(json!({
        "ok": true,
        "backend": l.exec.backend(),
        "rebuilt": rebuilt,
        "network_t": l.exec.network_times(),
        "last_run": l.exec.last_run(),
        "profile": l.exec.profile(),
        "timings": timings,
    }))
}

fn send(reply: &mut dyn Write, head: &serde_json::Value, payload: &[u8]) -> Result<()> {
    let mut text = serde_json::to_string(head).map_err(|e| Error::internal(e.to_string()))?;
    text.push('\n');
    reply.write_all(text.as_bytes())?;
    reply.write_all(payload)?;
    reply.flush()?;
    Ok(())
}

fn send_error(reply: &mut dyn Write, e: &Error) -> Result<()> {
    send(reply, &json!({"ok": false, "error": e}), &[])
}

//! Sweeps: many copies of one model, each with its own run_args, random
//! stream and results folder, run in one process (`brisk run --sweep`).
//!
//! In: a prepared export and its copies ([`RunCopy`]; an ordinary run is a sweep
//! of one). Out: each copy's results folder, written whole or not at all, and
//! the timings. The program is generated and compiled once. On the C++
//! target the copies run at once, as many as there are threads, each on its
//! share of them (a copy of a small model runs on one thread; one copy alone
//! has them all); on CUDA in batches, each one simulation that launches every
//! kernel once per step for all its copies (`runtime::exec::batch`), as many
//! copies per batch as the GPU's free memory holds (`Compiled::load_batch`).
//! A copy's results do not depend on the others or on how many run at once:
//! each has its own device memory, and its random numbers come from its own stream.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::codegen::{self, Program, Target};
use crate::diag::{Error, Result};
use crate::pipeline::{
    batch_bytes_per_copy, compile_program, run_batch, run_copy, Compiled, Prepared, RunCopy, Timings,
};
use crate::results::ResultsLock;
use crate::runtime::exec::shared_connect::SharedConnects;

/// A copy's number and its timings and printed output, or its error.
type CopyOutcome = (usize, Result<(Timings, Vec<u8>)>);

/// Runs `copies` of a prepared export on `target`; with `edited`, that program
/// (a bundle's hand-edited source) instead of the generated one. Err: the
/// first copy that failed, by number ([`Error::in_copy`]); the other copies'
/// folders are complete.
pub fn run_copies(
    prepared: &Prepared,
    target: Target,
    copies: &[RunCopy],
    edited: Option<Program>,
    out: &mut dyn Write,
) -> Result<Timings> {
    if copies.is_empty() {
        return Err(Error::runtime(
            "a sweep needs at least one copy (run_args is an empty list)",
        ));
    }
    let sweep = copies.len() > 1;
    let tag = |e: Error, k: usize| if sweep { e.in_copy(k as u64) } else { e };
    // (two copies with one results folder fail here: the second cannot take its lock)
    let locks = copies
        .iter()
        .enumerate()
        .map(|(k, c)| ResultsLock::acquire(&c.results).map_err(|e| tag(e, k)))
        .collect::<Result<Vec<_>>>()?;
    let mut timings = Timings::default();
    let start = Instant::now();
    let program = match edited {
        Some(program) => program,
        None => codegen::generate(&prepared.plan, &prepared.code_objects, target)?,
    };
    timings.generate = start.elapsed().as_secs_f64();
    let compiled = compile_program(prepared, &program, &mut timings)?;
    // (deterministic connect() calls: built once for the copies whose inputs are equal)
    let shared = std::sync::Arc::new(SharedConnects::default());
    let share = sweep.then_some(&shared);
    if sweep && matches!(compiled, Compiled::Cuda { .. }) {
        // CUDA: batches of copies, each one batched simulation
        // (a batch that runs out of GPU memory, the estimate having been short, runs
        // again as batches of half its size; its folders are written only at its end)
        // (the first batch is sized by an estimate, the later ones by what a copy of
        // the batch before took, with a quarter more for what its end did not hold)
        let mut per_copy = batch_bytes_per_copy(&prepared.plan);
        let (mut first, mut most) = (0, copies.len());
        while first < copies.len() {
            let want = (copies.len() - first).min(most);
            let Some(batch) = compiled.load_batch(want, per_copy)? else {
                break;
            };
            let range = first..first + batch.devices.len();
            match run_batch(prepared, batch, &copies[range.clone()], &locks[range.clone()], &shared, &mut timings, out) {
                Ok(measured) => {
                    first = range.end;
                    if let Some(bytes) = measured.filter(|&b| b > 0) {
                        per_copy = bytes.saturating_add(bytes / 4);
                        timings.batch_copy_bytes.push(bytes);
                    }
                }
                Err(e) if e.out_of_memory && range.len() > 1 => most = range.len() / 2,
                Err(mut e) => {
                    e.copy = e.copy.map(|k| k + first as u64);
                    return Err(e);
                }
            }
        }
        return Ok(timings);
    }
    let threads = compiled.threads()?;
    let at_once = threads.min(copies.len()).max(1);
    let per_copy = (threads / at_once).max(1);
    if at_once == 1 {
        for (k, (copy, lock)) in copies.iter().zip(&locks).enumerate() {
            let device = compiled.load(per_copy).map_err(|e| tag(e, k))?;
            run_copy(prepared, device, copy, lock, share, &mut timings, out).map_err(|e| tag(e, k))?;
        }
        return Ok(timings);
    }
    // Several at once: each worker takes the next copy; a copy's printed output
    // (Brian's report) is kept and printed in copy order at the end.
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<CopyOutcome>> = Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..at_once {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= copies.len() {
                    return;
                }
                let mut own = Timings::default();
                let mut printed = Vec::new();
                let result = compiled.load(per_copy).and_then(|device| {
                    run_copy(prepared, device, &copies[k], &locks[k], share, &mut own, &mut printed)
                });
                let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
                done.push((k, result.map(|()| (own, printed))));
            });
        }
    });
    let wall = start.elapsed().as_secs_f64();
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(k, _)| *k);
    let mut first_error = None;
    for (k, result) in done {
        match result {
            Ok((own, printed)) => {
                let _ = out.write_all(&printed);
                timings.connect += own.connect;
                timings.connects_shared += own.connects_shared;
                timings.write += own.write;
            }
            Err(e) => {
                first_error.get_or_insert(tag(e, k));
            }
        }
    }
    timings.run = wall;
    match first_error {
        Some(e) => Err(e),
        None => Ok(timings),
    }
}

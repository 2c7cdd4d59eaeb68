//! The threads the C++ target runs its split kernels on.
//!
//! In: a job, one kernel function with its arguments and the chunks
//! `[lo, hi)` of its elements ([`crate::plan::Split`]). Out: every chunk run
//! once, on the calling thread and `threads - 1` workers, before [`Pool::run`]
//! returns.
//!
//! A simulation step launches a few split kernels, each of some tens of
//! microseconds, so a hand-over must cost far less than that: the workers
//! wait for the next job by spinning on one atomic word for a while (about
//! [`SPIN`] checks) before they sleep on a condition variable, and the
//! calling thread takes chunks itself. Each job has a number (its epoch), and
//! a chunk is taken by advancing a ticket that holds the epoch and the next
//! chunk together, so a late worker can never take a chunk of a later job
//! with the arguments of an earlier one.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use crate::diag::{Error, Result};
use crate::runtime::BriskArgs;

/// A generated kernel function (`extern "C" void f(const BriskArgs*)`).
pub type KernelFn = unsafe extern "C" fn(*const BriskArgs);

/// Checks of the job word a waiting worker makes before it sleeps.
const SPIN: u32 = 1 << 16;

/// One kernel over chunks.
#[derive(Clone, Copy)]
struct Job {
    f: KernelFn,
    args: BriskArgs,
    parts: *const (u64, u64),
    count: usize,
}

// SAFETY: a job's `args` carry the addresses of the device's pointer and size
// tables and `parts` points at the caller's chunk list; `Pool::run` keeps both
// alive and unchanged until every chunk is done (it waits for `done`), and the
// chunks of one job touch disjoint elements (what the plan's `Split` promises),
// so handing the job to other threads makes no data race.
unsafe impl Send for Job {}

struct Shared {
    /// The epoch (high 32 bits) and the next chunk to take (low 32 bits).
    ticket: AtomicU64,
    /// Chunks of the current job finished.
    done: AtomicUsize,
    job: Mutex<Option<Job>>,
    /// Workers asleep, and their wake-up call.
    sleepers: Mutex<usize>,
    wake: Condvar,
    stop: AtomicBool,
}

impl Shared {
    /// Takes and runs chunks of job `epoch` until none is left.
    fn work(&self, epoch: u64, job: &Job) {
        loop {
            let t = self.ticket.load(Ordering::Acquire);
            let k = (t & 0xFFFF_FFFF) as usize;
            if t >> 32 != epoch || k >= job.count {
                return;
            }
            if self
                .ticket
                .compare_exchange_weak(t, t + 1, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                continue;
            }
            // SAFETY: `k < job.count` indexes the chunk list `Pool::run` keeps alive
            // until `done` reaches `count`, which cannot happen before this chunk ends.
            let (lo, hi) = unsafe { *job.parts.add(k) };
            let mut args = job.args;
            (args.lo, args.hi) = (lo as i64, hi as i64);
            // SAFETY: the kernel reads the device's tables, alive for the job (see
            // `Job`), over its own chunk's elements.
            unsafe { (job.f)(&args) };
            self.done.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// `threads - 1` workers and the calling thread.
pub struct Pool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    epoch: u64,
}

impl Pool {
    /// Starts `threads - 1` workers.
    pub fn new(threads: usize) -> Result<Pool> {
        let shared = Arc::new(Shared {
            ticket: AtomicU64::new(0),
            done: AtomicUsize::new(0),
            job: Mutex::new(None),
            sleepers: Mutex::new(0),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let mut workers = Vec::new();
        for k in 1..threads.max(1) {
            let shared = Arc::clone(&shared);
            let worker = std::thread::Builder::new()
                .name(format!("brisk-cpu-{k}"))
                .spawn(move || worker(&shared))
                .map_err(|e| {
                    Error::runtime(format!("cannot start thread {k} of {threads}: {e}"))
                })?;
            workers.push(worker);
        }
        Ok(Pool {
            shared,
            workers,
            epoch: 0,
        })
    }

    /// Runs `f` over every chunk of `parts` (at most 2^32 - 1 of them), on this
    /// thread and the workers; returns when all are done.
    ///
    /// # Safety
    /// `f` must be safe to call with `args` over each chunk's `lo..hi`, and
    /// over different chunks at once (they touch disjoint memory); what
    /// `args` points at must stay valid until `run` returns.
    pub unsafe fn run(&mut self, f: KernelFn, args: BriskArgs, parts: &[(u64, u64)]) {
        let s = &*self.shared;
        self.epoch = (self.epoch + 1) & 0xFFFF_FFFF;
        let job = Job {
            f,
            args,
            parts: parts.as_ptr(),
            count: parts.len().min(0xFFFF_FFFF),
        };
        *s.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(job);
        s.done.store(0, Ordering::Release);
        s.ticket.store(self.epoch << 32, Ordering::Release);
        if *s.sleepers.lock().unwrap_or_else(|e| e.into_inner()) > 0 {
            s.wake.notify_all();
        }
        s.work(self.epoch, &job);
        while s.done.load(Ordering::Acquire) < job.count {
            std::hint::spin_loop();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared
            .ticket
            .store(((self.epoch + 1) & 0xFFFF_FFFF) << 32, Ordering::Release);
        {
            let _asleep = self
                .shared
                .sleepers
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            self.shared.wake.notify_all();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// A worker: waits for each new job (spinning, then asleep) and takes its chunks.
fn worker(s: &Shared) {
    let mut seen = 0u64;
    loop {
        let mut spins = 0u32;
        let epoch = loop {
            let e = s.ticket.load(Ordering::Acquire) >> 32;
            if e != seen || s.stop.load(Ordering::Acquire) {
                break e;
            }
            if spins < SPIN {
                spins += 1;
                // (no `pause`: under a hypervisor a loop of pauses can have the
                // virtual CPU taken away, and waking it costs far more than the job;
                // now and then the core goes to a thread that needs it, where there
                // are more threads than cores)
                if spins % 1024 == 0 {
                    std::thread::yield_now();
                }
                continue;
            }
            let mut asleep = s.sleepers.lock().unwrap_or_else(|e| e.into_inner());
            *asleep += 1;
            while s.ticket.load(Ordering::Acquire) >> 32 == seen && !s.stop.load(Ordering::Acquire)
            {
                asleep = s.wake.wait(asleep).unwrap_or_else(|e| e.into_inner());
            }
            *asleep -= 1;
            spins = 0;
        };
        if s.stop.load(Ordering::Acquire) {
            return;
        }
        seen = epoch;
        let job = *s.job.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(job) = job {
            s.work(epoch, &job);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicI64;

    static SUM: AtomicI64 = AtomicI64::new(0);

    unsafe extern "C" fn add_range(a: *const BriskArgs) {
        // SAFETY: the pool passes a valid `BriskArgs` for the call.
        let a = unsafe { &*a };
        SUM.fetch_add(
            (a.lo..a.hi).sum::<i64>() + a.n * 1_000_000,
            Ordering::Relaxed,
        );
    }

    #[test]
    fn every_chunk_runs_once_per_job() {
        let mut pool = Pool::new(3).unwrap();
        let args = BriskArgs::new(0, 0, &crate::runtime::StepArgs::default());
        for job in 0..2000i64 {
            SUM.store(0, Ordering::Relaxed);
            let parts: Vec<(u64, u64)> = (0..5).map(|k| (k * 10, k * 10 + 10)).collect();
            let mut a = args;
            a.n = job;
            // SAFETY: `add_range` reads only its arguments; the sum is atomic.
            unsafe { pool.run(add_range, a, &parts) };
            assert_eq!(
                SUM.load(Ordering::Relaxed),
                (0..50).sum::<i64>() + 5 * job * 1_000_000
            );
            if job % 500 == 0 {
                // long enough for the workers to fall asleep
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}

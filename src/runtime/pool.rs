//! The threads the C++ target runs its split kernels on.
//!
//! In: a job, one kernel function with its arguments and the chunks
//! `[lo, hi)` of its elements ([`crate::plan::Split`]). Out: every chunk run
//! once, on the calling thread and `threads - 1` workers, before [`Pool::run`]
//! returns.
//!
//! A simulation step launches a few split kernels, some of a few
//! microseconds, so a hand-over must cost far less than that: the workers
//! wait for the next job by spinning on one atomic word for a while (about
//! [`SPIN`] checks) before they sleep on a condition variable, and the
//! calling thread takes chunks itself. No lock is taken on the way: the job
//! (the kernel and the addresses of its arguments and chunk list, which the
//! caller keeps alive until every chunk is done) sits in atomic words beside
//! the ticket, all in one cache line. Each job has a number (its epoch), and
//! a chunk is taken by advancing the ticket, which holds the epoch and the
//! next chunk together, so a late worker can never take a chunk of a later
//! job with the arguments of an earlier one: a worker reads the job, then
//! claims a chunk with a compare-and-swap of the ticket it read the job
//! under; the caller writes the next job only after every chunk of this one
//! is done, each claimed by such a swap before it (see [`Shared::work`]).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use crate::diag::{Error, Result};
use crate::runtime::BriskArgs;

/// A generated kernel function (`extern "C" void f(const BriskArgs*)`).
pub type KernelFn = unsafe extern "C" fn(*const BriskArgs);

/// Checks of the job word a waiting worker makes before it sleeps.
const SPIN: u32 = 1 << 16;

/// Spins between two yields of the core (see [`worker`]).
const YIELD_EVERY: u32 = 1 << 14;

/// What the workers share. The words of a hand-over sit in cache lines of
/// their own by who writes them: the ticket (which the waiting workers read
/// over and over), the job (written by the caller before the ticket, read
/// once per worker), the count of finished chunks (which the caller reads
/// over and over); so the caller's writes of the job do not each have to
/// take the line back from the spinning workers.
struct Shared {
    /// The epoch (high 32 bits) and the next chunk to take (low 32 bits).
    ticket: Line<AtomicU64>,
    /// The current job: its kernel (a `KernelFn`), the address of its
    /// arguments (a `BriskArgs`), of its chunk list and the chunk count.
    job: Line<JobWords>,
    /// Chunks of the current job finished.
    done: Line<AtomicUsize>,
    /// Workers asleep (changed under `sleep`), and their wake-up call.
    sleepers: Line<AtomicUsize>,
    sleep: Mutex<()>,
    wake: Condvar,
    stop: AtomicBool,
}

/// A value alone in its cache line.
#[repr(align(64))]
struct Line<T>(T);

impl<T> std::ops::Deref for Line<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A job in words: the kernel, its chunks and its arguments (copied, so that a
/// worker reads them from this line and the next rather than from the
/// caller's stack).
#[derive(Default)]
struct JobWords {
    f: AtomicUsize,
    n: AtomicU64,
    per: AtomicU64,
    count: AtomicUsize,
    args: [AtomicU64; 12],
}

/// The chunks of a split launch: `[k * per, min((k + 1) * per, n))` for
/// `k < count()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunks {
    pub n: u64,
    pub per: u64,
}

impl Chunks {
    /// How many chunks (at least one, at most 2^32 - 1).
    pub fn count(&self) -> usize {
        (self.n.div_ceil(self.per.max(1)).max(1) as usize).min(0xFFFF_FFFF)
    }

    /// Chunk `k`.
    pub fn get(&self, k: usize) -> (u64, u64) {
        let lo = (k as u64).saturating_mul(self.per).min(self.n);
        (lo, lo.saturating_add(self.per).min(self.n))
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        (0..self.count()).map(|k| self.get(k))
    }
}

impl Shared {
    /// Takes and runs chunks of job `epoch` until none is left; returns how
    /// many it ran. A worker counts each in `done`; the caller (`count_done`
    /// false) counts its own.
    fn work(&self, epoch: u64, count_done: bool) -> usize {
        let mut ran = 0;
        loop {
            let t = self.ticket.load(Ordering::Acquire);
            if t >> 32 != epoch {
                return ran;
            }
            let k = (t & 0xFFFF_FFFF) as usize;
            // Read under ticket `t` (acquired: the job's words were written before it);
            // used only once the swap below proves `t` still current.
            let count = self.job.count.load(Ordering::Relaxed);
            if k >= count {
                return ran;
            }
            let f = self.job.f.load(Ordering::Relaxed);
            let chunks = Chunks {
                n: self.job.n.load(Ordering::Relaxed),
                per: self.job.per.load(Ordering::Relaxed),
            };
            let words: [u64; 12] =
                std::array::from_fn(|i| self.job.args[i].load(Ordering::Relaxed));
            if self
                .ticket
                .compare_exchange_weak(t, t + 1, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                continue;
            }
            // The swap succeeded, so ticket `t` was current when it ran: chunk `k` of
            // job `epoch` was not yet taken, so `done` had not reached `count`, and
            // `Pool::run` (which writes the next job only after it does, and only after
            // `done` acquires this worker's release below) had not replaced the words.
            // SAFETY: `f` was stored from a `KernelFn` by `Pool::run`, and a function
            // pointer round-trips through `usize`.
            let f: KernelFn = unsafe { std::mem::transmute::<usize, KernelFn>(f) };
            let mut a = BriskArgs::from_words(words);
            let (lo, hi) = chunks.get(k);
            (a.lo, a.hi) = (lo as i64, hi as i64);
            // SAFETY: the kernel reads the device's tables, alive for the job (see
            // `Pool::run`'s contract), over its own chunk's elements.
            unsafe { f(&a) };
            ran += 1;
            if count_done {
                self.done.fetch_add(1, Ordering::AcqRel);
            }
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
            ticket: Line(AtomicU64::new(0)),
            job: Line(JobWords::default()),
            done: Line(AtomicUsize::new(0)),
            sleepers: Line(AtomicUsize::new(0)),
            sleep: Mutex::new(()),
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

    /// Runs `f` over every chunk of `chunks`, on this thread and the workers;
    /// returns when all are done.
    ///
    /// # Safety
    /// `f` must be safe to call with `args` over each chunk's `lo..hi`, and
    /// over different chunks at once (they touch disjoint memory); what
    /// `args` points at must stay valid until `run` returns.
    pub unsafe fn run(&mut self, f: KernelFn, args: BriskArgs, chunks: Chunks) {
        let s = &*self.shared;
        self.epoch = (self.epoch + 1) & 0xFFFF_FFFF;
        s.job.f.store(f as usize, Ordering::Relaxed);
        s.job.n.store(chunks.n, Ordering::Relaxed);
        s.job.per.store(chunks.per, Ordering::Relaxed);
        for (word, value) in s.job.args.iter().zip(args.to_words()) {
            word.store(value, Ordering::Relaxed);
        }
        let count = chunks.count();
        s.job.count.store(count, Ordering::Relaxed);
        s.done.store(0, Ordering::Relaxed);
        // Publishes the words above to whoever acquires this ticket; chunk 0 is this
        // thread's, taken without a swap.
        s.ticket.store((self.epoch << 32) | 1, Ordering::Release);
        // A worker that counted itself asleep just now may be missed: then this thread
        // runs every chunk itself, and the next job wakes it.
        if s.sleepers.load(Ordering::Relaxed) > 0 {
            let _asleep = s.sleep.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_all();
        }
        let mut a = args;
        let (lo, hi) = chunks.get(0);
        (a.lo, a.hi) = (lo as i64, hi as i64);
        // SAFETY: the caller's contract, for chunk 0.
        unsafe { f(&a) };
        let mine = 1 + s.work(self.epoch, false);
        while s.done.load(Ordering::Acquire) + mine < count {
            std::hint::spin_loop();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let s = &*self.shared;
        s.stop.store(true, Ordering::SeqCst);
        s.job.count.store(0, Ordering::Relaxed);
        s.ticket
            .store(((self.epoch + 1) & 0xFFFF_FFFF) << 32, Ordering::SeqCst);
        {
            let _asleep = s.sleep.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_all();
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
                if spins.is_multiple_of(YIELD_EVERY) {
                    std::thread::yield_now();
                }
                continue;
            }
            let mut guard = s.sleep.lock().unwrap_or_else(|e| e.into_inner());
            s.sleepers.fetch_add(1, Ordering::SeqCst);
            while s.ticket.load(Ordering::SeqCst) >> 32 == seen && !s.stop.load(Ordering::SeqCst) {
                guard = s.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
            }
            s.sleepers.fetch_sub(1, Ordering::SeqCst);
            drop(guard);
            spins = 0;
        };
        if s.stop.load(Ordering::Acquire) {
            return;
        }
        seen = epoch;
        s.work(epoch, true);
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
            let parts = Chunks { n: 50, per: 10 };
            let mut a = args;
            a.n = job;
            // SAFETY: `add_range` reads only its arguments; the sum is atomic.
            unsafe { pool.run(add_range, a, parts) };
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

#[cfg(test)]
mod timing {
    use super::*;

    unsafe extern "C" fn nothing(_: *const BriskArgs) {}

    /// A few microseconds of work per chunk.
    unsafe extern "C" fn busy(a: *const BriskArgs) {
        // SAFETY: the pool passes a valid `BriskArgs`.
        let a = unsafe { &*a };
        let mut x = a.lo as f64;
        for _ in 0..2000 {
            x = std::hint::black_box(x * 1.000001 + 0.5);
        }
        std::hint::black_box(x);
    }

    /// The cost of one hand-over (not a test: `cargo test --release -- --ignored
    /// hand_over --nocapture` prints it).
    #[test]
    #[ignore]
    fn hand_over() {
        let mut pool = Pool::new(2).unwrap();
        let args = BriskArgs::new(0, 0, &crate::runtime::StepArgs::default());
        let parts = Chunks { n: 128, per: 64 };
        for round in 0..3 {
            let start = std::time::Instant::now();
            for _ in 0..200_000 {
                // SAFETY: `nothing` reads nothing.
                unsafe { pool.run(nothing, args, parts) };
            }
            eprintln!("round {round}: {:.0} ns per job", start.elapsed().as_nanos() as f64 / 2e5);
        }
        let a = BriskArgs::new(0, 0, &crate::runtime::StepArgs::default());
        let start = std::time::Instant::now();
        for _ in 0..20_000 {
            // SAFETY: `busy` reads only its arguments.
            unsafe { busy(&a) };
        }
        let one = start.elapsed().as_nanos() as f64 / 2e4;
        let start = std::time::Instant::now();
        for _ in 0..20_000 {
            // SAFETY: as above.
            unsafe { pool.run(busy, args, parts) };
        }
        let two = start.elapsed().as_nanos() as f64 / 2e4;
        eprintln!("one chunk alone {one:.0} ns; two chunks on two threads {two:.0} ns: {:.0} ns more", two - one);
    }
}

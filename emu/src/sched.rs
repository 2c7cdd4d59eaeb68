//! The scheduler: runs a launch block by block, a block's threads as fibers.
//!
//! In: a loaded kernel, its parameters, the grid and block shape and a
//! [`Schedule`]. Out: the launch's counts ([`BlockCounts`] summed), or a
//! [`Failure`] naming the kernel, the block and the thread.
//!
//! Blocks run one after another (in schedule order). Within a block, threads
//! run on *workers*: coroutines on pooled stacks (with guard pages). A
//! worker starts the block's threads one after another, in schedule order,
//! each running until it exits or reaches a barrier or a warp collective
//! (`shim.h` calls [`collective`], which suspends the worker with the thread
//! on its stack); then a new worker starts the next threads. A kernel
//! without collectives thus costs one function call per thread, and one
//! with barriers one worker per thread. When no thread can run, the waiting
//! ones are resolved:
//! * a warp collective completes when every lane in its mask waits at the
//!   same collective with the same mask; a lane of the mask that exited or
//!   waits elsewhere is a launch failure (divergent collective);
//! * a barrier releases when every live thread of the block waits at it;
//! * otherwise the block is deadlocked: a launch failure.
//!
//! Released threads resume in schedule order: ascending thread index
//! (`forward`), descending (`reverse`) or a fresh pseudo-random permutation
//! per release (`shuffle:SEED`). Code that is correct under CUDA's rules
//! gives the same results under every order; a missing barrier or an
//! order-dependent write shows as a difference.

use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, Ordering::Relaxed};
use std::time::Instant;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use cudarc::driver::sys::CUresult;

use crate::config::Schedule;
use crate::module::{Kernel, LaunchFn, ModuleState, Uint3};
use crate::trap;

/// Collective operations (`BRISK_EMU_*` in `shim.h`).
pub mod op {
    pub const BARRIER: u32 = 0;
    pub const SYNCWARP: u32 = 1;
    pub const BALLOT: u32 = 2;
    pub const ANY: u32 = 3;
    pub const ALL: u32 = 4;
    pub const SHFL: u32 = 5;
    pub const SHFL_UP: u32 = 6;
    pub const SHFL_DOWN: u32 = 7;
    pub const SHFL_XOR: u32 = 8;
    pub const YIELD: u32 = 9;
    pub const ABORT: u32 = 10;
    pub const ACTIVEMASK: u32 = 11;
    /// Barrier variants (the `arg` of BARRIER).
    pub const BAR_SYNC: u32 = 0;
    pub const BAR_COUNT: u32 = 1;
    pub const BAR_AND: u32 = 2;
    pub const BAR_OR: u32 = 3;
}

/// What a suspended thread waits at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    pub op: u32,
    pub mask: u32,
    pub value: u64,
    pub arg: u32,
}

/// How a thread's coroutine ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Exited,
    /// A fault (see [`trap`]) ended it.
    Trapped,
}

type Fiber = Coroutine<u64, Wait, End, DefaultStack>;
type FiberYielder = Yielder<u64, Wait>;

/// The yielder of the worker now running (set before every resume; one
/// launch runs at a time, under the driver's lock).
static YIELDER: AtomicPtr<FiberYielder> = AtomicPtr::new(std::ptr::null_mut());

/// Called by `shim.h` at every barrier and warp collective: suspends the
/// calling emulated thread and returns the collective's result.
///
/// # Safety
/// Only called from kernel code running inside a fiber of [`Scheduler::run`].
pub unsafe extern "C" fn collective(op: u32, mask: u32, value: u64, arg: u32) -> u64 {
    let y = YIELDER.load(Relaxed);
    if y.is_null() {
        // Kernel code outside a launch: nothing to return to.
        eprintln!("emulated CUDA driver: a barrier or warp collective outside a kernel launch");
        std::process::abort();
    }
    // SAFETY: YIELDER holds the yielder of the worker now running (set by the
    // worker when it starts and by the scheduler before every resume); the
    // yielder lives on the worker's stack for as long as the worker does.
    unsafe {
        (*y).suspend(Wait {
            op,
            mask,
            value,
            arg,
        })
    }
}

/// A failed launch: the CUDA error and what happened where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: CUresult,
    pub message: String,
    /// The faulting address of an illegal access (described by the caller, who knows the allocations).
    pub addr: Option<usize>,
}

/// What one block did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BlockCounts {
    pub barriers: u64,
    pub collectives: u64,
    pub resumes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not started yet, or released and about to resume.
    Ready,
    Waiting(Wait),
    Exited,
}

/// A coroutine that runs threads of one block.
struct Worker {
    fiber: Fiber,
    yielder: *mut FiberYielder,
}

/// What a block's workers share with the scheduler. Accessed through a raw
/// pointer only, by whichever side runs: the scheduler between resumes, a
/// worker while it runs.
struct Block {
    /// Threads not started yet; the next one is last.
    pending: Vec<u64>,
    /// The thread running now (set by the worker at a start, by the scheduler at a resume).
    current: u64,
    states: Vec<State>,
    /// The value each thread's next resume hands in (a collective's result).
    inputs: Vec<u64>,
    /// The worker (index into the scheduler's list) holding each waiting thread.
    holder: Vec<usize>,
    exited: usize,
    state: *mut ModuleState,
    dims: [u32; 3],
    launch: LaunchFn,
    params: *mut *mut c_void,
}

/// A launch's geometry.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub grid: [u32; 3],
    pub block: [u32; 3],
}

impl Shape {
    pub fn threads(&self) -> u32 {
        self.block[0] * self.block[1] * self.block[2]
    }
    pub fn blocks(&self) -> u64 {
        u64::from(self.grid[0]) * u64::from(self.grid[1]) * u64::from(self.grid[2])
    }
}

fn index3(linear: u64, dims: [u32; 3]) -> Uint3 {
    if dims[1] == 1 && dims[2] == 1 {
        return Uint3 {
            x: linear as u32,
            y: 0,
            z: 0,
        };
    }
    let (x, y) = (u64::from(dims[0]), u64::from(dims[1]));
    Uint3 {
        x: (linear % x) as u32,
        y: ((linear / x) % y) as u32,
        z: (linear / (x * y)) as u32,
    }
}

fn fmt3(u: Uint3) -> String {
    format!("({}, {}, {})", u.x, u.y, u.z)
}

/// splitmix64: the shuffle schedule's generator.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Puts `items` into schedule order (they arrive ascending).
fn order(items: &mut [u64], schedule: Schedule, rng: &mut u64) {
    match schedule {
        Schedule::Forward => {}
        Schedule::Reverse => items.reverse(),
        Schedule::Shuffle(_) => {
            for i in (1..items.len()).rev() {
                let j = (splitmix(rng) % (i as u64 + 1)) as usize;
                items.swap(i, j);
            }
        }
    }
}

pub fn op_name(w: &Wait) -> String {
    let shfl = |name: &str| {
        format!(
            "{name}(mask {:#010x}, lane/delta {}, width {})",
            w.mask,
            w.arg & 0xffff,
            (w.arg >> 16) & 0xff
        )
    };
    match w.op {
        op::BARRIER => match w.arg {
            op::BAR_COUNT => "__syncthreads_count".into(),
            op::BAR_AND => "__syncthreads_and".into(),
            op::BAR_OR => "__syncthreads_or".into(),
            _ => "__syncthreads".into(),
        },
        op::SYNCWARP => format!("__syncwarp({:#010x})", w.mask),
        op::BALLOT => format!("__ballot_sync({:#010x})", w.mask),
        op::ANY => format!("__any_sync({:#010x})", w.mask),
        op::ALL => format!("__all_sync({:#010x})", w.mask),
        op::SHFL => shfl("__shfl_sync"),
        op::SHFL_UP => shfl("__shfl_up_sync"),
        op::SHFL_DOWN => shfl("__shfl_down_sync"),
        op::SHFL_XOR => shfl("__shfl_xor_sync"),
        op::YIELD => "__nanosleep".into(),
        op::ACTIVEMASK => "__activemask".into(),
        other => format!("collective {other}"),
    }
}

/// Runs launches; keeps a pool of worker stacks between them.
pub struct Scheduler {
    stacks: Vec<DefaultStack>,
    stack_bytes: usize,
    rng: u64,
}

/// One launch in progress.
struct Run<'a> {
    kernel: &'a Kernel,
    shape: Shape,
    schedule: Schedule,
    started: Instant,
    timeout_s: f64,
    block: Uint3,
}

impl Run<'_> {
    fn fail(&self, code: CUresult, thread: Option<u64>, what: impl AsRef<str>) -> Failure {
        let at = match thread {
            Some(t) => format!(
                "block {}, thread {}",
                fmt3(self.block),
                fmt3(index3(t, self.shape.block))
            ),
            None => format!("block {}", fmt3(self.block)),
        };
        Failure {
            code,
            message: format!("kernel {}, {at}: {}", self.kernel.name, what.as_ref()),
            addr: None,
        }
    }

    fn thread_name(&self, t: usize) -> String {
        fmt3(index3(t as u64, self.shape.block))
    }
}

impl Scheduler {
    pub fn new(stack_bytes: usize, schedule: Schedule) -> Scheduler {
        let seed = match schedule {
            Schedule::Shuffle(s) => s,
            _ => 0,
        };
        Scheduler {
            stacks: Vec::new(),
            stack_bytes,
            rng: seed,
        }
    }

    fn stack(&mut self) -> Result<DefaultStack, Failure> {
        match self.stacks.pop() {
            Some(s) => Ok(s),
            None => DefaultStack::new(self.stack_bytes).map_err(|e| Failure {
                code: CUresult::CUDA_ERROR_OUT_OF_MEMORY,
                message: format!(
                    "cannot map a {} KiB stack for an emulated thread: {e}",
                    self.stack_bytes >> 10
                ),
                addr: None,
            }),
        }
    }

    /// Gives a finished (or abandoned) worker's stack back to the pool.
    fn recycle(&mut self, mut fiber: Fiber) {
        if !fiber.done() {
            // SAFETY: the worker is suspended in `collective` under kernel code:
            // plain C++ frames and Rust frames holding only Copy values and raw
            // pointers, so no destructor is skipped by abandoning its stack.
            unsafe { fiber.force_reset() };
        }
        self.stacks.push(fiber.into_stack());
    }

    /// Runs every block of a launch.
    ///
    /// # Safety
    /// `state` is the live module state of `kernel`'s module and `params`
    /// holds one valid pointer per kernel parameter, each to a value of the
    /// parameter's size (cuLaunchKernel's contract, sizes checked at load).
    pub unsafe fn run(
        &mut self,
        state: *mut ModuleState,
        kernel: &Kernel,
        params: *mut *mut c_void,
        shape: Shape,
        schedule: Schedule,
        timeout_s: f64,
    ) -> Result<BlockCounts, Failure> {
        let mut blocks: Vec<u64> = (0..shape.blocks()).collect();
        order(&mut blocks, schedule, &mut self.rng);
        let started = Instant::now();
        let mut total = BlockCounts::default();
        trap::prepare_thread();
        // SAFETY (all accesses to `*state` below): `state` is valid for the
        // whole launch (caller's contract) and only this thread uses it.
        unsafe {
            (*state).block_dim = Uint3 {
                x: shape.block[0],
                y: shape.block[1],
                z: shape.block[2],
            };
            (*state).grid_dim = Uint3 {
                x: shape.grid[0],
                y: shape.grid[1],
                z: shape.grid[2],
            };
        }
        let n = shape.threads() as usize;
        let mut block = Block {
            pending: Vec::with_capacity(n),
            current: 0,
            states: Vec::with_capacity(n),
            inputs: Vec::with_capacity(n),
            holder: Vec::with_capacity(n),
            exited: 0,
            state,
            dims: shape.block,
            launch: kernel.launch,
            params,
        };
        for b in blocks {
            let index = index3(b, shape.grid);
            // SAFETY: see above; the shared section lies inside the module's image.
            unsafe {
                (*state).block_idx = index;
                let (start, stop) = ((*state).shared_start, (*state).shared_stop);
                if !start.is_null() && stop > start {
                    std::ptr::write_bytes(start, 0xff, stop as usize - start as usize);
                }
            }
            let run = Run {
                kernel,
                shape,
                schedule,
                started,
                timeout_s,
                block: index,
            };
            let counts = self.run_block(&run, &mut block)?;
            total.barriers += counts.barriers;
            total.collectives += counts.collectives;
            total.resumes += counts.resumes;
        }
        YIELDER.store(std::ptr::null_mut(), Relaxed);
        Ok(total)
    }

    /// Runs one block to its end.
    fn run_block(&mut self, run: &Run, block: &mut Block) -> Result<BlockCounts, Failure> {
        let n = run.shape.threads() as usize;
        block.pending.clear();
        block.pending.extend(0..n as u64);
        order(&mut block.pending, run.schedule, &mut self.rng);
        block.pending.reverse();
        block.states.clear();
        block.states.resize(n, State::Ready);
        block.inputs.clear();
        block.inputs.resize(n, 0);
        block.holder.clear();
        block.holder.resize(n, usize::MAX);
        block.exited = 0;
        let mut workers: Vec<Option<Worker>> = Vec::new();
        let mut counts = BlockCounts::default();
        let b: *mut Block = block;
        let result = (|| {
            // Start every thread: a new worker whenever the last one's thread waits.
            // SAFETY: `b` points at `block`, alive for the whole block; no
            // reference to it is held while a worker runs.
            while unsafe { !(&(*b).pending).is_empty() } {
                let fiber = self.new_worker(b)?;
                workers.push(Some(Worker {
                    fiber,
                    yielder: std::ptr::null_mut(),
                }));
                let w = workers.len() - 1;
                self.resume(run, b, &mut workers, w, 0, &mut counts)?;
            }
            loop {
                // SAFETY: as above; no worker runs during resolution.
                let next = match unsafe { self.resolve(run, &mut *b, &mut counts)? } {
                    None => return Ok(counts),
                    Some(next) => next,
                };
                for t in next {
                    // SAFETY: as above.
                    let (w, input) = unsafe {
                        (*b).current = t;
                        (*(*b).state).thread_idx = index3(t, (*b).dims);
                        ((&(*b).holder)[t as usize], (&(*b).inputs)[t as usize])
                    };
                    self.resume(run, b, &mut workers, w, input, &mut counts)?;
                }
            }
        })();
        for w in workers.into_iter().flatten() {
            self.recycle(w.fiber);
        }
        result
    }

    fn new_worker(&mut self, b: *mut Block) -> Result<Fiber, Failure> {
        let stack = self.stack()?;
        let b = b as usize;
        Ok(Coroutine::with_stack(
            stack,
            move |y: &FiberYielder, _: u64| {
                YIELDER.store(y as *const FiberYielder as *mut FiberYielder, Relaxed);
                let b = b as *mut Block;
                loop {
                    // SAFETY: `b` points at the scheduler's `Block`, which outlives
                    // the block's workers; while a worker runs, nothing else uses it.
                    // The launch contract (see `run`) covers the parameter pointers.
                    unsafe {
                        let Some(t) = (&mut (*b).pending).pop() else {
                            return End::Exited;
                        };
                        (*b).current = t;
                        (*(*b).state).thread_idx = index3(t, (*b).dims);
                        ((*b).launch)((*b).params);
                        (&mut (*b).states)[t as usize] = State::Exited;
                        (*b).exited += 1;
                    }
                }
            },
        ))
    }

    /// Resumes worker `w` (for the thread `(*b).current`) until it waits or ends.
    fn resume(
        &mut self,
        run: &Run,
        b: *mut Block,
        workers: &mut [Option<Worker>],
        w: usize,
        input: u64,
        counts: &mut BlockCounts,
    ) -> Result<(), Failure> {
        let Some(worker) = workers.get_mut(w).and_then(Option::as_mut) else {
            // SAFETY: `b` is valid (see `run_block`); no worker runs.
            let t = unsafe { (*b).current };
            return Err(run.fail(
                CUresult::CUDA_ERROR_UNKNOWN,
                Some(t),
                "internal: a waiting thread without a worker",
            ));
        };
        if !worker.yielder.is_null() {
            YIELDER.store(worker.yielder, Relaxed);
        }
        counts.resumes += 1;
        trap::arm(worker.fiber.trap_handler());
        let outcome = worker.fiber.resume(input);
        trap::disarm();
        if worker.yielder.is_null() {
            // A new worker stores its yielder when it starts.
            worker.yielder = YIELDER.load(Relaxed);
        }
        // SAFETY: `b` is valid (see `run_block`); the worker has stopped running.
        let t = unsafe { (*b).current };
        match outcome {
            CoroutineResult::Yield(wait) if wait.op == op::ABORT => {
                // SAFETY: the shim passes a pointer to a NUL-terminated string literal.
                let what = unsafe {
                    std::ffi::CStr::from_ptr(wait.value as usize as *const std::ffi::c_char)
                };
                let code = if what.to_bytes().starts_with(b"assertion") {
                    CUresult::CUDA_ERROR_ASSERT
                } else {
                    CUresult::CUDA_ERROR_LAUNCH_FAILED
                };
                Err(run.fail(code, Some(t), what.to_string_lossy()))
            }
            CoroutineResult::Yield(wait) => {
                // SAFETY: as above.
                unsafe {
                    (&mut (*b).states)[t as usize] = State::Waiting(wait);
                    (&mut (*b).holder)[t as usize] = w;
                }
                Ok(())
            }
            CoroutineResult::Return(End::Exited) => {
                if let Some(done) = workers[w].take() {
                    self.recycle(done.fiber);
                }
                Ok(())
            }
            CoroutineResult::Return(End::Trapped) => {
                if let Some(done) = workers[w].take() {
                    self.recycle(done.fiber);
                }
                let fault = trap::take_fault();
                let (code, what) = trap::describe(fault);
                let mut failure = run.fail(code, Some(t), what);
                failure.addr = fault
                    .filter(|f| !f.stack && code == CUresult::CUDA_ERROR_ILLEGAL_ADDRESS)
                    .map(|f| f.addr);
                Err(failure)
            }
        }
    }

    /// Releases what can be released, in schedule order. `Ok(None)`: every thread exited.
    fn resolve(
        &mut self,
        run: &Run,
        block: &mut Block,
        counts: &mut BlockCounts,
    ) -> Result<Option<Vec<u64>>, Failure> {
        let n = block.states.len();
        if block.exited == n {
            return Ok(None);
        }
        if run.started.elapsed().as_secs_f64() > run.timeout_s {
            return Err(run.fail(
                CUresult::CUDA_ERROR_LAUNCH_TIMEOUT,
                None,
                format!(
                    "the launch ran longer than {} s (BRISK_EMU_TIMEOUT); a thread may be waiting for a value that \
                     another block, or a thread past a barrier, would write",
                    run.timeout_s
                ),
            ));
        }
        let states = &mut block.states;
        let inputs = &mut block.inputs;
        let mut released: Vec<u64> = Vec::new();
        for base in (0..n).step_by(32) {
            let lanes = (n - base).min(32);
            let live_mask: u32 = (0..lanes)
                .filter(|&l| states[base + l] != State::Exited)
                .fold(0, |m, l| m | (1 << l));
            for lane in 0..lanes {
                let t = base + lane;
                let State::Waiting(w) = states[t] else {
                    continue;
                };
                if w.op == op::BARRIER {
                    continue;
                }
                if w.op == op::YIELD || w.op == op::ACTIVEMASK {
                    inputs[t] = if w.op == op::ACTIVEMASK {
                        u64::from(live_mask)
                    } else {
                        0
                    };
                    states[t] = State::Ready;
                    released.push(t as u64);
                    continue;
                }
                warp_group(run, states, base, lanes, lane, w)?;
                for (l, r) in warp_results(run, states, base, w)? {
                    inputs[base + l] = r;
                    states[base + l] = State::Ready;
                    released.push((base + l) as u64);
                }
                counts.collectives += 1;
            }
        }
        if released.is_empty() {
            // Only barriers are left: every live thread must wait at one.
            released = barrier(run, states, inputs)?;
            counts.barriers += 1;
        }
        released.sort_unstable();
        order(&mut released, run.schedule, &mut self.rng);
        Ok(Some(released))
    }
}

/// Releases a barrier at which every live thread waits (all released, ascending).
fn barrier(run: &Run, states: &mut [State], inputs: &mut [u64]) -> Result<Vec<u64>, Failure> {
    let mut variant: Option<(u32, usize)> = None;
    let (mut live, mut with_pred) = (0u64, 0u64);
    for (t, s) in states.iter().enumerate() {
        match *s {
            State::Exited => {}
            State::Waiting(w) if w.op == op::BARRIER => {
                match variant {
                    None => variant = Some((w.arg, t)),
                    Some((a, first)) if a != w.arg => {
                        return Err(run.fail(
                            CUresult::CUDA_ERROR_LAUNCH_FAILED,
                            Some(t as u64),
                            format!(
                                "divergent barriers: this thread waits at {}, thread {} at {}",
                                op_name(&w),
                                run.thread_name(first),
                                op_name(&Wait { arg: a, ..w })
                            ),
                        ))
                    }
                    Some(_) => {}
                }
                live += 1;
                with_pred += u64::from(w.value != 0);
            }
            State::Waiting(w) => {
                return Err(run.fail(
                    CUresult::CUDA_ERROR_LAUNCH_FAILED,
                    Some(t as u64),
                    format!(
                        "deadlock: this thread waits at {} and no other thread can run",
                        op_name(&w)
                    ),
                ))
            }
            State::Ready => {
                return Err(run.fail(
                    CUresult::CUDA_ERROR_UNKNOWN,
                    Some(t as u64),
                    "internal: a ready thread at resolution",
                ))
            }
        }
    }
    let result = match variant.map(|v| v.0) {
        Some(op::BAR_COUNT) => with_pred,
        Some(op::BAR_AND) => u64::from(with_pred == live),
        Some(op::BAR_OR) => u64::from(with_pred > 0),
        _ => 0,
    };
    let mut next = Vec::with_capacity(live as usize);
    for (t, s) in states.iter_mut().enumerate() {
        if let State::Waiting(_) = *s {
            inputs[t] = result;
            *s = State::Ready;
            next.push(t as u64);
        }
    }
    Ok(next)
}

/// Checks that every lane in the mask of the collective lane `lane` waits at
/// waits at the same collective with the same mask.
fn warp_group(
    run: &Run,
    states: &[State],
    base: usize,
    lanes: usize,
    lane: usize,
    w: Wait,
) -> Result<(), Failure> {
    let t = (base + lane) as u64;
    if w.mask & (1 << lane) == 0 {
        return Err(run.fail(
            CUresult::CUDA_ERROR_LAUNCH_FAILED,
            Some(t),
            format!("{} leaves out the calling lane {lane}", op_name(&w)),
        ));
    }
    for j in (0..32).filter(|j| w.mask & (1 << j) != 0) {
        if j >= lanes {
            return Err(run.fail(
                CUresult::CUDA_ERROR_LAUNCH_FAILED,
                Some(t),
                format!(
                    "{} names lane {j}, but this warp has {lanes} threads",
                    op_name(&w)
                ),
            ));
        }
        let u = base + j;
        match states[u] {
            State::Waiting(w2) if w2.op == w.op && w2.mask == w.mask => {}
            State::Exited => {
                return Err(run.fail(
                    CUresult::CUDA_ERROR_LAUNCH_FAILED,
                    Some(t),
                    format!(
                        "{}: lane {j} (thread {}) has exited, so the collective can never complete",
                        op_name(&w),
                        run.thread_name(u)
                    ),
                ))
            }
            State::Waiting(w2) => {
                return Err(run.fail(
                    CUresult::CUDA_ERROR_LAUNCH_FAILED,
                    Some(t),
                    format!(
                        "divergent collective: this thread waits at {}, lane {j} (thread {}) at {}",
                        op_name(&w),
                        run.thread_name(u),
                        op_name(&w2)
                    ),
                ))
            }
            State::Ready => {
                return Err(run.fail(
                    CUresult::CUDA_ERROR_UNKNOWN,
                    Some(t),
                    "internal: a ready lane at resolution",
                ))
            }
        }
    }
    Ok(())
}

/// Each participant's result of a complete warp collective: (lane, result).
fn warp_results(
    run: &Run,
    states: &[State],
    base: usize,
    w: Wait,
) -> Result<Vec<(usize, u64)>, Failure> {
    let mask = w.mask;
    let lanes: Vec<usize> = (0..32).filter(|l| mask & (1 << l) != 0).collect();
    let waiting = |l: usize| match states[base + l] {
        State::Waiting(x) => x,
        _ => w,
    };
    let preds = lanes
        .iter()
        .filter(|&&l| waiting(l).value != 0)
        .fold(0u64, |m, &l| m | (1 << l));
    let mut out = Vec::with_capacity(lanes.len());
    for &l in &lanes {
        let r = match w.op {
            op::SYNCWARP => 0,
            op::BALLOT => preds,
            op::ANY => u64::from(preds != 0),
            op::ALL => u64::from(preds == u64::from(mask)),
            op::SHFL | op::SHFL_UP | op::SHFL_DOWN | op::SHFL_XOR => {
                let a = waiting(l).arg;
                let (k, width) = ((a & 0xffff) as usize, ((a >> 16) & 0xff) as usize);
                if !(1..=32).contains(&width) || !width.is_power_of_two() {
                    return Err(run.fail(
                        CUresult::CUDA_ERROR_LAUNCH_FAILED,
                        Some((base + l) as u64),
                        format!(
                            "{}: width {width} is not a power of two up to 32",
                            op_name(&w)
                        ),
                    ));
                }
                let seg = l & !(width - 1);
                let src = match w.op {
                    op::SHFL => seg + (k & (width - 1)),
                    op::SHFL_UP if l - seg >= k => l - k,
                    op::SHFL_DOWN if l - seg + k < width => l + k,
                    op::SHFL_XOR if (l ^ (k & 31)) & !(width - 1) == seg => l ^ (k & 31),
                    _ => l,
                };
                if mask & (1 << src) == 0 {
                    return Err(run.fail(
                        CUresult::CUDA_ERROR_LAUNCH_FAILED,
                        Some((base + l) as u64),
                        format!("{} reads lane {src}, which is not in the mask (its value is undefined)", op_name(&w)),
                    ));
                }
                waiting(src).value
            }
            other => {
                return Err(run.fail(
                    CUresult::CUDA_ERROR_LAUNCH_FAILED,
                    Some((base + l) as u64),
                    format!("unknown collective {other}"),
                ))
            }
        };
        out.push((l, r));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders() {
        let mut rng = 1;
        let mut v: Vec<u64> = (0..8).collect();
        order(&mut v, Schedule::Forward, &mut rng);
        assert_eq!(v, (0..8).collect::<Vec<_>>());
        order(&mut v, Schedule::Reverse, &mut rng);
        assert_eq!(v, (0..8).rev().collect::<Vec<_>>());
        let mut s: Vec<u64> = (0..64).collect();
        order(&mut s, Schedule::Shuffle(1), &mut rng);
        assert_ne!(s, (0..64).collect::<Vec<_>>());
        s.sort_unstable();
        assert_eq!(s, (0..64).collect::<Vec<_>>());
    }

    #[test]
    fn three_dimensional_indices() {
        let u = index3(1 + 2 * 4 + 3 * 4 * 5, [4, 5, 6]);
        assert_eq!((u.x, u.y, u.z), (1, 2, 3));
    }
}

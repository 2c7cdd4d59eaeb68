//! The scheduler: runs a launch block by block, a block's threads as fibers.
//!
//! In: a loaded kernel, its parameters, the grid and block shape and a
//! [`Schedule`]. Out: the launch's counts ([`BlockCounts`] summed), or a
//! [`Failure`] naming the kernel, the block and the thread.
//!
//! Blocks run one after another (in schedule order). Within a block every
//! thread is a coroutine on its own stack (with a guard page), created when
//! it first runs; a thread runs until it exits or reaches a barrier or a
//! warp collective (`shim.h` calls [`collective`], which suspends it). When
//! no thread can run, the waiting ones are resolved:
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

use std::cell::Cell;
use std::ffi::c_void;
use std::time::Instant;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use cudarc::driver::sys::CUresult;

use crate::config::Schedule;
use crate::module::{Kernel, ModuleState, Uint3};
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

thread_local! {
    /// The yielder of the thread now running (set before every resume).
    static YIELDER: Cell<*const FiberYielder> = const { Cell::new(std::ptr::null()) };
}

/// Called by `shim.h` at every barrier and warp collective: suspends the
/// calling emulated thread and returns the collective's result.
///
/// # Safety
/// Only called from kernel code running inside a fiber of [`Scheduler::run`].
pub unsafe extern "C" fn collective(op: u32, mask: u32, value: u64, arg: u32) -> u64 {
    let y = YIELDER.with(Cell::get);
    if y.is_null() {
        // Kernel code outside a launch: nothing to return to.
        eprintln!("emulated CUDA driver: a barrier or warp collective outside a kernel launch");
        std::process::abort();
    }
    // SAFETY: YIELDER holds the yielder of the fiber now running (set by the
    // scheduler before it resumed this fiber); the yielder lives on the
    // fiber's stack for as long as the fiber does.
    unsafe { (*y).suspend(Wait { op, mask, value, arg }) }
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
    Ready,
    Waiting(Wait),
    Exited,
}

struct Thread {
    fiber: Option<Fiber>,
    state: State,
    /// The value the next resume hands in (a collective's result).
    input: u64,
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
    let (x, y) = (u64::from(dims[0]), u64::from(dims[1]));
    Uint3 { x: (linear % x) as u32, y: ((linear / x) % y) as u32, z: (linear / (x * y)) as u32 }
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
    let shfl = |name: &str| format!("{name}(mask {:#010x}, lane/delta {}, width {})", w.mask, w.arg & 0xffff, (w.arg >> 16) & 0xff);
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

/// Runs launches; keeps a pool of fiber stacks between them.
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
    deadline: Option<(Instant, f64)>,
    block: Uint3,
}

impl Run<'_> {
    fn fail(&self, code: CUresult, thread: Option<u64>, what: impl AsRef<str>) -> Failure {
        let at = match thread {
            Some(t) => format!("block {}, thread {}", fmt3(self.block), fmt3(index3(t, self.shape.block))),
            None => format!("block {}", fmt3(self.block)),
        };
        Failure { code, message: format!("kernel {}, {at}: {}", self.kernel.name, what.as_ref()), addr: None }
    }
}

impl Scheduler {
    pub fn new(stack_bytes: usize, schedule: Schedule) -> Scheduler {
        let seed = match schedule {
            Schedule::Shuffle(s) => s,
            _ => 0,
        };
        Scheduler { stacks: Vec::new(), stack_bytes, rng: seed }
    }

    fn stack(&mut self) -> Result<DefaultStack, Failure> {
        match self.stacks.pop() {
            Some(s) => Ok(s),
            None => DefaultStack::new(self.stack_bytes).map_err(|e| Failure {
                code: CUresult::CUDA_ERROR_OUT_OF_MEMORY,
                message: format!("cannot map a {} KiB stack for an emulated thread: {e}", self.stack_bytes >> 10),
                addr: None,
            }),
        }
    }

    /// Gives a finished (or abandoned) fiber's stack back to the pool.
    fn recycle(&mut self, mut fiber: Fiber) {
        if !fiber.done() {
            // SAFETY: the fiber is suspended in `collective` under kernel code:
            // plain C++ frames and Rust frames holding only Copy values, so no
            // destructor is skipped by abandoning its stack.
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
        let deadline = Some((Instant::now(), timeout_s));
        let mut total = BlockCounts::default();
        trap::prepare_thread();
        // SAFETY (all accesses to `*state` below): `state` is valid for the
        // whole launch (caller's contract) and only this thread uses it.
        unsafe {
            (*state).block_dim = Uint3 { x: shape.block[0], y: shape.block[1], z: shape.block[2] };
            (*state).grid_dim = Uint3 { x: shape.grid[0], y: shape.grid[1], z: shape.grid[2] };
        }
        for b in blocks {
            let block = index3(b, shape.grid);
            // SAFETY: see above; the shared section lies inside the module's image.
            unsafe {
                (*state).block_idx = block;
                let (start, stop) = ((*state).shared_start, (*state).shared_stop);
                if !start.is_null() && stop > start {
                    std::ptr::write_bytes(start, 0xff, stop as usize - start as usize);
                }
            }
            let run = Run { kernel, shape, schedule, deadline, block };
            // SAFETY: forwarded caller contract.
            let counts = unsafe { self.run_block(&run, state, params)? };
            total.barriers += counts.barriers;
            total.collectives += counts.collectives;
            total.resumes += counts.resumes;
        }
        Ok(total)
    }

    /// Runs one block to its end.
    unsafe fn run_block(&mut self, run: &Run, state: *mut ModuleState, params: *mut *mut c_void) -> Result<BlockCounts, Failure> {
        let n = run.shape.threads() as usize;
        let mut threads: Vec<Thread> = (0..n).map(|_| Thread { fiber: None, state: State::Ready, input: 0 }).collect();
        let yielders: Box<[Cell<*const FiberYielder>]> = (0..n).map(|_| Cell::new(std::ptr::null())).collect();
        let mut ready: Vec<u64> = (0..n as u64).collect();
        order(&mut ready, run.schedule, &mut self.rng);
        let mut counts = BlockCounts::default();
        let result = loop {
            // SAFETY: forwarded caller contract.
            if let Err(f) = unsafe { self.resume_all(run, state, params, &mut threads, &yielders, &ready, &mut counts) } {
                break Err(f);
            }
            match self.resolve(run, &mut threads, &mut counts) {
                Ok(None) => break Ok(counts),
                Ok(Some(mut next)) => {
                    order(&mut next, run.schedule, &mut self.rng);
                    ready = next;
                }
                Err(f) => break Err(f),
            }
        };
        for t in threads.iter_mut() {
            if let Some(f) = t.fiber.take() {
                self.recycle(f);
            }
        }
        YIELDER.with(|y| y.set(std::ptr::null()));
        result
    }

    /// Resumes the `ready` threads in order until each waits or ends.
    #[allow(clippy::too_many_arguments)]
    unsafe fn resume_all(
        &mut self,
        run: &Run,
        state: *mut ModuleState,
        params: *mut *mut c_void,
        threads: &mut [Thread],
        yielders: &[Cell<*const FiberYielder>],
        ready: &[u64],
        counts: &mut BlockCounts,
    ) -> Result<(), Failure> {
        for &t in ready {
            let i = t as usize;
            if threads[i].fiber.is_none() {
                let stack = self.stack()?;
                let slot = &yielders[i] as *const Cell<*const FiberYielder> as usize;
                let launch = run.kernel.launch;
                let params = params as usize;
                threads[i].fiber = Some(Coroutine::with_stack(stack, move |y: &FiberYielder, _: u64| {
                    let slot = slot as *const Cell<*const FiberYielder>;
                    // SAFETY: `slot` points into the block's `yielders`, which
                    // outlives every fiber of the block.
                    unsafe { (*slot).set(y) };
                    YIELDER.with(|c| c.set(y));
                    // SAFETY: the scheduler's caller guarantees the parameter
                    // pointers; the trampoline unpacks them by the kernel's types.
                    unsafe { launch(params as *mut *mut c_void) };
                    End::Exited
                }));
            }
            // SAFETY: `state` is valid for the launch (caller's contract).
            unsafe { (*state).thread_idx = index3(t, run.shape.block) };
            YIELDER.with(|c| c.set(yielders[i].get()));
            let fiber = threads[i].fiber.as_mut().expect("the fiber was just created");
            counts.resumes += 1;
            trap::arm(fiber.trap_handler());
            let outcome = fiber.resume(threads[i].input);
            trap::disarm();
            match outcome {
                CoroutineResult::Yield(w) if w.op == op::ABORT => {
                    // SAFETY: the shim passes a pointer to a NUL-terminated string literal.
                    let what = unsafe { std::ffi::CStr::from_ptr(w.value as usize as *const std::ffi::c_char) };
                    let code = if what.to_bytes().starts_with(b"assertion") {
                        CUresult::CUDA_ERROR_ASSERT
                    } else {
                        CUresult::CUDA_ERROR_LAUNCH_FAILED
                    };
                    return Err(run.fail(code, Some(t), what.to_string_lossy()));
                }
                CoroutineResult::Yield(w) => threads[i].state = State::Waiting(w),
                CoroutineResult::Return(End::Exited) => {
                    threads[i].state = State::Exited;
                    if let Some(f) = threads[i].fiber.take() {
                        self.recycle(f);
                    }
                }
                CoroutineResult::Return(End::Trapped) => {
                    let fault = trap::take_fault();
                    let (code, what) = trap::describe(fault);
                    let mut failure = run.fail(code, Some(t), what);
                    failure.addr = fault.filter(|f| !f.stack && code == CUresult::CUDA_ERROR_ILLEGAL_ADDRESS).map(|f| f.addr);
                    return Err(failure);
                }
            }
        }
        Ok(())
    }

    /// Releases what can be released. `Ok(None)`: every thread exited.
    fn resolve(&mut self, run: &Run, threads: &mut [Thread], counts: &mut BlockCounts) -> Result<Option<Vec<u64>>, Failure> {
        let n = threads.len();
        if threads.iter().all(|t| t.state == State::Exited) {
            return Ok(None);
        }
        if let Some((start, limit)) = run.deadline {
            if start.elapsed().as_secs_f64() > limit {
                return Err(run.fail(
                    CUresult::CUDA_ERROR_LAUNCH_TIMEOUT,
                    None,
                    format!(
                        "the launch ran longer than {limit} s (BRISK_EMU_TIMEOUT); a thread may be waiting for a \
                         value that another block, or a thread past a barrier, would write"
                    ),
                ));
            }
        }
        let mut released: Vec<u64> = Vec::new();
        let warps = n.div_ceil(32);
        for warp in 0..warps {
            let base = warp * 32;
            let lanes = (n - base).min(32);
            let live_mask: u32 = (0..lanes).filter(|&l| threads[base + l].state != State::Exited).fold(0, |m, l| m | (1 << l));
            let mut done: u32 = 0;
            for lane in 0..lanes {
                let t = base + lane;
                let State::Waiting(w) = threads[t].state else { continue };
                if done & (1 << lane) != 0 || w.op == op::BARRIER {
                    continue;
                }
                if w.op == op::YIELD || w.op == op::ACTIVEMASK {
                    threads[t].input = if w.op == op::ACTIVEMASK { u64::from(live_mask) } else { 0 };
                    threads[t].state = State::Ready;
                    released.push(t as u64);
                    continue;
                }
                let participants = self.warp_group(run, threads, base, lanes, lane, w)?;
                let results = warp_results(run, threads, base, participants, w)?;
                for (l, r) in results {
                    threads[base + l].input = r;
                    threads[base + l].state = State::Ready;
                    released.push((base + l) as u64);
                }
                done |= participants;
                counts.collectives += 1;
            }
        }
        if !released.is_empty() {
            released.sort_unstable();
            return Ok(Some(released));
        }
        // Only barriers are left: every live thread must wait at one.
        let mut variant = None;
        let (mut live, mut with_pred) = (0u64, 0u64);
        for (t, th) in threads.iter().enumerate() {
            match th.state {
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
                                    fmt3(index3(first as u64, run.shape.block)),
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
                        format!("deadlock: this thread waits at {} and no other thread can run", op_name(&w)),
                    ))
                }
                State::Ready => {
                    return Err(run.fail(CUresult::CUDA_ERROR_UNKNOWN, Some(t as u64), "internal: a ready thread at resolution"))
                }
            }
        }
        let result = match variant.map(|v| v.0) {
            Some(op::BAR_COUNT) => with_pred,
            Some(op::BAR_AND) => u64::from(with_pred == live),
            Some(op::BAR_OR) => u64::from(with_pred > 0),
            _ => 0,
        };
        counts.barriers += 1;
        let mut next = Vec::with_capacity(live as usize);
        for (t, th) in threads.iter_mut().enumerate() {
            if let State::Waiting(_) = th.state {
                th.input = result;
                th.state = State::Ready;
                next.push(t as u64);
            }
        }
        Ok(Some(next))
    }

    /// The lanes (a mask) taking part in the warp collective lane `lane` waits at.
    fn warp_group(&self, run: &Run, threads: &[Thread], base: usize, lanes: usize, lane: usize, w: Wait) -> Result<u32, Failure> {
        let t = (base + lane) as u64;
        if w.mask & (1 << lane) == 0 {
            return Err(run.fail(
                CUresult::CUDA_ERROR_LAUNCH_FAILED,
                Some(t),
                format!("{} leaves out the calling lane {lane}", op_name(&w)),
            ));
        }
        for j in 0..32 {
            if w.mask & (1 << j) == 0 {
                continue;
            }
            if j >= lanes {
                return Err(run.fail(
                    CUresult::CUDA_ERROR_LAUNCH_FAILED,
                    Some(t),
                    format!("{} names lane {j}, but this warp has {lanes} threads", op_name(&w)),
                ));
            }
            let u = base + j;
            match threads[u].state {
                State::Waiting(w2) if w2.op == w.op && w2.mask == w.mask => {}
                State::Exited => {
                    return Err(run.fail(
                        CUresult::CUDA_ERROR_LAUNCH_FAILED,
                        Some(t),
                        format!(
                            "{}: lane {j} (thread {}) has exited, so the collective can never complete",
                            op_name(&w),
                            fmt3(index3(u as u64, run.shape.block))
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
                            fmt3(index3(u as u64, run.shape.block)),
                            op_name(&w2)
                        ),
                    ))
                }
                State::Ready => {
                    return Err(run.fail(CUresult::CUDA_ERROR_UNKNOWN, Some(t), "internal: a ready lane at resolution"))
                }
            }
        }
        Ok(w.mask)
    }
}

/// Each participant's result of a complete warp collective: (lane, result).
fn warp_results(run: &Run, threads: &[Thread], base: usize, mask: u32, w: Wait) -> Result<Vec<(usize, u64)>, Failure> {
    let lanes: Vec<usize> = (0..32).filter(|l| mask & (1 << l) != 0).collect();
    let value = |l: usize| match threads[base + l].state {
        State::Waiting(x) => x.value,
        _ => 0,
    };
    let arg = |l: usize| match threads[base + l].state {
        State::Waiting(x) => x.arg,
        _ => 0,
    };
    let preds = lanes.iter().filter(|&&l| value(l) != 0).fold(0u64, |m, &l| m | (1 << l));
    let mut out = Vec::with_capacity(lanes.len());
    for &l in &lanes {
        let r = match w.op {
            op::SYNCWARP => 0,
            op::BALLOT => preds,
            op::ANY => u64::from(preds != 0),
            op::ALL => u64::from(preds == u64::from(mask)),
            op::SHFL | op::SHFL_UP | op::SHFL_DOWN | op::SHFL_XOR => {
                let a = arg(l);
                let (k, width) = ((a & 0xffff) as usize, ((a >> 16) & 0xff) as usize);
                if !(1..=32).contains(&width) || !width.is_power_of_two() {
                    return Err(run.fail(
                        CUresult::CUDA_ERROR_LAUNCH_FAILED,
                        Some((base + l) as u64),
                        format!("{}: width {width} is not a power of two up to 32", op_name(&w)),
                    ));
                }
                let seg = l & !(width - 1);
                let src = match w.op {
                    op::SHFL => seg + (k & (width - 1)),
                    op::SHFL_UP => {
                        if l - seg >= k {
                            l - k
                        } else {
                            l
                        }
                    }
                    op::SHFL_DOWN => {
                        if l - seg + k < width {
                            l + k
                        } else {
                            l
                        }
                    }
                    _ => {
                        let s = l ^ (k & 31);
                        if s & !(width - 1) == seg {
                            s
                        } else {
                            l
                        }
                    }
                };
                if mask & (1 << src) == 0 {
                    return Err(run.fail(
                        CUresult::CUDA_ERROR_LAUNCH_FAILED,
                        Some((base + l) as u64),
                        format!("{} reads lane {src}, which is not in the mask (its value is undefined)", op_name(&w)),
                    ));
                }
                value(src)
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

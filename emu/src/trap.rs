//! Faults in kernel code: a SIGSEGV, SIGBUS, SIGFPE or SIGILL raised while
//! an emulated thread runs ends that thread, and with it the launch.
//!
//! In: the signal, its address and the interrupted registers. Out: the
//! fault, kept for the scheduler ([`take_fault`]), and the interrupted
//! fiber redirected to return [`End::Trapped`] (corosensei's trap handler).
//!
//! The handler is installed once, at the first launch, with `SA_ONSTACK`
//! (a stack overflow in a fiber runs it on the thread's alternate signal
//! stack, which [`prepare_thread`] provides). A signal that does not come
//! from a running fiber goes to the handler that was installed before
//! (Rust's own, for example), or to the default action.

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{compiler_fence, AtomicUsize, Ordering};
use std::sync::OnceLock;

use corosensei::trap::CoroutineTrapHandler;
use cudarc::driver::sys::CUresult;

use crate::sched::End;

/// A fault inside an emulated thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub signal: i32,
    pub code: i32,
    pub addr: usize,
    pub pc: usize,
    /// The address lies in the thread's own stack (its guard page): a stack overflow.
    pub stack: bool,
}

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL];
/// Bytes of the alternate signal stack each launching thread gets.
const ALT_STACK: usize = 64 << 10;

/// A value written by the launching thread and read by its signal handler.
struct Slot<T>(UnsafeCell<Option<T>>);

// SAFETY: only the thread that runs launches (one at a time, under the
// driver's lock) writes the slots, and only a signal handler interrupting
// that same thread reads them (checked through LAUNCHER).
unsafe impl<T> Sync for Slot<T> {}

impl<T: Copy> Slot<T> {
    fn set(&self, v: Option<T>) {
        // SAFETY: see the Sync impl: no other thread accesses the slot.
        unsafe { *self.0.get() = v };
        compiler_fence(Ordering::SeqCst);
    }
    fn get(&self) -> Option<T> {
        compiler_fence(Ordering::SeqCst);
        // SAFETY: as in `set`.
        unsafe { *self.0.get() }
    }
}

/// The running worker's trap handler (None outside a worker).
static ACTIVE: Slot<CoroutineTrapHandler<End>> = Slot(UnsafeCell::new(None));
static FAULT: Slot<Fault> = Slot(UnsafeCell::new(None));
/// The thread that runs launches (`pthread_self`).
static LAUNCHER: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static ALT_STACK_READY: Cell<bool> = const { Cell::new(false) };
}

/// The handlers that were installed before ours, per signal of [`SIGNALS`].
static PREVIOUS: OnceLock<Vec<(libc::c_int, libc::sigaction)>> = OnceLock::new();

/// Called before the running fiber is resumed.
pub fn arm(handler: CoroutineTrapHandler<End>) {
    ACTIVE.set(Some(handler));
}

/// Called when the fiber has suspended or ended.
pub fn disarm() {
    ACTIVE.set(None);
}

/// The fault that ended the last trapped fiber.
pub fn take_fault() -> Option<Fault> {
    let f = FAULT.get();
    FAULT.set(None);
    f
}

/// The CUDA error and a description of a fault (the address is described
/// further by the caller, who knows the allocations).
pub fn describe(fault: Option<Fault>) -> (CUresult, String) {
    let Some(f) = fault else {
        return (
            CUresult::CUDA_ERROR_LAUNCH_FAILED,
            "the thread ended abnormally".into(),
        );
    };
    match f.signal {
        libc::SIGSEGV | libc::SIGBUS if f.stack => (
            CUresult::CUDA_ERROR_ILLEGAL_ADDRESS,
            format!(
                "stack overflow at address {:#x} (instruction at {:#x}); BRISK_EMU_STACK sets the stack of an emulated thread",
                f.addr, f.pc
            ),
        ),
        libc::SIGSEGV | libc::SIGBUS => (
            CUresult::CUDA_ERROR_ILLEGAL_ADDRESS,
            format!("illegal memory access at address {:#x} (instruction at {:#x})", f.addr, f.pc),
        ),
        libc::SIGFPE => (
            CUresult::CUDA_ERROR_LAUNCH_FAILED,
            format!(
                "arithmetic fault (integer division by zero or overflow, signal code {}) at instruction {:#x}; a GPU \
                 returns an undefined value here",
                f.code, f.pc
            ),
        ),
        _ => (CUresult::CUDA_ERROR_ILLEGAL_INSTRUCTION, format!("illegal instruction at {:#x}", f.pc)),
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
unsafe fn stack_pointer(uc: *mut libc::ucontext_t) -> (usize, usize) {
    // SAFETY: `uc` is the kernel-provided context of the signal being handled.
    unsafe {
        let g = &(*uc).uc_mcontext.gregs;
        (
            g[libc::REG_RSP as usize] as usize,
            g[libc::REG_RIP as usize] as usize,
        )
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
unsafe fn redirect(uc: *mut libc::ucontext_t, r: corosensei::trap::TrapHandlerRegs) {
    // SAFETY: as in `stack_pointer`; the kernel restores these registers on return.
    unsafe {
        let g = &mut (*uc).uc_mcontext.gregs;
        g[libc::REG_RIP as usize] = r.rip as i64;
        g[libc::REG_RSP as usize] = r.rsp as i64;
        g[libc::REG_RBP as usize] = r.rbp as i64;
        g[libc::REG_RDI as usize] = r.rdi as i64;
        g[libc::REG_RSI as usize] = r.rsi as i64;
    }
}

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
unsafe fn stack_pointer(uc: *mut libc::ucontext_t) -> (usize, usize) {
    // SAFETY: `uc` is the kernel-provided context of the signal being handled.
    unsafe { ((*uc).uc_mcontext.sp as usize, (*uc).uc_mcontext.pc as usize) }
}

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
unsafe fn redirect(uc: *mut libc::ucontext_t, r: corosensei::trap::TrapHandlerRegs) {
    // SAFETY: as in `stack_pointer`; the kernel restores these registers on return.
    unsafe {
        let m = &mut (*uc).uc_mcontext;
        m.pc = r.pc;
        m.sp = r.sp;
        m.regs[0] = r.x0;
        m.regs[1] = r.x1;
        m.regs[29] = r.x29;
        m.regs[30] = r.lr;
    }
}

extern "C" fn handle(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let uc = context.cast::<libc::ucontext_t>();
    // SAFETY: pthread_self only reads the calling thread's id.
    let ours = unsafe { libc::pthread_self() } as usize == LAUNCHER.load(Ordering::Relaxed);
    if let Some(handler) = ACTIVE.get().filter(|_| ours) {
        // SAFETY: the kernel passes a valid context to an SA_SIGINFO handler.
        let (sp, pc) = unsafe { stack_pointer(uc) };
        if handler.stack_ptr_in_bounds(sp) {
            // SAFETY: `info` is the kernel-provided siginfo of this signal.
            let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
            let stack = handler.stack_ptr_in_bounds(addr);
            FAULT.set(Some(Fault {
                signal,
                code,
                addr,
                pc,
                stack,
            }));
            ACTIVE.set(None);
            // SAFETY: the fault happened on the armed fiber's stack (checked
            // just above); the registers returned are written into the
            // interrupted context, as setup_trap_handler requires, so that
            // returning from this handler ends the fiber with End::Trapped.
            unsafe {
                let regs = handler.setup_trap_handler(|| End::Trapped);
                redirect(uc, regs);
            }
            return;
        }
    }
    forward(signal, info, context);
}

/// Hands a signal that is not ours to the previous handler, or to the default action.
fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let previous = PREVIOUS
        .get()
        .and_then(|p| p.iter().find(|(s, _)| *s == signal))
        .map(|(_, a)| *a);
    match previous {
        Some(a) if a.sa_sigaction != libc::SIG_DFL && a.sa_sigaction != libc::SIG_IGN => {
            if a.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: the previous handler was installed with SA_SIGINFO, so it has this signature.
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    unsafe { std::mem::transmute(a.sa_sigaction) };
                f(signal, info, context);
            } else {
                // SAFETY: a handler installed without SA_SIGINFO takes the signal number only.
                let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(a.sa_sigaction) };
                f(signal);
            }
        }
        _ => {
            // Restore the default action; the faulting instruction runs again and gets it.
            // SAFETY: a zeroed sigaction with SIG_DFL is a valid argument.
            unsafe {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(signal, &dfl, std::ptr::null_mut());
            }
        }
    }
}

/// Installs the handler (once per process) and an alternate signal stack
/// for the calling thread (once per thread); the calling thread runs the
/// launch that follows.
pub fn prepare_thread() {
    // SAFETY: pthread_self only reads the calling thread's id.
    LAUNCHER.store(unsafe { libc::pthread_self() } as usize, Ordering::Relaxed);
    PREVIOUS.get_or_init(|| {
        let mut previous = Vec::new();
        for &s in &SIGNALS {
            // SAFETY: installs a handler with the SA_SIGINFO signature `handle` has;
            // the old action is kept for forwarding.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handle as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(s, &action, &mut old) == 0 {
                    previous.push((s, old));
                }
            }
        }
        previous
    });
    if ALT_STACK_READY.with(Cell::get) {
        return;
    }
    // SAFETY: queries and, if none is set, installs this thread's alternate
    // signal stack on a fresh mapping that is never freed (the thread may use
    // it until it exits).
    unsafe {
        let mut current: libc::stack_t = std::mem::zeroed();
        libc::sigaltstack(std::ptr::null(), &mut current);
        if current.ss_flags & libc::SS_DISABLE != 0 || current.ss_size < ALT_STACK {
            let mem = libc::mmap(
                std::ptr::null_mut(),
                ALT_STACK,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if mem != libc::MAP_FAILED {
                let stack = libc::stack_t {
                    ss_sp: mem,
                    ss_flags: 0,
                    ss_size: ALT_STACK,
                };
                libc::sigaltstack(&stack, std::ptr::null_mut());
            }
        }
    }
    ALT_STACK_READY.with(|r| r.set(true));
}

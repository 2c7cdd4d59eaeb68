//! Crash reports of the generated C++: a signal while a kernel runs becomes
//! an error naming the signal and the code object.
//!
//! In: one message per kernel (its code object and Brian object), set by
//! [`install`] before the first launch, and the running kernel, set by
//! [`set_current`] at each launch. Out: on SIGSEGV, SIGBUS, SIGFPE, SIGILL
//! or SIGABRT, one `brisk-error-json:` line on stderr (written with
//! `write(2)` only, which is async-signal-safe), after which the default
//! action ends the process with that signal. The Python device reads the
//! line and raises a `BriskError`. Only the C++ target installs it: the
//! emulated CUDA driver handles these signals itself.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::diag::Error;

/// The signals reported, with what each usually means in generated code.
const SIGNALS: [(libc::c_int, &str, &str); 5] = [
    (libc::SIGSEGV, "SIGSEGV", "an invalid memory access"),
    (libc::SIGBUS, "SIGBUS", "an invalid memory access"),
    (
        libc::SIGFPE,
        "SIGFPE",
        "an arithmetic fault, such as an integer division by zero",
    ),
    (libc::SIGILL, "SIGILL", "an illegal instruction"),
    (libc::SIGABRT, "SIGABRT", "an abort"),
];

/// Per kernel and signal: the whole stderr text to write. The last entry is
/// for a signal outside any kernel.
static MESSAGES: OnceLock<Vec<[Vec<u8>; SIGNALS.len()]>> = OnceLock::new();
static CURRENT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// A kernel for the messages: its code object, owner and symbol.
pub struct KernelInfo {
    pub code_object: String,
    pub owner: String,
    pub symbol: String,
}

/// Installs the handlers (once per process; later calls keep the first messages).
pub fn install(kernels: &[KernelInfo]) {
    let render = |k: Option<&KernelInfo>, name: &str, meaning: &str| -> Vec<u8> {
        let e = match k {
            Some(k) => Error::runtime(format!(
                "the generated code crashed with {name} ({meaning}) in kernel '{}'",
                k.symbol
            ))
            .in_object(&k.owner, &k.code_object),
            None => Error::runtime(format!(
                "brisk crashed with {name} ({meaning}) outside generated code"
            )),
        };
        format!("brisk: error: {e}\n{}\n", e.to_json_line()).into_bytes()
    };
    let mut all: Vec<[Vec<u8>; SIGNALS.len()]> = kernels
        .iter()
        .map(|k| SIGNALS.map(|(_, name, meaning)| render(Some(k), name, meaning)))
        .collect();
    all.push(SIGNALS.map(|(_, name, meaning)| render(None, name, meaning)));
    if MESSAGES.set(all).is_err() {
        return;
    }
    for (signal, _, _) in SIGNALS {
        // SAFETY: `on_signal` only reads atomics and the messages (initialised
        // before this point and never changed) and calls write(2), both
        // async-signal-safe; SA_RESETHAND restores the default action, so the
        // fault re-raised on return ends the process. The zeroed sigaction is a
        // valid empty mask with no flags before they are set here.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESETHAND | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Marks `kernel` as running (`usize::MAX`: none).
pub fn set_current(kernel: usize) {
    CURRENT.store(kernel, Ordering::Relaxed);
}

extern "C" fn on_signal(signal: libc::c_int) {
    let Some(messages) = MESSAGES.get() else {
        return;
    };
    let Some(slot) = SIGNALS.iter().position(|(s, _, _)| *s == signal) else {
        return;
    };
    let current = CURRENT.load(Ordering::Relaxed);
    let row = messages
        .get(current)
        .unwrap_or(&messages[messages.len() - 1]);
    let text = &row[slot];
    // SAFETY: write(2) on fd 2 with a pointer and length of a live, immutable buffer.
    unsafe {
        libc::write(2, text.as_ptr().cast(), text.len());
    }
}

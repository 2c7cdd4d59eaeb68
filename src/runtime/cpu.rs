//! CPU device: the generated C++ compiled by the system compiler and loaded.
//!
//! In: a C++ [`Program`], the plan's kernel symbols and how each kernel is
//! split ([`Split`]). Out: a [`Device`] whose buffers are host memory and
//! whose kernels are functions of a shared library (cached by content hash;
//! a cache hit skips the compiler).
//!
//! Threads: a kernel the plan splits ([`Split::Elements`]) runs as calls over
//! chunks of its elements (`BriskArgs::lo..hi`, starting at multiples of
//! [`SPLIT_ALIGN`]) on a pool of [`threads`] threads at once; every other
//! kernel runs as one call on the calling thread. The chunks of a split
//! kernel touch disjoint elements and count their random numbers by
//! element, so the results do not depend on the number of threads.

use std::ffi::c_void;
use std::path::Path;
use std::process::Command;

use crate::codegen::Program;
use crate::diag::{Error, Result};
use crate::plan::{BufferId, KernelId, Launch, Split, SPLIT_ALIGN};
use crate::runtime::compile_log::{compile_failure, Compiler};
use crate::runtime::{cache, BriskArgs, Device, StepArgs};

use crate::runtime::pool::{Chunks, KernelFn, Pool};

/// Threads the C++ target runs split kernels on: `BRISK_THREADS` (a whole
/// number from 1), else every core the process may use.
pub fn threads() -> Result<usize> {
    match std::env::var("BRISK_THREADS") {
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| {
                Error::runtime(format!(
                    "BRISK_THREADS is '{v}': it must be a whole number of threads from 1"
                ))
            }),
        Err(_) => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// The least work a chunk of a split kernel gets, in elements of weight 1
/// ([`crate::plan::Kernel::weight`]; `BRISK_SPLIT_MIN`, default 4096, about
/// two microseconds): below that, a thread's share costs less than handing
/// it over (about half a microsecond on the 2-core machine of the
/// benchmarks).
fn split_min() -> u64 {
    std::env::var("BRISK_SPLIT_MIN")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(4096)
        .max(1)
}

/// The chunks `[lo, hi)` of `n` elements for `threads` threads: at most one
/// per thread, each at least `min` elements (but the last), starting at
/// multiples of [`SPLIT_ALIGN`].
pub fn chunks(n: u64, threads: usize, min: u64) -> Chunks {
    let per = n
        .div_ceil(threads.max(1) as u64)
        .max(min)
        .next_multiple_of(SPLIT_ALIGN);
    Chunks { n, per }
}

/// Puts together the events the chunks `parts` of a split threshold wrote into
/// the event space `bytes` (int32, `n + 1` values; [`Split::Events`]): each
/// chunk's events from the start of its range, ended by -1 unless they fill
/// it. Moves them, in chunk order, to the front and writes their count last:
/// the event space one call over every element writes.
pub fn compact_events(
    bytes: &mut [u8],
    n: usize,
    parts: impl IntoIterator<Item = (u64, u64)>,
) -> Result<()> {
    if bytes.len() < 4 * (n + 1) {
        return Err(Error::internal(format!(
            "an event space of {} bytes for {n} elements",
            bytes.len()
        )));
    }
    let get = |b: &[u8], k: usize| {
        i32::from_le_bytes([b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3]])
    };
    let mut count = 0usize;
    for (lo, hi) in parts {
        for j in lo as usize..(hi as usize).min(n) {
            let v = get(bytes, j);
            if v < 0 {
                break;
            }
            bytes[4 * count..4 * count + 4].copy_from_slice(&v.to_le_bytes());
            count += 1;
        }
    }
    bytes[4 * n..4 * n + 4].copy_from_slice(&(count as i32).to_le_bytes());
    Ok(())
}

/// The C++ compiler command (`$CXX`, else `c++`).
fn compiler() -> String {
    std::env::var("CXX").unwrap_or_else(|_| "c++".to_string())
}

/// cpp_standalone's default flags, for the same arithmetic, but for one:
/// `-fno-associative-math` keeps every sum in the order Brian's code writes
/// it. With it, a vectorised element loop and its scalar remainder round
/// alike (GCC reassociates vector and scalar sums in different orders), so
/// an element's value cannot depend on where a thread's chunk ends; and
/// sums are added as on the CUDA target and in Brian's numpy target.
/// cpp_standalone reassociates: its values and Brisk's may differ in the
/// last bits where a statement adds three terms or more.
pub const CXX_FLAGS: &[&str] = &[
    "-O3",
    "-ffast-math",
    "-fno-finite-math-only",
    "-fno-associative-math",
    "-march=native",
    "-std=c++17",
    "-shared",
    "-fPIC",
    "-w",
];

/// Extra compiler flags from `BRISK_CXXFLAGS_EXTRA` (whitespace-separated),
/// after [`CXX_FLAGS`]: a test hook (`scripts/sanitize` builds the generated
/// code with AddressSanitizer and UBSan); part of the cache key.
fn extra_flags() -> Vec<String> {
    std::env::var("BRISK_CXXFLAGS_EXTRA")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn compiler_version(cxx: &str) -> String {
    Command::new(cxx)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Compiles `program` into a shared library (or finds it in the cache).
/// Returns the library's cache entry (its path, kept from eviction until the
/// entry drops: load the library first) and whether it was a cache hit.
pub fn compile(program: &Program) -> Result<(cache::Entry, bool)> {
    let cxx = compiler();
    let version = compiler_version(&cxx);
    let extra = extra_flags();
    let flags = format!("{} {}", CXX_FLAGS.join(" "), extra.join(" "));
    cache::cached(
        "cpp",
        &[
            program.source.as_bytes(),
            flags.as_bytes(),
            version.as_bytes(),
        ],
        |out: &Path| {
            let src = out.with_extension("cpp");
            std::fs::write(&src, &program.source)?;
            let output = Command::new(&cxx)
                .args(CXX_FLAGS)
                .args(&extra)
                .arg("-o")
                .arg(out)
                .arg(&src)
                .output()
                .map_err(|e| Error::runtime(format!("cannot run the C++ compiler '{cxx}': {e}")))?;
            let _ = std::fs::remove_file(&src);
            if !output.status.success() {
                let log = String::from_utf8_lossy(&output.stderr).into_owned();
                return Err(compile_failure(Compiler::Cxx, &program.source, &log));
            }
            Ok(())
        },
    )
}

/// Host buffers and the loaded kernels.
pub struct CpuDevice {
    _library: libloading::Library,
    kernels: Vec<Option<KernelFn>>,
    /// Backing store, 8-byte aligned.
    buffers: Vec<Vec<u64>>,
    /// The plan's name of every buffer (for messages).
    names: Vec<String>,
    table: Vec<*mut c_void>,
    lens: Vec<i64>,
    /// Seconds per timer slot (`launch_timed`).
    timers: Vec<f64>,
    /// `read_async` copies not yet taken: (buffer, offset, bytes).
    reads: Vec<(usize, usize, usize)>,
    /// Per kernel: how it runs over its elements, and its element weight
    /// ([`crate::plan::Kernel::weight`]).
    splits: Vec<(Split, u64)>,
    /// The threads split kernels run on (none: one thread).
    pool: Option<Pool>,
    threads: usize,
    split_min: u64,
}

impl CpuDevice {
    /// Loads the compiled library and looks up every kernel symbol, with how
    /// the kernel is split and its element weight. `None`: a kernel the C++
    /// target does not generate (launching it is an error). Split kernels run
    /// on `threads` threads.
    pub fn load(
        library: &Path,
        symbols: &[(Option<String>, Split, u64)],
        threads: usize,
    ) -> Result<CpuDevice> {
        let threads = threads.max(1);
        let pool = if threads > 1 && symbols.iter().any(|(_, s, _)| *s != Split::Whole) {
            Some(Pool::new(threads)?)
        } else {
            None
        };
        // SAFETY: the library is Brisk's own generated code, compiled from a
        // translation unit with no static constructors; loading runs nothing else.
        let lib = unsafe { libloading::Library::new(library) }
            .map_err(|e| Error::runtime(format!("cannot load {}: {e}", library.display())))?;
        let mut kernels = Vec::with_capacity(symbols.len());
        for (symbol, _, _) in symbols {
            let Some(symbol) = symbol else {
                kernels.push(None);
                continue;
            };
            // SAFETY: every plan kernel is generated as `extern "C" void f(const BriskArgs*)`,
            // which is exactly `KernelFn`; the pointer stays valid while `lib` lives,
            // and `CpuDevice` keeps `lib` for as long as it holds the pointers.
            let f: KernelFn = unsafe {
                *lib.get::<KernelFn>(symbol.as_bytes()).map_err(|e| {
                    Error::runtime(format!("generated library lacks '{symbol}': {e}"))
                })?
            };
            kernels.push(Some(f));
        }
        Ok(CpuDevice {
            _library: lib,
            kernels,
            buffers: Vec::new(),
            names: Vec::new(),
            table: Vec::new(),
            lens: Vec::new(),
            timers: Vec::new(),
            reads: Vec::new(),
            splits: symbols.iter().map(|(_, s, w)| (*s, *w)).collect(),
            pool,
            threads,
            split_min: split_min(),
        })
    }

    fn bytes_mut(&mut self, buf: usize) -> Result<&mut [u8]> {
        let b = self
            .buffers
            .get_mut(buf)
            .ok_or_else(|| Error::runtime(format!("no buffer {buf}")))?;
        // SAFETY: a Vec<u64> of n words is n*8 initialised bytes; u8 has no alignment
        // requirement and the slice borrows the vector mutably for its lifetime.
        Ok(unsafe { std::slice::from_raw_parts_mut(b.as_mut_ptr().cast::<u8>(), b.len() * 8) })
    }

    fn refresh_table(&mut self) {
        self.table = self
            .buffers
            .iter_mut()
            .map(|b| b.as_mut_ptr().cast::<c_void>())
            .collect();
    }
}

fn words(bytes: usize) -> usize {
    bytes.div_ceil(8).max(1)
}

/// Grows `v` to `bytes` (zero-filled), or reports host out-of-memory naming the array.
fn grow(v: &mut Vec<u64>, bytes: usize, name: &str) -> Result<()> {
    let n = words(bytes);
    if n > v.len() {
        v.try_reserve_exact(n - v.len()).map_err(|_| {
            Error::runtime(format!(
                "out of host memory: cannot allocate {bytes} bytes for the array '{name}'"
            ))
        })?;
    }
    v.resize(n, 0);
    Ok(())
}

impl Device for CpuDevice {
    fn backend(&self) -> &'static str {
        "cpu"
    }

    fn target(&self) -> crate::plan::Target {
        crate::plan::Target::Cpp
    }

    fn allocate(&mut self, bytes: &[usize], names: &[String]) -> Result<()> {
        self.names = names.to_vec();
        let mut buffers = Vec::with_capacity(bytes.len());
        for (i, &b) in bytes.iter().enumerate() {
            let mut v = Vec::new();
            grow(&mut v, b, names.get(i).map_or("?", String::as_str))?;
            buffers.push(v);
        }
        self.buffers = buffers;
        self.lens = vec![0; bytes.len()];
        self.refresh_table();
        Ok(())
    }

    fn write(&mut self, BufferId(buf): BufferId, offset: usize, data: &[u8]) -> Result<()> {
        let dst = self.bytes_mut(buf)?;
        let end = offset + data.len();
        if end > dst.len() {
            return Err(Error::runtime(format!(
                "write of {} bytes at {offset} past buffer {buf} ({} bytes)",
                data.len(),
                dst.len()
            )));
        }
        dst[offset..end].copy_from_slice(data);
        Ok(())
    }

    fn read(&mut self, BufferId(buf): BufferId, offset: usize, len: usize) -> Result<Vec<u8>> {
        let src = self.bytes_mut(buf)?;
        let end = offset + len;
        if end > src.len() {
            return Err(Error::runtime(format!(
                "read of {len} bytes at {offset} past buffer {buf}"
            )));
        }
        Ok(src[offset..end].to_vec())
    }

    fn read_async(&mut self, BufferId(buf): BufferId, offset: usize, len: usize) -> Result<()> {
        // Read at `take_reads`, not now: the bytes must stay as they are until then, and
        // kernels that wrote them in between (a missing staging half) would change the
        // records, which the end-to-end tests against cpp_standalone would show.
        let size = self.bytes_mut(buf)?.len();
        if offset.checked_add(len).is_none_or(|end| end > size) {
            return Err(Error::runtime(format!(
                "read of {len} bytes at {offset} past buffer {buf}"
            )));
        }
        self.reads.push((buf, offset, len));
        Ok(())
    }

    fn take_reads(&mut self, f: &mut dyn FnMut(usize, &[u8]) -> Result<()>) -> Result<()> {
        for (k, (buf, offset, len)) in std::mem::take(&mut self.reads).into_iter().enumerate() {
            let bytes = self.bytes_mut(buf)?;
            let bytes = bytes.get(offset..offset + len).ok_or_else(|| {
                Error::internal(format!("buffer {buf} shrank while a drain read it"))
            })?;
            f(k, bytes)?;
        }
        Ok(())
    }

    fn resize(&mut self, BufferId(buf): BufferId, bytes: usize) -> Result<()> {
        let name = self.names.get(buf).map_or("?", String::as_str);
        let b = self
            .buffers
            .get_mut(buf)
            .ok_or_else(|| Error::runtime(format!("no buffer {buf}")))?;
        grow(b, bytes, name)?;
        // Zero what lies past the new end in the last word stays harmless; the tail beyond
        // the old length is zero from `resize`.
        self.refresh_table();
        Ok(())
    }

    fn set_lens(&mut self, lens: &[i64]) -> Result<()> {
        self.lens = lens.to_vec();
        Ok(())
    }

    fn launch(
        &mut self,
        KernelId(kernel): KernelId,
        _launch: Launch,
        args: &StepArgs,
    ) -> Result<()> {
        let f =
            self.kernels.get(kernel).copied().flatten().ok_or_else(|| {
                Error::internal(format!("the C++ program has no kernel {kernel}"))
            })?;
        let a = BriskArgs::new(self.table.as_ptr() as u64, self.lens.as_ptr() as u64, args);
        super::guard::set_current(kernel);
        let (split, weight) = self
            .splits
            .get(kernel)
            .copied()
            .unwrap_or((Split::Whole, 1));
        // the elements a split kernel's calls share out (`BriskArgs::lo..hi`)
        let total = match split {
            Split::Whole => None,
            Split::Elements | Split::Events { .. } => Some(args.n.max(0)),
            Split::Synapses { count } => Some(self.lens.get(count.0).copied().unwrap_or(0).max(0)),
            Split::Targets { groups, .. } => Some(groups.min(i64::MAX as u64) as i64),
        };
        let parts = match (&self.pool, total) {
            (Some(_), Some(total)) if total > 0 => {
                // at least split_min units of work per chunk
                let min = (self.split_min / weight.max(1)).max(1);
                Some(chunks(total as u64, self.threads, min))
            }
            _ => None,
        };
        match (&mut self.pool, parts) {
            (Some(pool), Some(parts)) if parts.count() > 1 => {
                // SAFETY: as for one call below, for each chunk's elements; the chunks of
                // a split kernel read and write disjoint elements and no shared value (what
                // the plan's `Split` promises, `test_threads.py` checks), and the tables
                // `a` points at do not change while `run` waits for every chunk.
                unsafe { pool.run(f, a, parts) };
                if let Split::Events { events } = split {
                    compact_events(self.bytes_mut(events.0)?, args.n as usize, parts.iter())?;
                }
            }
            _ => {
                let mut a = a;
                a.hi = total.unwrap_or(a.hi);
                // SAFETY: `a` points at the live pointer and size tables; every buffer the
                // kernel indexes was allocated by `allocate`/`resize` with the plan's size
                // for it, and the generated code stays within those sizes (loop bounds and
                // staging capacities come from the same plan).
                unsafe { f(&a) }
            }
        }
        super::guard::set_current(usize::MAX);
        Ok(())
    }

    fn launch_timed(
        &mut self,
        KernelId(kernel): KernelId,
        launch: Launch,
        args: &StepArgs,
        slot: usize,
    ) -> Result<()> {
        // The generated C++ runs to its end inside `launch`: wall time is its time.
        let start = std::time::Instant::now();
        self.launch(KernelId(kernel), launch, args)?;
        super::add_to_timer(&mut self.timers, slot, start.elapsed().as_secs_f64());
        Ok(())
    }

    fn take_timers(&mut self) -> Result<Vec<f64>> {
        Ok(std::mem::take(&mut self.timers))
    }

    fn synchronize(&mut self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::grow;

    #[test]
    fn out_of_host_memory_names_the_array_and_the_bytes() {
        let mut v = Vec::new();
        let bytes = usize::MAX / 4;
        let e = grow(&mut v, bytes, "_array_neurongroup_v").unwrap_err();
        assert!(e.message.contains("out of host memory"), "{e}");
        assert!(
            e.message.contains("_array_neurongroup_v") && e.message.contains(&bytes.to_string()),
            "{e}"
        );
        grow(&mut v, 24, "_array_neurongroup_v").unwrap();
        assert_eq!(v, vec![0u64; 3]);
    }
}

#[cfg(test)]
mod chunk_tests {
    use super::{chunks, compact_events};

    #[test]
    fn chunks_of_events_compact_to_one_calls_event_space() {
        // 10 elements in chunks [0, 4), [4, 8), [8, 10): events 1, 3 | none | 8, 9
        let raw: [i32; 11] = [1, 3, -1, 77, -1, 77, 77, 77, 8, 9, 77];
        let mut bytes: Vec<u8> = raw.iter().flat_map(|v| v.to_le_bytes()).collect();
        compact_events(&mut bytes, 10, [(0, 4), (4, 8), (8, 10)]).unwrap();
        let values: Vec<i32> = bytes
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(&values[..4], &[1, 3, 8, 9]);
        assert_eq!(values[10], 4);
        assert!(compact_events(&mut bytes[..40], 10, [(0, 10)]).is_err());
    }

    #[test]
    fn chunks_cover_the_elements_once_from_aligned_starts() {
        for n in [1u64, 63, 64, 65, 1000, 4096, 10_000, 100_003] {
            for threads in 1..=5 {
                for min in [64, 4096] {
                    let c: Vec<(u64, u64)> = chunks(n, threads, min).iter().collect();
                    assert!(c.len() <= threads.max(1), "{n} {threads}: {c:?}");
                    assert_eq!(c.first().map(|c| c.0), Some(0));
                    assert_eq!(c.last().map(|c| c.1), Some(n));
                    for w in c.windows(2) {
                        assert_eq!(w[0].1, w[1].0, "{n} {threads}: {c:?}");
                    }
                    for (lo, hi) in &c {
                        assert_eq!(lo % 64, 0, "{n} {threads}: {c:?}");
                        assert!(hi > lo, "{n} {threads}: {c:?}");
                    }
                }
            }
        }
        let all = |n, threads, min| chunks(n, threads, min).iter().collect::<Vec<_>>();
        assert_eq!(all(10_000, 2, 64), vec![(0, 5056), (5056, 10_000)]);
        assert_eq!(all(1000, 4, 4096), vec![(0, 1000)]);
    }
}

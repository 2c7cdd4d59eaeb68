//! Device memory: host memory between guard pages.
//!
//! In: allocation sizes, frees and the ranges of copies. Out: device
//! addresses (host addresses, so kernels use them directly), range checks for
//! every copy, and a description of any faulting address for launch errors.
//!
//! Each allocation is its own mapping: an inaccessible page, the data pages,
//! an inaccessible page. The data end at the trailing guard page (rounded up
//! to 16 bytes, the alignment Brisk's kernels need), so a kernel that runs
//! past the end of a buffer faults at once. New memory is filled with 0xff
//! bytes, as uninitialised GPU memory is arbitrary. Freed allocations stay
//! mapped without access (up to [`QUARANTINE_BYTES`] of address space), so a
//! use after free faults too instead of reading a newer buffer.

use std::collections::{BTreeMap, VecDeque};

use cudarc::driver::sys::CUresult;

/// Data alignment of every allocation (bytes).
pub const ALIGN: usize = 16;
/// Address space kept inaccessible after frees.
const QUARANTINE_BYTES: usize = 64 << 30;

fn page() -> usize {
    // SAFETY: sysconf only reads a system configuration value.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p)
        .ok()
        .filter(|p| p.is_power_of_two())
        .unwrap_or(4096)
}

#[derive(Debug, Clone)]
struct Allocation {
    /// Start of the mapping (the leading guard page).
    base: usize,
    map_len: usize,
    /// The device address handed out.
    start: usize,
    size: usize,
    live: bool,
    /// Allocation number (1, 2, ...), for messages.
    serial: u64,
}

pub struct Memory {
    by_start: BTreeMap<usize, Allocation>,
    in_use: u64,
    limit: u64,
    quarantine: VecDeque<usize>,
    quarantined: usize,
    serial: u64,
}

fn round_up(x: usize, to: usize) -> Option<usize> {
    x.checked_add(to - 1).map(|v| v & !(to - 1))
}

impl Memory {
    pub fn new(limit: u64) -> Memory {
        Memory {
            by_start: BTreeMap::new(),
            in_use: 0,
            limit,
            quarantine: VecDeque::new(),
            quarantined: 0,
            serial: 0,
        }
    }

    pub fn total(&self) -> u64 {
        self.limit
    }

    pub fn free_bytes(&self) -> u64 {
        self.limit.saturating_sub(self.in_use)
    }

    /// A new allocation of `size` bytes (0xff-filled), or OUT_OF_MEMORY.
    pub fn alloc(&mut self, size: usize) -> Result<u64, CUresult> {
        if size == 0 {
            return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
        }
        if (size as u64) > self.free_bytes() {
            return Err(CUresult::CUDA_ERROR_OUT_OF_MEMORY);
        }
        let page = page();
        let data = round_up(size, ALIGN).ok_or(CUresult::CUDA_ERROR_OUT_OF_MEMORY)?;
        let data_pages = round_up(data, page).ok_or(CUresult::CUDA_ERROR_OUT_OF_MEMORY)?;
        let map_len = data_pages
            .checked_add(2 * page)
            .ok_or(CUresult::CUDA_ERROR_OUT_OF_MEMORY)?;
        // SAFETY: an anonymous private mapping at an address the kernel picks;
        // nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(CUresult::CUDA_ERROR_OUT_OF_MEMORY);
        }
        let base = base as usize;
        // SAFETY: the data pages lie inside the mapping just created.
        let ok = unsafe {
            libc::mprotect(
                (base + page) as *mut _,
                data_pages,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        } == 0;
        if !ok {
            // SAFETY: unmaps exactly the mapping created above.
            unsafe { libc::munmap(base as *mut _, map_len) };
            return Err(CUresult::CUDA_ERROR_OUT_OF_MEMORY);
        }
        let start = base + page + data_pages - data;
        // SAFETY: [start, start + data) lies in the readable and writable data pages.
        unsafe { std::ptr::write_bytes(start as *mut u8, 0xff, data) };
        self.serial += 1;
        self.by_start.insert(
            start,
            Allocation {
                base,
                map_len,
                start,
                size,
                live: true,
                serial: self.serial,
            },
        );
        self.in_use += size as u64;
        Ok(start as u64)
    }

    /// Frees the allocation that starts at `ptr`.
    pub fn free(&mut self, ptr: u64) -> Result<(), CUresult> {
        let start = ptr as usize;
        let page = page();
        let a = self
            .by_start
            .get_mut(&start)
            .filter(|a| a.live)
            .ok_or(CUresult::CUDA_ERROR_INVALID_VALUE)?;
        a.live = false;
        self.in_use -= a.size as u64;
        let (base, map_len) = (a.base, a.map_len);
        // SAFETY: the data pages of a live allocation of ours; afterwards no
        // access is allowed and the physical pages are returned to the system.
        unsafe {
            libc::mprotect((base + page) as *mut _, map_len - 2 * page, libc::PROT_NONE);
            libc::madvise(
                (base + page) as *mut _,
                map_len - 2 * page,
                libc::MADV_DONTNEED,
            );
        }
        self.quarantine.push_back(start);
        self.quarantined += map_len;
        while self.quarantined > QUARANTINE_BYTES {
            let Some(old) = self.quarantine.pop_front() else {
                break;
            };
            if let Some(a) = self.by_start.remove(&old) {
                self.quarantined -= a.map_len;
                // SAFETY: a freed mapping of ours that no handle refers to any more.
                unsafe { libc::munmap(a.base as *mut _, a.map_len) };
            }
        }
        Ok(())
    }

    /// The live allocation that holds all of `[ptr, ptr + len)`.
    fn holding(&self, ptr: u64, len: usize) -> Option<&Allocation> {
        let p = usize::try_from(ptr).ok()?;
        let (_, a) = self.by_start.range(..=p).next_back()?;
        let end = p.checked_add(len)?;
        (a.live && end <= a.start + a.size).then_some(a)
    }

    /// Whether `addr` lies in the live allocation that starts at `start`.
    pub fn same_allocation(&self, addr: u64, start: u64) -> bool {
        self.holding(addr, 1)
            .is_some_and(|a| a.start as u64 == start)
    }

    /// Checks that `[ptr, ptr + len)` lies in one live allocation.
    pub fn check(&self, ptr: u64, len: usize) -> Result<(), CUresult> {
        match self.holding(ptr, len) {
            Some(_) => Ok(()),
            None => Err(CUresult::CUDA_ERROR_INVALID_VALUE),
        }
    }

    /// Where `addr` lies, for a fault message.
    pub fn describe(&self, addr: usize) -> String {
        let page = page();
        let near = self
            .by_start
            .values()
            .find(|a| addr >= a.base && addr < a.base + a.map_len);
        match near {
            Some(a) => {
                let what = if a.live { "" } else { "freed " };
                let which = format!(
                    "{what}allocation #{} ({} bytes at {:#x})",
                    a.serial, a.size, a.start
                );
                if addr >= a.start + a.size {
                    format!(
                        "{} bytes past the end of {which}",
                        addr - (a.start + a.size)
                    )
                } else if addr < a.start {
                    format!("{} bytes before the start of {which}", a.start - addr)
                } else if !a.live {
                    format!("byte {} of {which}", addr - a.start)
                } else if addr < a.base + page {
                    format!("in the guard page before {which}")
                } else {
                    format!("inside {which}")
                }
            }
            None => "not in any device allocation".to_string(),
        }
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        for a in self.by_start.values() {
            // SAFETY: every entry is a mapping of ours, unmapped once here.
            unsafe { libc::munmap(a.base as *mut _, a.map_len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_are_aligned_checked_and_poisoned() {
        let mut m = Memory::new(1 << 30);
        let p = m.alloc(100).unwrap();
        assert_eq!(p % ALIGN as u64, 0);
        // SAFETY: byte 0 of a live 100-byte allocation.
        assert_eq!(unsafe { *(p as *const u8) }, 0xff);
        assert!(m.check(p, 100).is_ok());
        assert!(m.check(p + 50, 50).is_ok());
        assert_eq!(m.check(p + 50, 51), Err(CUresult::CUDA_ERROR_INVALID_VALUE));
        assert_eq!(m.check(p - 1, 2), Err(CUresult::CUDA_ERROR_INVALID_VALUE));
        assert!(m
            .describe(p as usize + 112)
            .contains("12 bytes past the end of allocation #1"));
        m.free(p).unwrap();
        assert_eq!(m.check(p, 1), Err(CUresult::CUDA_ERROR_INVALID_VALUE));
        assert_eq!(m.free(p), Err(CUresult::CUDA_ERROR_INVALID_VALUE));
        assert!(m.describe(p as usize).contains("freed allocation #1"));
    }

    #[test]
    fn the_limit_is_out_of_memory() {
        let mut m = Memory::new(1000);
        let a = m.alloc(600).unwrap();
        assert_eq!(m.alloc(600), Err(CUresult::CUDA_ERROR_OUT_OF_MEMORY));
        m.free(a).unwrap();
        assert!(m.alloc(600).is_ok());
        assert_eq!(m.alloc(0), Err(CUresult::CUDA_ERROR_INVALID_VALUE));
    }
}

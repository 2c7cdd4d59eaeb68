//! Asynchronous copies to the host, run as late as the program allows, and
//! page-locked host memory.
//!
//! In: `cuMemcpyDtoHAsync` on a created stream, and the calls that order
//! work (a later operation on the same stream, a stream or context
//! synchronisation, an event of that stream synchronised, queried or waited
//! for, and every synchronous call, which the legacy stream orders).
//! Out: the copy, made at the first of those points, not when it was
//! enqueued. Kernels on other streams run before it: a program that lets
//! them write what the copy reads (a staging buffer reused too early) gets
//! their data, and one that reads the host memory before waiting for the
//! copy gets what was there before; as a GPU may give it. Everything
//! else the driver does at once (`crate::driver`).

use std::alloc::Layout;
use std::collections::HashMap;
use std::ffi::c_void;

use cudarc::driver::sys::CUresult;

use crate::driver::{Driver, Res};

/// A copy to the host not yet made.
pub struct PendingCopy {
    stream: usize,
    dst: usize,
    src: u64,
    len: usize,
}

/// The copies not yet made, the stream each event was last recorded on, and
/// the host allocations (`cuMemHostAlloc`) with their layouts.
#[derive(Default)]
pub struct Copies {
    pending: Vec<PendingCopy>,
    event_streams: HashMap<usize, usize>,
    host: HashMap<usize, Layout>,
}

/// Streams whose copies are deferred: created ones (0, 1 and 2 are the
/// default, legacy and per-thread streams, which Brisk does not use for them).
fn deferred(stream: usize) -> bool {
    stream > 2
}

impl Driver {
    /// Device to host on `stream`: checked now, made at the stream's next ordering point.
    pub fn copy_out_async(&mut self, stream: usize, dst: *mut c_void, src: u64, len: usize) -> Res {
        if !deferred(stream) || len == 0 {
            return self.copy_out(dst, src, len);
        }
        self.check_sticky()?;
        if dst.is_null() {
            return Err(CUresult::CUDA_ERROR_INVALID_VALUE);
        }
        self.check_out_range(src, len)?;
        self.copies.pending.push(PendingCopy {
            stream,
            dst: dst as usize,
            src,
            len,
        });
        Ok(())
    }

    /// Makes the pending copies of `stream`, in order (of every stream, for the
    /// default, legacy and per-thread streams, which order all work).
    pub fn flush(&mut self, stream: usize) -> Res {
        if !deferred(stream) {
            return self.flush_all();
        }
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.copies.pending)
            .into_iter()
            .partition(|c| c.stream == stream);
        self.copies.pending = later;
        for c in now {
            self.copy_out(c.dst as *mut c_void, c.src, c.len)?;
        }
        Ok(())
    }

    /// Makes every pending copy (a synchronous call, a context synchronisation).
    pub fn flush_all(&mut self) -> Res {
        for c in std::mem::take(&mut self.copies.pending) {
            self.copy_out(c.dst as *mut c_void, c.src, c.len)?;
        }
        Ok(())
    }

    /// An event was recorded on `stream`: its completion orders that stream's copies.
    pub fn note_event_stream(&mut self, event: usize, stream: usize) {
        self.copies.event_streams.insert(event, stream);
    }

    /// Makes the pending copies of the stream `event` was last recorded on.
    pub fn flush_event(&mut self, event: usize) -> Res {
        match self.copies.event_streams.get(&event).copied() {
            Some(stream) => self.flush(stream),
            None => Ok(()),
        }
    }

    /// A pending copy reads device memory in `[ptr, ...)` of the allocation at `ptr`:
    /// freeing it now would be a use after free on a GPU.
    pub fn check_no_pending_read(&mut self, ptr: u64) -> Res {
        let live = self.memory.describe(ptr as usize);
        if let Some(c) = self
            .copies
            .pending
            .iter()
            .find(|c| self.memory.same_allocation(c.src, ptr))
        {
            let detail = format!(
                "the allocation at {ptr:#x} ({live}) is freed while a copy to the host on stream {:#x} still reads it",
                c.stream
            );
            return Err(self.fail(CUresult::CUDA_ERROR_INVALID_VALUE, detail));
        }
        Ok(())
    }

    /// `cuMemHostAlloc`: zeroed host memory, 64-byte aligned.
    pub fn host_alloc(&mut self, bytes: usize) -> Res<*mut c_void> {
        let layout = Layout::from_size_align(bytes.max(1), 64)
            .map_err(|_| CUresult::CUDA_ERROR_INVALID_VALUE)?;
        // SAFETY: `layout` has a non-zero size.
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        if p.is_null() {
            return Err(CUresult::CUDA_ERROR_OUT_OF_MEMORY);
        }
        self.copies.host.insert(p as usize, layout);
        Ok(p.cast())
    }

    /// `cuMemFreeHost`, once no pending copy writes into it.
    pub fn host_free(&mut self, p: *mut c_void) -> Res {
        let layout = self
            .copies
            .host
            .get(&(p as usize))
            .copied()
            .ok_or(CUresult::CUDA_ERROR_INVALID_VALUE)?;
        let end = p as usize + layout.size();
        if self
            .copies
            .pending
            .iter()
            .any(|c| c.dst >= p as usize && c.dst < end)
        {
            return Err(self.fail(
                CUresult::CUDA_ERROR_INVALID_VALUE,
                "page-locked memory freed while a copy into it is pending".to_string(),
            ));
        }
        self.copies.host.remove(&(p as usize));
        // SAFETY: `p` was allocated by `host_alloc` with `layout` and is freed once (removed above).
        unsafe { std::alloc::dealloc(p.cast(), layout) };
        Ok(())
    }

    /// The context ends: pending copies are dropped (as a reset drops queued work).
    pub fn drop_copies(&mut self) {
        self.copies.pending.clear();
        self.copies.event_streams.clear();
    }
}

//! An emulated CUDA driver: a CPU stand-in for `libcuda.so` that runs
//! Brisk's generated CUDA without a GPU. It is test infrastructure, not part
//! of the installed product (`scripts/test-cuda-emu` builds it and puts it
//! first on `LD_LIBRARY_PATH` under the name `libcuda.so`, never
//! `libcuda.so.1`, which NVRTC opens itself).
//!
//! In: the driver API calls cudarc makes ([`api`]), PTX images that carry
//! the program's CUDA source (Brisk's runtime appends it when
//! `BRISK_CUDA_EMULATION=1`). Out: the same results a GPU gives for code
//! that is correct under CUDA's rules, and launch failures that name the
//! kernel, block and thread for code that is not.
//!
//! Stages: [`config`] (environment) → [`api`] (C entry points) →
//! [`driver`] (device state, sticky errors; [`copies`]: copies to the host
//! made as late as allowed) → [`memory`] (guard-paged
//! allocations) and [`module`] (source → C++ under `shim.h` → shared
//! library) → [`sched`] (blocks in order, threads as fibers, barriers and
//! warp collectives) with [`trap`] (faults end the thread) and [`stats`]
//! (per-kernel launch counts). See `docs/cuda-emulation.md`.

pub mod api;
pub mod config;
pub mod copies;
pub mod driver;
pub mod memory;
pub mod module;
pub mod sched;
pub mod stats;
pub mod trap;

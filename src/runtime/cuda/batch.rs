//! Batched sweeps on the GPU: the copies of a sweep as sibling devices (own
//! buffers and tables; one context, program and stream), and one launch of a
//! kernel for all of them.
//!
//! In: a loaded [`CudaDevice`]; for a launch, every copy's tables and
//! arguments ([`BatchCopy`]). Out: siblings, and launches whose grid is
//! `(blocks, copies)`: copy `k` runs as `blockIdx.y == k`, reading its tables,
//! seed and element count from the launch's copy table (`BriskCopy`,
//! `brisk_step_args` in `support.h`), so each copy's accesses stay within its
//! own buffers, coalesced as in a run of its own. A copy table is uploaded
//! only when it changes (tables move on resizes, counts change with dynamic
//! arrays): most steps launch without a copy.

use cudarc::driver::{CudaSlice, LaunchConfig, PushKernelArg};

use super::{
    address, chunk_blocks, driver_error, empty_tables, grid_blocks, CudaDevice, MAX_COPY_ROWS,
};
use crate::diag::{Error, Result};
use crate::plan::{KernelId, Launch, CUDA_BLOCK};
use crate::runtime::{BatchCopy, BriskArgs, StepArgs};

/// Words of one `BriskCopy`: arrays, sizes, seed, n, step.
const COPY_WORDS: usize = 5;

/// A Chunks grid is one block per chunk, taken by ticket: copies whose counts
/// differ from the first's run one by one, each launch its own.
fn one_by_one(launch: Launch, copies: &[BatchCopy]) -> bool {
    launch == Launch::Chunks
        && copies
            .iter()
            .any(|c| copies.first().is_some_and(|f| c.n != f.n))
}

/// A kernel's copy table on the device and the words it holds.
pub(super) struct CopyTable {
    words: Vec<u64>,
    table: CudaSlice<u64>,
}

impl CudaDevice {
    /// A device for another copy of the same program: buffers and tables of
    /// its own (none until `allocate`), the context, module, functions and
    /// streams of this one, so that [`CudaDevice::launch_batch_of`] can run a
    /// kernel for both in one launch and their copies stay in stream order.
    pub fn sibling(&self) -> Result<CudaDevice> {
        let (pointers, sizes) = empty_tables(&self.stream)?;
        Ok(CudaDevice {
            functions: self.functions.clone(),
            symbols: self.symbols.clone(),
            names: Vec::new(),
            buffers: Vec::new(),
            lens: Vec::new(),
            pointers_addr: address(&pointers, &self.stream),
            sizes_addr: address(&sizes, &self.stream),
            pointers,
            sizes,
            max_grid: self.max_grid,
            sync_each_launch: self.sync_each_launch,
            in_flight: None,
            timers: Vec::new(),
            timed: Vec::new(),
            graphs: Vec::new(),
            copy_stream: self.copy_stream.clone(),
            pinned: Vec::new(),
            reads: Vec::new(),
            copy_tables: Default::default(),
            name: self.name.clone(),
            compute_capability: self.compute_capability,
            _module: self._module.clone(),
            stream: self.stream.clone(),
            ctx: self.ctx.clone(),
        })
    }

    /// Free and total bytes of GPU memory.
    pub fn memory(&self) -> Result<(usize, usize)> {
        self.ctx
            .mem_get_info()
            .map_err(driver_error("cannot query the GPU's memory"))
    }

    /// [`crate::runtime::Device::launch_batch`].
    pub(super) fn launch_batch_of(
        &mut self,
        KernelId(kernel): KernelId,
        launch: Launch,
        args: &StepArgs,
        copies: &[BatchCopy],
    ) -> Result<()> {
        let symbol = self.symbols.get(kernel).cloned().ok_or_else(|| {
            Error::runtime(format!(
                "no kernel {kernel} (the program has {})",
                self.symbols.len()
            ))
        })?;
        let Some(first) = copies.first() else {
            return Ok(());
        };
        if let Some(bad) = copies.iter().find(|c| c.n < 0) {
            return Err(Error::runtime(format!(
                "kernel {symbol}: negative element count {}",
                bad.n
            )));
        }
        // (a copy's own launch: its tables, seed and count with the shared clock and stream)
        let own = |c: &BatchCopy| StepArgs {
            seed: c.seed,
            n: c.n,
            ..*args
        };
        // A Chunks grid is one block per chunk, taken by ticket: copies with
        // other counts than the first run one by one.
        if one_by_one(launch, copies) {
            for c in copies {
                let own = StepArgs {
                    step: if c.step != 0 { c.step } else { args.step },
                    ..own(c)
                };
                self.launch_one(kernel, launch, (c.arrays, c.sizes), &own, 0, 1)?;
            }
            return Ok(());
        }
        let most = copies.iter().map(|c| c.n).max().unwrap_or(0);
        let grid_args = StepArgs {
            n: most,
            ..own(first)
        };
        for (part, rows) in copies.chunks(MAX_COPY_ROWS as usize).enumerate() {
            let table = self.copy_table(kernel, part, rows)?;
            let tables = (first.arrays, first.sizes);
            self.launch_one(kernel, launch, tables, &grid_args, table, rows.len() as u32)?;
        }
        Ok(())
    }

    /// [`crate::runtime::Device::prepare_batch`]: the copy tables of the launch.
    pub(super) fn prepare_batch_of(
        &mut self,
        KernelId(kernel): KernelId,
        launch: Launch,
        copies: &[BatchCopy],
    ) -> Result<()> {
        if one_by_one(launch, copies) {
            return Ok(());
        }
        for (part, rows) in copies.chunks(MAX_COPY_ROWS as usize).enumerate() {
            self.copy_table(kernel, part, rows)?;
        }
        Ok(())
    }

    /// The device address of the copy table of `kernel`'s launch part `part`
    /// holding `rows`, uploaded if it changed since its last launch.
    fn copy_table(&mut self, kernel: usize, part: usize, rows: &[BatchCopy]) -> Result<u64> {
        let row = |c: &BatchCopy| [c.arrays, c.sizes, c.seed, c.n as u64, c.step];
        let key = (kernel, part);
        let stale = self.copy_tables.get(&key).is_none_or(|t: &CopyTable| {
            t.words.len() != rows.len() * COPY_WORDS
                || !rows
                    .iter()
                    .zip(t.words.chunks_exact(COPY_WORDS))
                    .all(|(c, w)| row(c) == w)
        });
        if stale {
            let words: Vec<u64> = rows.iter().flat_map(row).collect();
            let mut table = self
                .stream
                .alloc_zeros::<u64>(words.len().max(COPY_WORDS))
                .map_err(driver_error(
                    "cannot allocate a batched launch's copy table",
                ))?;
            self.stream
                .memcpy_htod(&words, &mut table)
                .map_err(driver_error("cannot upload a batched launch's copy table"))?;
            self.copy_tables.insert(key, CopyTable { words, table });
        }
        let table = self
            .copy_tables
            .get(&key)
            .ok_or_else(|| Error::internal("a batched launch's copy table was not kept"))?;
        Ok(address(&table.table, &self.stream))
    }

    /// One launch of `kernel` with the pointer and size tables `tables` and
    /// `args`, over `rows` copies of the copy table at `table` (0: no table,
    /// `tables` and `args` are the one copy's).
    fn launch_one(
        &mut self,
        kernel: usize,
        launch: Launch,
        tables: (u64, u64),
        args: &StepArgs,
        table: u64,
        rows: u32,
    ) -> Result<()> {
        let grid = match launch {
            Launch::Grid => grid_blocks(args.n, self.max_grid),
            Launch::Block => 1,
            Launch::Chunks => chunk_blocks(args.n, self.max_grid)?,
        };
        let cfg = LaunchConfig {
            grid_dim: (grid, rows.max(1), 1),
            block_dim: (CUDA_BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        let mut params = BriskArgs::new(tables.0, tables.1, args);
        params.batch = table;
        let mut builder = self.stream.launch_builder(&self.functions[kernel]);
        builder.arg(&params);
        // SAFETY: as `Device::launch` (one `BriskArgs` parameter by value, any
        // grid size valid, `blockDim.x == CUDA_BLOCK`), for each copy: with a
        // table, block row `k` reads copy `k`'s pointer and size tables, seed
        // and count from row `k` of `table`, which holds `rows` rows (written
        // by `copy_table` just before, in stream order, and kept alive in
        // `copy_tables` until it is replaced, after this launch in stream
        // order); every copy's tables are those of a live sibling device
        // (`BatchCopy` from `Device::tables`), its step state (0, or, in a
        // graph, the address of that device's step-state buffer, which lives as
        // long as the device: `graphs::step_by_graph_batched`) too, and its
        // count is at most the grid's `args.n`, so the grid-stride loops cover it.
        unsafe { builder.launch(cfg) }.map_err(driver_error(format!(
            "cannot launch kernel {} for {} copies",
            self.symbols[kernel],
            rows.max(1)
        )))?;
        self.in_flight = Some(kernel);
        if self.sync_each_launch {
            let during = format!("in kernel {}", self.symbols[kernel]);
            self.wait(&during)?;
        }
        Ok(())
    }
}

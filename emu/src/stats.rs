//! Launch statistics, per kernel: what ran and in what shape.
//!
//! In: every launch's shape and counts. Out: with `BRISK_EMU_STATS_DIR`
//! set, one JSON file per process at exit (`cuda-emu-stats-<pid>.json`):
//!
//! ```json
//! {"emulator": "...", "schedule": "forward",
//!  "kernels": {"brisk_x": {"launches": 100, "blocks": 7900, "blocks_per_launch": {"79": 100},
//!               "threads_per_block": {"256": 100}, "barriers": 0, "max_barriers_per_launch": 0,
//!               "warp_collectives": 0, "atomics": 0, "thread_resumes": 2022400, "seconds": 0.5}}}
//! ```
//!
//! `barriers` counts barrier releases summed over blocks; a one-block
//! kernel whose barriers grow with N loops over N elements in one block.
//! `thread_resumes` counts fiber switches; `seconds` is emulated wall time.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

#[derive(Debug, Default, Clone, Serialize)]
pub struct KernelStats {
    pub launches: u64,
    pub blocks: u64,
    /// Number of launches per grid size (blocks).
    pub blocks_per_launch: BTreeMap<u64, u64>,
    /// Number of launches per block size (threads).
    pub threads_per_block: BTreeMap<u32, u64>,
    pub barriers: u64,
    pub max_barriers_per_launch: u64,
    pub warp_collectives: u64,
    pub atomics: u64,
    pub thread_resumes: u64,
    pub failed_launches: u64,
    pub seconds: f64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    pub emulator: String,
    pub schedule: String,
    /// Graph replays (`cuGraphLaunch`); their kernels count as launches too.
    pub graph_launches: u64,
    pub kernels: BTreeMap<String, KernelStats>,
}

/// One launch, as the scheduler saw it.
pub struct LaunchRecord<'a> {
    pub kernel: &'a str,
    pub blocks: u64,
    pub threads: u32,
    pub barriers: u64,
    pub collectives: u64,
    pub atomics: u64,
    pub resumes: u64,
    pub seconds: f64,
    pub failed: bool,
}

impl Stats {
    pub fn record(&mut self, r: &LaunchRecord) {
        let k = self.kernels.entry(r.kernel.to_string()).or_default();
        k.launches += 1;
        k.blocks += r.blocks;
        *k.blocks_per_launch.entry(r.blocks).or_default() += 1;
        *k.threads_per_block.entry(r.threads).or_default() += 1;
        k.barriers += r.barriers;
        k.max_barriers_per_launch = k.max_barriers_per_launch.max(r.barriers);
        k.warp_collectives += r.collectives;
        k.atomics += r.atomics;
        k.thread_resumes += r.resumes;
        k.failed_launches += u64::from(r.failed);
        k.seconds += r.seconds;
    }

    /// Writes `<dir>/cuda-emu-stats-<pid>.json` (through a temporary name).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let pid = std::process::id();
        let path = dir.join(format!("cuda-emu-stats-{pid}.json"));
        let tmp = dir.join(format!(".cuda-emu-stats-{pid}.json.tmp"));
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)
    }
}

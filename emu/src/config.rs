//! The emulator's settings, read once from the environment at `cuInit`.
//!
//! In: `BRISK_EMU_*` variables. Out: a [`Config`]. Every variable is
//! optional; a malformed value is reported on stderr and the default used.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `BRISK_EMU_SCHEDULE` | `forward`, `reverse` or `shuffle[:SEED]`: the order of blocks and of the threads released at each barrier | `forward` |
//! | `BRISK_EMU_STATS_DIR` | write per-kernel launch statistics there at exit (one JSON file per process) | none |
//! | `BRISK_EMU_MEMORY` | device memory in bytes (suffixes K, M, G) | the host's physical memory |
//! | `BRISK_EMU_CXX` | the C++ compiler for kernels | `$CXX`, else `c++` |
//! | `BRISK_EMU_CXXFLAGS` | extra compiler flags (appended) | none |
//! | `BRISK_EMU_TIMEOUT` | seconds a launch may run before it fails (checked at barriers) | 600 |
//! | `BRISK_EMU_STACK` | bytes of stack per emulated thread | 256 KiB |

use std::path::PathBuf;

/// The order in which blocks run and in which a block's runnable threads are resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    Forward,
    Reverse,
    Shuffle(u64),
}

impl Schedule {
    pub fn parse(text: &str) -> Option<Schedule> {
        match text.trim() {
            "" | "forward" => Some(Schedule::Forward),
            "reverse" | "reversed" => Some(Schedule::Reverse),
            "shuffle" | "shuffled" => Some(Schedule::Shuffle(0x5eed)),
            other => {
                let seed = other
                    .strip_prefix("shuffle:")
                    .or_else(|| other.strip_prefix("shuffled:"))?;
                seed.parse().ok().map(Schedule::Shuffle)
            }
        }
    }

    pub fn name(self) -> String {
        match self {
            Schedule::Forward => "forward".into(),
            Schedule::Reverse => "reverse".into(),
            Schedule::Shuffle(seed) => format!("shuffle:{seed}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub schedule: Schedule,
    pub stats_dir: Option<PathBuf>,
    pub memory: u64,
    pub cxx: String,
    pub cxx_flags: Vec<String>,
    pub timeout_s: f64,
    pub stack_bytes: usize,
}

/// `12`, `64K`, `3M`, `2G` as bytes.
pub fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, scale) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&t[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(scale)
}

fn physical_memory() -> u64 {
    // SAFETY: sysconf only reads system configuration values.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages > 0 && size > 0 {
        (pages as u64).saturating_mul(size as u64)
    } else {
        16 << 30
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn warn(name: &str, value: &str, default: &str) {
    eprintln!("emulated CUDA driver: ignoring {name}={value:?} (using {default})");
}

impl Config {
    pub fn from_env() -> Config {
        let schedule = match var("BRISK_EMU_SCHEDULE") {
            None => Schedule::Forward,
            Some(v) => Schedule::parse(&v).unwrap_or_else(|| {
                warn(
                    "BRISK_EMU_SCHEDULE",
                    &v,
                    "forward; expected forward, reverse or shuffle[:SEED]",
                );
                Schedule::Forward
            }),
        };
        let memory = match var("BRISK_EMU_MEMORY") {
            None => physical_memory(),
            Some(v) => parse_bytes(&v).filter(|&b| b > 0).unwrap_or_else(|| {
                warn("BRISK_EMU_MEMORY", &v, "the host's memory");
                physical_memory()
            }),
        };
        let timeout_s = match var("BRISK_EMU_TIMEOUT") {
            None => 600.0,
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| *s > 0.0)
                .unwrap_or_else(|| {
                    warn("BRISK_EMU_TIMEOUT", &v, "600 s");
                    600.0
                }),
        };
        let stack_bytes = match var("BRISK_EMU_STACK") {
            None => 256 << 10,
            Some(v) => parse_bytes(&v)
                .filter(|&b| b >= 16 << 10)
                .map(|b| b as usize)
                .unwrap_or_else(|| {
                    warn("BRISK_EMU_STACK", &v, "256 KiB; at least 16K");
                    256 << 10
                }),
        };
        Config {
            schedule,
            stats_dir: var("BRISK_EMU_STATS_DIR").map(PathBuf::from),
            memory,
            cxx: var("BRISK_EMU_CXX")
                .or_else(|| var("CXX"))
                .unwrap_or_else(|| "c++".into()),
            cxx_flags: var("BRISK_EMU_CXXFLAGS")
                .map(|f| f.split_whitespace().map(String::from).collect())
                .unwrap_or_default(),
            timeout_s,
            stack_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse() {
        assert_eq!(Schedule::parse("forward"), Some(Schedule::Forward));
        assert_eq!(Schedule::parse("reverse"), Some(Schedule::Reverse));
        assert_eq!(Schedule::parse("shuffle:7"), Some(Schedule::Shuffle(7)));
        assert_eq!(Schedule::parse("shuffle"), Some(Schedule::Shuffle(0x5eed)));
        assert_eq!(Schedule::parse("sideways"), None);
        assert_eq!(Schedule::parse("shuffle:x"), None);
    }

    #[test]
    fn byte_sizes_parse() {
        assert_eq!(parse_bytes("12"), Some(12));
        assert_eq!(parse_bytes("64K"), Some(64 << 10));
        assert_eq!(parse_bytes("3m"), Some(3 << 20));
        assert_eq!(parse_bytes("2G"), Some(2 << 30));
        assert_eq!(parse_bytes("G"), None);
        assert_eq!(parse_bytes("-1"), None);
    }
}

//! The seeds of the random numbers: the ones a script leaves to chance, and
//! those of a sweep's random streams.
//!
//! In: a seed (the script's `seed(s)`, or none) and a stream number. Out: the
//! Philox key the kernels draw with.

use std::hash::{BuildHasher, Hasher};

use super::DEFAULT_SEED_ENV;

/// splitmix64: a bijection of 64-bit words that scatters nearby inputs.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `k`-th unseeded seed: from [`DEFAULT_SEED_ENV`] when it is set (a
/// different seed for each `k`), else random.
pub(super) fn unseeded_seed(k: u64) -> u64 {
    match std::env::var(DEFAULT_SEED_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        // distinct, reproducible seeds
        Some(base) => splitmix64(base.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15))),
        None => random_seed(),
    }
}

fn random_seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}

/// The key random stream `k` draws with where the script seeds `seed`:
/// `seed` itself for stream 0 (an ordinary run), else a hash of both, so
/// that the copies of a sweep draw independent numbers and copy `k` of a
/// sweep draws what a run with `random_stream=k` draws.
pub(super) fn stream_seed(seed: u64, k: u64) -> u64 {
    if k == 0 {
        seed
    } else {
        splitmix64(seed ^ splitmix64(k.wrapping_mul(0xD1B5_4A32_D192_ED03)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_zero_keeps_the_seed_and_streams_differ() {
        assert_eq!(stream_seed(42, 0), 42);
        let keys: std::collections::BTreeSet<u64> = (0..1000).map(|k| stream_seed(42, k)).collect();
        assert_eq!(keys.len(), 1000);
        assert_ne!(stream_seed(42, 1), stream_seed(43, 1));
    }
}

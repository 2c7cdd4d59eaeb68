//! Host tables of a delivery grouped by target (`ByTargetPlan`).
//!
//! In: a pathway's delay tables (synapses grouped by source, by delay within
//! a source, by index within a delay: Brian's delivery order per delay) and
//! each synapse's target element. Out: per target element, its synapses in
//! the order Brian delivers them in one step (delay descending, then source,
//! then synapse), with each one's source and delay, so that a thread per
//! target applies them in that order; and a carried queue step reordered by
//! target, the order within a target kept.

/// Each target's entries are `start[g]..start[g + 1]` of the three tables.
#[derive(Debug, PartialEq)]
pub struct ByTargetTables {
    pub start: Vec<i64>,
    pub synapse: Vec<i32>,
    pub source: Vec<i32>,
    pub delay: Vec<i32>,
}

impl ByTargetTables {
    /// `source_start`, `by_source` and `by_delay`: the pathway's delay tables
    /// (`DelayTables`); `targets[s]`: synapse `s`'s target element, in
    /// `0..groups`. Err: (synapse, target) for a target outside that range.
    /// Linear in the synapses (counting sorts) where delays are few.
    pub fn build(
        source_start: &[i64],
        by_source: &[i32],
        by_delay: &[i32],
        targets: &[i32],
        groups: u64,
    ) -> std::result::Result<ByTargetTables, (usize, i32)> {
        let n = by_source.len();
        let groups = groups as usize;
        let target_of = |k: usize| targets.get(by_source[k] as usize).copied().unwrap_or(-1);
        for k in 0..n {
            let t = target_of(k);
            if t < 0 || t as usize >= groups {
                return Err((by_source[k] as usize, t));
            }
        }
        // The positions of the delay tables, by delay descending (stable: within
        // a delay, by source then synapse, the tables' order).
        let max_d = by_delay.iter().copied().max().unwrap_or(0).max(0) as usize;
        let mut order: Vec<u32> = (0..n as u32).collect();
        if max_d <= 4 * n + 16 {
            let mut counts = vec![0usize; max_d + 2];
            for &d in by_delay {
                counts[max_d - d as usize + 1] += 1;
            }
            for k in 0..=max_d {
                counts[k + 1] += counts[k];
            }
            for (k, &d) in by_delay.iter().enumerate() {
                let slot = &mut counts[max_d - d as usize];
                order[*slot] = k as u32;
                *slot += 1;
            }
        } else {
            order.sort_by_key(|&k| std::cmp::Reverse(by_delay[k as usize]));
        }
        // Then stable by target.
        let mut start = vec![0i64; groups + 1];
        for k in 0..n {
            start[target_of(k) as usize + 1] += 1;
        }
        for g in 0..groups {
            start[g + 1] += start[g];
        }
        let mut source_of = vec![0i32; n];
        for src in 0..source_start.len().saturating_sub(1) {
            for slot in &mut source_of[source_start[src] as usize..source_start[src + 1] as usize] {
                *slot = src as i32;
            }
        }
        let mut next: Vec<i64> = start[..groups].to_vec();
        let (mut synapse, mut source, mut delay) = (vec![0i32; n], vec![0i32; n], vec![0i32; n]);
        for &k in &order {
            let k = k as usize;
            let slot = &mut next[target_of(k) as usize];
            let j = *slot as usize;
            *slot += 1;
            synapse[j] = by_source[k];
            source[j] = source_of[k];
            delay[j] = by_delay[k];
        }
        Ok(ByTargetTables {
            start,
            synapse,
            source,
            delay,
        })
    }
}

/// A carried queue step reordered by target element (stable: the order
/// within a target, Brian's, kept). Synapses whose target is unknown sort last.
pub fn carry_by_target(step: &mut [i32], targets: &[i32]) {
    step.sort_by_key(|&s| targets.get(s as usize).copied().unwrap_or(i32::MAX));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each of `n` groups starts in a list of the group `keys` (sorted by group).
    fn starts(keys: impl Iterator<Item = usize>, n: usize) -> Vec<i64> {
        let mut start = vec![0i64; n + 1];
        for k in keys {
            start[k + 1] += 1;
        }
        for g in 0..n {
            start[g + 1] += start[g];
        }
        start
    }

    /// Brian's order for one step in which every source spiked: delay
    /// descending, source ascending, then the tables' order.
    fn by_sorting(
        start: &[i64],
        by_source: &[i32],
        by_delay: &[i32],
        targets: &[i32],
        groups: usize,
    ) -> ByTargetTables {
        let mut entries = Vec::new();
        for src in 0..start.len() - 1 {
            for k in start[src] as usize..start[src + 1] as usize {
                entries.push((
                    targets[by_source[k] as usize],
                    -by_delay[k],
                    src as i32,
                    k,
                    by_source[k],
                    by_delay[k],
                ));
            }
        }
        entries.sort();
        ByTargetTables {
            start: starts(entries.iter().map(|e| e.0 as usize), groups),
            synapse: entries.iter().map(|e| e.4).collect(),
            source: entries.iter().map(|e| e.2).collect(),
            delay: entries.iter().map(|e| e.5).collect(),
        }
    }

    #[test]
    fn each_target_gets_its_synapses_in_brians_order() {
        let mut next = crate::runtime::test_lcg(99);
        for (n, n_src, groups, max_d) in [
            (0usize, 3usize, 4usize, 2i32),
            (1, 1, 1, 1),
            (400, 9, 13, 6),
            (3000, 50, 7, 2000),
            (10, 3, 4, 1000),
        ] {
            // delay tables: synapses grouped by source, by delay, then index
            let mut syn: Vec<(i32, i32, i32)> = (0..n as i32)
                .map(|s| (next(n_src as u64), next(max_d as u64), s))
                .collect();
            syn.sort();
            let start = starts(syn.iter().map(|s| s.0 as usize), n_src);
            let by_source: Vec<i32> = syn.iter().map(|s| s.2).collect();
            let by_delay: Vec<i32> = syn.iter().map(|s| s.1).collect();
            let targets: Vec<i32> = (0..n).map(|_| next(groups as u64)).collect();
            let got = ByTargetTables::build(&start, &by_source, &by_delay, &targets, groups as u64)
                .unwrap();
            assert_eq!(
                got,
                by_sorting(&start, &by_source, &by_delay, &targets, groups),
                "n={n}"
            );
        }
    }

    #[test]
    fn a_target_outside_the_range_is_named() {
        let err = ByTargetTables::build(&[0, 2], &[1, 0], &[0, 0], &[0, 5], 3).unwrap_err();
        assert_eq!(err, (1, 5));
    }

    #[test]
    fn carried_spikes_keep_their_order_within_a_target() {
        let mut step = vec![4, 0, 3, 1, 2];
        carry_by_target(&mut step, &[1, 0, 1, 0, 1]);
        // targets: synapses 1 and 3 -> 0; 0, 2 and 4 -> 1
        assert_eq!(step, vec![3, 1, 4, 0, 2]);
    }
}

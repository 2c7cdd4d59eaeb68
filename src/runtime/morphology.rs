//! The values of a SpatialNeuron's morphology arrays, checked before its
//! code runs: the spatial kernels index the compartments, the sections and
//! the coupling matrix with them, so a value out of range (an array set
//! from Python or by the main queue to something no morphology has) is an
//! error naming the array, never a memory access outside the buffers.
//!
//! In: the plan's [`SpatialPlan`] and the arrays' current values. Out:
//! `Ok`, or the first value out of range, described.

use crate::plan::spatial::SpatialPlan;

/// A morphology's index arrays, as read from the device.
pub struct Morphology {
    /// Per section: its first compartment and one past its last.
    pub starts: Vec<i64>,
    pub ends: Vec<i64>,
    /// Per section: the row of its parent in the coupling system (0: the root).
    pub parent: Vec<i64>,
    /// Per section: its column among its parent's children.
    pub idxchild: Vec<i64>,
    /// Per row of the coupling system (sections + 1): its number of children.
    pub children_num: Vec<i64>,
    /// Row-major, `children_row_length` per row: the children's rows.
    pub children: Vec<i64>,
}

/// Checks `m` against the shapes `sp` planned for; the message names the array.
pub fn check(sp: &SpatialPlan, m: &Morphology) -> Result<(), String> {
    let (n, sections, row) = (
        sp.compartments as i64,
        sp.sections as i64,
        sp.children_row_length as i64,
    );
    let out_of = |name: &str, k: usize, value: i64, range: &str| {
        Err(format!(
            "the morphology's '{name}'[{k}] is {value}, outside {range}"
        ))
    };
    for s in 0..sp.sections as usize {
        let (first, end) = (value(&m.starts, s), value(&m.ends, s));
        if !(0 <= first && first < n) {
            return out_of("_starts", s, first, &format!("the {n} compartments"));
        }
        if !(first < end && end <= n) {
            return out_of(
                "_ends",
                s,
                end,
                &format!("{}..={n} (after the section's start, {first})", first + 1),
            );
        }
        let parent = value(&m.parent, s);
        if !(0 <= parent && parent <= sections) {
            return out_of(
                "_morph_parent_i",
                s,
                parent,
                &format!("the {} rows of the coupling system", sections + 1),
            );
        }
        // (the root section has no parent's row to sit in)
        let child = value(&m.idxchild, s);
        if s > 0 && !(0 <= child && child < row) {
            return out_of(
                "_morph_idxchild",
                s,
                child,
                &format!("the {row} columns of a row's children"),
            );
        }
    }
    for r in 0..=sp.sections as usize {
        let count = value(&m.children_num, r);
        if !(0 <= count && count <= row) {
            return out_of("_morph_children_num", r, count, &format!("0..={row}"));
        }
        for k in 0..count as usize {
            let at = r * row as usize + k;
            let j = value(&m.children, at);
            if !(1 <= j && j <= sections) {
                return out_of(
                    "_morph_children",
                    at,
                    j,
                    &format!("the rows 1..={sections} of the sections"),
                );
            }
        }
    }
    Ok(())
}

/// `values[k]`, or -1 past the end (validation makes the lengths right; -1 fails every check).
fn value(values: &[i64], k: usize) -> i64 {
    values.get(k).copied().unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A soma (section 0) with two dendrites (sections 1 and 2) of 2 compartments each.
    fn tree() -> (SpatialPlan, Morphology) {
        let sp = SpatialPlan {
            compartments: 5,
            sections: 3,
            children_row_length: 2,
            section_of: crate::plan::BufferId(0),
        };
        let m = Morphology {
            starts: vec![0, 1, 3],
            ends: vec![1, 3, 5],
            parent: vec![0, 1, 1],
            idxchild: vec![0, 0, 1],
            children_num: vec![1, 2, 0, 0],
            children: vec![1, 0, 2, 3, 0, 0, 0, 0],
        };
        (sp, m)
    }

    #[test]
    fn a_tree_passes_and_each_bad_value_is_named() {
        let (sp, m) = tree();
        assert_eq!(check(&sp, &m), Ok(()));
        let bad: [(&str, fn(&mut Morphology)); 6] = [
            ("_starts", |m| m.starts[1] = 5),
            ("_ends", |m| m.ends[2] = 6),
            ("_morph_parent_i", |m| m.parent[2] = 4),
            ("_morph_idxchild", |m| m.idxchild[1] = 2),
            ("_morph_children_num", |m| m.children_num[3] = 1_000_000_007),
            ("_morph_children", |m| m.children[2] = 0),
        ];
        for (name, spoil) in bad {
            let (sp, mut m) = tree();
            spoil(&mut m);
            let e = check(&sp, &m).expect_err(name);
            assert!(e.contains(&format!("'{name}'")), "{name}: {e}");
        }
    }
}

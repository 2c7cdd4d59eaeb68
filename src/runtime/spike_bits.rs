//! Spike bits to Brian's records (`plan::SpikeBits`).
//!
//! In: a drained block of slots: one bit per source element and slot, each
//! slot's `t`, and the values of the array recorded as `i`. Out: the bytes
//! appended to the monitor's `i` and `t` arrays, slot by slot and, within a
//! slot, in element order (the event space's ascending order), exactly the
//! records the monitor's code would have written.

/// The values recorded as `i`: `size` bytes per element of the source group.
pub struct IndexValues<'a> {
    pub bytes: &'a [u8],
    pub size: usize,
}

/// Appends the records of the slots in `words` (little-endian uint32,
/// `words_per_slot` per slot) and `times` (float64, one per slot) to
/// `index_out` and `time_out`. Element `k` of a slot is `source_start + k`,
/// and its `i` is that element of `index`. Bits past the arrays are ignored
/// (the kernels set none).
pub fn decode(
    (words, times): (&[u8], &[u8]),
    (words_per_slot, source_start): (usize, usize),
    index: &IndexValues,
    index_out: &mut Vec<u8>,
    time_out: &mut Vec<u8>,
) {
    let (index_values, index_size) = (index.bytes, index.size);
    let slots = times.len() / 8;
    for slot in 0..slots {
        let t = &times[slot * 8..slot * 8 + 8];
        for w in 0..words_per_slot {
            let at = (slot * words_per_slot + w) * 4;
            let Some(bytes) = words.get(at..at + 4) else {
                return;
            };
            let mut word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            while word != 0 {
                let bit = word.trailing_zeros() as usize;
                word &= word - 1;
                let element = source_start + 32 * w + bit;
                let Some(value) =
                    index_values.get(element * index_size..(element + 1) * index_size)
                else {
                    continue;
                };
                index_out.extend_from_slice(value);
                time_out.extend_from_slice(t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_become_records_in_slot_then_element_order() {
        // 40 elements from 5 (two words per slot); i values are 100 + element
        let (start, n) = (5usize, 40usize);
        let values: Vec<u8> = (0..start + n)
            .flat_map(|e| (100 + e as i32).to_le_bytes())
            .collect();
        let events: [&[usize]; 3] = [&[0, 31, 32, 39], &[], &[7]];
        let mut words = Vec::new();
        let mut times = Vec::new();
        for (slot, ev) in events.iter().enumerate() {
            let mut w = [0u32; 2];
            for &k in *ev {
                w[k / 32] |= 1 << (k % 32);
            }
            words.extend(w.iter().flat_map(|x| x.to_le_bytes()));
            times.extend((slot as f64 * 0.5).to_le_bytes());
        }
        let (mut i, mut t) = (Vec::new(), Vec::new());
        decode(
            (&words, &times),
            (2, start),
            &IndexValues {
                bytes: &values,
                size: 4,
            },
            &mut i,
            &mut t,
        );
        let i: Vec<i32> = i
            .chunks(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let t: Vec<f64> = t
            .chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(i, vec![105, 136, 137, 144, 112]);
        assert_eq!(t, vec![0.0, 0.0, 0.0, 0.0, 1.0]);
    }
}

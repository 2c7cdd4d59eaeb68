//! Monitors' drains: at the end of each block of steps, every recorder
//! switches to its other staging half and the filled half's records start
//! their way to the host (`Device::read_async`), appended at the next drain
//! or at the end of the run, so that copies and appending overlap the next
//! block's kernels.
//!
//! In: the [`Executor`] at a block boundary. Out: the records appended to
//! the executor's recorded data, spike-bit slots zeroed.

use std::sync::Arc;

use super::Executor;
use crate::diag::{Error, Result};
use crate::plan::BufferId;

impl Executor<'_> {
    /// Ends a block of steps for the monitors: each switches to its other
    /// staging half, and the records of this half start their way to the
    /// host, to be appended (`collect_drain`) at the next drain or at the end
    /// of the run, so that the copies and the host's appending overlap the
    /// next block's kernels. The fill counters are read here, which waits
    /// for the block's kernels.
    pub(super) fn drain(&mut self) -> Result<()> {
        self.collect_drain()?;
        self.pending = 0;
        let plan = Arc::clone(&self.plan);
        let plan = &*plan;
        let mut drain = Drain::default();
        for rec in &plan.recorders {
            let fill = self.device.read(rec.fill, 0, 16)?;
            let word = |k: usize| {
                fill.get(8 * k..8 * k + 8)
                    .and_then(|b| b.try_into().ok())
                    .map(i64::from_le_bytes)
            };
            let (Some(records), Some(half)) = (word(0), word(1)) else {
                return Err(Error::runtime("short read of a monitor's fill counter"));
            };
            if records <= 0 {
                continue;
            }
            let (records, half) = (records as usize, half.clamp(0, 1) as usize);
            let flip: Vec<u8> = [0i64, 1 - half as i64]
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect();
            self.device.write(rec.fill, 0, &flip)?;
            let at = |width: u64, size: usize| half * plan.staging_half(rec, width) as usize * size;
            if let Some(bits) = &rec.bits {
                // the values recorded as `i` are constant (a group's `i`): read once
                let b = bits.index_values;
                if !self.bits_index.contains_key(&b) {
                    let values =
                        self.device
                            .read(b, 0, self.lens[b] as usize * self.dtype(b).size())?;
                    self.bits_index.insert(b, values);
                }
                let words = records * bits.words_per_slot as usize * 4;
                self.device.read_async(bits.times, at(1, 8), records * 8)?;
                self.device
                    .read_async(bits.words, at(bits.words_per_slot, 4), words)?;
                drain.reads.push(DrainRead::BitsTimes);
                drain.reads.push(DrainRead::BitsWords(bits.clone()));
                drain
                    .zero
                    .push((bits.words, at(bits.words_per_slot, 4), words));
                continue;
            }
            for s in &rec.streams {
                let size = self.dtype(s.array).size();
                self.device.read_async(
                    s.staging,
                    at(s.width, size),
                    records * s.width as usize * size,
                )?;
                drain.reads.push(DrainRead::Stream(s.array));
            }
        }
        self.drain_in_flight = Some(drain);
        Ok(())
    }

    /// Appends the records of the last [`drain`](Self::drain) once they are on the host,
    /// and zeroes the spike bits it took (before any later kernel records into them).
    pub(super) fn collect_drain(&mut self) -> Result<()> {
        let Some(drain) = self.drain_in_flight.take() else {
            return Ok(());
        };
        let Executor {
            device,
            recorded,
            bits_index,
            plan,
            ..
        } = self;
        let mut times = Vec::new();
        device.take_reads(&mut |k, bytes| {
            match drain.reads.get(k) {
                None => {
                    return Err(Error::internal(format!(
                        "a drain got copy {k} of {}",
                        drain.reads.len()
                    )))
                }
                Some(DrainRead::Stream(array)) => {
                    recorded.entry(*array).or_default().extend_from_slice(bytes)
                }
                Some(DrainRead::BitsTimes) => times = bytes.to_vec(),
                Some(DrainRead::BitsWords(bits)) => {
                    let index = crate::runtime::spike_bits::IndexValues {
                        bytes: bits_index
                            .get(&bits.index_values)
                            .map_or(&[][..], Vec::as_slice),
                        size: plan.buffers[bits.index_values].dtype.size(),
                    };
                    let mut i = std::mem::take(recorded.entry(bits.index_array).or_default());
                    let mut t = std::mem::take(recorded.entry(bits.time_array).or_default());
                    let shape = (bits.words_per_slot as usize, bits.source_start as usize);
                    crate::runtime::spike_bits::decode(
                        (bytes, &times),
                        shape,
                        &index,
                        &mut i,
                        &mut t,
                    );
                    recorded.insert(bits.index_array, i);
                    recorded.insert(bits.time_array, t);
                }
            }
            Ok(())
        })?;
        for (buf, offset, len) in drain.zero {
            self.device.zero(buf, offset, len)?;
        }
        Ok(())
    }
}

/// The copies one drain started (`Device::read_async`, in this order) and the
/// spike bits to zero once they are done.
#[derive(Default)]
pub(super) struct Drain {
    reads: Vec<DrainRead>,
    zero: Vec<(BufferId, usize, usize)>,
}

/// What one copy of a drain holds.
enum DrainRead {
    /// Records of a recorded array (its buffer).
    Stream(BufferId),
    /// A spike-bit monitor's slot times, then its slot words.
    BitsTimes,
    BitsWords(crate::plan::SpikeBits),
}

//! Brian's `store()` / `restore()` inside the simulation (Brian's standalone
//! devices refuse both).
//!
//! In: the [`Executor`] at a `store_state` or `restore_state` entry of the
//! main queue. Out: for `store_state`, a [`Snapshot`] kept by the executor
//! under (network, name): the bytes and sizes of the arrays of the network's
//! objects and clocks (what Brian's `_full_state` takes), the recorded data
//! of its monitors, its pathways' queues (delay tables, spike ring, carry
//! list, queue state), the network's time and the random-number state. For
//! `restore_state`, all of it put back, the random-number state only when
//! asked (Brian's `restore_random_state`).
//!
//! Monitors are drained at the end of every run, so between runs the
//! staging buffers hold nothing and the snapshot needs no drain.

use super::Executor;
use crate::diag::{Error, Result};
use crate::plan::{BufferId, BufferRole};

/// One stored network state.
#[derive(Debug, Clone)]
pub(super) struct Snapshot {
    network_t: Option<f64>,
    seed: u64,
    stream: u64,
    buffers: Vec<SavedBuffer>,
}

#[derive(Debug, Clone)]
struct SavedBuffer {
    buf: BufferId,
    /// Elements (device buffers); the recorded data is its own length.
    len: u64,
    bytes: Vec<u8>,
}

/// A snapshot's contents, borrowed (`snapshot_file`).
pub(super) struct Parts<'s> {
    pub network_t: Option<f64>,
    pub seed: u64,
    pub stream: u64,
    /// (buffer, elements, bytes)
    pub buffers: Vec<(BufferId, u64, &'s [u8])>,
}

impl Snapshot {
    pub(super) fn parts(&self) -> Parts<'_> {
        Parts {
            network_t: self.network_t,
            seed: self.seed,
            stream: self.stream,
            buffers: self
                .buffers
                .iter()
                .map(|b| (b.buf, b.len, b.bytes.as_slice()))
                .collect(),
        }
    }

    /// A snapshot from its contents: (buffer, elements, bytes), checked by the caller.
    pub(super) fn from_parts(
        network_t: Option<f64>,
        seed: u64,
        stream: u64,
        buffers: Vec<(BufferId, u64, Vec<u8>)>,
    ) -> Snapshot {
        let buffers = buffers
            .into_iter()
            .map(|(buf, len, bytes)| SavedBuffer { buf, len, bytes })
            .collect();
        Snapshot {
            network_t,
            seed,
            stream,
            buffers,
        }
    }

    /// The same snapshot for another plan: `renumber` maps each buffer to its
    /// number there (a live session's rebuilt program); `None` when one has none.
    pub(super) fn renumber(
        self,
        renumber: impl Fn(BufferId) -> Option<BufferId>,
    ) -> Option<Snapshot> {
        let buffers = self
            .buffers
            .into_iter()
            .map(|b| {
                Some(SavedBuffer {
                    buf: renumber(b.buf)?,
                    ..b
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Snapshot { buffers, ..self })
    }
}

impl Executor<'_> {
    /// A buffer's contents: its elements and bytes; a recorded array's host
    /// data (its element count 0: the data is its own length).
    pub(super) fn save_buffer(&mut self, buf: BufferId) -> Result<(u64, Vec<u8>)> {
        if self.plan.buffers[buf].role == BufferRole::Recorded {
            return Ok((0, self.recorded.get(&buf).cloned().unwrap_or_default()));
        }
        let len = self.lens[buf];
        Ok((
            len,
            self.device
                .read(buf, 0, len as usize * self.dtype(buf).size())?,
        ))
    }

    /// Puts back what [`save_buffer`](Self::save_buffer) gave, resizing the buffer
    /// to `len` elements where it has another size.
    pub(super) fn load_buffer(&mut self, buf: BufferId, len: u64, bytes: Vec<u8>) -> Result<()> {
        if self.plan.buffers[buf].role == BufferRole::Recorded {
            self.recorded.insert(buf, bytes);
            return Ok(());
        }
        if self.lens[buf] != len {
            self.device.resize(buf, bytes.len())?;
            self.lens[buf] = len;
            self.publish_lens()?;
        }
        if !bytes.is_empty() {
            self.device.write(buf, 0, &bytes)?;
        }
        Ok(())
    }

    /// `store_state`: keeps the state of `arrays` and `pathways` under (`network`, `name`).
    pub(super) fn store_state(
        &mut self,
        network: &str,
        name: &str,
        arrays: &[String],
        pathways: &[String],
    ) -> Result<()> {
        let mut bufs = Vec::new();
        for array in arrays {
            bufs.push(self.array(array)?);
        }
        for pathway in pathways {
            let p =
                self.plan.pathways.get(pathway).ok_or_else(|| {
                    Error::export(format!("store(): unknown pathway '{pathway}'"))
                })?;
            bufs.extend(p.queue_buffers());
        }
        bufs.sort_unstable();
        bufs.dedup();
        let mut buffers = Vec::with_capacity(bufs.len());
        for buf in bufs {
            let (len, bytes) = self.save_buffer(buf)?;
            buffers.push(SavedBuffer { buf, len, bytes });
        }
        let snapshot = Snapshot {
            network_t: self.network_t.get(network).copied(),
            seed: self.seed,
            stream: self.stream,
            buffers,
        };
        self.snapshots
            .insert((network.to_string(), name.to_string()), snapshot);
        Ok(())
    }

    /// `restore_state`: puts back what `store_state` kept under (`network`, `name`).
    pub(super) fn restore_state(
        &mut self,
        network: &str,
        name: &str,
        random_state: bool,
    ) -> Result<()> {
        let snapshot = self
            .snapshots
            .get(&(network.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| {
                Error::runtime(format!(
                    "restore(): network '{network}' has no stored state '{name}'"
                ))
            })?;
        for saved in snapshot.buffers {
            self.load_buffer(saved.buf, saved.len, saved.bytes)?;
        }
        match snapshot.network_t {
            Some(t) => self.network_t.insert(network.to_string(), t),
            None => self.network_t.remove(network),
        };
        if random_state {
            self.seed = snapshot.seed;
            self.stream = snapshot.stream;
        }
        self.scalar_cache.clear();
        Ok(())
    }
}

//! A stored state as bytes: `store(filename=...)` / `restore(filename=...)`
//! in a live session, restorable in another process, as in Brian's runtime.
//!
//! In: a [`Snapshot`] the executor keeps under (network, name). Out: a header
//! line of JSON (the format, the network's time, the random-number state, and
//! each buffer's name, element count and byte count) followed by the buffers'
//! bytes; and back. Buffers are named, not numbered, so the state loads into
//! any program of the same script. Loading checks every name, dtype size and
//! fixed array size against this program's plan: a file of another script is
//! a clear error, not a read past an array.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::snapshot::Snapshot;
use super::Executor;
use crate::diag::{Error, Result};
use crate::plan::{BufferId, BufferRole};

const FORMAT: &str = "brisk-stored-state";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    network_t: Option<f64>,
    seed: u64,
    stream: u64,
    buffers: Vec<BufferHeader>,
}

#[derive(Serialize, Deserialize)]
struct BufferHeader {
    name: String,
    len: u64,
    bytes: u64,
}

impl Executor<'_> {
    /// The state `store(name)` kept for `network`, as bytes.
    pub fn save_state(&self, network: &str, name: &str) -> Result<Vec<u8>> {
        let snapshot = self
            .snapshots
            .get(&(network.to_string(), name.to_string()))
            .ok_or_else(|| {
                Error::runtime(format!(
                    "store(): network '{network}' has no stored state '{name}'"
                ))
            })?;
        let parts = snapshot.parts();
        let header = Header {
            format: FORMAT.to_string(),
            version: VERSION,
            network_t: parts.network_t,
            seed: parts.seed,
            stream: parts.stream,
            buffers: parts
                .buffers
                .iter()
                .map(|(buf, len, bytes)| BufferHeader {
                    name: self.plan.buffers[*buf].name.clone(),
                    len: *len,
                    bytes: bytes.len() as u64,
                })
                .collect(),
        };
        let mut out = serde_json::to_vec(&header).map_err(|e| Error::internal(e.to_string()))?;
        out.push(b'\n');
        for (_, _, bytes) in parts.buffers {
            out.extend_from_slice(bytes);
        }
        Ok(out)
    }

    /// Keeps the state in `data` (from [`save_state`](Self::save_state), in
    /// this process or another) under (`network`, `name`), for a `restore_state`.
    pub fn load_state(&mut self, network: &str, name: &str, data: &[u8]) -> Result<()> {
        let bad = |why: String| {
            Error::runtime(format!(
                "restore(filename=...): the stored state '{name}' {why}"
            ))
        };
        let split = data
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad("is not a Brisk stored state".into()))?;
        let header: Header = serde_json::from_slice(&data[..split])
            .map_err(|e| bad(format!("is not a Brisk stored state ({e})")))?;
        if header.format != FORMAT || header.version != VERSION {
            return Err(bad(format!(
                "has format {} version {}, this brisk reads version {VERSION}",
                header.format, header.version
            )));
        }
        let by_name: HashMap<&str, BufferId> = self
            .plan
            .buffer_ids()
            .map(|(id, b)| (b.name.as_str(), id))
            .collect();
        let mut rest = &data[split + 1..];
        let mut buffers = Vec::with_capacity(header.buffers.len());
        for b in &header.buffers {
            let &buf = by_name.get(b.name.as_str()).ok_or_else(|| {
                bad(format!(
                    "holds the array '{}', which this simulation does not have",
                    b.name
                ))
            })?;
            let size = self.plan.buffers[buf].dtype.size() as u64;
            let n = usize::try_from(b.bytes)
                .ok()
                .filter(|&n| n <= rest.len())
                .ok_or_else(|| bad("is cut short".into()))?;
            let recorded = self.plan.buffers[buf].role == BufferRole::Recorded;
            let declared = self
                .array_decl(buf)
                .filter(|a| !a.dynamic)
                .map(|_| self.plan.buffers[buf].len);
            let fits = b.bytes % size == 0
                && (recorded || b.len.checked_mul(size) == Some(b.bytes))
                && declared.is_none_or(|len| recorded || len == b.len);
            if !fits {
                return Err(bad(format!(
                    "holds {} bytes for {} elements of '{}', which does not fit this simulation's array",
                    b.bytes, b.len, b.name
                )));
            }
            buffers.push((buf, if recorded { 0 } else { b.len }, rest[..n].to_vec()));
            rest = &rest[n..];
        }
        if !rest.is_empty() {
            return Err(bad("has bytes after its last array".into()));
        }
        let snapshot = Snapshot::from_parts(header.network_t, header.seed, header.stream, buffers);
        self.snapshots
            .insert((network.to_string(), name.to_string()), snapshot);
        Ok(())
    }
}

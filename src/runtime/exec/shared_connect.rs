//! Deterministic connect() calls of a sweep, built once for the copies.
//!
//! In: a connect() call of one copy whose plan has [`ConnectPlan::inputs`]
//! (it draws no random numbers and calls no user function), and the
//! sweep's [`SharedConnects`]. Out: the call's synapses, either built by
//! this copy (and offered to the others) or copied from the copy that built
//! them, when every input is equal bit for bit: the arrays the call's code
//! reads (with their lengths), its sizes and its clock values. Its result
//! depends on nothing else, so a copy that takes it has what it would have
//! built: the arrays the call writes (`_synaptic_pre`, `_synaptic_post`,
//! `N_incoming`, `N_outgoing`, `N`, the multisynaptic index and the call's
//! counts and error words), and every array registered with the Synapses
//! resized as the call resizes them. On CUDA, the copies that take it share
//! the builder's `_synaptic_pre` and `_synaptic_post` in device memory, in
//! its batch and the later ones (`Device::adopt_buffer`; a copy that writes
//! one later, a second connect() resizing it or a `restore()`, gets its own
//! first); on the C++ backend each copy holds its own copy.
//!
//! A call's slot is claimed by the first copy to reach it; a copy with the
//! same inputs' hash waits for it (the copies of a C++ sweep run on
//! threads), one with other inputs builds its own and keeps it to itself, so
//! at most one result per call is held. A build that fails leaves the slot
//! empty: each copy then builds (and fails) on its own, naming itself.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Condvar, Mutex};

use super::Executor;
use crate::diag::Result;
use crate::plan::{BufferId, BufferRole, ConnectPlan};
use crate::runtime::{SharedBuffer, StepArgs};

/// The deterministic connect() calls of one sweep, by (code object, call number).
#[derive(Debug, Default)]
pub struct SharedConnects {
    slots: Mutex<BTreeMap<(String, usize), Arc<Slot>>>,
}

#[derive(Debug)]
struct Slot {
    /// The hash of the builder's inputs.
    hash: u64,
    state: Mutex<State>,
    ready: Condvar,
}

#[derive(Debug)]
enum State {
    Building,
    Built(Arc<Built>),
    Failed,
}

/// What one call made.
#[derive(Debug)]
pub(super) struct Built {
    /// The inputs it was built from (compared whole before it is taken).
    inputs: Vec<u8>,
    /// The synapse count after the call (the registered arrays' length).
    total: u64,
    /// Each array the call writes: its length and bytes.
    outputs: Vec<(BufferId, u64, Vec<u8>)>,
    /// `_synaptic_pre` and `_synaptic_post` in the builder's device memory
    /// (CUDA), with their lengths: a copy on a device of the same context
    /// adopts them instead of holding copies of its own.
    device: Vec<(BufferId, u64, SharedBuffer)>,
}

/// A copy's part in one call.
pub(super) enum Role {
    /// Build it and offer it ([`Claim::offer`]).
    Build(Claim),
    /// Take it: another copy built it from the same inputs.
    Take(Arc<Built>),
    /// Build it for this copy alone.
    Alone,
}

/// The right to build a call's synapses for the sweep; dropped without an
/// offer (the build failed), it marks the slot failed and wakes the waiters.
pub(super) struct Claim {
    slot: Arc<Slot>,
    inputs: Vec<u8>,
    offered: bool,
}

impl Claim {
    fn settle(&mut self, state: State) {
        self.offered = true;
        let mut guard = self.slot.state.lock().unwrap_or_else(|e| e.into_inner());
        *guard = state;
        self.slot.ready.notify_all();
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.offered {
            self.settle(State::Failed);
        }
    }
}

impl SharedConnects {
    /// This copy's role in call `call` of `code_object`, whose inputs are `inputs`.
    fn role(&self, code_object: &str, call: usize, inputs: Vec<u8>) -> Role {
        let mut hasher = DefaultHasher::new();
        inputs.hash(&mut hasher);
        let hash = hasher.finish();
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            match slots.get(&(code_object.to_string(), call)) {
                Some(slot) if slot.hash == hash => Arc::clone(slot),
                Some(_) => return Role::Alone,
                None => {
                    let slot = Arc::new(Slot {
                        hash,
                        state: Mutex::new(State::Building),
                        ready: Condvar::new(),
                    });
                    slots.insert((code_object.to_string(), call), Arc::clone(&slot));
                    return Role::Build(Claim {
                        slot,
                        inputs,
                        offered: false,
                    });
                }
            }
        };
        let mut state = slot.state.lock().unwrap_or_else(|e| e.into_inner());
        while matches!(*state, State::Building) {
            state = slot.ready.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        match &*state {
            State::Built(built) if built.inputs == inputs => Role::Take(Arc::clone(built)),
            _ => Role::Alone,
        }
    }
}

impl Executor<'_> {
    /// This copy's role in a connect() call about to run with `args` (its
    /// count or fill kernel's) and the sizes `sizes`: [`Role::Alone`] outside
    /// a sweep and for calls that draw random numbers.
    pub(super) fn connect_role(
        &mut self,
        code_object: &str,
        c: &ConnectPlan,
        args: &StepArgs,
        sizes: &[u64],
    ) -> Result<Role> {
        let (Some(shared), Some(inputs)) = (self.shared_connects.clone(), c.inputs.as_ref()) else {
            return Ok(Role::Alone);
        };
        let call = self.connect_calls.entry(code_object.to_string()).or_insert(0);
        *call += 1;
        let call = *call;
        let mut bytes = Vec::new();
        for value in sizes.iter().chain(&[args.n as u64, args.timestep as u64]) {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        bytes.extend_from_slice(&args.t.to_le_bytes());
        bytes.extend_from_slice(&args.dt.to_le_bytes());
        for &buf in inputs {
            // (a monitor's recording, which no connect() reads in practice, lives on the host)
            if self.plan.buffers[buf].role == BufferRole::Recorded {
                return Ok(Role::Alone);
            }
            let len = self.lens[buf];
            bytes.extend_from_slice(&(buf.0 as u64).to_le_bytes());
            bytes.extend_from_slice(&len.to_le_bytes());
            let n = len * self.dtype(buf).size() as u64;
            bytes.extend(self.device.read(buf, 0, n as usize)?);
        }
        Ok(shared.role(code_object, call, bytes))
    }

    /// The arrays a connect() call writes, as it left them.
    fn connect_outputs(c: &ConnectPlan) -> Vec<BufferId> {
        let written = [
            c.counts,
            c.error,
            c.n,
            c.synaptic_pre,
            c.synaptic_post,
            c.n_incoming,
            c.n_outgoing,
        ];
        written.into_iter().chain(c.multisynaptic_index).collect()
    }

    /// Offers the synapses this copy built (`total` of them) to the copies waiting.
    pub(super) fn offer_connect(&mut self, mut claim: Claim, c: &ConnectPlan, total: u64) -> Result<()> {
        let mut outputs = Vec::new();
        for buf in Self::connect_outputs(c) {
            let len = self.lens[buf];
            let n = len * self.dtype(buf).size() as u64;
            outputs.push((buf, len, self.device.read(buf, 0, n as usize)?));
        }
        let device = [c.synaptic_pre, c.synaptic_post]
            .into_iter()
            .filter_map(|buf| Some((buf, self.lens[buf], self.device.share_buffer(buf)?)))
            .collect();
        let built = Built {
            inputs: std::mem::take(&mut claim.inputs),
            total,
            outputs,
            device,
        };
        claim.settle(State::Built(Arc::new(built)));
        Ok(())
    }

    /// Makes this copy's synapses those another copy built from the same
    /// inputs: its `_synaptic_pre` and `_synaptic_post` the builder's memory
    /// where the device adopts it (CUDA, one context), else copies.
    pub(super) fn take_connect(&mut self, c: &ConnectPlan, built: &Built) -> Result<()> {
        let mut adopted = Vec::new();
        for (buf, len, shared) in &built.device {
            let bytes = *len as usize * self.dtype(*buf).size();
            if self.device.adopt_buffer(*buf, shared, bytes)? {
                self.lens[*buf] = *len;
                adopted.push(*buf);
            }
        }
        if !adopted.is_empty() {
            self.publish_lens()?;
        }
        for &buf in c.registered.iter().filter(|b| !adopted.contains(b)) {
            self.resize(buf, built.total)?;
        }
        for (buf, len, bytes) in built.outputs.iter().filter(|o| !adopted.contains(&o.0)) {
            self.replace(*buf, *len, bytes)?;
        }
        self.scalar_cache.clear();
        self.connects_shared += 1;
        Ok(())
    }
}

//! What a live session (`crate::session`) and the results writer ask of the
//! executor between runs: the export and plan swapped under the state, a
//! static array loaded again, an array's current values, the NaN check
//! Brian's runtime makes after a run, the clocks' dt, the random state,
//! the networks' times, the last run's timing and profile; and the
//! SpatialNeuron morphology check made before a spatial code object runs.
//!
//! In: the [`Executor`] between runs. Out: values, or the executor rebound.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Executor;
use crate::diag::{Error, Result};
use crate::dtype::Dtype;
use crate::export::Export;
use crate::plan::{BufferId, BufferRole, Plan};
use crate::runtime::morphology;

impl Executor<'_> {
    /// A live session: the export and plan of a newer export of the same
    /// program (the same plan: every buffer keeps its number), whose main
    /// queue has more entries.
    pub fn rebind(&mut self, export: Arc<Export>, plan: Arc<Plan>) {
        self.export = export;
        self.plan = plan;
    }

    /// A live session: loads the Brian static array `name` (TimedArray values)
    /// again into its buffer, after Python wrote new values under that name.
    pub fn reload_static(&mut self, name: &str) -> Result<()> {
        let found = self
            .plan
            .buffers
            .iter()
            .position(|b| b.name == name && b.role == BufferRole::Static)
            .map(BufferId);
        if let Some(buf) = found {
            let values = self.static_values(name, self.dtype(buf))?;
            if values.len() as u64 != self.lens[buf] * self.dtype(buf).size() as u64 {
                return Err(Error::runtime(format!(
                    "the values of '{name}' changed their size between runs; make a TimedArray of another name"
                )));
            }
            self.device.write(buf, 0, &values)?;
        }
        Ok(())
    }

    /// The current values of the Brian array `name` (recorded data included),
    /// as its raw little-endian bytes, and its element count.
    pub fn read_array(&mut self, name: &str) -> Result<(Vec<u8>, u64)> {
        let buf = self
            .plan
            .buffer_of(name)
            .filter(|&b| self.plan.is_brian_array(b))
            .ok_or_else(|| {
                Error::runtime(format!("read: no Brian array '{name}' in this simulation"))
            })?;
        let size = self.dtype(buf).size() as u64;
        let (len, bytes) = self.save_buffer(buf)?;
        // (a recorded array's element count is its data's)
        let len = if self.plan.buffers[buf].role == BufferRole::Recorded {
            bytes.len() as u64 / size
        } else {
            len
        };
        Ok((bytes, len))
    }

    /// Those of the float arrays `names` that hold a NaN or a value beyond
    /// 1e50 in magnitude (Brian's runtime warns of them after every run);
    /// names of no array of this simulation are skipped.
    pub fn invalid_values(&mut self, names: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for name in names {
            let Some(buf) = self
                .plan
                .buffer_of(name)
                .filter(|&b| self.plan.is_brian_array(b))
            else {
                continue;
            };
            let dtype = self.dtype(buf);
            let (_, bytes) = self.save_buffer(buf)?;
            let bad = |x: f64| x.is_nan() || x.abs() > 1e50;
            let invalid = match dtype {
                Dtype::Float64 => bytes
                    .chunks_exact(8)
                    .any(|c| bad(f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))),
                Dtype::Float32 => bytes
                    .chunks_exact(4)
                    .any(|c| bad(f32::from_le_bytes(c.try_into().unwrap_or([0; 4])) as f64)),
                _ => false,
            };
            if invalid {
                out.push(name.clone());
            }
        }
        Ok(out)
    }

    /// A SpatialNeuron's morphology arrays hold indices the spatial kernels can
    /// follow (`runtime::morphology`); checked before its code runs.
    pub(super) fn check_morphology(&mut self, code_object: &str) -> Result<()> {
        let Some(sp) = self.plan.spatial.get(code_object).cloned() else {
            return Ok(());
        };
        let mut read = |var: &str| -> Result<Vec<i64>> {
            let array = match self
                .export
                .code_object(code_object)
                .and_then(|c| c.variables.get(var))
            {
                Some(crate::export::VariableDecl::Array { array, .. }) => array.clone(),
                _ => {
                    return Err(Error::internal(format!(
                        "'{code_object}' has no array '{var}'"
                    )))
                }
            };
            let buf = self.array(&array)?;
            self.read_as(buf, |x| x as i64)
        };
        let m = morphology::Morphology {
            starts: read("_starts")?,
            ends: read("_ends")?,
            parent: read("_morph_parent_i")?,
            idxchild: read("_morph_idxchild")?,
            children_num: read("_morph_children_num")?,
            children: read("_morph_children")?,
        };
        morphology::check(&sp, &m).map_err(|message| {
            let owner = self
                .export
                .code_object(code_object)
                .map(|c| c.owner.name.clone())
                .unwrap_or_default();
            Error::runtime(message).in_object(&owner, code_object)
        })
    }

    /// The export and plan the executor runs now.
    pub fn export_and_plan(&self) -> (Arc<Export>, Arc<Plan>) {
        (Arc::clone(&self.export), Arc::clone(&self.plan))
    }

    /// The random-number state: the key and the launches since it (`device.get_random_state()`).
    pub fn random_state(&self) -> (u64, u64) {
        (self.seed, self.stream)
    }

    /// The dt each regular clock's `dt` array holds now, by the array's name
    /// (a live session validates the runs it repeats with them).
    pub fn clock_dts(&mut self) -> Result<BTreeMap<String, f64>> {
        let bufs: Vec<BufferId> = self.clocks.values().filter_map(|c| c.buf_dt).collect();
        bufs.into_iter()
            .map(|buf| {
                Ok((
                    self.plan.buffers[buf].name.clone(),
                    self.read_scalar_f64(buf)?,
                ))
            })
            .collect()
    }

    /// Each network's time (a live session reports it after every run).
    pub fn network_times(&self) -> &BTreeMap<String, f64> {
        &self.network_t
    }

    /// Wall-clock seconds and completed fraction of the last network run.
    pub fn last_run(&self) -> (f64, f64) {
        self.last_run
    }

    /// `run(..., profile=True)`: seconds per code object so far.
    pub fn profile(&self) -> Option<&[(String, f64)]> {
        self.profile.as_deref()
    }
}

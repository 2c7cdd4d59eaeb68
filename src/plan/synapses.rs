//! Plan entries for Synapses: connect() buffers and kernels, pathway queues.
//!
//! In: a lowered `synapses_create_*`, `synapses_push_spikes` or `synapses`
//! code object. Out: the extra buffers the runtime and the generated code
//! share (counts and error flags of a connect() call; each pathway's spike
//! history, delay tables and carried-over queue), recorded in
//! [`Plan::connects`] and [`Plan::pathways`].

use super::add_internal;
use crate::diag::{Error, Result};
use crate::dtype::Dtype;
use crate::ir::{CodeObject, Function, Symbol, TemplateData};
use crate::plan::{
    constant_u64, size_of, BufferId, ByTargetPlan, ConnectPlan, KernelId, LoopSize, PathwayPlan,
    Plan,
};

/// A summed variable on CUDA: the target range's synapses grouped by target
/// (a CSR the runtime builds when a run starts), so that a thread per target
/// element sums its synapses in synapse order (deterministic, Brian's order).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SummedPlan {
    /// The Synapses object (for messages).
    pub synapses: String,
    /// Each synapse's target element (absolute index).
    pub index: BufferId,
    /// The first target element, and how many there are.
    pub start: i64,
    pub size: LoopSize,
    /// int64, `size + 1`: each target's synapses in `by_target`.
    pub by_target_start: BufferId,
    /// int32: synapse indices grouped by target, ascending within a target.
    pub by_target: BufferId,
}

/// Adds the buffers of a summed variable's CSR.
pub fn add_summed(plan: &mut Plan, co: &CodeObject) -> Result<SummedPlan> {
    let TemplateData::Summed {
        summed: decl,
        target_size_name,
    } = &co.data
    else {
        return Err(Error::internal("no summed target").in_object(&co.owner, &co.name));
    };
    let index = array_buffer(plan, co, &decl.index)?;
    let size = size_of(plan, co, target_size_name)?;
    let by_target_start = add_internal(
        plan,
        format!("_by_target_start_{}", co.name),
        Dtype::Int64,
        0,
    );
    let by_target = add_internal(plan, format!("_by_target_{}", co.name), Dtype::Int32, 0);
    Ok(SummedPlan {
        synapses: co.owner.clone(),
        index,
        start: decl.start,
        size,
        by_target_start,
        by_target,
    })
}

/// Most threads of a parallel `synapses` launch on CUDA (the kernel strides over its work).
pub const DELIVERY_THREADS: u64 = 256 * 256;

/// Threads of a parallel `synapses` launch: a block per source neuron (the
/// kernel gives each spiking neuron of a slot a block), at most
/// [`DELIVERY_THREADS`].
pub fn delivery_threads(co: &CodeObject) -> u64 {
    let sources = co
        .pathway()
        .map(|p| p.spikes_stop - p.spikes_start)
        .unwrap_or(i64::MAX);
    let sources = u64::try_from(sources).unwrap_or(0).max(1);
    sources
        .saturating_mul(u64::from(crate::plan::CUDA_BLOCK))
        .min(DELIVERY_THREADS)
}

/// A delivery grouped by target for a `synapses` code object, when its
/// writes allow it ([`crate::analysis::by_target_index`]) and the written
/// arrays have a fixed length: adds its tables to the pathway and returns
/// the number of target elements (threads of the launch).
pub fn add_by_target(plan: &mut Plan, co: &CodeObject) -> Result<Option<u64>> {
    let Some((index_name, atomic)) = crate::analysis::by_target_index(co) else {
        return Ok(None);
    };
    let index = var_buffer(plan, co, &index_name)?;
    let Some(groups) = indexed_write_len(plan, co, &atomic)? else {
        return Ok(None);
    };
    let Some(p) = co.pathway() else {
        return Ok(None);
    };
    let name = p.name.clone();
    if groups == 0 || !plan.pathways.contains_key(&name) {
        return Ok(None);
    }
    let entry = ByTargetPlan {
        index_name,
        index,
        groups,
        atomic,
        start: add_internal(
            plan,
            format!("_by_target_start_{name}"),
            Dtype::Int64,
            groups + 1,
        ),
        synapse: add_internal(plan, format!("_by_target_synapse_{name}"), Dtype::Int32, 0),
        source: add_internal(plan, format!("_by_target_source_{name}"), Dtype::Int32, 0),
        delay: add_internal(plan, format!("_by_target_delay_{name}"), Dtype::Int32, 0),
    };
    if let Some(pathway) = plan.pathways.get_mut(&name) {
        pathway.by_target = Some(entry);
    }
    Ok(Some(groups))
}

/// Elements of the `_qstate` buffer of a pathway.
pub const QUEUE_STATE_LEN: u64 = 8;

fn array_buffer(plan: &Plan, co: &CodeObject, array: &str) -> Result<BufferId> {
    plan.buffer_of(array).ok_or_else(|| {
        Error::internal(format!("array '{array}' is not in the export"))
            .in_object(&co.owner, &co.name)
    })
}

/// A connect() call's [`ConnectPlan::inputs`]: `None` where it draws random
/// numbers or calls a user function (whose C++ code may keep state), else
/// the arrays its code reads (its blocks' loads and index arrays, TimedArray
/// values) and those its template reads or keeps: `N_incoming` and
/// `N_outgoing` (counted on), `_synaptic_pre` and `_synaptic_post` (the
/// synapses made before, which the call appends to and a multisynaptic index
/// counts) and the index arrays of a connect() from arrays. Brian also
/// lists every array of the Synapses among the variables, for their resize:
/// their values do not make synapses.
fn deterministic_inputs(plan: &Plan, co: &CodeObject) -> Result<Option<Vec<BufferId>>> {
    if co.uses_rng() {
        return Ok(None);
    }
    let mut inputs = std::collections::BTreeSet::new();
    for symbol in co.symbols.values() {
        match symbol {
            Symbol::Function(Function::TimedArray { values, .. }) => {
                inputs.insert(array_buffer(plan, co, values)?);
            }
            Symbol::Function(Function::User { .. }) => return Ok(None),
            _ => {}
        }
    }
    let template = [
        "N_incoming",
        "N_outgoing",
        "_synaptic_pre",
        "_synaptic_post",
        "sources",
        "targets",
    ];
    let code = co.blocks.iter().flat_map(|b| {
        [&b.scalar_info, &b.vector_info]
            .into_iter()
            .flat_map(|info| info.read.iter().chain(&info.indices))
    });
    for var in code.map(String::as_str).chain(template) {
        if let Some(Symbol::Array { array, .. }) = co.symbols.get(var) {
            inputs.insert(array_buffer(plan, co, array)?);
        }
    }
    Ok(Some(inputs.into_iter().collect()))
}

/// The buffer of the array behind variable `var` of a code object.
pub fn var_buffer(plan: &Plan, co: &CodeObject, var: &str) -> Result<BufferId> {
    match co.symbols.get(var) {
        Some(Symbol::Array { array, .. }) => array_buffer(plan, co, array),
        _ => Err(Error::internal(format!(
            "the {} template needs an array variable '{var}'",
            co.template.name()
        ))
        .in_object(&co.owner, &co.name)),
    }
}

/// The targets of `co`'s writes through an index (`v_post += w`): the
/// largest length of the arrays its element code writes through one, but
/// the variables in `skip`; 0 where there are none, `None` where one of them
/// grows (a dynamic array: no fixed number of targets).
pub fn indexed_write_len(
    plan: &Plan,
    co: &CodeObject,
    skip: &std::collections::BTreeSet<String>,
) -> Result<Option<u64>> {
    let mut groups = 0u64;
    for block in &co.blocks {
        for stmt in &block.vector {
            if skip.contains(&stmt.var) {
                continue;
            }
            if let Some(Symbol::Array {
                array,
                index: crate::ir::Index::Via(_),
                dynamic,
                ..
            }) = co.symbols.get(&stmt.var)
            {
                if *dynamic {
                    return Ok(None);
                }
                groups = groups.max(plan.buffers[array_buffer(plan, co, array)?].len);
            }
        }
    }
    Ok(Some(groups))
}

/// Adds the buffers of a pathway (once per pathway) for its push and synapses code objects.
pub fn add_buffers(plan: &mut Plan, co: &CodeObject) -> Result<()> {
    let p = co.pathway().ok_or_else(|| {
        Error::internal(format!(
            "the {} code object has no pathway",
            co.template.name()
        ))
        .in_object(&co.owner, &co.name)
    })?;
    if plan.pathways.contains_key(&p.name) {
        return Ok(());
    }
    let num_sources = u64::try_from(p.spikes_stop - p.spikes_start).map_err(|_| {
        Error::internal(format!("pathway '{}' has an empty source range", p.name))
            .in_object(&co.owner, &co.name)
    })?;
    let sources = array_buffer(plan, co, &p.sources)?;
    let delay = array_buffer(plan, co, &p.delay)?;
    let source_dt = array_buffer(plan, co, &p.source_dt)?;
    let name = &p.name;
    let entry = PathwayPlan {
        name: name.clone(),
        synapses: p.synapses.clone(),
        sources,
        delay,
        delay_scalar: p.delay_scalar,
        spikes_start: p.spikes_start,
        num_sources,
        source_dt,
        history: add_internal(plan, format!("_history_{name}"), Dtype::Int32, 0),
        state: add_internal(
            plan,
            format!("_qstate_{name}"),
            Dtype::Int64,
            QUEUE_STATE_LEN,
        ),
        by_source_start: add_internal(
            plan,
            format!("_by_source_start_{name}"),
            Dtype::Int64,
            num_sources + 1,
        ),
        by_source: add_internal(plan, format!("_by_source_{name}"), Dtype::Int32, 0),
        by_source_delay: add_internal(plan, format!("_by_source_delay_{name}"), Dtype::Int32, 0),
        by_source_delays: add_internal(
            plan,
            format!("_by_source_delays_{name}"),
            Dtype::Uint64,
            num_sources.max(1),
        ),
        carry_start: add_internal(plan, format!("_carry_start_{name}"), Dtype::Int64, 1),
        carry: add_internal(plan, format!("_carry_{name}"), Dtype::Int32, 0),
        by_target: None,
        order_by: None,
    };
    plan.pathways.insert(name.clone(), entry);
    Ok(())
}

/// Outer elements of a generator connect (`N_pre` or `N_post`, per `outer_index_size`).
pub fn outer_size(plan: &Plan, co: &CodeObject) -> Result<LoopSize> {
    match &co.data {
        TemplateData::Generator { generator, .. } => size_of(plan, co, &generator.outer_index_size),
        _ => Err(Error::internal("connect() without a generator").in_object(&co.owner, &co.name)),
    }
}

/// Adds a connect() code object's buffers and its [`ConnectPlan`].
pub fn add_connect(
    plan: &mut Plan,
    co: &CodeObject,
    outer: Option<LoopSize>,
    count_kernel: Option<KernelId>,
) -> Result<()> {
    let (decl, generator) = match &co.data {
        TemplateData::Generator { connect, generator } => (connect, Some(generator)),
        TemplateData::FromArrays { connect } => (connect, None),
        _ => {
            return Err(Error::internal("connect() code object without 'connect'")
                .in_object(&co.owner, &co.name))
        }
    };
    let counts_len = match &outer {
        Some(LoopSize::Fixed(n)) => (*n).max(1),
        _ => 1,
    };
    let counts = add_internal(
        plan,
        format!("_counts_{}", co.name),
        Dtype::Int64,
        counts_len,
    );
    let error = add_internal(plan, format!("_error_{}", co.name), Dtype::Int64, 3);
    let registered = decl
        .registered
        .iter()
        .map(|a| array_buffer(plan, co, a))
        .collect::<Result<Vec<_>>>()?;
    let multisynaptic_index = decl
        .multisynaptic_index
        .as_deref()
        .map(|a| array_buffer(plan, co, a))
        .transpose()?;
    let sources = if outer.is_none() {
        Some(var_buffer(plan, co, "sources")?)
    } else {
        None
    };
    let offset = |name: &str| {
        if co.symbols.contains_key(name) {
            constant_u64(co, name)
        } else {
            Ok(0)
        }
    };
    let entry = ConnectPlan {
        synapses: decl.synapses.clone(),
        outer_index: generator.map(|g| g.outer_index.clone()).unwrap_or_default(),
        result_index: generator
            .map(|g| g.result_index.clone())
            .unwrap_or_default(),
        outer,
        sources,
        counts,
        error,
        n: var_buffer(plan, co, "N")?,
        synaptic_pre: var_buffer(plan, co, "_synaptic_pre")?,
        synaptic_post: var_buffer(plan, co, "_synaptic_post")?,
        n_incoming: var_buffer(plan, co, "N_incoming")?,
        n_outgoing: var_buffer(plan, co, "N_outgoing")?,
        incoming_len: (size_of(plan, co, "N_post")?, offset("_target_offset")?),
        outgoing_len: (size_of(plan, co, "N_pre")?, offset("_source_offset")?),
        registered,
        multisynaptic_index,
        count_kernel,
        inputs: deterministic_inputs(plan, co)?,
    };
    plan.connects.insert(co.name.clone(), entry);
    Ok(())
}

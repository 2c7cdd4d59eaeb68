//! Brisk: Brian2 simulations as generated CUDA (on an NVIDIA GPU) or C++.
//!
//! Pipeline, one stage per module:
//! [`export`] (the Python device's manifest) → [`validate`] (the one place
//! that checks it) → [`parse`] (pest grammar for
//! Brian's abstract code) → [`ir`] (typed, validated code objects; built by
//! [`lower`] with [`analysis`]) → [`schedule`] (network order) →
//! [`plan`] (buffers, kernels, monitor recorders) → [`codegen`] (askama
//! templates, CUDA and C++) → [`runtime`] (NVRTC + cudarc, or the system
//! C++ compiler) → [`results`] (Brian's raw results folder). [`session`]
//! keeps a simulation resident between the Python device's calls (live
//! sessions: Brian's runtime mode).

pub mod analysis;
pub mod bundle;
pub mod codegen;
pub mod diag;
pub mod dtype;
pub mod export;
pub mod ir;
pub mod lower;
pub mod parse;
pub mod pipeline;
pub mod plan;
pub mod planner;
pub mod progress;
pub mod render;
pub mod results;
pub mod runtime;
pub mod schedule;
pub mod session;
pub mod sweep;
pub mod templates;
pub mod validate;

//! Pieces of generated C++ and CUDA text, shared by every Brian template.
//!
//! In: lowered code objects ([`crate::ir`]) and the [`crate::plan::Plan`].
//! Out: text: expressions ([`expr`]), statements and blocks ([`body`]),
//! functions a program includes once ([`functions`]: the prelude, TimedArray
//! readers, binomial samplers, random-number lines), and the view every
//! kernel template fills ([`views::KernelView`]: pointer and constant
//! declarations, scalar and vector code). What is particular to one Brian
//! template lives in [`crate::templates`]; [`crate::codegen`] puts the
//! pieces together into a program.

pub mod body;
pub mod expr;
pub mod filters;
pub mod functions;
pub mod views;

//! Layers with explicit forward and backward, the models built from them, and their two
//! executors: the CPU reference (`cpu`) and prepared GPU dispatches (`gpu`).

pub mod cpu;
pub mod gpu;
pub mod graph;
pub mod models;

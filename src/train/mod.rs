//! Training: the config, the Keras tutorial's learning-rate schedules and the tricks that are plain
//! arithmetic on targets (label smoothing, mixup weights).

pub mod backend;
pub mod config;
pub mod fields;
pub mod schedule;
pub mod tricks;

pub use config::TrainConfig;
pub use schedule::{LrMode, LrSchedule, ScheduleSpec};
pub mod step;
pub mod checkpoint;
pub mod split;
pub mod trainer;
pub mod tuning;
pub mod team;
pub mod threads;

//! Looking at a network after (or while) it trains, above the trainer: what its outputs and weights
//! say (`analysis`: predictions, confusion, logit gaps, calibration, parameter norms) and what the
//! page and the lessons show of it (`views`: the batch it saw, the prediction grid, one image's
//! class probabilities).

pub mod analysis;
pub mod views;

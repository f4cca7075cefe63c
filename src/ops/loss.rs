//! Shapes of the losses: softmax cross-entropy against soft targets (label smoothing and mixup only
//! change the targets) and knowledge distillation (Hinton et al.). Logits, targets and their
//! gradient are `[batch, classes]`; labels `[batch]` hold class indices as f32 and are used only
//! for accuracy; the running `metrics [3]` are (loss sum, correct count, sample count).

use super::{expect, expect_all, expect_nonzero, Operand};
use crate::{Error, Result};

/// Length of the metrics tensor: [Σ per-sample loss, Σ correct, Σ samples].
pub const METRICS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossShape {
    pub batch: usize,
    pub classes: usize,
}

impl LossShape {
    pub fn validate(&self) -> Result<()> {
        expect_nonzero("loss", &[("batch", self.batch), ("classes", self.classes)])?;
        if self.logits_len() > u32::MAX as usize / 2 {
            return Err(Error::shape("loss", format!("{} logits are more than a kernel can index", self.logits_len())));
        }
        Ok(())
    }

    /// Elements of the logits, the targets and the logits' gradient.
    pub fn logits_len(&self) -> usize {
        self.batch * self.classes
    }

    /// Checks the shape, the `[batch, classes]` operands (logits, targets, gradient), the labels
    /// and, when given, the metrics tensor.
    pub fn check(&self, per_logit: &[(&str, &dyn Operand)], labels: &dyn Operand, metrics: Option<&dyn Operand>) -> Result<()> {
        self.validate()?;
        expect_all("loss", per_logit, self.logits_len())?;
        expect("loss", "labels", labels, self.batch)?;
        metrics.map_or(Ok(()), |m| expect("loss", "metrics", m, METRICS))
    }
}

/// loss = hard_weight · CE(student, targets) + (1 − hard_weight) · T² · KL(p ‖ q), where
/// p = softmax(teacher / T), q = softmax(student / T) and T = temperature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DistillShape {
    pub batch: usize,
    pub classes: usize,
    pub temperature: f32,
    pub hard_weight: f32,
}

impl DistillShape {
    pub fn validate(&self) -> Result<()> {
        self.loss_shape().validate()?;
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return Err(Error::shape("distillation", format!("the temperature must be a positive number, not {}", self.temperature)));
        }
        if !(0.0..=1.0).contains(&self.hard_weight) {
            return Err(Error::shape("distillation", format!("hard_weight must lie in [0, 1], not {}", self.hard_weight)));
        }
        Ok(())
    }

    pub fn logits_len(&self) -> usize {
        self.batch * self.classes
    }

    /// The batch and class count alone.
    pub fn loss_shape(&self) -> LossShape {
        LossShape { batch: self.batch, classes: self.classes }
    }
}

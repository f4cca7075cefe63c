//! What a run reads its data as, shared by the trainer and its backends: the splits an
//! evaluation covers, the crop padding of augmentation, how many images recalibrate the batch
//! norms, and the last training batch as read back.

/// CIFAR augmentation: random crops from the image zero-padded by 4 pixels, and horizontal flips.
pub const CROP_PAD: u32 = 4;

/// Clean training images the BN running statistics are re-estimated from before an evaluation.
pub const RECALIBRATION_IMAGES: usize = 256;

/// The splits an evaluation can run over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The training set without augmentation, smoothing or mixup.
    Train,
    Test,
}

/// The batch of the last training step as the network received it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastBatch {
    /// `[batch, C, H, W]`: cropped, flipped, normalized and mixed images.
    pub x: Vec<f32>,
    /// `[batch, classes]`: smoothed and mixed target rows.
    pub targets: Vec<f32>,
    /// `[batch]`: each sample's label as f32 (−1 for a padding entry).
    pub labels: Vec<f32>,
    /// The mixup weight λ of the step (1 without mixup).
    pub lambda: f32,
}

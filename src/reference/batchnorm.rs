//! Batch normalization (BatchNorm2d, NCHW) on the CPU: training forward (batch statistics, running
//! statistics update), evaluation forward (running statistics), and the training backward through
//! the batch statistics; plus the fused BN+ReLU pair the GPU offers. Conventions (PyTorch's) are in
//! `ops::batchnorm`. Per-channel sums are taken in f64, two passes (mean, then squared deviations).

use crate::ops::batchnorm::{Activation, BatchNormShape};
use crate::ops::Operand;
use super::sync::{Alone, Reduce};
use crate::Result;

/// Calls `f(index)` for every element of channel `c`, in NCHW order.
fn for_channel(s: &BatchNormShape, c: usize, mut f: impl FnMut(usize)) {
    let plane = s.plane();
    for b in 0..s.batch {
        let start = (b * s.channels + c) * plane;
        (start..start + plane).for_each(&mut f);
    }
}

/// Sum of `g(index)` over channel `c`, in f64.
fn channel_sum(s: &BatchNormShape, c: usize, mut g: impl FnMut(usize) -> f64) -> f64 {
    let mut sum = 0.0;
    for_channel(s, c, |i| sum += g(i));
    sum
}

/// One batch-norm layer as the reference reads it: γ and β, and the running statistics the
/// training forward updates in place (the evaluation forward only reads them).
pub struct BnTensors<'a> {
    pub gamma: &'a [f32],
    pub beta: &'a [f32],
    pub running_mean: &'a mut [f32],
    pub running_var: &'a mut [f32],
}

impl BnTensors<'_> {
    fn check(&self, s: &BatchNormShape, train: bool, x: &[f32]) -> Result<()> {
        let per_channel: [(&str, &dyn Operand); 4] =
            [("gamma", &self.gamma), ("beta", &self.beta), ("running_mean", &self.running_mean), ("running_var", &self.running_var)];
        s.check(train, &[("x", &x)], &per_channel)
    }
}

/// y = gamma·(x − mean)·inv_std + beta with the given per-channel statistics.
fn normalize(s: &BatchNormShape, x: &[f32], gamma: &[f32], beta: &[f32], mean: &[f32], inv_std: &[f32]) -> Vec<f32> {
    let mut y = vec![0.0; x.len()];
    for c in 0..s.channels {
        for_channel(s, c, |i| y[i] = gamma[c] * (x[i] - mean[c]) * inv_std[c] + beta[c]);
    }
    y
}

/// Training forward. Returns `(y, mean, inv_std)` (the batch mean and 1/sqrt(biased var + eps),
/// saved for the backward) and updates the running statistics in place.
pub fn forward_train(s: &BatchNormShape, x: &[f32], t: &mut BnTensors) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    forward_train_synced(s, x, t, &mut Alone)
}

/// `forward_train` on one worker's rows of a batch shared by `reduce`'s team (synchronized batch
/// norm): the per-channel sums and the count are summed over the workers before the mean, then the
/// squared deviations before the variance, so the statistics are the whole batch's.
pub fn forward_train_synced(s: &BatchNormShape, x: &[f32], t: &mut BnTensors, reduce: &mut dyn Reduce) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    t.check(s, true, x)?;
    let channels = s.channels;
    let mut sums: Vec<f64> = (0..channels).map(|c| channel_sum(s, c, |i| x[i] as f64)).collect();
    sums.push(s.count() as f64);
    reduce.sum_f64(&mut sums)?;
    let n = sums[channels];
    let mu: Vec<f64> = sums[..channels].iter().map(|&v| v / n).collect();
    let mut squares: Vec<f64> = (0..channels).map(|c| channel_sum(s, c, |i| (x[i] as f64 - mu[c]).powi(2))).collect();
    reduce.sum_f64(&mut squares)?;
    let m = s.momentum;
    let mut mean = vec![0.0; channels];
    let mut inv_std = vec![0.0; channels];
    for c in 0..channels {
        let var = squares[c] / n;
        mean[c] = mu[c] as f32;
        inv_std[c] = (1.0 / (var + s.eps as f64).sqrt()) as f32;
        t.running_mean[c] = (1.0 - m) * t.running_mean[c] + m * mu[c] as f32;
        t.running_var[c] = (1.0 - m) * t.running_var[c] + m * (var * n / (n - 1.0)) as f32;
    }
    Ok((normalize(s, x, t.gamma, t.beta, &mean, &inv_std), mean, inv_std))
}

/// Evaluation forward: normalizes with the running statistics.
pub fn forward_eval(s: &BatchNormShape, x: &[f32], t: &BnTensors) -> Result<Vec<f32>> {
    t.check(s, false, x)?;
    let inv_std: Vec<f32> = t.running_var.iter().map(|&v| 1.0 / (v + s.eps).sqrt()).collect();
    Ok(normalize(s, x, t.gamma, t.beta, t.running_mean, &inv_std))
}

/// Training backward through the batch statistics. With x̂ = (x − mean)·inv_std:
/// dbeta = Σ dy, dgamma = Σ dy·x̂, dx = gamma·inv_std/n · (n·dy − dbeta − x̂·dgamma).
/// Returns `(dx, dgamma, dbeta)`.
pub fn backward(
    s: &BatchNormShape,
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    mean: &[f32],
    inv_std: &[f32],
) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    backward_synced(s, x, dy, gamma, (mean, inv_std), &mut Alone)
}

/// `backward` on one worker's rows of a batch shared by `reduce`'s team: dx needs the whole batch's
/// Σ dy and Σ dy·x̂, which are summed over the workers first. The returned dgamma and dbeta are this
/// worker's own sums (its rows' share), to be summed with the other gradients.
pub fn backward_synced(
    s: &BatchNormShape,
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    (mean, inv_std): (&[f32], &[f32]),
    reduce: &mut dyn Reduce,
) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    s.check(true, &[("x", &x), ("dy", &dy)], &[("gamma", &gamma), ("mean", &mean), ("inv_std", &inv_std)])?;
    let channels = s.channels;
    let xhat = |c: usize, i: usize| ((x[i] - mean[c]) * inv_std[c]) as f64;
    // [Σ dy per channel, Σ dy·x̂ per channel, count]
    let mut sums = vec![0.0; 2 * channels + 1];
    for c in 0..channels {
        sums[c] = channel_sum(s, c, |i| dy[i] as f64);
        sums[channels + c] = channel_sum(s, c, |i| dy[i] as f64 * xhat(c, i));
    }
    sums[2 * channels] = s.count() as f64;
    let own: Vec<f64> = sums.clone();
    reduce.sum_f64(&mut sums)?;
    let n = sums[2 * channels];
    let mut dx = vec![0.0; x.len()];
    for c in 0..channels {
        let (db, dg) = (sums[c], sums[channels + c]);
        let k = gamma[c] as f64 * inv_std[c] as f64 / n;
        for_channel(s, c, |i| dx[i] = (k * (n * dy[i] as f64 - db - xhat(c, i) * dg)) as f32);
    }
    let dgamma = own[channels..2 * channels].iter().map(|&v| v as f32).collect();
    let dbeta = own[..channels].iter().map(|&v| v as f32).collect();
    Ok((dx, dgamma, dbeta))
}

/// BN (training) followed by the activation `act`: `forward_train` with y replaced by act(y).
pub fn forward_train_act(s: &BatchNormShape, x: &[f32], t: &mut BnTensors, act: Activation) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    let (y, mean, inv_std) = forward_train(s, x, t)?;
    let y = match act {
        Activation::Relu => super::elementwise::relu_forward(&y),
        Activation::Relu6 => super::elementwise::relu6_forward(&y),
    };
    Ok((y, mean, inv_std))
}

/// The backward of `forward_train_act`: dy is masked by the activation's gradient at its output
/// `y`, then goes through `backward`.
#[allow(clippy::too_many_arguments)]
pub fn backward_act(
    s: &BatchNormShape,
    x: &[f32],
    y: &[f32],
    dy: &[f32],
    gamma: &[f32],
    mean: &[f32],
    inv_std: &[f32],
    act: Activation,
) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    s.check(true, &[("y", &y), ("dy", &dy)], &[])?;
    let g = match act {
        Activation::Relu => super::elementwise::relu_backward(y, dy),
        Activation::Relu6 => super::elementwise::relu6_backward(y, dy),
    };
    backward(s, x, &g, gamma, mean, inv_std)
}

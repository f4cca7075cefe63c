//! Runs a `Graph` on the CPU reference ops: the oracle that a whole GPU training step is compared
//! against. Forward keeps every activation (and each BN's batch mean and 1/std) for backward.

use super::graph::{ActId, Graph, Layer};
use crate::ops::batchnorm::BatchNormShape;
use crate::reference::batchnorm::BnTensors;
use crate::reference::sync::{Alone, Reduce};
use crate::reference::{batchnorm, conv2d, elementwise, linear, pool};
use crate::Result;

pub struct CpuNet {
    pub graph: Graph,
    pub params: Vec<Vec<f32>>,
    pub grads: Vec<Vec<f32>>,
    /// Per BN layer: running mean and running variance.
    pub running: Vec<(Vec<f32>, Vec<f32>)>,
    /// Per BN layer, from the last training forward: batch mean and 1/std.
    pub saved: Vec<(Vec<f32>, Vec<f32>)>,
    pub acts: Vec<Vec<f32>>,
    /// Sums across the workers that share each batch (`reference::sync`): each BN's statistics
    /// are the whole batch's. `Alone` by default.
    pub reduce: Box<dyn Reduce>,
}

impl CpuNet {
    pub fn new(graph: Graph, params: Vec<Vec<f32>>) -> Self {
        let mut running = vec![(vec![], vec![]); graph.batchnorms];
        for node in &graph.nodes {
            if let Layer::BatchNorm { s, bn, .. } = &node.layer {
                running[*bn] = (vec![0.0; s.channels], vec![1.0; s.channels]);
            }
        }
        let grads = params.iter().map(|p| vec![0.0; p.len()]).collect();
        let acts = vec![vec![]; graph.acts.len()];
        let saved = vec![(vec![], vec![]); graph.batchnorms];
        CpuNet { graph, params, grads, running, saved, acts, reduce: Box::new(Alone) }
    }

    /// Runs the network on `input` (NCHW) and returns the logits. `train` uses batch statistics
    /// and updates the running ones; otherwise the running statistics normalize.
    pub fn forward(&mut self, input: &[f32], train: bool) -> Result<&[f32]> {
        self.run_forward(input, train, None)
    }

    /// A training forward whose batch norms update their running statistics with `momentum`
    /// instead of their own (1: replace them with the batch's), as `GpuNet::recalibration` does.
    pub fn forward_recalibrate(&mut self, input: &[f32], momentum: f32) -> Result<&[f32]> {
        self.run_forward(input, true, Some(momentum))
    }

    fn run_forward(&mut self, input: &[f32], train: bool, momentum: Option<f32>) -> Result<&[f32]> {
        crate::ops::expect_len("forward", "input", input.len(), self.graph.act_len(0))?;
        self.acts[0] = input.to_vec();
        for node in &self.graph.nodes {
            let x = &self.acts[node.inputs[0]];
            let y = match &node.layer {
                Layer::Conv { s, w } => conv2d::forward(s, x, &self.params[*w])?,
                Layer::BatchNorm { s, gamma, beta, bn } => {
                    let s = &BatchNormShape { momentum: momentum.unwrap_or(s.momentum), ..*s };
                    let (running_mean, running_var) = &mut self.running[*bn];
                    let mut t = BnTensors { gamma: &self.params[*gamma], beta: &self.params[*beta], running_mean, running_var };
                    if train {
                        let (y, mean, inv_std) = batchnorm::forward_train_synced(s, x, &mut t, &mut *self.reduce)?;
                        self.saved[*bn] = (mean, inv_std);
                        y
                    } else {
                        batchnorm::forward_eval(s, x, &t)?
                    }
                }
                Layer::Relu => elementwise::relu_forward(x),
                Layer::Relu6 => elementwise::relu6_forward(x),
                Layer::Add => elementwise::add(x, &self.acts[node.inputs[1]]),
                Layer::MaxPool2 { s } => pool::max_pool2_forward(s, x)?,
                Layer::AvgPool2 { s } => pool::avg_pool2_forward(s, x)?,
                Layer::GlobalAvgPool { s } => pool::global_avg_pool_forward(s, x)?,
                Layer::Linear { s, w, b } => linear::forward(s, x, &self.params[*w], &self.params[*b])?,
            };
            self.acts[node.output] = y;
        }
        Ok(&self.acts[self.graph.output()])
    }

    /// Backpropagates `dlogits` through the last training forward, overwriting `grads`: each
    /// layer's own backward (`layer_backward`), its input gradient routed into the activation's
    /// slot (the first one stored, a later one added on); a residual join passes dy to both inputs.
    pub fn backward(&mut self, dlogits: &[f32]) -> Result<()> {
        let out = self.graph.output();
        crate::ops::expect_len("backward", "dlogits", dlogits.len(), self.graph.act_len(out))?;
        let mut dacts: Vec<Option<Vec<f32>>> = vec![None; self.graph.acts.len()];
        dacts[out] = Some(dlogits.to_vec());
        for i in (0..self.graph.nodes.len()).rev() {
            let node = &self.graph.nodes[i];
            let Some(dy) = dacts[node.output].take() else { continue };
            if let Layer::Add = node.layer {
                let inputs = node.inputs.clone();
                for a in inputs {
                    route(&mut dacts, a, dy.clone());
                }
                continue;
            }
            let xi = node.inputs[0];
            if let Some(dx) = self.layer_backward(i, &dy)? {
                route(&mut dacts, xi, dx);
            }
        }
        Ok(())
    }

    /// Node `i`'s backward (not a residual join): writes its parameter gradients and returns its
    /// input gradient (none for a convolution that reads the input image).
    fn layer_backward(&mut self, i: usize, dy: &[f32]) -> Result<Option<Vec<f32>>> {
        let node = &self.graph.nodes[i];
        let xi = node.inputs[0];
        let (x, y) = (&self.acts[xi], &self.acts[node.output]);
        Ok(match &node.layer {
            Layer::Conv { s, w } => {
                self.grads[*w] = conv2d::backward_weight(s, x, dy)?;
                (xi != 0).then(|| conv2d::backward_input(s, dy, &self.params[*w])).transpose()?
            }
            Layer::BatchNorm { s, gamma, beta, bn } => {
                let (mean, inv_std) = &self.saved[*bn];
                let (dx, dg, db) = batchnorm::backward_synced(s, x, dy, &self.params[*gamma], (mean, inv_std), &mut *self.reduce)?;
                self.grads[*gamma] = dg;
                self.grads[*beta] = db;
                Some(dx)
            }
            Layer::Relu => Some(elementwise::relu_backward(y, dy)),
            Layer::Relu6 => Some(elementwise::relu6_backward(y, dy)),
            Layer::MaxPool2 { s } => Some(pool::max_pool2_backward(s, x, dy)?),
            Layer::AvgPool2 { s } => Some(pool::avg_pool2_backward(s, dy)?),
            Layer::GlobalAvgPool { s } => Some(pool::global_avg_pool_backward(s, dy)?),
            Layer::Linear { s, w, b } => {
                let (dw, db) = linear::backward_params(s, x, dy)?;
                self.grads[*w] = dw;
                self.grads[*b] = db;
                Some(linear::backward_input(s, dy, &self.params[*w])?)
            }
            Layer::Add => unreachable!("a residual join routes its gradient in backward"),
        })
    }
}

/// Puts gradient `d` of activation `a` in its slot: stored the first time, added on afterwards.
fn route(dacts: &mut [Option<Vec<f32>>], a: ActId, d: Vec<f32>) {
    match &mut dacts[a] {
        Some(acc) => elementwise::add_assign(acc, &d),
        slot => *slot = Some(d),
    }
}

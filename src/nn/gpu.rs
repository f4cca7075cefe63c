//! Turns a `Graph` into GPU tensors and prepared dispatch lists, made once when the model is
//! built: `forward_train` (batch statistics, running-stat update), `forward_eval` (running
//! statistics) and `backward` (every parameter gradient). A training step only records them.
//!
//! A batch norm whose only reader is a ReLU or a ReLU6 runs fused with it in training (one
//! normalize+activation pass forward, one BN backward that applies the activation's mask): the
//! BN's own output and its gradient are then never written. That removes 20 of ResNet-20's 314
//! dispatches per step (10 ReLUs, forward and backward; natively on lavapipe the step time did not
//! change measurably, the ReLU passes were about 2% of it) and 54 of MobileNetV2's 525 (27 ReLU6s,
//! 7% of its step on lavapipe; see bench/README.md).

use super::graph::{ActId, Graph, Layer, ParamId};
use crate::ops::batchnorm::{Activation, BatchNormShape};
use crate::gpu::batchnorm::{BnGrads, BnTensors};
use crate::gpu::{batchnorm, conv2d, elementwise, linear, pool, Dispatch, GpuContext, Tensor};
use crate::{Error, Result};

pub struct GpuNet {
    pub graph: Graph,
    pub params: Vec<Tensor>,
    pub grads: Vec<Tensor>,
    /// Per BN layer: running mean and variance.
    pub running: Vec<(Tensor, Tensor)>,
    /// Per BN layer: the batch mean and 1/std saved by the training forward.
    pub saved: Vec<(Tensor, Tensor)>,
    pub acts: Vec<Tensor>,
    /// Gradient of each activation (none for the input image).
    pub dacts: Vec<Option<Tensor>>,
    pub forward_train: Vec<Dispatch>,
    pub forward_eval: Vec<Dispatch>,
    pub backward: Vec<Dispatch>,
    /// Per node: the activation node (ReLU or ReLU6) fused into this batch norm in training, if
    /// any, and its kind.
    fused_act: Vec<Option<(usize, Activation)>>,
    /// Scratch tensors the dispatches write into; kept alive with them.
    _scratch: Vec<Tensor>,
}

impl GpuNet {
    /// Uploads `params` (in `graph.params` order) and prepares every dispatch.
    pub fn new(ctx: &GpuContext, graph: Graph, params: &[Vec<f32>]) -> Result<Self> {
        let params: Vec<Tensor> = graph
            .params
            .iter()
            .zip(params)
            .map(|(spec, v)| ctx.tensor(spec.name.clone(), &spec.shape, v))
            .collect::<Result<_>>()?;
        let grads = graph.params.iter().map(|spec| ctx.zeros(format!("{}.grad", spec.name), &spec.shape)).collect::<Result<_>>()?;
        let mut acts = vec![ctx.zeros("input", &graph.acts[0])?];
        let mut dacts = vec![None];
        for node in &graph.nodes {
            let shape = &graph.acts[node.output];
            acts.push(ctx.zeros(format!("{}.out", node.name), shape)?);
            dacts.push(Some(ctx.zeros(format!("{}.out.grad", node.name), shape)?));
        }
        let mut running = Vec::new();
        let mut saved = Vec::new();
        for node in &graph.nodes {
            if let Layer::BatchNorm { s, .. } = &node.layer {
                let c = [s.channels];
                running.push((ctx.tensor(format!("{}.running_mean", node.name), &c, &vec![0.0; s.channels])?, ctx.tensor(format!("{}.running_var", node.name), &c, &vec![1.0; s.channels])?));
                saved.push((ctx.zeros(format!("{}.batch_mean", node.name), &c)?, ctx.zeros(format!("{}.batch_inv_std", node.name), &c)?));
            }
        }
        let mut net = GpuNet {
            graph,
            params,
            grads,
            running,
            saved,
            acts,
            dacts,
            forward_train: vec![],
            forward_eval: vec![],
            backward: vec![],
            fused_act: vec![],
            _scratch: vec![],
        };
        net.fused_act = fused_activations(&net.graph);
        net.forward_train = net.build_forward(ctx, Forward::Train)?;
        net.forward_eval = net.build_forward(ctx, Forward::Eval)?;
        net.backward = net.build_backward(ctx)?;
        Ok(net)
    }

    /// A training forward whose batch norms update their running statistics with `momentum`
    /// (1: replace them with the batch's). Run on clean batches with momenta 1, 1/2, 1/3, ..., it
    /// sets each running statistic to the average over those batches (see `Trainer::evaluate`).
    pub fn recalibration(&self, ctx: &GpuContext, momentum: f32) -> Result<Vec<Dispatch>> {
        self.build_forward(ctx, Forward::Recalibrate(momentum))
    }

    fn build_forward(&self, ctx: &GpuContext, mode: Forward) -> Result<Vec<Dispatch>> {
        let train = mode != Forward::Eval;
        let mut out = Vec::new();
        let fused_into = self.fused_into();
        for (i, node) in self.graph.nodes.iter().enumerate() {
            if train && fused_into[i] {
                continue;
            }
            let x = &self.acts[node.inputs[0]];
            let y = &self.acts[node.output];
            match &node.layer {
                Layer::Conv { s, w } => out.push(conv2d::forward(ctx, s, x, &self.params[*w], y)?),
                Layer::BatchNorm { s, gamma, beta, bn } => {
                    let s = &match mode {
                        Forward::Recalibrate(momentum) => BatchNormShape { momentum, ..*s },
                        _ => *s,
                    };
                    let t = self.bn_tensors(*gamma, *beta, *bn);
                    if let (true, Some((r, act))) = (train, self.fused_act[i]) {
                        let y = &self.acts[self.graph.nodes[r].output];
                        out.extend(batchnorm::forward_train_act(ctx, s, &t, x, y, act)?);
                    } else if train {
                        out.extend(batchnorm::forward_train(ctx, s, &t, x, y)?);
                    } else {
                        out.extend(batchnorm::forward_eval(ctx, s, &t, x, y)?);
                    }
                }
                Layer::Relu => out.push(elementwise::relu_forward(ctx, x, y)?),
                Layer::Relu6 => out.push(elementwise::relu6_forward(ctx, x, y)?),
                Layer::Add => out.push(elementwise::add(ctx, x, &self.acts[node.inputs[1]], y)?),
                Layer::MaxPool2 { s } => out.push(pool::max_pool2_forward(ctx, s, x, y)?),
                Layer::AvgPool2 { s } => out.push(pool::avg_pool2_forward(ctx, s, x, y)?),
                Layer::GlobalAvgPool { s } => out.push(pool::global_avg_pool_forward(ctx, s, x, y)?),
                Layer::Linear { s, w, b } => out.push(linear::forward(ctx, s, x, &self.params[*w], &self.params[*b], y)?),
            }
        }
        Ok(out)
    }

    /// Backward in reverse node order: each layer's own backward (`layer_backward`), with its input
    /// gradient routed by `GradRoutes` (the first gradient that reaches an activation is written
    /// into its buffer; a later one, at a residual block's input, goes to a scratch tensor that is
    /// then added on). A residual join's backward copies (or adds) dy into both inputs.
    fn build_backward(&mut self, ctx: &GpuContext) -> Result<Vec<Dispatch>> {
        let mut out = Vec::new();
        let mut routes = GradRoutes::new(self.graph.acts.len(), self.graph.output());
        let mut scratch = Vec::new();
        let fused_into = self.fused_into();
        for (i, node) in self.graph.nodes.iter().enumerate().rev() {
            if fused_into[i] {
                // The fused BN below takes this activation's output gradient directly.
                routes.first_write(node.inputs[0]);
                continue;
            }
            let dy = self.dact(node.output);
            if let Layer::Add = node.layer {
                for &a in &node.inputs {
                    let da = self.dact(a);
                    out.push(if routes.first_write(a) { elementwise::copy(ctx, dy, da)? } else { elementwise::add_assign(ctx, da, dy)? });
                }
                continue;
            }
            let xi = node.inputs[0];
            let Some(dx_own) = self.dacts[xi].as_ref() else {
                // Only a convolution reads the input image; it needs no input gradient there.
                out.extend(self.layer_backward(ctx, i, None, &mut scratch)?);
                continue;
            };
            if routes.first_write(xi) {
                out.extend(self.layer_backward(ctx, i, Some(dx_own), &mut scratch)?);
            } else {
                let partial = ctx.zeros(format!("{}.grad.partial", node.name), &self.graph.acts[xi])?;
                out.extend(self.layer_backward(ctx, i, Some(&partial), &mut scratch)?);
                out.push(elementwise::add_assign(ctx, dx_own, &partial)?);
                scratch.push(partial);
            }
        }
        self._scratch = scratch;
        Ok(out)
    }

    /// Batch norm number `bn`'s tensors (its parameters are `gamma` and `beta`).
    fn bn_tensors(&self, gamma: ParamId, beta: ParamId, bn: usize) -> BnTensors<'_> {
        let (running_mean, running_var) = &self.running[bn];
        let (mean, inv_std) = &self.saved[bn];
        BnTensors { gamma: &self.params[gamma], beta: &self.params[beta], running_mean, running_var, mean, inv_std }
    }

    /// The gradient buffer of activation `a` (every layer output has one).
    fn dact(&self, a: ActId) -> &Tensor {
        self.dacts[a].as_ref().expect("every layer output has a gradient")
    }

    /// Node `i`'s backward (not a residual join): its parameter gradients, and its input gradient
    /// written into `dx` when given. Tensors the passes need beyond the net's go to `scratch`.
    fn layer_backward(&self, ctx: &GpuContext, i: usize, dx: Option<&Tensor>, scratch: &mut Vec<Tensor>) -> Result<Vec<Dispatch>> {
        let node = &self.graph.nodes[i];
        let (x, y, dy) = (&self.acts[node.inputs[0]], &self.acts[node.output], self.dact(node.output));
        let need_dx = || {
            dx.ok_or_else(|| Error::shape("backward", format!("{} reads the input image; only a convolution may", node.name)))
        };
        let mut out = Vec::new();
        match &node.layer {
            Layer::Conv { s, w } => {
                let bw = conv2d::backward_weight(ctx, s, x, dy, &self.grads[*w])?;
                out.extend(bw.passes);
                scratch.extend(bw.scratch);
                if let Some(dx) = dx {
                    out.push(conv2d::backward_input(ctx, s, dy, &self.params[*w], dx)?);
                }
            }
            Layer::BatchNorm { s, gamma, beta, bn } => {
                let t = self.bn_tensors(*gamma, *beta, *bn);
                let g = BnGrads { dx: need_dx()?, dgamma: &self.grads[*gamma], dbeta: &self.grads[*beta] };
                match self.fused_act[i] {
                    Some((r, act)) => {
                        let ady = self.dact(self.graph.nodes[r].output);
                        out.extend(batchnorm::backward_act(ctx, s, &t, x, ady, &g, act)?);
                    }
                    None => out.extend(batchnorm::backward(ctx, s, &t, x, dy, &g)?),
                }
            }
            Layer::Relu => out.push(elementwise::relu_backward(ctx, y, dy, need_dx()?)?),
            Layer::Relu6 => out.push(elementwise::relu6_backward(ctx, y, dy, need_dx()?)?),
            Layer::MaxPool2 { s } => out.push(pool::max_pool2_backward(ctx, s, x, dy, need_dx()?)?),
            Layer::AvgPool2 { s } => out.push(pool::avg_pool2_backward(ctx, s, dy, need_dx()?)?),
            Layer::GlobalAvgPool { s } => out.push(pool::global_avg_pool_backward(ctx, s, dy, need_dx()?)?),
            Layer::Linear { s, w, b } => {
                out.extend(linear::backward_params(ctx, s, x, dy, &self.grads[*w], &self.grads[*b])?);
                out.push(linear::backward_input(ctx, s, dy, &self.params[*w], need_dx()?)?);
            }
            Layer::Add => unreachable!("a residual join routes its gradient in build_backward"),
        }
        Ok(out)
    }

    /// Per node: true for an activation that runs inside the batch norm before it (training only).
    fn fused_into(&self) -> Vec<bool> {
        let mut v = vec![false; self.graph.nodes.len()];
        for (r, _) in self.fused_act.iter().flatten() {
            v[*r] = true;
        }
        v
    }

    /// Loads running statistics (e.g. a saved teacher's), one (mean, var) per BN layer.
    pub fn set_running(&self, ctx: &GpuContext, running: &[(Vec<f32>, Vec<f32>)]) -> Result<()> {
        if running.len() != self.running.len() {
            return Err(crate::Error::shape("set_running", format!("{} BN layers given, the model has {}", running.len(), self.running.len())));
        }
        for ((m, v), (mt, vt)) in running.iter().zip(&self.running) {
            ctx.write(mt, m)?;
            ctx.write(vt, v)?;
        }
        Ok(())
    }

    /// The logits tensor.
    pub fn logits(&self) -> &Tensor {
        &self.acts[self.graph.output()]
    }
    /// The logits' gradient tensor (the loss writes it).
    pub fn dlogits(&self) -> &Tensor {
        self.dacts[self.graph.output()].as_ref().unwrap()
    }
    pub fn input(&self) -> &Tensor {
        &self.acts[0]
    }
}

/// The forward passes a net prepares.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Forward {
    /// Batch statistics; running statistics updated with the BN momentum.
    Train,
    /// Running statistics.
    Eval,
    /// Batch statistics; running statistics updated with this momentum.
    Recalibrate(f32),
}

/// Which activations already hold a gradient during backward (the logits' comes from the loss).
struct GradRoutes {
    written: Vec<bool>,
}

impl GradRoutes {
    fn new(acts: usize, output: ActId) -> Self {
        let mut written = vec![false; acts];
        written[output] = true;
        GradRoutes { written }
    }

    /// True the first time a gradient reaches activation `a` (write it into `a`'s buffer), false
    /// afterwards (add it on).
    fn first_write(&mut self, a: ActId) -> bool {
        !std::mem::replace(&mut self.written[a], true)
    }
}

/// For each node: the activation node (ReLU or ReLU6) to fuse into it, with its kind, when the
/// node is a batch norm whose output is read by that activation alone.
fn fused_activations(graph: &Graph) -> Vec<Option<(usize, Activation)>> {
    let consumers = graph.consumers();
    let activation = |layer: &Layer| match layer {
        Layer::Relu => Some(Activation::Relu),
        Layer::Relu6 => Some(Activation::Relu6),
        _ => None,
    };
    graph
        .nodes
        .iter()
        .map(|node| {
            if !matches!(node.layer, Layer::BatchNorm { .. }) || consumers[node.output] != 1 {
                return None;
            }
            graph.nodes.iter().enumerate().find_map(|(r, n)| activation(&n.layer).filter(|_| n.inputs[0] == node.output).map(|a| (r, a)))
        })
        .collect()
}

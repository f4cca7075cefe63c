//! A network as data: a list of layer nodes over numbered activations, plus its parameter specs.
//! Models are written once against this builder; `nn::cpu` runs a graph on the reference ops and
//! `nn::gpu` turns it into prepared dispatches. Backward walks the nodes in reverse (each layer's
//! explicit backward); a residual join's backward is the identity to both inputs, and a tensor
//! read by two layers gets the sum of their gradients.

use crate::rng::Rng;
use crate::ops::batchnorm::BatchNormShape;
use crate::ops::conv2d::Conv2dShape;
use crate::ops::linear::LinearShape;
use crate::ops::pool::PoolShape;
use crate::{Error, Result};

pub type ActId = usize;
pub type ParamId = usize;

/// How a parameter starts. Conv and linear weights follow the paper's baseline (Xavier uniform:
/// U(-a, a), a = sqrt(6 / (d_in + d_out)), with d the fan-in and fan-out of the receptive field).
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    Xavier { fan_in: usize, fan_out: usize },
    Ones,
    Zeros,
}

#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub init: Init,
    /// False for biases and batch-norm γ/β: the tensors that "no bias decay" leaves undecayed.
    pub is_weight: bool,
}

impl ParamSpec {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone)]
pub enum Layer {
    Conv { s: Conv2dShape, w: ParamId },
    /// `bn` indexes the graph's batch-norm layers (running statistics and saved batch statistics).
    BatchNorm { s: BatchNormShape, gamma: ParamId, beta: ParamId, bn: usize },
    Relu,
    Relu6,
    Add,
    MaxPool2 { s: PoolShape },
    AvgPool2 { s: PoolShape },
    GlobalAvgPool { s: PoolShape },
    Linear { s: LinearShape, w: ParamId, b: ParamId },
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub layer: Layer,
    pub inputs: Vec<ActId>,
    pub output: ActId,
}

#[derive(Debug, Clone)]
pub struct Graph {
    pub batch: usize,
    pub classes: usize,
    /// Shapes of the activations; activation 0 is the input batch.
    pub acts: Vec<Vec<usize>>,
    pub params: Vec<ParamSpec>,
    pub nodes: Vec<Node>,
    pub batchnorms: usize,
}

impl Graph {
    pub fn input_shape(&self) -> &[usize] {
        &self.acts[0]
    }
    pub fn output(&self) -> ActId {
        self.acts.len() - 1
    }
    pub fn act_len(&self, a: ActId) -> usize {
        self.acts[a].iter().product()
    }
    /// How many nodes read each activation (2 for a residual block's input).
    pub fn consumers(&self) -> Vec<usize> {
        let mut n = vec![0; self.acts.len()];
        for node in &self.nodes {
            for &i in &node.inputs {
                n[i] += 1;
            }
        }
        n
    }
    pub fn param_count(&self) -> usize {
        self.params.iter().map(ParamSpec::len).sum()
    }

    /// Initial parameter values, seeded, in `params` order (the same on CPU and GPU).
    pub fn init_params(&self, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = Rng::new(seed);
        self.params
            .iter()
            .map(|p| match p.init {
                Init::Ones => vec![1.0; p.len()],
                Init::Zeros => vec![0.0; p.len()],
                Init::Xavier { fan_in, fan_out } => {
                    let a = (6.0 / (fan_in + fan_out) as f32).sqrt();
                    rng.vec(p.len(), -a, a)
                }
            })
            .collect()
    }

    /// Forward FLOPs of one batch, counting multiply-adds as 2 in conv and linear layers only.
    pub fn forward_flops(&self) -> f64 {
        self.nodes
            .iter()
            .map(|n| match &n.layer {
                Layer::Conv { s, .. } => s.forward_flops(),
                Layer::Linear { s, .. } => s.flops(),
                _ => 0.0,
            })
            .sum()
    }
}

/// Builds a graph layer by layer; each method returns the new activation.
pub struct GraphBuilder {
    g: Graph,
}

impl GraphBuilder {
    /// Starts a graph whose input is a batch of `[batch, channels, height, width]` images.
    pub fn new(batch: usize, channels: usize, height: usize, width: usize) -> Result<Self> {
        if batch == 0 || channels == 0 || height == 0 || width == 0 {
            return Err(Error::shape("model", format!("input [{batch}, {channels}, {height}, {width}] has a zero dimension")));
        }
        Ok(GraphBuilder {
            g: Graph { batch, classes: 0, acts: vec![vec![batch, channels, height, width]], params: vec![], nodes: vec![], batchnorms: 0 },
        })
    }

    pub fn shape(&self, a: ActId) -> &[usize] {
        &self.g.acts[a]
    }

    fn nchw(&self, a: ActId) -> Result<[usize; 4]> {
        match self.g.acts[a].as_slice() {
            &[n, c, h, w] => Ok([n, c, h, w]),
            other => Err(Error::shape("model", format!("expected an NCHW activation, got shape {other:?}"))),
        }
    }

    fn param(&mut self, name: String, shape: Vec<usize>, init: Init, is_weight: bool) -> ParamId {
        self.g.params.push(ParamSpec { name, shape, init, is_weight });
        self.g.params.len() - 1
    }

    fn push(&mut self, name: impl Into<String>, layer: Layer, inputs: Vec<ActId>, out_shape: Vec<usize>) -> ActId {
        self.g.acts.push(out_shape);
        let output = self.g.acts.len() - 1;
        self.g.nodes.push(Node { name: name.into(), layer, inputs, output });
        output
    }

    /// A bias-free convolution (every conv here is followed by batch norm).
    #[allow(clippy::too_many_arguments)]
    pub fn conv(&mut self, name: &str, x: ActId, out_channels: usize, kernel: usize, stride: usize, padding: usize, groups: usize) -> Result<ActId> {
        let [n, c, h, w] = self.nchw(x)?;
        let s = Conv2dShape {
            batch: n,
            in_channels: c,
            in_h: h,
            in_w: w,
            out_channels,
            kernel_h: kernel,
            kernel_w: kernel,
            stride,
            padding,
            groups,
        };
        s.validate()?;
        let rf = kernel * kernel;
        let init = Init::Xavier { fan_in: c / groups * rf, fan_out: out_channels / groups * rf };
        let wid = self.param(format!("{name}.weight"), vec![out_channels, c / groups, kernel, kernel], init, true);
        Ok(self.push(name, Layer::Conv { s, w: wid }, vec![x], vec![n, out_channels, s.out_h(), s.out_w()]))
    }

    /// Batch norm; `zero_gamma` starts γ at 0 (the "zero-γ" trick for a block's last BN).
    pub fn batchnorm(&mut self, name: &str, x: ActId, zero_gamma: bool) -> Result<ActId> {
        let [n, c, h, w] = self.nchw(x)?;
        let s = BatchNormShape::new(n, c, h, w);
        s.validate()?;
        let gamma = self.param(format!("{name}.weight"), vec![c], if zero_gamma { Init::Zeros } else { Init::Ones }, false);
        let beta = self.param(format!("{name}.bias"), vec![c], Init::Zeros, false);
        let bn = self.g.batchnorms;
        self.g.batchnorms += 1;
        Ok(self.push(name, Layer::BatchNorm { s, gamma, beta, bn }, vec![x], vec![n, c, h, w]))
    }

    pub fn relu(&mut self, name: &str, x: ActId) -> ActId {
        let shape = self.g.acts[x].clone();
        self.push(name, Layer::Relu, vec![x], shape)
    }

    pub fn relu6(&mut self, name: &str, x: ActId) -> ActId {
        let shape = self.g.acts[x].clone();
        self.push(name, Layer::Relu6, vec![x], shape)
    }

    pub fn add(&mut self, name: &str, a: ActId, b: ActId) -> Result<ActId> {
        if self.g.acts[a] != self.g.acts[b] {
            return Err(Error::shape("model", format!("{name}: cannot add {:?} and {:?}", self.g.acts[a], self.g.acts[b])));
        }
        let shape = self.g.acts[a].clone();
        Ok(self.push(name, Layer::Add, vec![a, b], shape))
    }

    fn pool_shape(&self, x: ActId) -> Result<PoolShape> {
        let [n, c, h, w] = self.nchw(x)?;
        Ok(PoolShape::new(n, c, h, w))
    }

    pub fn max_pool2(&mut self, name: &str, x: ActId) -> Result<ActId> {
        let s = self.pool_shape(x)?;
        s.validate_pool2()?;
        Ok(self.push(name, Layer::MaxPool2 { s }, vec![x], vec![s.batch, s.channels, s.out_height(), s.out_width()]))
    }

    pub fn avg_pool2(&mut self, name: &str, x: ActId) -> Result<ActId> {
        let s = self.pool_shape(x)?;
        s.validate_pool2()?;
        Ok(self.push(name, Layer::AvgPool2 { s }, vec![x], vec![s.batch, s.channels, s.avg_out_height(), s.avg_out_width()]))
    }

    pub fn global_avg_pool(&mut self, name: &str, x: ActId) -> Result<ActId> {
        let s = self.pool_shape(x)?;
        s.validate()?;
        Ok(self.push(name, Layer::GlobalAvgPool { s }, vec![x], vec![s.batch, s.channels]))
    }

    /// The classifier: `[batch, in] -> [batch, out]` logits.
    pub fn linear(&mut self, name: &str, x: ActId, out_features: usize) -> Result<ActId> {
        let &[n, k] = self.g.acts[x].as_slice() else {
            return Err(Error::shape("model", format!("{name}: linear needs a [batch, features] input, got {:?}", self.g.acts[x])));
        };
        let s = LinearShape { batch: n, in_features: k, out_features };
        s.validate()?;
        let w = self.param(format!("{name}.weight"), vec![out_features, k], Init::Xavier { fan_in: k, fan_out: out_features }, true);
        let b = self.param(format!("{name}.bias"), vec![out_features], Init::Zeros, false);
        Ok(self.push(name, Layer::Linear { s, w, b }, vec![x], vec![n, out_features]))
    }

    /// Finishes the graph; the last activation must be the `[batch, classes]` logits.
    pub fn finish(mut self) -> Result<Graph> {
        let last = self.g.acts.last().unwrap().clone();
        match last.as_slice() {
            &[_, k] if !self.g.nodes.is_empty() => self.g.classes = k,
            other => return Err(Error::shape("model", format!("a model must end in [batch, classes] logits, not {other:?}"))),
        }
        Ok(self.g)
    }
}

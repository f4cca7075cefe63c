//! The models, written once against `GraphBuilder`:
//! - `resnet20/32/56`: CIFAR ResNets (He et al. 2016): a 3×3 stem, three stages of 16/32/64
//!   channels with n = (depth − 2)/6 basic blocks each, global average pool, linear classifier.
//!   Downsampling shortcuts are a 1×1 stride-2 conv + BN (GluonCV's CIFAR ResNet v1). They take
//!   any input size, so a narrow ResNet-56 on MNIST is the deep network of the zero-γ lesson.
//! - `mnist_resnet`: the same blocks sized for 28×28×1 digits: a 16-channel stem at 28×28, then
//!   three downsampling basic blocks, to 24 channels at 14×14, 48 at 7×7 and 96 at 4×4. Halving
//!   the resolution at every block and doubling channels puts capacity where it is cheap: 11 MFLOP
//!   per image (a little less than the two blocks of 32 and 64 it replaced), yet it reaches 99% on
//!   MNIST within two epochs with every trick off but linear scaling (see DESIGN.md).
//! - `mobilenetv2`: MobileNetV2-style inverted residuals (1×1 expand, 3×3 depthwise, 1×1 project,
//!   ReLU6) for 32×32 inputs.
//!
//! `width_mult` scales every width of every model (rounded to a multiple of 4); at 1 each model has
//! its published widths.
//!
//! Model tweaks from the paper, as they apply to a basic-block CIFAR ResNet:
//! - ResNet-C replaces the stem with three 3×3 convs (3→16→16→16), each with BN + ReLU.
//! - ResNet-D puts a 2×2 stride-2 average pool (ceil mode) before the 1×1 shortcut conv (now
//!   stride 1), so the shortcut no longer skips three quarters of the input.
//!
//! Zero-γ (`last_gamma`) starts the last BN of every residual block (basic and inverted) at γ = 0.

use serde::{Deserialize, Serialize};

use super::graph::{ActId, Graph, GraphBuilder};
use crate::names::Named;
use crate::{Error, Result};

/// The networks this crate builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum ModelKind {
    Resnet20,
    Resnet32,
    Resnet56,
    MnistResnet,
    Mobilenetv2,
}

impl Named for ModelKind {
    const FIELD: &'static str = "model";
    const TABLE: &'static [(Self, &'static str, &'static str)] = &[
        (ModelKind::MnistResnet, "mnist_resnet", "MNIST ResNet"),
        (ModelKind::Resnet20, "resnet20", "ResNet-20"),
        (ModelKind::Resnet32, "resnet32", "ResNet-32"),
        (ModelKind::Resnet56, "resnet56", "ResNet-56"),
        (ModelKind::Mobilenetv2, "mobilenetv2", "MobileNetV2"),
    ];
}
crate::named_serde!(ModelKind);

impl ModelKind {
    /// True for the models made of ResNet basic blocks (the ones ResNet-C and ResNet-D apply to).
    pub fn is_resnet(self) -> bool {
        !matches!(self, ModelKind::Mobilenetv2)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelOptions {
    pub batch: usize,
    pub channels: usize,
    pub size: usize,
    pub classes: usize,
    pub last_gamma: bool,
    pub resnet_c: bool,
    pub resnet_d: bool,
    /// Width multiplier of every model (channels scaled, rounded to a multiple of 4).
    pub width_mult: f32,
}

impl ModelOptions {
    pub fn new(batch: usize, channels: usize, size: usize, classes: usize) -> Self {
        ModelOptions { batch, channels, size, classes, last_gamma: false, resnet_c: false, resnet_d: false, width_mult: 1.0 }
    }
}

/// Builds a model of `kind`.
pub fn build(kind: ModelKind, o: &ModelOptions) -> Result<Graph> {
    // Also refuses NaN.
    if o.width_mult.is_nan() || o.width_mult <= 0.0 {
        return Err(Error::config("width_mult", "must be greater than 0"));
    }
    let w = |c| scaled(c, o.width_mult);
    match kind {
        ModelKind::Resnet20 => cifar_resnet(20, o),
        ModelKind::Resnet32 => cifar_resnet(32, o),
        ModelKind::Resnet56 => cifar_resnet(56, o),
        ModelKind::MnistResnet => resnet(o, w(16)?, &[(w(24)?, 2), (w(48)?, 2), (w(96)?, 2)]),
        ModelKind::Mobilenetv2 => mobilenet_v2(o),
    }
}

fn cifar_resnet(depth: usize, o: &ModelOptions) -> Result<Graph> {
    let n = (depth - 2) / 6;
    let mut stages = Vec::new();
    for (i, c) in [16, 32, 64].into_iter().enumerate() {
        for b in 0..n {
            stages.push((scaled(c, o.width_mult)?, if i > 0 && b == 0 { 2 } else { 1 }));
        }
    }
    resnet(o, scaled(16, o.width_mult)?, &stages)
}

fn conv_bn(g: &mut GraphBuilder, name: &str, x: ActId, c: usize, k: usize, stride: usize, zero_gamma: bool) -> Result<ActId> {
    let y = g.conv(&format!("{name}.conv"), x, c, k, stride, k / 2, 1)?;
    g.batchnorm(&format!("{name}.bn"), y, zero_gamma)
}

/// A ResNet of basic blocks: `blocks` lists (out channels, stride) per block.
fn resnet(o: &ModelOptions, stem: usize, blocks: &[(usize, usize)]) -> Result<Graph> {
    let mut g = GraphBuilder::new(o.batch, o.channels, o.size, o.size)?;
    let mut x = 0;
    // ResNet-C's three stem convs keep the stem's width.
    let stem_convs = if o.resnet_c { 3 } else { 1 };
    for i in 0..stem_convs {
        let y = conv_bn(&mut g, &format!("stem{i}"), x, stem, 3, 1, false)?;
        x = g.relu(&format!("stem{i}.relu"), y);
    }
    for (b, &(c, stride)) in blocks.iter().enumerate() {
        let name = format!("block{b}");
        let in_c = g.shape(x)[1];
        let y = conv_bn(&mut g, &format!("{name}.0"), x, c, 3, stride, false)?;
        let y = g.relu(&format!("{name}.0.relu"), y);
        let y = conv_bn(&mut g, &format!("{name}.1"), y, c, 3, 1, o.last_gamma)?;
        let shortcut = if stride == 1 && in_c == c {
            x
        } else if o.resnet_d && stride == 2 {
            let p = g.avg_pool2(&format!("{name}.down.pool"), x)?;
            conv_bn(&mut g, &format!("{name}.down"), p, c, 1, 1, false)?
        } else {
            conv_bn(&mut g, &format!("{name}.down"), x, c, 1, stride, false)?
        };
        let sum = g.add(&format!("{name}.add"), y, shortcut)?;
        x = g.relu(&format!("{name}.relu"), sum);
    }
    let pooled = g.global_avg_pool("pool", x)?;
    g.linear("fc", pooled, o.classes)?;
    g.finish()
}

/// The most channels a scaled layer may have (width_mult 4, the config's limit, gives 2560).
const MAX_SCALED_CHANNELS: usize = 1 << 16;

/// `c · mult` rounded to a multiple of 4 (at least 4); an error rather than an overflow when a
/// huge `mult` would give more than `MAX_SCALED_CHANNELS`.
fn scaled(c: usize, mult: f32) -> Result<usize> {
    let quarters = ((c as f32 * mult) / 4.0).round();
    if quarters.is_nan() || quarters > (MAX_SCALED_CHANNELS / 4) as f32 {
        return Err(Error::config(
            "width_mult",
            format!("{mult} would give a {c}-channel layer {} channels; a layer has at most {MAX_SCALED_CHANNELS}", c as f32 * mult),
        ));
    }
    Ok((quarters as usize * 4).max(4))
}

/// MobileNetV2 for 32×32 inputs: stride 1 in the stem and the first stages (as CIFAR ports do),
/// and a shortened stage table so a step stays affordable in a browser.
fn mobilenet_v2(o: &ModelOptions) -> Result<Graph> {
    // (expansion t, output channels c, repeats n, first stride s), as in the paper's Table 2.
    const STAGES: [(usize, usize, usize, usize); 6] = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 3, 2), (6, 96, 2, 1), (6, 160, 2, 2)];
    let mut g = GraphBuilder::new(o.batch, o.channels, o.size, o.size)?;
    let stem = conv_bn(&mut g, "stem", 0, scaled(32, o.width_mult)?, 3, 1, false)?;
    let mut x = g.relu6("stem.relu6", stem);
    let mut b = 0;
    for (t, c, n, s) in STAGES {
        let c = scaled(c, o.width_mult)?;
        for i in 0..n {
            let name = format!("block{b}");
            let stride = if i == 0 { s } else { 1 };
            let in_c = g.shape(x)[1];
            let mut y = x;
            if t != 1 {
                y = conv_bn(&mut g, &format!("{name}.expand"), y, in_c * t, 1, 1, false)?;
                y = g.relu6(&format!("{name}.expand.relu6"), y);
            }
            let hidden = g.shape(y)[1];
            let d = g.conv(&format!("{name}.dw.conv"), y, hidden, 3, stride, 1, hidden)?;
            let d = g.batchnorm(&format!("{name}.dw.bn"), d, false)?;
            let d = g.relu6(&format!("{name}.dw.relu6"), d);
            let residual = stride == 1 && in_c == c;
            let p = conv_bn(&mut g, &format!("{name}.project"), d, c, 1, 1, residual && o.last_gamma)?;
            x = if residual { g.add(&format!("{name}.add"), p, x)? } else { p };
            b += 1;
        }
    }
    let head = conv_bn(&mut g, "head", x, scaled(640, o.width_mult)?, 1, 1, false)?;
    let head = g.relu6("head.relu6", head);
    let pooled = g.global_avg_pool("pool", head)?;
    g.linear("fc", pooled, o.classes)?;
    g.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::graph::{Init, Layer};

    fn opts(c: usize, size: usize) -> ModelOptions {
        ModelOptions::new(2, c, size, 10)
    }

    #[test]
    fn cifar_resnets_have_the_papers_depth_and_widths() {
        for (kind, depth) in [(ModelKind::Resnet20, 20), (ModelKind::Resnet32, 32), (ModelKind::Resnet56, 56)] {
            let g = build(kind, &opts(3, 32)).unwrap();
            // Weighted layers on the main path: the stem, two convs per block, and the classifier.
            let convs_3x3 = g.nodes.iter().filter(|n| matches!(&n.layer, Layer::Conv { s, .. } if s.kernel_h == 3)).count();
            assert_eq!(convs_3x3 + 1, depth, "{kind}");
            assert_eq!(g.acts[g.output()], vec![2, 10]);
        }
        // ResNet-20 has about 0.27M parameters (He et al. 2016, Table 6).
        let p = build(ModelKind::Resnet20, &opts(3, 32)).unwrap().param_count();
        assert!((260_000..280_000).contains(&p), "{p}");
    }

    #[test]
    fn zero_gamma_zeroes_exactly_the_last_bn_of_each_block() {
        let mut o = opts(3, 32);
        o.last_gamma = true;
        let g = build(ModelKind::Resnet20, &o).unwrap();
        let zeroed: Vec<&str> = g.params.iter().filter(|p| p.init == Init::Zeros && p.name.ends_with(".weight")).map(|p| p.name.as_str()).collect();
        assert_eq!(zeroed.len(), 9);
        assert!(zeroed.iter().all(|n| n.ends_with(".1.bn.weight")), "{zeroed:?}");
        let mut o = opts(3, 32);
        o.last_gamma = true;
        let m = build(ModelKind::Mobilenetv2, &o).unwrap();
        assert!(m.params.iter().any(|p| p.init == Init::Zeros && p.name.ends_with("project.bn.weight")));
    }

    #[test]
    fn tweaks_change_stem_and_shortcut() {
        let mut o = opts(3, 32);
        o.resnet_c = true;
        o.resnet_d = true;
        let g = build(ModelKind::Resnet20, &o).unwrap();
        assert_eq!(g.nodes.iter().filter(|n| n.name.starts_with("stem") && matches!(n.layer, Layer::Conv { .. })).count(), 3);
        assert_eq!(g.nodes.iter().filter(|n| matches!(n.layer, Layer::AvgPool2 { .. })).count(), 2);
    }

    #[test]
    fn mnist_and_mobilenet_build_with_expected_outputs() {
        let g = build(ModelKind::MnistResnet, &opts(1, 28)).unwrap();
        assert_eq!(g.acts[g.output()], vec![2, 10]);
        // 28 → 14 → 7 → 4; ResNet-D's ceil-mode shortcut pool also takes 7×7 to 4×4.
        let mut o = opts(1, 28);
        o.resnet_d = true;
        let d = build(ModelKind::MnistResnet, &o).unwrap();
        assert_eq!(d.nodes.iter().filter(|n| matches!(n.layer, Layer::AvgPool2 { .. })).count(), 3);
        assert_eq!(d.acts[d.output()], vec![2, 10]);
        assert_eq!(g.forward_flops(), d.forward_flops(), "the pooled 1×1 shortcut costs what the strided one did");
        let m = build(ModelKind::Mobilenetv2, &opts(3, 32)).unwrap();
        assert!(m.nodes.iter().any(|n| matches!(&n.layer, Layer::Conv { s, .. } if s.groups > 1 && s.groups == s.in_channels)));
        assert!(ModelKind::parse("resnet18").is_err());
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_config_errors() {
        for kind in ModelKind::all() {
            assert_eq!(ModelKind::parse(kind.name()).unwrap(), kind);
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.name()));
        }
        let err = ModelKind::parse("resnet18").unwrap_err();
        assert!(matches!(&err, Error::Config { field: "model", .. }), "{err}");
        assert!(err.to_string().contains("mobilenetv2"), "lists the choices: {err}");
    }

    #[test]
    fn width_mult_scales_the_cifar_resnets_too() {
        let mut o = opts(1, 28);
        o.width_mult = 0.25;
        let g = build(ModelKind::Resnet56, &o).unwrap();
        let widths: Vec<usize> = g.nodes.iter().filter_map(|n| match &n.layer {
            Layer::Conv { s, .. } => Some(s.out_channels),
            _ => None,
        }).collect();
        assert_eq!((widths.iter().min(), widths.iter().max()), (Some(&4), Some(&16)));
        assert_eq!(build(ModelKind::Resnet20, &opts(3, 32)).unwrap().param_count(), build(ModelKind::Resnet20, &ModelOptions { width_mult: 1.0, ..opts(3, 32) }).unwrap().param_count());
    }
}

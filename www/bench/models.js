// The benchmarked networks written out for TensorFlow.js, layer for layer as src/nn/models.rs
// builds them. The ResNets: a bias-free 3x3 stem conv + BN + ReLU, basic blocks (conv-BN-ReLU-
// conv-BN, add the shortcut, ReLU; a 1x1 strided conv + BN shortcut where the shape changes),
// global average pool, a linear classifier. MobileNetV2 (width 1): a 3x3 stem conv + BN + ReLU6,
// inverted residual blocks (1x1 expand + BN + ReLU6 where the expansion is not 1, 3x3 depthwise +
// BN + ReLU6, 1x1 project + BN, the input added where stride is 1 and the width unchanged), a 1x1
// head to 640 channels + BN + ReLU6, global average pool, a linear classifier. TF.js computes in
// NHWC with HWIO filters (its fast layout); the FLOPs do not depend on the layout. `flopsPerStep`
// counts them the way Graph::forward_flops does, and bench.js refuses a mismatch.

// MobileNetV2's stages as src/nn/models.rs has them: (expansion, channels, repeats, first stride).
const MOBILENET_STAGES = [[1, 16, 1, 1], [6, 24, 2, 1], [6, 32, 3, 2], [6, 64, 3, 2], [6, 96, 2, 1], [6, 160, 2, 2]];

/** The layer plan: stem width and (out channels, stride) per block, input shape and classes. */
export function spec(model, batch) {
  if (model === 'resnet20') {
    const blocks = [];
    for (const [i, c] of [16, 32, 64].entries()) {
      for (let b = 0; b < 3; b++) blocks.push([c, i > 0 && b === 0 ? 2 : 1]);
    }
    return { model, batch, size: 32, channels: 3, classes: 10, stem: 16, blocks };
  }
  if (model === 'mnist_resnet') {
    return { model, batch, size: 28, channels: 1, classes: 10, stem: 16, blocks: [[24, 2], [48, 2], [96, 2]] };
  }
  if (model === 'mobilenetv2') {
    return { model, batch, size: 32, channels: 3, classes: 10, stem: 32, head: 640, inverted: mobilenetBlocks() };
  }
  throw new Error(`unknown model ${model}`);
}

/** MobileNetV2's blocks as {expand, cout, stride}: each stage's repeats, the first one strided. */
function mobilenetBlocks() {
  const blocks = [];
  for (const [expand, cout, repeats, stride] of MOBILENET_STAGES) {
    for (let i = 0; i < repeats; i++) blocks.push({ expand, cout, stride: i === 0 ? stride : 1 });
  }
  return blocks;
}

/** Every conv of the plan as {cin, cout, k, stride, groups, inSize, outSize}, plus the
 * classifier's input width. */
function layers(s) {
  const convs = [];
  const conv = (cin, cout, k, stride, inSize, groups = 1) => {
    const outSize = Math.floor((inSize + 2 * Math.floor(k / 2) - k) / stride) + 1;
    convs.push({ cin, cout, k, stride, groups, inSize, outSize });
    return outSize;
  };
  let size = conv(s.channels, s.stem, 3, 1, s.size);
  let c = s.stem;
  if (s.inverted) {
    for (const b of s.inverted) {
      const hidden = c * b.expand;
      if (b.expand !== 1) conv(c, hidden, 1, 1, size);
      size = conv(hidden, hidden, 3, b.stride, size, hidden);
      conv(hidden, b.cout, 1, 1, size);
      c = b.cout;
    }
    conv(c, s.head, 1, 1, size);
    return { convs, features: s.head };
  }
  for (const [cout, stride] of s.blocks) {
    const out = conv(c, cout, 3, stride, size);
    conv(cout, cout, 3, 1, out);
    if (stride !== 1 || c !== cout) conv(c, cout, 1, stride, size);
    size = out;
    c = cout;
  }
  return { convs, features: c };
}

/** Forward FLOPs x 3 (forward, input gradient, weight gradient), 2 per multiply-add, conv and
 * linear layers only: the formula tricklab's `gflop_per_step` uses. */
export function flopsPerStep(s) {
  const { convs, features } = layers(s);
  let f = 0;
  for (const l of convs) f += 2 * s.batch * l.cout * l.outSize * l.outSize * (l.cin / l.groups) * l.k * l.k;
  f += 2 * s.batch * features * s.classes;
  return 3 * f;
}

/** The network as TF.js variables and a training step (SGD with momentum 0.9). */
export class TfjsNet {
  constructor(tf, s, lr) {
    this.tf = tf;
    this.s = s;
    this.vars = [];
    const xavier = (shape, fanIn, fanOut) => {
      const a = Math.sqrt(6 / (fanIn + fanOut));
      return this.param(tf.randomUniform(shape, -a, a, 'float32', 7));
    };
    // A conv (depthwise when `depthwise`: its filter is [k, k, channels, 1]) and its BN's γ and β.
    const convBn = (cin, cout, k, stride, depthwise = false) => ({
      w: depthwise ? xavier([k, k, cin, 1], k * k, k * k) : xavier([k, k, cin, cout], cin * k * k, cout * k * k),
      gamma: this.param(tf.ones([cout])),
      beta: this.param(tf.zeros([cout])),
      stride,
      depthwise,
      pad: Math.floor(k / 2),
    });
    this.stem = convBn(s.channels, s.stem, 3, 1);
    const c = s.inverted ? this.invertedBlocks(s, convBn) : this.basicBlocks(s, convBn);
    this.fcW = xavier([c, s.classes], c, s.classes);
    this.fcB = this.param(tf.zeros([s.classes]));
    this.optimizer = tf.train.momentum(lr, 0.9);
    this.x = tf.randomUniform([s.batch, s.size, s.size, s.channels], -1, 1, 'float32', 11);
    const labels = Array.from({ length: s.batch }, (_, i) => (i * 7 + 3) % s.classes);
    this.targets = tf.oneHot(tf.tensor1d(labels, 'int32'), s.classes).toFloat();
  }

  /** The ResNets' basic blocks; returns the last width. */
  basicBlocks(s, convBn) {
    this.blocks = [];
    let c = s.stem;
    for (const [cout, stride] of s.blocks) {
      this.blocks.push({
        a: convBn(c, cout, 3, stride),
        b: convBn(cout, cout, 3, 1),
        down: stride !== 1 || c !== cout ? convBn(c, cout, 1, stride) : null,
      });
      c = cout;
    }
    return c;
  }

  /** MobileNetV2's inverted residual blocks and head; returns the head's width. */
  invertedBlocks(s, convBn) {
    this.inverted = [];
    let c = s.stem;
    for (const b of s.inverted) {
      const hidden = c * b.expand;
      this.inverted.push({
        expand: b.expand !== 1 ? convBn(c, hidden, 1, 1) : null,
        dw: convBn(hidden, hidden, 3, b.stride, true),
        project: convBn(hidden, b.cout, 1, 1),
        residual: b.stride === 1 && c === b.cout,
      });
      c = b.cout;
    }
    this.head = convBn(c, s.head, 1, 1);
    return s.head;
  }

  param(t) {
    const v = this.tf.variable(t);
    this.vars.push(v);
    return v;
  }

  /** conv (no bias) then training-mode batch norm with the batch's statistics, then `act`
   * ('relu', 'relu6' or none). */
  convBn(x, l, act) {
    const tf = this.tf;
    const y = l.depthwise ? tf.depthwiseConv2d(x, l.w, l.stride, l.pad) : tf.conv2d(x, l.w, l.stride, l.pad);
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    const z = tf.batchNorm(y, mean, variance, l.beta, l.gamma, 1e-5);
    if (act === 'relu6') return tf.relu6(z);
    return act ? tf.relu(z) : z;
  }

  /** The features before the classifier: ResNet or MobileNetV2 blocks. */
  features() {
    const tf = this.tf;
    if (this.inverted) {
      let x = this.convBn(this.x, this.stem, 'relu6');
      for (const b of this.inverted) {
        const e = b.expand ? this.convBn(x, b.expand, 'relu6') : x;
        const p = this.convBn(this.convBn(e, b.dw, 'relu6'), b.project, null);
        x = b.residual ? tf.add(p, x) : p;
      }
      return this.convBn(x, this.head, 'relu6');
    }
    let x = this.convBn(this.x, this.stem, 'relu');
    for (const b of this.blocks) {
      const y = this.convBn(this.convBn(x, b.a, 'relu'), b.b, null);
      const shortcut = b.down ? this.convBn(x, b.down, null) : x;
      x = tf.relu(tf.add(y, shortcut));
    }
    return x;
  }

  logits() {
    const tf = this.tf;
    const pooled = tf.mean(this.features(), [1, 2]);
    return tf.add(tf.matMul(pooled, this.fcW), this.fcB);
  }

  /** One step: forward, softmax cross-entropy, backward, SGD; awaits the loss on the CPU. */
  async step() {
    const tf = this.tf;
    const cost = this.optimizer.minimize(() => tf.losses.softmaxCrossEntropy(this.targets, this.logits()), true, this.vars);
    const [loss] = await cost.data();
    cost.dispose();
    return loss;
  }
}

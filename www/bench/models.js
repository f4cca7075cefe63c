// The benchmarked networks written out for TensorFlow.js, layer for layer as src/nn/models.rs
// builds them: a bias-free 3x3 stem conv + BN + ReLU, basic blocks (conv-BN-ReLU-conv-BN, add
// the shortcut, ReLU; a 1x1 strided conv + BN shortcut where the shape changes), global average
// pool, a linear classifier. TF.js computes in NHWC with HWIO filters (its fast layout); the
// FLOPs do not depend on the layout. `flops` counts them the way Graph::forward_flops does.

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
  throw new Error(`unknown model ${model}`);
}

/** Every conv of the plan as {cin, cout, k, stride, inSize, outSize}, plus the classifier. */
function layers(s) {
  const convs = [];
  const conv = (cin, cout, k, stride, inSize) => {
    const outSize = Math.floor((inSize + 2 * Math.floor(k / 2) - k) / stride) + 1;
    convs.push({ cin, cout, k, stride, inSize, outSize });
    return outSize;
  };
  let size = conv(s.channels, s.stem, 3, 1, s.size);
  let c = s.stem;
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
  for (const l of convs) f += 2 * s.batch * l.cout * l.outSize * l.outSize * l.cin * l.k * l.k;
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
    const convBn = (cin, cout, k, stride) => ({
      w: xavier([k, k, cin, cout], cin * k * k, cout * k * k),
      gamma: this.param(tf.ones([cout])),
      beta: this.param(tf.zeros([cout])),
      stride,
      pad: Math.floor(k / 2),
    });
    this.stem = convBn(s.channels, s.stem, 3, 1);
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
    this.fcW = xavier([c, s.classes], c, s.classes);
    this.fcB = this.param(tf.zeros([s.classes]));
    this.optimizer = tf.train.momentum(lr, 0.9);
    this.x = tf.randomUniform([s.batch, s.size, s.size, s.channels], -1, 1, 'float32', 11);
    const labels = Array.from({ length: s.batch }, (_, i) => (i * 7 + 3) % s.classes);
    this.targets = tf.oneHot(tf.tensor1d(labels, 'int32'), s.classes).toFloat();
  }

  param(t) {
    const v = this.tf.variable(t);
    this.vars.push(v);
    return v;
  }

  /** conv (no bias) then training-mode batch norm with the batch's statistics. */
  convBn(x, l, relu) {
    const tf = this.tf;
    const y = tf.conv2d(x, l.w, l.stride, l.pad);
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    const z = tf.batchNorm(y, mean, variance, l.beta, l.gamma, 1e-5);
    return relu ? tf.relu(z) : z;
  }

  logits() {
    const tf = this.tf;
    let x = this.convBn(this.x, this.stem, true);
    for (const b of this.blocks) {
      const y = this.convBn(this.convBn(x, b.a, true), b.b, false);
      const shortcut = b.down ? this.convBn(x, b.down, false) : x;
      x = tf.relu(tf.add(y, shortcut));
    }
    const pooled = tf.mean(x, [1, 2]);
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

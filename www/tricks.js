// The tricks of "Bag of Tricks for Image Classification" (He et al., 2019) that the page can turn
// on and off, and its two model tweaks for ResNets. The core's field table (fields.js) says what
// each is: its title, the fields it owns, its parameters and its rule for "on"; this module adds
// what the page says about it, its formula and a short explanation, shown under its toggle.

import { FIELDS } from './fields.js';

const EXPLANATIONS = {
  linear_scaling: {
    formula: 'η = η₀ · b / b₀',
    text: 'A larger batch averages away more gradient noise, so the rate grows in proportion to it. '
      + 'Turning it off trains at η₀ itself, i.e. multiplies the rate by b₀/b (×4 at batch 64 and b₀ = 256), '
      + 'so an ablation of linear scaling also changes the rate.',
  },
  warmup: {
    formula: 'η_t = η_w + (η − η_w) · t / T_w  for t < T_w',
    text: 'Early weights are random and large steps can throw training off; ramp the rate up linearly first.',
  },
  zero_gamma: {
    formula: 'γ = 0 in each block’s last BN ⇒ block(x) = ReLU(shortcut(x)) at start',
    text: 'The residual branch of every block adds nothing at first. A block whose shortcut is the identity '
      + 'then starts as the identity (its input is already ≥ 0, so ReLU(x) = x) and the network trains like a '
      + 'shallower one. A block with a projection shortcut (a 1×1 conv + BN, where the size or width changes) '
      + 'does not: it starts as that projection. That is all three blocks of the MNIST ResNet and two of the nine '
      + 'blocks of ResNet-20 (two of 15 in ResNet-32, two of 27 in ResNet-56); in MobileNetV2 only the blocks '
      + 'with a shortcut get γ = 0.',
  },
  no_bias_decay: {
    formula: 'L = ℓ + (λ/2) · Σ‖W‖²  over conv and linear weights only',
    text: 'Weight decay applies to weights only; biases and BN’s γ and β are left free. The paper follows Jia et al. '
      + '(2018) here, who regularize only the weights to avoid overfitting.',
  },
  cosine: {
    formula: 'η_t = ½ η (1 + cos(π (t − T_w − T_h) / (T − T_w − T_h)))',
    text: 'Instead of the schedule chosen above (step decay or a constant rate), the rate falls smoothly to zero, '
      + 'after an optional hold at full rate (the hold comes from the Keras tutorial; the paper has none).',
  },
  label_smoothing: {
    formula: 'q = (1 − ε) · onehot(y) + ε / K',
    text: 'Soft targets keep the network from pushing logits to extremes, which generalizes better. This is the '
      + 'Keras tutorial’s and GluonCV’s rule, ε/K on every class; the paper’s equation puts ε/(K − 1) on the wrong '
      + 'classes instead.',
  },
  mixup: {
    formula: 'x̂ = λ xᵢ + (1 − λ) xⱼ,  ŷ = λ yᵢ + (1 − λ) yⱼ,  λ ~ Beta(α, α)',
    text: 'Train on blends of two images with the same blend of their labels. The training accuracy shown '
      + 'counts a blend as right when the network picks the class its blended label weighs most (its own '
      + 'label when λ ≥ ½, the partner’s below); the test set is never blended.',
  },
  distillation: {
    formula: 'L = w · CE(y, softmax(z)) + (1 − w) · T² · KL(softmax(r/T) ‖ softmax(z/T))',
    text: 'The student also learns from a finished run’s softened predictions (the teacher: a run in the history, or '
      + 'weights imported there, such as a larger model the CLI trained on a real GPU). z: the student’s '
      + 'logits, r: the teacher’s, y: the target row (the label, smoothed or mixed when those tricks are on). '
      + 'The paper’s loss is CE + T² · KL, without w, so at w = 0.5 the L below is half of it. The loss the page '
      + 'reports is this L, with the KL form (0 when the student matches the teacher), not GluonCV’s soft '
      + 'cross-entropy, which is larger by the teacher’s entropy. GluonCV’s weighted form, used here:',
  },
  resnet_c: {
    formula: 'stem: conv3×3 → conv3×3, conv3×3, conv3×3 (each + BN + ReLU)',
    text: 'The stem’s one 3×3 conv becomes three 3×3 convs of the same width: a deeper stem, and on these small '
      + 'networks not a cheap one, since the stem does much of their work. Per image it takes the MNIST ResNet from '
      + '5,527,488 to 9,140,160 multiply-adds (+65%) and ResNet-20 from 40,813,184 to 45,531,776 (+12%). '
      + '(The paper replaces ImageNet’s 7×7 stem conv; these small ResNets have a 3×3 one.) ResNets only.',
  },
  resnet_d: {
    formula: 'shortcut: conv1×1 stride 2 → avgpool2×2 stride 2 (ceil), conv1×1 stride 1',
    text: 'A downsampling block’s 1×1 stride-2 shortcut conv reads one pixel in four, skipping three quarters of '
      + 'its input. A 2×2 stride-2 average pool (ceil mode) before it, with the conv now stride 1, lets the shortcut '
      + 'see all of it. ResNets only.',
  },
};

// One entry per toggle: the core's trick ({id, title, tweak, sets, rule}) with its parameters (the
// field rows the visitor sets), the fields it owns, `isOn(config)`, its formula and text.
const toggle = (trick) => ({
  ...trick,
  ...EXPLANATIONS[trick.id],
  params: FIELDS.params(trick),
  owns: FIELDS.owned(trick).map((f) => f.name),
  isOn: (config) => FIELDS.isOn(trick, config),
});

export const TOGGLES = FIELDS.tricks.map(toggle);
export const TRICKS = TOGGLES.filter((t) => !t.tweak);
// The paper's model tweaks that apply to a basic-block ResNet (the Rust core rejects them for
// MobileNetV2). ResNet-B moves a stride inside a bottleneck block, which a basic block lacks.
export const TWEAKS = TOGGLES.filter((t) => t.tweak);

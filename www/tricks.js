// The tricks of "Bag of Tricks for Image Classification" (He et al., 2019) that the page can turn
// on and off, as data: which config field the toggle sets (and to what when on or off), the
// parameters it exposes, and a short explanation with its formula. The controls view builds one
// labelled toggle per entry.

export const TRICKS = [
  {
    id: 'linear_scaling',
    title: 'Linear scaling',
    toggle: { field: 'linear_scaling', on: true, off: false },
    params: [{ field: 'base_batch_size', label: 'Reference batch b₀', min: 1, step: 1 }],
    formula: 'η = η₀ · b / b₀',
    text: 'A larger batch averages away more gradient noise, so the rate grows in proportion to it.',
  },
  {
    id: 'warmup',
    title: 'Learning-rate warmup',
    toggle: { field: 'warmup_epochs', on: 1, off: 0 },
    params: [
      { field: 'warmup_epochs', label: 'Warmup epochs', min: 1, step: 1 },
      { field: 'warmup_lr', label: 'Warmup start rate', min: 0, step: 'any' },
    ],
    formula: 'η_t = η_w + (η − η_w) · t / T_w  for t < T_w',
    text: 'Early weights are random and large steps can throw training off; ramp the rate up linearly first.',
  },
  {
    id: 'zero_gamma',
    title: 'Zero γ',
    toggle: { field: 'last_gamma', on: true, off: false },
    params: [],
    formula: 'γ = 0 in each block’s last BN ⇒ block(x) = x at start',
    text: 'Every residual block starts as the identity, so the network trains like a shallower one at first.',
  },
  {
    id: 'no_bias_decay',
    title: 'No bias decay',
    toggle: { field: 'no_wd', on: true, off: false },
    params: [],
    formula: 'L = ℓ + (λ/2) · Σ‖W‖²  over conv and linear weights only',
    text: 'Weight decay applies to weights only; biases and BN’s γ and β are left free.',
  },
  {
    id: 'cosine',
    title: 'Cosine decay',
    toggle: { field: 'lr_mode', on: 'cosine', off: 'step' },
    params: [{ field: 'hold_epochs', label: 'Hold epochs', min: 0, step: 1 }],
    formula: 'η_t = ½ η (1 + cos(π (t − T_w − T_h) / (T − T_w − T_h)))',
    text: 'Instead of dropping by 10× at fixed epochs, the rate falls smoothly to zero, after an optional hold at full rate.',
  },
  {
    id: 'label_smoothing',
    title: 'Label smoothing',
    toggle: { field: 'label_smoothing', on: 0.1, off: 0 },
    params: [{ field: 'label_smoothing', label: 'ε', min: 0, max: 1, step: 0.01 }],
    formula: 'q = (1 − ε) · onehot(y) + ε / K',
    text: 'Soft targets keep the network from pushing logits to extremes, which generalizes better.',
  },
  {
    id: 'mixup',
    title: 'Mixup',
    toggle: { field: 'mixup_alpha', on: 0.2, off: 0 },
    params: [{ field: 'mixup_alpha', label: 'α', min: 0, step: 0.05 }],
    formula: 'x̂ = λ xᵢ + (1 − λ) xⱼ,  ŷ = λ yᵢ + (1 − λ) yⱼ,  λ ~ Beta(α, α)',
    text: 'Train on blends of two images with the same blend of their labels.',
  },
  {
    id: 'distillation',
    title: 'Knowledge distillation',
    toggle: { field: 'teacher', on: 'teacher', off: null },
    params: [
      { field: 'teacher', label: 'Teacher run', kind: 'teacher' },
      { field: 'temperature', label: 'Temperature T', min: 0.1, step: 'any' },
      { field: 'hard_weight', label: 'Hard-label weight w', min: 0, max: 1, step: 0.05 },
    ],
    formula: 'L = w · CE(y, q) + (1 − w) · T² · KL(softmax(r/T) ‖ softmax(z/T))',
    text: 'The student also learns from a finished run’s softened predictions r (the teacher), not only the labels.',
  },
];

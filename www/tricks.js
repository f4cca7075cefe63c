// The tricks of "Bag of Tricks for Image Classification" (He et al., 2019) that the page can turn
// on and off, and its two model tweaks for ResNets, as data. Each toggle owns every config field it
// affects (`owns`): when it is off, each of them takes the dataset's default (a field that is also
// a general setting, like the schedule's lr_mode, keeps that setting instead), so a link cannot
// leave a trick half on behind a toggle that shows off. When it is on, `on` sets its fixed values
// and `params` are the owned fields the visitor sets (`usual`: what a parameter shows before it
// is first used). `isOn(config)` says whether a config has the trick on. The controls view builds
// one labelled toggle per entry, with its explanation and formula.

export const TRICKS = [
  {
    id: 'linear_scaling',
    title: 'Linear scaling',
    owns: ['linear_scaling', 'base_batch_size'],
    on: { linear_scaling: true },
    isOn: (c) => c.linear_scaling,
    params: [{ field: 'base_batch_size', label: 'Reference batch b₀', min: 1, step: 1, usual: 256 }],
    formula: 'η = η₀ · b / b₀',
    text: 'A larger batch averages away more gradient noise, so the rate grows in proportion to it. '
      + 'Turning it off trains at η₀ itself, i.e. multiplies the rate by b₀/b (×4 at batch 64 and b₀ = 256), '
      + 'so an ablation of linear scaling also changes the rate.',
  },
  {
    id: 'warmup',
    title: 'Learning-rate warmup',
    owns: ['warmup_epochs', 'warmup_steps', 'warmup_lr'],
    on: {},
    isOn: (c) => (c.warmup_steps ?? c.warmup_epochs) > 0,
    params: [
      { field: 'warmup_epochs', label: 'Warmup epochs', min: 0, step: 1, usual: 1 },
      { field: 'warmup_steps', label: 'Warmup steps (instead of epochs)', kind: 'count?', min: 0, step: 1 },
      { field: 'warmup_lr', label: 'Warmup start rate', min: 0, step: 'any', usual: 0 },
    ],
    formula: 'η_t = η_w + (η − η_w) · t / T_w  for t < T_w',
    text: 'Early weights are random and large steps can throw training off; ramp the rate up linearly first.',
  },
  {
    id: 'zero_gamma',
    title: 'Zero γ',
    owns: ['last_gamma'],
    on: { last_gamma: true },
    isOn: (c) => c.last_gamma,
    params: [],
    formula: 'γ = 0 in each block’s last BN ⇒ block(x) = ReLU(shortcut(x)) at start',
    text: 'The residual branch of every block adds nothing at first. A block whose shortcut is the identity '
      + 'then starts as the identity (its input is already ≥ 0, so ReLU(x) = x) and the network trains like a '
      + 'shallower one. A block with a projection shortcut (a 1×1 conv + BN, where the size or width changes) '
      + 'does not: it starts as that projection. That is all three blocks of the MNIST ResNet and two of the nine '
      + 'blocks of ResNet-20 (two of 15 in ResNet-32, two of 27 in ResNet-56); in MobileNetV2 only the blocks '
      + 'with a shortcut get γ = 0.',
  },
  {
    id: 'no_bias_decay',
    title: 'No bias decay',
    owns: ['no_wd'],
    on: { no_wd: true },
    isOn: (c) => c.no_wd,
    params: [],
    formula: 'L = ℓ + (λ/2) · Σ‖W‖²  over conv and linear weights only',
    text: 'Weight decay applies to weights only; biases and BN’s γ and β are left free. The paper follows Jia et al. '
      + '(2018) here, who regularize only the weights to avoid overfitting.',
  },
  {
    id: 'cosine',
    title: 'Cosine decay',
    owns: ['lr_mode', 'hold_epochs', 'hold_steps'],
    on: { lr_mode: 'cosine' },
    isOn: (c) => c.lr_mode === 'cosine',
    params: [
      { field: 'hold_epochs', label: 'Hold epochs', min: 0, step: 1, usual: 0 },
      { field: 'hold_steps', label: 'Hold steps (instead of epochs)', kind: 'count?', min: 0, step: 1 },
    ],
    formula: 'η_t = ½ η (1 + cos(π (t − T_w − T_h) / (T − T_w − T_h)))',
    text: 'Instead of the schedule chosen above (step decay or a constant rate), the rate falls smoothly to zero, '
      + 'after an optional hold at full rate (the hold comes from the Keras tutorial; the paper has none).',
  },
  {
    id: 'label_smoothing',
    title: 'Label smoothing',
    owns: ['label_smoothing'],
    on: {},
    isOn: (c) => c.label_smoothing > 0,
    params: [{ field: 'label_smoothing', label: 'ε', min: 0, max: 1, step: 0.01, usual: 0.1 }],
    formula: 'q = (1 − ε) · onehot(y) + ε / K',
    text: 'Soft targets keep the network from pushing logits to extremes, which generalizes better. This is the '
      + 'Keras tutorial’s and GluonCV’s rule, ε/K on every class; the paper’s equation puts ε/(K − 1) on the wrong '
      + 'classes instead.',
  },
  {
    id: 'mixup',
    title: 'Mixup',
    owns: ['mixup_alpha', 'mixup_off_epochs'],
    on: {},
    isOn: (c) => c.mixup_alpha > 0,
    params: [
      { field: 'mixup_alpha', label: 'α', min: 0, step: 0.05, usual: 0.2 },
      { field: 'mixup_off_epochs', label: 'No mixup in the last epochs', min: 0, step: 1, usual: 0 },
    ],
    formula: 'x̂ = λ xᵢ + (1 − λ) xⱼ,  ŷ = λ yᵢ + (1 − λ) yⱼ,  λ ~ Beta(α, α)',
    text: 'Train on blends of two images with the same blend of their labels. The training accuracy shown '
      + 'counts a blend as right when the network picks the class its blended label weighs most (its own '
      + 'label when λ ≥ ½, the partner’s below); the test set is never blended.',
  },
  {
    id: 'distillation',
    title: 'Knowledge distillation',
    owns: ['teacher', 'temperature', 'hard_weight'],
    on: {},
    isOn: (c) => c.teacher !== null,
    params: [
      { field: 'teacher', label: 'Teacher run', kind: 'teacher' },
      { field: 'temperature', label: 'Temperature T', min: 0.1, step: 'any' },
      { field: 'hard_weight', label: 'Hard-label weight w', min: 0, max: 1, step: 0.05 },
    ],
    formula: 'L = w · CE(y, softmax(z)) + (1 − w) · T² · KL(softmax(r/T) ‖ softmax(z/T))',
    text: 'The student also learns from a finished run’s softened predictions (the teacher: a run in the history, or '
      + 'weights imported there, such as a larger model the CLI trained on a real GPU). z: the student’s '
      + 'logits, r: the teacher’s, y: the target row (the label, smoothed or mixed when those tricks are on). '
      + 'The loss the page reports is this L, with the KL form (0 when the student matches the teacher), '
      + 'not GluonCV’s soft cross-entropy, which is larger by the teacher’s entropy. The loss is GluonCV’s weighted '
      + 'form; the paper’s is CE + T² · KL, without w, so at w = 0.5 this L is half of it:',
  },
];

// The paper's model tweaks that apply to a basic-block ResNet (the Rust core rejects them for
// MobileNetV2). ResNet-B moves a stride inside a bottleneck block, which a basic block lacks.
export const TWEAKS = [
  {
    id: 'resnet_c',
    title: 'ResNet-C stem',
    owns: ['resnet_c'],
    on: { resnet_c: true },
    isOn: (c) => c.resnet_c,
    params: [],
    formula: 'stem: conv3×3 → conv3×3, conv3×3, conv3×3 (each + BN + ReLU)',
    text: 'The stem’s one 3×3 conv becomes three 3×3 convs of the same width: a deeper stem, and on these small '
      + 'networks not a cheap one, since the stem does much of their work. Per image it takes the MNIST ResNet from '
      + '5,527,488 to 9,140,160 multiply-adds (+65%) and ResNet-20 from 40,813,184 to 45,531,776 (+12%). '
      + '(The paper replaces ImageNet’s 7×7 stem conv; these small ResNets have a 3×3 one.) ResNets only.',
  },
  {
    id: 'resnet_d',
    title: 'ResNet-D shortcut',
    owns: ['resnet_d'],
    on: { resnet_d: true },
    isOn: (c) => c.resnet_d,
    params: [],
    formula: 'shortcut: conv1×1 stride 2 → avgpool2×2 stride 2 (ceil), conv1×1 stride 1',
    text: 'A downsampling block’s 1×1 stride-2 shortcut conv reads one pixel in four, skipping three quarters of '
      + 'its input. A 2×2 stride-2 average pool (ceil mode) before it, with the conv now stride 1, lets the shortcut '
      + 'see all of it. ResNets only.',
  },
];

// Every toggle the form shows.
export const TOGGLES = [...TRICKS, ...TWEAKS];

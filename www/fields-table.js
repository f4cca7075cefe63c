// The core's table of config fields and tricks (src/train/fields.rs), written by
// `TRICKLAB_BLESS=1 cargo test --test fields`; tests/fields.rs checks that it is current. Do not edit.

export default {
  "fields": [
    {
      "control": "general",
      "default": "mnist",
      "kind": "choice",
      "label": "Dataset",
      "max": null,
      "max_open": false,
      "min": null,
      "min_open": false,
      "name": "dataset",
      "options": [
        {
          "label": "MNIST",
          "name": "mnist"
        },
        {
          "label": "CIFAR-10",
          "name": "cifar10"
        }
      ],
      "step": null,
      "trick": null,
      "usual": null
    },
    {
      "control": "general",
      "default": "mnist_resnet",
      "kind": "choice",
      "label": "Model",
      "max": null,
      "max_open": false,
      "min": null,
      "min_open": false,
      "name": "model",
      "options": [
        {
          "label": "MNIST ResNet",
          "name": "mnist_resnet"
        },
        {
          "label": "ResNet-20",
          "name": "resnet20"
        },
        {
          "label": "ResNet-32",
          "name": "resnet32"
        },
        {
          "label": "ResNet-56",
          "name": "resnet56"
        },
        {
          "label": "MobileNetV2",
          "name": "mobilenetv2"
        }
      ],
      "step": null,
      "trick": null,
      "usual": null
    },
    {
      "control": "general",
      "default": 1.0,
      "kind": "number",
      "label": "Width multiplier",
      "max": 4.0,
      "max_open": false,
      "min": 0.0,
      "min_open": true,
      "name": "width_mult",
      "options": [],
      "step": null,
      "trick": null,
      "usual": null
    },
    {
      "control": "general",
      "default": 2,
      "kind": "count",
      "label": "Epochs",
      "max": 1000.0,
      "max_open": false,
      "min": 1.0,
      "min_open": false,
      "name": "epochs",
      "options": [],
      "step": 1.0,
      "trick": null,
      "usual": null
    },
    {
      "control": "general",
      "default": 64,
      "kind": "count",
      "label": "Batch size",
      "max": 4096.0,
      "max_open": false,
      "min": 1.0,
      "min_open": false,
      "name": "batch_size",
      "options": [],
      "step": 1.0,
      "trick": null,
      "usual": null
    },
    {
      "control": "general",
      "default": 0.4,
      "kind": "number",
      "label": "Base learning rate η₀",
      "max": null,
      "max_open": false,
      "min": 0.0,
      "min_open": true,
      "name": "base_lr",
      "options": [],
      "step": null,
      "trick": null,
      "usual": null
    },
    {
      "control": "general",
      "default": "step",
      "kind": "choice",
      "label": "Schedule",
      "max": null,
      "max_open": false,
      "min": null,
      "min_open": false,
      "name": "lr_mode",
      "options": [
        {
          "label": "Step decay",
          "name": "step"
        },
        {
          "label": "Constant rate",
          "name": "constant"
        }
      ],
      "step": null,
      "trick": "cosine",
      "usual": null
    },
    {
      "control": "general",
      "default": [
        1
      ],
      "kind": "counts",
      "label": "Step decay at epochs",
      "max": 1000.0,
      "max_open": false,
      "min": 1.0,
      "min_open": false,
      "name": "lr_decay_epochs",
      "options": [],
      "step": null,
      "trick": null,
      "usual": null
    },
    {
      "control": "general",
      "default": 0.1,
      "kind": "number",
      "label": "Step decay factor",
      "max": 1.0,
      "max_open": false,
      "min": 0.0,
      "min_open": true,
      "name": "lr_decay",
      "options": [],
      "step": null,
      "trick": null,
      "usual": null
    },
    {
      "control": "general",
      "default": 0.9,
      "kind": "number",
      "label": "Momentum",
      "max": 1.0,
      "max_open": true,
      "min": 0.0,
      "min_open": false,
      "name": "momentum",
      "options": [],
      "step": null,
      "trick": null,
      "usual": null
    },
    {
      "control": "general",
      "default": 0.0001,
      "kind": "number",
      "label": "Weight decay λ",
      "max": null,
      "max_open": false,
      "min": 0.0,
      "min_open": false,
      "name": "weight_decay",
      "options": [],
      "step": null,
      "trick": null,
      "usual": null
    },
    {
      "control": "general",
      "default": 42,
      "kind": "count",
      "label": "Seed",
      "max": 9007199254740991.0,
      "max_open": false,
      "min": 0.0,
      "min_open": false,
      "name": "seed",
      "options": [],
      "step": 1.0,
      "trick": null,
      "usual": null
    },
    {
      "control": "general",
      "default": true,
      "kind": "bool",
      "label": "Nesterov momentum",
      "max": null,
      "max_open": false,
      "min": null,
      "min_open": false,
      "name": "nesterov",
      "options": [],
      "step": null,
      "trick": null,
      "usual": null
    },
    {
      "control": "general",
      "default": false,
      "kind": "bool",
      "label": "Crop-and-flip augmentation (CIFAR-10)",
      "max": null,
      "max_open": false,
      "min": null,
      "min_open": false,
      "name": "augmentation",
      "options": [],
      "step": null,
      "trick": null,
      "usual": null
    },
    {
      "control": "toggle",
      "default": true,
      "kind": "bool",
      "label": "Linear scaling",
      "max": null,
      "max_open": false,
      "min": null,
      "min_open": false,
      "name": "linear_scaling",
      "options": [],
      "step": null,
      "trick": "linear_scaling",
      "usual": null
    },
    {
      "control": "param",
      "default": 256,
      "kind": "count",
      "label": "Reference batch b₀",
      "max": 4294967295.0,
      "max_open": false,
      "min": 1.0,
      "min_open": false,
      "name": "base_batch_size",
      "options": [],
      "step": 1.0,
      "trick": "linear_scaling",
      "usual": 256.0
    },
    {
      "control": "param",
      "default": 0,
      "kind": "count",
      "label": "Warmup epochs",
      "max": 1000.0,
      "max_open": false,
      "min": 0.0,
      "min_open": false,
      "name": "warmup_epochs",
      "options": [],
      "step": 1.0,
      "trick": "warmup",
      "usual": 1.0
    },
    {
      "control": "param",
      "default": null,
      "kind": "count?",
      "label": "Warmup steps (instead of epochs)",
      "max": 10000000.0,
      "max_open": false,
      "min": 0.0,
      "min_open": false,
      "name": "warmup_steps",
      "options": [],
      "step": 1.0,
      "trick": "warmup",
      "usual": null
    },
    {
      "control": "param",
      "default": 0.0,
      "kind": "number",
      "label": "Warmup start rate",
      "max": null,
      "max_open": false,
      "min": 0.0,
      "min_open": false,
      "name": "warmup_lr",
      "options": [],
      "step": null,
      "trick": "warmup",
      "usual": 0.0
    },
    {
      "control": "toggle",
      "default": false,
      "kind": "bool",
      "label": "Zero γ",
      "max": null,
      "max_open": false,
      "min": null,
      "min_open": false,
      "name": "last_gamma",
      "options": [],
      "step": null,
      "trick": "zero_gamma",
      "usual": null
    },
    {
      "control": "toggle",
      "default": false,
      "kind": "bool",
      "label": "No bias decay",
      "max": null,
      "max_open": false,
      "min": null,
      "min_open": false,
      "name": "no_wd",
      "options": [],
      "step": null,
      "trick": "no_bias_decay",
      "usual": null
    },
    {
      "control": "param",
      "default": 0,
      "kind": "count",
      "label": "Hold epochs",
      "max": 1000.0,
      "max_open": false,
      "min": 0.0,
      "min_open": false,
      "name": "hold_epochs",
      "options": [],
      "step": 1.0,
      "trick": "cosine",
      "usual": 0.0
    },
    {
      "control": "param",
      "default": null,
      "kind": "count?",
      "label": "Hold steps (instead of epochs)",
      "max": 10000000.0,
      "max_open": false,
      "min": 0.0,
      "min_open": false,
      "name": "hold_steps",
      "options": [],
      "step": 1.0,
      "trick": "cosine",
      "usual": null
    },
    {
      "control": "param",
      "default": 0.0,
      "kind": "number",
      "label": "ε",
      "max": 1.0,
      "max_open": false,
      "min": 0.0,
      "min_open": false,
      "name": "label_smoothing",
      "options": [],
      "step": 0.01,
      "trick": "label_smoothing",
      "usual": 0.1
    },
    {
      "control": "param",
      "default": 0.0,
      "kind": "number",
      "label": "α",
      "max": null,
      "max_open": false,
      "min": 0.0,
      "min_open": false,
      "name": "mixup_alpha",
      "options": [],
      "step": 0.05,
      "trick": "mixup",
      "usual": 0.2
    },
    {
      "control": "param",
      "default": 0,
      "kind": "count",
      "label": "No mixup in the last epochs",
      "max": 1000.0,
      "max_open": false,
      "min": 0.0,
      "min_open": false,
      "name": "mixup_off_epochs",
      "options": [],
      "step": 1.0,
      "trick": "mixup",
      "usual": 0.0
    },
    {
      "control": "param",
      "default": null,
      "kind": "teacher",
      "label": "Teacher run",
      "max": null,
      "max_open": false,
      "min": null,
      "min_open": false,
      "name": "teacher",
      "options": [],
      "step": null,
      "trick": "distillation",
      "usual": null
    },
    {
      "control": "param",
      "default": 20.0,
      "kind": "number",
      "label": "Temperature T",
      "max": null,
      "max_open": false,
      "min": 0.0,
      "min_open": true,
      "name": "temperature",
      "options": [],
      "step": null,
      "trick": "distillation",
      "usual": null
    },
    {
      "control": "param",
      "default": 0.5,
      "kind": "number",
      "label": "Hard-label weight w",
      "max": 1.0,
      "max_open": false,
      "min": 0.0,
      "min_open": false,
      "name": "hard_weight",
      "options": [],
      "step": 0.05,
      "trick": "distillation",
      "usual": null
    },
    {
      "control": "toggle",
      "default": false,
      "kind": "bool",
      "label": "ResNet-C stem",
      "max": null,
      "max_open": false,
      "min": null,
      "min_open": false,
      "name": "resnet_c",
      "options": [],
      "step": null,
      "trick": "resnet_c",
      "usual": null
    },
    {
      "control": "toggle",
      "default": false,
      "kind": "bool",
      "label": "ResNet-D shortcut",
      "max": null,
      "max_open": false,
      "min": null,
      "min_open": false,
      "name": "resnet_d",
      "options": [],
      "step": null,
      "trick": "resnet_d",
      "usual": null
    }
  ],
  "tricks": [
    {
      "id": "linear_scaling",
      "rule": {
        "field": "linear_scaling",
        "kind": "flag"
      },
      "sets": {},
      "title": "Linear scaling",
      "tweak": false
    },
    {
      "id": "warmup",
      "rule": {
        "fields": [
          "warmup_steps",
          "warmup_epochs"
        ],
        "kind": "positive"
      },
      "sets": {},
      "title": "Learning-rate warmup",
      "tweak": false
    },
    {
      "id": "zero_gamma",
      "rule": {
        "field": "last_gamma",
        "kind": "flag"
      },
      "sets": {},
      "title": "Zero γ",
      "tweak": false
    },
    {
      "id": "no_bias_decay",
      "rule": {
        "field": "no_wd",
        "kind": "flag"
      },
      "sets": {},
      "title": "No bias decay",
      "tweak": false
    },
    {
      "id": "cosine",
      "rule": {
        "field": "lr_mode",
        "kind": "equals",
        "value": "cosine"
      },
      "sets": {
        "lr_mode": "cosine"
      },
      "title": "Cosine decay",
      "tweak": false
    },
    {
      "id": "label_smoothing",
      "rule": {
        "fields": [
          "label_smoothing"
        ],
        "kind": "positive"
      },
      "sets": {},
      "title": "Label smoothing",
      "tweak": false
    },
    {
      "id": "mixup",
      "rule": {
        "fields": [
          "mixup_alpha"
        ],
        "kind": "positive"
      },
      "sets": {},
      "title": "Mixup",
      "tweak": false
    },
    {
      "id": "distillation",
      "rule": {
        "field": "teacher",
        "kind": "set"
      },
      "sets": {},
      "title": "Knowledge distillation",
      "tweak": false
    },
    {
      "id": "resnet_c",
      "rule": {
        "field": "resnet_c",
        "kind": "flag"
      },
      "sets": {},
      "title": "ResNet-C stem",
      "tweak": true
    },
    {
      "id": "resnet_d",
      "rule": {
        "field": "resnet_d",
        "kind": "flag"
      },
      "sets": {},
      "title": "ResNet-D shortcut",
      "tweak": true
    }
  ]
};

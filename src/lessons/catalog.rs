//! The lessons. Each runs on the first images of MNIST (ready in the page without a download), with
//! its arms sharing one seed and differing only in the trick, at a size where the effect can show:
//! about 30,000 training images over all arms, a few minutes per seed on a CPU (lavapipe) and
//! seconds on a laptop GPU. `bench/LESSONS.md` has every lesson measured over three seeds with
//! `tricklab lesson NAME --seeds 3`; where an effect did not hold in every seed, the lesson says so
//! in `noise_note` instead of claiming it.
//!
//! The paper's numbers are He et al. 2019, "Bag of Tricks for Image Classification with
//! Convolutional Neural Networks" (CVPR), ResNet-50 and variants on ImageNet, top-1 accuracy.

use super::{Arm, Better, Lesson, Metric, Paper, Rule, View};
use crate::data::DatasetKind;
use crate::nn::models::ModelKind;
use crate::train::schedule::LrMode;
use crate::train::TrainConfig;

/// MNIST's default recipe (batch 64 at 0.1, i.e. 0.4 per 256) for an MNIST ResNet of `width`,
/// `epochs` epochs long with the rate ×0.1 after epoch `decay_at` (if any), changed by `f`.
fn mnist(width: f64, epochs: u32, decay_at: Option<u32>, f: impl FnOnce(&mut TrainConfig)) -> TrainConfig {
    let mut c = TrainConfig {
        width_mult: width,
        epochs,
        lr_decay_epochs: decay_at.into_iter().collect(),
        ..TrainConfig::default_for(DatasetKind::Mnist)
    };
    f(&mut c);
    c
}

fn arm(name: &'static str, config: TrainConfig) -> Arm {
    Arm { name: name.into(), config, teacher: None }
}

/// Every lesson, in the order the page lists them.
pub fn all() -> Vec<Lesson> {
    vec![
        linear_scaling(),
        warmup(),
        zero_gamma(),
        no_bias_decay(),
        cosine(),
        label_smoothing(),
        mixup(),
        distillation(),
        resnet_tweaks(),
    ]
}

/// The lesson called `id`.
pub fn find(id: &str) -> Option<Lesson> {
    all().into_iter().find(|l| l.id == id)
}

fn linear_scaling() -> Lesson {
    let c = |batch: u32, linear_scaling: bool| {
        mnist(0.25, 1, None, |c| {
            c.batch_size = batch;
            c.base_lr = 0.1;
            c.base_batch_size = 64;
            c.linear_scaling = linear_scaling;
        })
    };
    Lesson {
        id: "linear-scaling".into(),
        title: "Linear scaling of the learning rate".into(),
        question: "When the batch grows, should the learning rate grow with it?".into(),
        look_for: "With the same images seen, the batch-256 run takes 16× fewer steps than the batch-16 \
                   run. Watch the loss per image: without scaling the large batch falls far behind; \
                   with the rate scaled by b / b₀ the gap between the two batch sizes narrows, from \
                   both sides: batch 256 gains and batch 16, at a quarter of the rate, loses.".into(),
        setup: "6,144 MNIST training images, one epoch, a quarter-width MNIST ResNet, tested on 2,000 \
                images. The reference rate is η₀ = 0.1 for b₀ = 64 images. Batch 16 and batch 256 each \
                train once with the rate scaled (η = η₀·b/b₀: 0.025 and 0.4) and once without (0.1 \
                for both). Turning scaling off also changes the rate, which is the point here.".into(),
        dataset: DatasetKind::Mnist,
        train_images: 6144,
        test_images: 2000,
        arms: vec![
            arm("batch 16, scaled (η 0.025)", c(16, true)),
            arm("batch 16, not scaled (η 0.1)", c(16, false)),
            arm("batch 256, scaled (η 0.4)", c(256, true)),
            arm("batch 256, not scaled (η 0.1)", c(256, false)),
        ],
        metric: Metric::TestAccuracy,
        rule: Rule::GapShrinks { without: (1, 3), with: (0, 2), margin: 1.0 },
        reported: None,
        views: vec![View::LossPerImage, View::Schedules],
        track_train_accuracy: false,
        paper: Paper {
            result: "ResNet-50 at batch 1024 with the rate scaled to 0.4 reaches 75.17% top-1, against \
                     75.87% at batch 256 with 0.1. The paper has no batch-1024 run without scaling to \
                     compare with; warmup, zero γ and no bias decay (and FP16) bring batch 1024 to \
                     76.21%.".into(),
            source: "He et al. 2019, Table 4 (and Table 3)".into(),
        },
        noise_note: Some(
            "Over seeds 1-3 (bench/LESSONS.md) the gap in test accuracy between batch 16 and batch \
             256 shrank in every seed, from 20.30 points on average without scaling to 4.85 with it, \
             but it did not close: in seed 1 the two still ended 7.40 points apart. Part of the \
             shrinking is scaling making batch 16 worse (92.92% to 91.00% on average), not only \
             batch 256 better (72.62% to 86.15%).".into(),
        ),
    }
}

fn warmup() -> Lesson {
    let c = |warmup_steps: u64| {
        mnist(0.5, 1, None, |c| {
            c.batch_size = 256;
            c.base_lr = 0.1;
            c.base_batch_size = 8;
            c.warmup_steps = Some(warmup_steps);
        })
    };
    Lesson {
        id: "warmup".into(),
        title: "Learning-rate warmup".into(),
        question: "Can a network take a large learning rate from its very first step?".into(),
        look_for: "The first steps. Without warmup the loss jumps above its starting value and stays \
                   near chance for a while; with the rate ramped up over 8 steps it falls from the start.".into(),
        setup: "7,680 MNIST training images, one epoch of 30 steps of batch 256, a half-width MNIST \
                ResNet. The rate is 3.2: a small-batch rate of 0.1 for 8 images, linearly scaled to \
                batch 256. One arm uses 3.2 from step 0; the other ramps it up linearly from 0 over the \
                first 8 steps (the Keras tutorial's warmup).".into(),
        dataset: DatasetKind::Mnist,
        train_images: 7680,
        test_images: 2000,
        arms: vec![arm("no warmup", c(0)), arm("8 warmup steps", c(8))],
        metric: Metric::EarlyLoss { steps: 15 },
        rule: Rule::Beats { trick: 1, baseline: 0, better: Better::Lower, margin: 0.1 },
        reported: None,
        views: vec![View::Schedules],
        track_train_accuracy: false,
        paper: Paper {
            result: "With batch 1024 and the rate scaled to 0.4, 5 epochs of warmup lift ResNet-50 from \
                     75.17% to 75.93% top-1 (+0.76); at batch 256, from 75.87% to 76.03%.".into(),
            source: "He et al. 2019, Table 4".into(),
        },
        noise_note: None,
    }
}

fn zero_gamma() -> Lesson {
    let c = |last_gamma: bool| {
        mnist(0.25, 1, None, |c| {
            c.model = ModelKind::Resnet20;
            c.batch_size = 32;
            c.base_lr = 0.8;
            c.base_batch_size = 32;
            c.last_gamma = last_gamma;
        })
    };
    Lesson {
        id: "zero-gamma".into(),
        title: "Zero γ".into(),
        question: "Can a ResNet take a high learning rate from the start when its residual blocks begin \
                   as the identity?".into(),
        look_for: "The first steps. With γ = 1 every block adds a full-size branch to its input, the \
                   signal grows with depth, and at this rate the loss jumps above its start and the \
                   network learns far less in its 100 steps: over seeds 1-3 (bench/LESSONS.md) it ended \
                   at 35.80-41.05% test accuracy (chance is 10%), against 71.35-83.15% with zero γ. With γ = 0 in each block's last batch norm, every block \
                   whose shortcut is the identity starts as the identity (the two downsampling blocks, \
                   with a projection shortcut, do not), so the network starts as a shallow one and \
                   the loss falls. Zero γ buys stability at high rates; at a low rate it can even slow \
                   the first steps, since a silent branch's convolutions get no gradient until γ grows.".into(),
        setup: "A ResNet-20 at a quarter of its width (4/8/16 channels, 9 basic blocks) on 3,200 MNIST \
                images: one epoch of 100 steps of batch 32 at rate 0.8, high on purpose (large-batch \
                training with linear scaling reaches such rates), tested on 2,000 images.".into(),
        dataset: DatasetKind::Mnist,
        train_images: 3200,
        test_images: 2000,
        arms: vec![arm("γ = 1 (default)", c(false)), arm("zero γ", c(true))],
        metric: Metric::TestAccuracy,
        rule: Rule::Beats { trick: 1, baseline: 0, better: Better::Higher, margin: 5.0 },
        reported: None,
        views: vec![],
        track_train_accuracy: false,
        paper: Paper {
            result: "On top of warmup, zero γ lifts ResNet-50 from 75.93% to 76.37% top-1 at batch 1024 \
                     (+0.44), and from 76.03% to 76.19% at batch 256.".into(),
            source: "He et al. 2019, Table 4".into(),
        },
        noise_note: None,
    }
}

fn no_bias_decay() -> Lesson {
    let c = |no_wd: bool| {
        mnist(0.25, 3, Some(2), |c| {
            c.weight_decay = 0.02;
            c.no_wd = no_wd;
        })
    };
    Lesson {
        id: "no-bias-decay".into(),
        title: "No bias decay".into(),
        question: "What does weight decay do to the batch-norm scales and shifts, and the biases?".into(),
        look_for: "The norms. With decay on every parameter, the norm of all BN scales γ shrinks epoch \
                   after epoch; with no bias decay it is free to grow. Over seeds 1-3 \
                   (bench/LESSONS.md) it went from 11.66 at the start to 4.52-4.75 after 3 epochs with \
                   decay everywhere, and to 14.13-14.18 without; the verdict states this run's norms. \
                   Then look at the training loss.".into(),
        setup: "4,096 MNIST training images, 3 epochs of batch 64 at 0.1 (×0.1 after epoch 2), a \
                quarter-width MNIST ResNet, weight decay 0.02: 200 times the usual 1e-4, so that what \
                decay does in a long run happens in a minute.".into(),
        dataset: DatasetKind::Mnist,
        train_images: 4096,
        test_images: 2000,
        arms: vec![arm("decay everything", c(false)), arm("no bias decay", c(true))],
        metric: Metric::FinalTrainLoss,
        rule: Rule::Beats { trick: 1, baseline: 0, better: Better::Lower, margin: 0.01 },
        reported: Some(Metric::GammaNorm),
        views: vec![View::Norms],
        track_train_accuracy: false,
        paper: Paper {
            result: "The paper, following Jia et al. (2018), decays only the conv and linear weights, \
                     to avoid overfitting. In its ablation, adding no bias decay after zero γ changes \
                     ResNet-50 from 76.37% to 76.03% top-1 at batch 1024 and from 76.19% to 76.16% at \
                     batch 256: at that scale it shows no gain of its own.".into(),
            source: "He et al. 2019, Table 4".into(),
        },
        noise_note: None,
    }
}

fn cosine() -> Lesson {
    let c = |mode: LrMode| mnist(0.25, 3, (mode == LrMode::Step).then_some(2), |c| c.lr_mode = mode);
    Lesson {
        id: "cosine".into(),
        title: "Cosine learning-rate decay".into(),
        question: "At the same budget, does a smooth cosine decay beat dropping the rate in a step?".into(),
        look_for: "The two schedules side by side, and the loss as each one lowers the rate.".into(),
        setup: "4,992 MNIST training images, 3 epochs of batch 64 at 0.1, a quarter-width MNIST ResNet. \
                Step decay multiplies the rate by 0.1 after epoch 2; cosine falls smoothly to 0 over the \
                run.".into(),
        dataset: DatasetKind::Mnist,
        train_images: 4992,
        test_images: 2000,
        arms: vec![arm("step decay", c(LrMode::Step)), arm("cosine decay", c(LrMode::Cosine))],
        metric: Metric::TestAccuracy,
        rule: Rule::Beats { trick: 1, baseline: 0, better: Better::Higher, margin: 0.0 },
        reported: None,
        views: vec![View::Schedules],
        track_train_accuracy: false,
        paper: Paper {
            result: "Cosine decay lifts ResNet-50-D from 77.16% to 77.91% top-1 (+0.75) over 120 \
                     ImageNet epochs.".into(),
            source: "He et al. 2019, Table 6".into(),
        },
        noise_note: Some(
            "Over seeds 1-3 (bench/LESSONS.md) step decay ended ahead of cosine decay in every seed, \
             by about 0.9 points: in 3 short epochs on 4,992 digits the trick does not help. The \
             paper's gain comes over 120 ImageNet epochs.".into(),
        ),
    }
}

fn label_smoothing() -> Lesson {
    let c = |eps: f64| mnist(0.25, 3, Some(2), |c| c.label_smoothing = eps);
    Lesson {
        id: "label-smoothing".into(),
        title: "Label smoothing".into(),
        question: "What does label smoothing do to how sure the network is?".into(),
        look_for: "The gap between each test image's top logit and the mean of the others. Without \
                   smoothing the gaps spread far to the right; with ε = 0.1 they gather near the \
                   optimum the smoothed targets allow. The rule here (the Keras tutorial's and \
                   GluonCV's) puts ε/K on every class, so the label gets 1 − ε + ε/K, and the optimum \
                   gap is log(K(1 − ε)/ε + 1) = 4.51 for K = 10. The paper's equation puts ε/(K − 1) on \
                   the wrong classes instead, and its optimum is log((K − 1)(1 − ε)/ε) = 4.39. Then the \
                   reliability diagram: confidence against accuracy.".into(),
        setup: "4,096 MNIST training images, 3 epochs of batch 64 at 0.1 (×0.1 after epoch 2), a \
                quarter-width MNIST ResNet, tested on 2,000 images; targets smoothed with the Keras \
                tutorial's rule, ε = 0.1.".into(),
        dataset: DatasetKind::Mnist,
        train_images: 4096,
        test_images: 2000,
        arms: vec![arm("one-hot targets", c(0.0)), arm("smoothed, ε = 0.1", c(0.1))],
        metric: Metric::LogitGap,
        rule: Rule::Beats { trick: 1, baseline: 0, better: Better::Lower, margin: 0.5 },
        reported: None,
        views: vec![View::LogitGaps, View::Calibration],
        track_train_accuracy: false,
        paper: Paper {
            result: "Label smoothing lifts ResNet-50-D from 77.91% to 78.31% top-1 (+0.40). On the \
                     ImageNet validation set the gap between the top logit and the others centres on \
                     the theoretical value of the paper's rule, about 9.1 for ε = 0.1 and K = 1000, with \
                     fewer extreme values.".into(),
            source: "He et al. 2019, Table 6 and Figure 4".into(),
        },
        noise_note: None,
    }
}

fn mixup() -> Lesson {
    let c = |alpha: f64| mnist(0.25, 14, Some(10), |c| c.mixup_alpha = alpha);
    Lesson {
        id: "mixup".into(),
        title: "Mixup".into(),
        question: "On a small training set, does training on blends of two images narrow the gap \
                   between training and test accuracy?".into(),
        look_for: "The images the network receives (blends of two digits, with their blended labels), \
                   then clean training accuracy against test accuracy, epoch by epoch.".into(),
        setup: "Only 1,024 MNIST training images, 14 epochs of batch 64 at 0.1 (×0.1 after epoch 10), \
                a quarter-width MNIST ResNet, tested on 2,000 images. Mixup with α = 1 (the paper uses \
                0.2; α = 1 makes the blends easy to see) blends each image with the batch read \
                backwards (GluonCV's pairing). Training accuracy here is measured on the clean images.".into(),
        dataset: DatasetKind::Mnist,
        train_images: 1024,
        test_images: 2000,
        arms: vec![arm("no mixup", c(0.0)), arm("mixup, α = 1", c(1.0))],
        metric: Metric::GeneralizationGap,
        rule: Rule::Beats { trick: 1, baseline: 0, better: Better::Lower, margin: 0.5 },
        reported: None,
        views: vec![View::Batches, View::TrainTestAccuracy],
        track_train_accuracy: true,
        paper: Paper {
            result: "Mixup (α = 0.2, 200 epochs instead of 120) lifts ResNet-50-D from 78.31% to 79.15% \
                     top-1 (+0.84).".into(),
            source: "He et al. 2019, Table 6".into(),
        },
        noise_note: None,
    }
}

fn distillation() -> Lesson {
    let student = |teacher: bool| {
        mnist(0.25, 2, Some(1), |c| {
            if teacher {
                c.teacher = Some("wide teacher".into());
                c.temperature = 4.0;
                c.hard_weight = 0.5;
            }
        })
    };
    Lesson {
        id: "distillation".into(),
        title: "Knowledge distillation".into(),
        question: "Does a narrow network learn better from a wide network's predictions than from the \
                   labels alone?".into(),
        look_for: "The wide teacher trains first. Then the two narrow students train side by side on \
                   the same images: one from the labels, one from the labels and the teacher's softened \
                   predictions.".into(),
        setup: "4,096 MNIST training images, 2 epochs of batch 64 at 0.1 (×0.1 after epoch 1). The \
                teacher is a half-width MNIST ResNet; the students are at a quarter width (a quarter of \
                its multiply-adds). Distillation: temperature 4, hard-label weight w = 0.5, in GluonCV's \
                weighted loss w·CE + (1 − w)·T²·KL; the paper's loss is CE + T²·KL, so at w = 0.5 this \
                one is half of it.".into(),
        dataset: DatasetKind::Mnist,
        train_images: 4096,
        test_images: 2000,
        arms: vec![
            arm("wide teacher", mnist(0.5, 2, Some(1), |_| {})),
            arm("student, labels only", student(false)),
            Arm { name: "student, distilled".into(), config: student(true), teacher: Some(0) },
        ],
        metric: Metric::TestAccuracy,
        rule: Rule::Beats { trick: 2, baseline: 1, better: Better::Higher, margin: 0.0 },
        reported: None,
        views: vec![],
        track_train_accuracy: false,
        paper: Paper {
            result: "Distilling from a ResNet-152-D teacher lifts ResNet-50-D from 78.31% to 78.67% top-1 \
                     (+0.36), with T = 20.".into(),
            source: "He et al. 2019, Table 6".into(),
        },
        noise_note: Some(
            "Over seeds 1-12 on a GPU (bench/LESSONS.md) the distilled student beat the label-only one \
             in 4 seeds and lost in 8, by −0.15 points on average (95% interval −0.64 to +0.33): at this \
             size there is no effect to see. This teacher is less than two points better than its \
             students, so it has little to pass on; the paper's teacher is a ResNet-152-D.".into(),
        ),
    }
}

fn resnet_tweaks() -> Lesson {
    let c = |resnet_c: bool, resnet_d: bool| {
        mnist(0.25, 2, Some(1), |c| {
            c.resnet_c = resnet_c;
            c.resnet_d = resnet_d;
        })
    };
    Lesson {
        id: "resnet-tweaks".into(),
        title: "ResNet-C and ResNet-D".into(),
        question: "Do the paper's two model tweaks help a small ResNet?".into(),
        look_for: "ResNet-C replaces the one 3×3 stem conv with three. On these small networks that is \
                   not cheap, since the stem does a large share of their work: per image, this \
                   lesson's quarter-width MNIST ResNet goes from 443,648 to 669,440 multiply-adds \
                   (+51%), the full-width one from 5,527,488 to 9,140,160 (+65%), and ResNet-20 on \
                   CIFAR-10 from 40,813,184 to 45,531,776 (+12%). ResNet-D average-pools before each \
                   downsampling shortcut's 1×1 conv, so the shortcut no longer skips three quarters of \
                   its input; the pool adds no multiply-adds. Compare the curves and the final accuracy.".into(),
        setup: "4,096 MNIST training images, 2 epochs of batch 64 at 0.1 (×0.1 after epoch 1), a \
                quarter-width MNIST ResNet: plain, with ResNet-C alone, and with ResNet-D alone. In the \
                paper the tweaks add up: ResNet-C includes ResNet-B, and ResNet-D includes both, so its \
                76.87% → 77.16% is D added on top of C. ResNet-B moves a stride inside a bottleneck \
                block, which these networks do not have.".into(),
        dataset: DatasetKind::Mnist,
        train_images: 4096,
        test_images: 2000,
        arms: vec![arm("plain", c(false, false)), arm("ResNet-C", c(true, false)), arm("ResNet-D", c(false, true))],
        metric: Metric::TestAccuracy,
        rule: Rule::Beats { trick: 2, baseline: 0, better: Better::Higher, margin: 0.0 },
        reported: None,
        views: vec![],
        track_train_accuracy: false,
        paper: Paper {
            result: "ResNet-50 76.21%, ResNet-50-B 76.66%, ResNet-50-C 76.87%, ResNet-50-D 77.16% top-1, \
                     each tweak on top of the ones before it, for 3.8 → 4.3 GFLOPs (+13%; the text says \
                     within 15%).".into(),
            source: "He et al. 2019, Table 5".into(),
        },
        noise_note: Some(
            "The verdict judges ResNet-D. Over seeds 1-12 on a GPU (bench/LESSONS.md) ResNet-D beat the \
             plain network in 11 of 12 seeds, by +0.93 points on average (95% interval +0.57 to +1.29): \
             pooled, the effect is clear, although one seed went the other way. ResNet-C did not help at \
             this size: −0.60 points on average, below the plain network in 8 of 12 seeds. In the paper \
             ResNet-C replaces a 7×7 stem conv on 224-pixel images; here it replaces one 3×3 conv on \
             28-pixel digits, where there is far less to gain.".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::models::{build, ModelOptions};

    /// The lessons measured over three seeds, whose numbers the lesson texts quote.
    const LESSONS_MD: &str = include_str!("../../bench/LESSONS.md");

    /// The rows of `lesson`'s first table in bench/LESSONS.md: the arm and its cells.
    fn measured(lesson: &str) -> Vec<(String, Vec<String>)> {
        let section = LESSONS_MD.split(&format!("### `{lesson}`")).nth(1).expect("the lesson is in bench/LESSONS.md");
        let section = section.split("\n### ").next().unwrap();
        section
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| arm"))
            .map(|l| {
                let cells: Vec<String> = l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect();
                (cells[0].clone(), cells[1..].to_vec())
            })
            .collect()
    }

    /// An arm's value in each of the three seeds.
    fn seeds(rows: &[(String, Vec<String>)], arm: &str) -> [f64; 3] {
        let (_, cells) = rows.iter().find(|(a, _)| a == arm).unwrap_or_else(|| panic!("no row `{arm}`"));
        [0, 1, 2].map(|i| cells[i].parse().unwrap())
    }

    fn mean(v: [f64; 3]) -> f64 {
        v.iter().sum::<f64>() / 3.0
    }

    fn range(v: &[f64], decimals: usize) -> String {
        let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        format!("{lo:.decimals$}-{hi:.decimals$}")
    }

    fn text(l: &Lesson) -> String {
        format!("{} {} {} {}", l.look_for, l.setup, l.paper.result, l.noise_note.as_deref().unwrap_or(""))
    }

    fn assert_says(l: &Lesson, fact: &str) {
        assert!(text(l).contains(fact), "{}: the text should say `{fact}`:\n{}", l.id, text(l));
    }

    #[test]
    fn linear_scaling_quotes_its_measured_gaps() {
        let rows = measured("linear-scaling");
        let (s16, u16) = (seeds(&rows, "batch 16, scaled (η 0.025)"), seeds(&rows, "batch 16, not scaled (η 0.1)"));
        let (s256, u256) = (seeds(&rows, "batch 256, scaled (η 0.4)"), seeds(&rows, "batch 256, not scaled (η 0.1)"));
        let l = find("linear-scaling").unwrap();
        assert_says(&l, &format!("from {:.2} points on average without scaling to {:.2} with it", mean(u16) - mean(u256), mean(s16) - mean(s256)));
        assert_says(&l, &format!("in seed 1 the two still ended {:.2} points apart", s16[0] - s256[0]));
        assert_says(&l, &format!("batch 16 worse ({:.2}% to {:.2}% on average)", mean(u16), mean(s16)));
        assert_says(&l, &format!("batch 256 better ({:.2}% to {:.2}%)", mean(u256), mean(s256)));
    }

    #[test]
    fn zero_gamma_quotes_its_measured_accuracies() {
        let rows = measured("zero-gamma");
        let l = find("zero-gamma").unwrap();
        assert_says(&l, &format!("at {}% test accuracy (chance is 10%)", range(&seeds(&rows, "γ = 1 (default)"), 2)));
        assert_says(&l, &format!("against {}% with zero γ", range(&seeds(&rows, "zero γ"), 2)));
    }

    #[test]
    fn no_bias_decay_quotes_its_measured_norms() {
        // The norms table: | arm | seed | γ or β | start | after epoch 1 | 2 | 3 |.
        let rows = measured("no-bias-decay");
        let gamma = |arm: &str, col: usize| -> Vec<f64> {
            rows.iter().filter(|(a, c)| a == arm && c.len() == 6 && c[1] == "γ").map(|(_, c)| c[col].parse().unwrap()).collect()
        };
        let (start, decayed, free) = (gamma("decay everything", 2), gamma("decay everything", 5), gamma("no bias decay", 5));
        assert_eq!((start.len(), decayed.len(), free.len()), (3, 3, 3), "three seeds of each");
        let l = find("no-bias-decay").unwrap();
        assert_says(&l, &format!("from {:.2} at the start to {} after 3 epochs", start[0], range(&decayed, 2)));
        assert_says(&l, &format!("and to {} without", range(&free, 2)));
    }

    #[test]
    fn label_smoothing_gives_both_optima() {
        let (eps, k) = (0.1f64, 10.0f64);
        let here = (k * (1.0 - eps) / eps + 1.0).ln();
        assert!((here - ((1.0 - eps + eps / k) / (eps / k)).ln()).abs() < 1e-12, "the two forms of the ε/K optimum agree");
        let paper = ((k - 1.0) * (1.0 - eps) / eps).ln();
        let l = find("label-smoothing").unwrap();
        assert_says(&l, &format!("log(K(1 − ε)/ε + 1) = {here:.2} for K = 10"));
        assert_says(&l, &format!("log((K − 1)(1 − ε)/ε) = {paper:.2}"));
        // K = 1000, the paper's ImageNet: both rules give about 9.1.
        for gap in [(1000.0 * 9.0 + 1.0f64).ln(), (999.0 * 9.0f64).ln()] {
            assert_eq!(format!("{gap:.1}"), "9.1");
        }
        assert_says(&l, "about 9.1 for ε = 0.1 and K = 1000");
    }

    /// Multiply-adds per image of `model` on `channels`×`size`² images, plain and with ResNet-C.
    fn stem_cost(model: ModelKind, channels: usize, size: usize, width: f32) -> (f64, f64) {
        let mut o = ModelOptions { width_mult: width, ..ModelOptions::new(1, channels, size, 10) };
        let plain = build(model, &o).unwrap().forward_flops() / 2.0;
        o.resnet_c = true;
        let c = build(model, &o).unwrap().forward_flops() / 2.0;
        o.resnet_c = false;
        o.resnet_d = true;
        assert_eq!(build(model, &o).unwrap().forward_flops() / 2.0, plain, "ResNet-D's pool adds no multiply-adds");
        (plain, c)
    }

    fn thousands(n: f64) -> String {
        let digits = format!("{}", n as u64);
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        out
    }

    #[test]
    fn resnet_c_states_its_cost_per_model() {
        let l = find("resnet-tweaks").unwrap();
        let lesson_width = l.arms[1].config.width_mult as f32;
        for (what, model, channels, size, width) in [
            ("this lesson's quarter-width MNIST ResNet goes", ModelKind::MnistResnet, 1, 28, lesson_width),
            ("the full-width one", ModelKind::MnistResnet, 1, 28, 1.0),
            ("ResNet-20 on CIFAR-10", ModelKind::Resnet20, 3, 32, 1.0),
        ] {
            let (plain, c) = stem_cost(model, channels, size, width);
            let unit = if what.starts_with("this") { " multiply-adds" } else { "" };
            let pct = 100.0 * (c - plain) / plain;
            assert_says(&l, &format!("{what} from {} to {}{unit} (+{pct:.0}%)", thousands(plain), thousands(c)));
        }
        // Table 5: ResNet-50 3.8 GFLOPs, ResNet-50-D 4.3.
        assert_says(&l, &format!("3.8 → 4.3 GFLOPs (+{:.0}%", 100.0 * (4.3 - 3.8) / 3.8));
    }

    #[test]
    fn every_lesson_is_valid_and_within_its_budget() {
        let lessons = all();
        assert!(lessons.len() >= 9);
        let mut ids: Vec<&str> = lessons.iter().map(|l| l.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), lessons.len(), "lesson ids are unique");
        for l in &lessons {
            for a in &l.arms {
                let steps = (l.train_images / a.config.batch_size as usize) as u64;
                a.config.validate(steps).unwrap_or_else(|e| panic!("{} / {}: {e}", l.id, a.name));
            }
            assert!(l.training_images() <= 31_000, "{}: {} training images", l.id, l.training_images());
            assert!(l.arms.len() >= 2, "{}", l.id);
            let tiny = crate::lessons::run::sized(l, crate::lessons::run::Size::Tiny);
            for a in &tiny.arms {
                let steps = (tiny.train_images / a.config.batch_size as usize) as u64;
                a.config.validate(steps).unwrap_or_else(|e| panic!("tiny {} / {}: {e}", l.id, a.name));
            }
        }
    }
}
#[cfg(test)]
mod tmp_roundtrip {
    #[test]
    fn files_equal_rust() {
        for l in super::all() {
            let text = std::fs::read_to_string(format!("lessons/{}.json", l.id)).unwrap();
            let p = crate::lessons::file::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", l.id));
            assert_eq!(p, l, "{}", l.id);
            assert_eq!(crate::lessons::file::to_json(&p), text);
        }
    }
}

//! The built-in lessons: the files in lessons/ (one `<id>.json` each, in the lesson file format of
//! `lessons::file`), embedded in the build and read at start. Each runs on the first images of
//! MNIST (ready in the page without a download), with its arms sharing one seed and differing only
//! in the trick, at a size where the effect can show: about 30,000 training images over all arms,
//! a few minutes per seed on a CPU (lavapipe) and seconds on a laptop GPU. `bench/LESSONS.md` has
//! every lesson measured over three seeds with `tricklab lesson NAME --seeds 3`; where an effect
//! did not hold in every seed, the lesson says so in `noise_note` instead of claiming it.
//!
//! The paper's numbers are He et al. 2019, "Bag of Tricks for Image Classification with
//! Convolutional Neural Networks" (CVPR), ResNet-50 and variants on ImageNet, top-1 accuracy.

use super::{file, Lesson};

/// Every built-in lesson's id and file, in the order the page lists them.
const FILES: [(&str, &str); 10] = [
    ("linear-scaling", include_str!("../../lessons/linear-scaling.json")),
    ("warmup", include_str!("../../lessons/warmup.json")),
    ("zero-gamma", include_str!("../../lessons/zero-gamma.json")),
    ("no-bias-decay", include_str!("../../lessons/no-bias-decay.json")),
    ("cosine", include_str!("../../lessons/cosine.json")),
    ("label-smoothing", include_str!("../../lessons/label-smoothing.json")),
    ("mixup", include_str!("../../lessons/mixup.json")),
    ("distillation", include_str!("../../lessons/distillation.json")),
    ("distillation-few-labels", include_str!("../../lessons/distillation-few-labels.json")),
    ("resnet-tweaks", include_str!("../../lessons/resnet-tweaks.json")),
];

/// A built-in lesson's file, read. The files are part of the build and their tests
/// (`every_file_is_valid_and_in_its_written_form`), so one that does not read is a broken build.
fn read(id: &str, text: &str) -> Lesson {
    file::parse(text).unwrap_or_else(|e| panic!("the built-in lesson file lessons/{id}.json is invalid: {e}"))
}

/// Every lesson, in the order the page lists them.
pub fn all() -> Vec<Lesson> {
    FILES.iter().map(|(id, text)| read(id, text)).collect()
}

/// The lesson called `id`.
pub fn find(id: &str) -> Option<Lesson> {
    FILES.iter().find(|(i, _)| *i == id).map(|(id, text)| read(id, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::analysis::{optimal_gap, paper_optimal_gap};
    use crate::nn::models::{build, ModelKind, ModelOptions};

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

    /// bench/LESSONS.md's prose says `fact` (its lines rewrapped as one).
    fn assert_notes(fact: &str) {
        let prose = LESSONS_MD.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(prose.contains(fact), "bench/LESSONS.md should say `{fact}`");
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
        // The same numbers in bench/LESSONS.md's summary.
        assert_notes(&format!(
            "Without scaling, batch 256 ended {:.2} points below batch 16 on average; with it, {:.2} points, and in seed 1 still {:.2} points.",
            mean(u16) - mean(u256),
            mean(s16) - mean(s256),
            s16[0] - s256[0]
        ));
        assert_notes(&format!("batch 16 worse ({:.2}% to {:.2}% on average", mean(u16), mean(s16)));
        assert_notes(&format!("batch 256 better ({:.2}% to {:.2}%)", mean(u256), mean(s256)));
        // Not "keeps the large batch close": the gap with scaling is still several points.
        assert!(mean(s16) - mean(s256) > 3.0 && s16[0] - s256[0] > 7.0);
    }

    #[test]
    fn zero_gamma_quotes_its_measured_accuracies() {
        let rows = measured("zero-gamma");
        let l = find("zero-gamma").unwrap();
        assert_says(&l, &format!("at {}% test accuracy (chance is 10%)", range(&seeds(&rows, "γ = 1 (default)"), 2)));
        assert_says(&l, &format!("against {}% with zero γ", range(&seeds(&rows, "zero γ"), 2)));
        assert_notes(&format!("it ended at {}% test accuracy, against {}% with zero γ", range(&seeds(&rows, "γ = 1 (default)"), 2), range(&seeds(&rows, "zero γ"), 2)));
        // Far from chance (10%): the text must not say it stayed near it.
        assert!(seeds(&rows, "γ = 1 (default)").iter().all(|&a| a > 30.0));
        assert!(!text(&l).contains("near chance"), "{}", text(&l));
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
        assert!((here - optimal_gap(eps, 10)).abs() < 1e-12, "the two forms of the ε/K optimum agree");
        let paper = ((k - 1.0) * (1.0 - eps) / eps).ln();
        assert!((paper - paper_optimal_gap(eps, 10)).abs() < 1e-12, "the two forms of the ε/(K − 1) optimum agree");
        let l = find("label-smoothing").unwrap();
        assert_says(&l, &format!("log(K(1 − ε)/ε + 1) = {here:.2} for K = 10"));
        assert_says(&l, &format!("log((K − 1)(1 − ε)/ε) = {paper:.2}"));
        // Each number once, beside the rule it belongs to.
        for n in [format!("{here:.2}"), format!("{paper:.2}")] {
            assert_eq!(text(&l).matches(&n).count(), 1, "{n} is given once");
        }
        // K = 1000, the paper's ImageNet: both rules give about 9.1.
        for gap in [optimal_gap(eps, 1000), paper_optimal_gap(eps, 1000)] {
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
        // The arms are C alone and D alone; the paper's tweaks add up.
        assert_says(&l, "with ResNet-C alone, and with ResNet-D alone");
        assert_says(&l, "76.87% → 77.16% is D added on top of C");
        assert_notes("The lesson's arms are ResNet-C alone and ResNet-D alone");
        assert_notes("76.87% → 77.16% is ResNet-D added on top of ResNet-C");
        assert!(!text(&l).contains("little cost"));
    }

    /// The page's trick texts (www/tricks.js), their JS string pieces joined.
    fn tricks_js() -> String {
        const TRICKS_JS: &str = include_str!("../../www/tricks.js");
        TRICKS_JS.split_whitespace().collect::<Vec<_>>().join(" ").replace("' + '", "")
    }

    /// The distillation loss is labelled GluonCV's weighted form, beside the paper's, on the
    /// distillation toggle and in the lesson.
    #[test]
    fn distillation_names_both_losses() {
        let page = tricks_js();
        let toggle = &page[page.find("distillation: {").unwrap()..page.find("resnet_c: {").unwrap()];
        for fact in ["L = w · CE", "The paper’s loss is CE + T² · KL", "at w = 0.5 the L below is half of it", "GluonCV’s weighted form"] {
            assert!(toggle.contains(fact), "www/tricks.js's distillation text should say `{fact}`");
        }
        let l = find("distillation").unwrap();
        assert_says(&l, "GluonCV's weighted loss w·CE + (1 − w)·T²·KL; the paper's loss is CE + T²·KL, so at w = 0.5 this one is half of it");
    }

    /// The page's text for the ResNet-C toggle (www/tricks.js) and bench/LESSONS.md quote the same
    /// per-model cost as the lesson.
    #[test]
    fn resnet_c_cost_on_the_page_and_in_the_bench_notes() {
        let page = tricks_js();
        let pct = |(plain, c): (f64, f64)| 100.0 * (c - plain) / plain;
        let mnist = stem_cost(ModelKind::MnistResnet, 1, 28, 1.0);
        let resnet20 = stem_cost(ModelKind::Resnet20, 3, 32, 1.0);
        // The figures: about 3.6M more on 5.5M (about 65%) and about 12%.
        assert!((mnist.1 - mnist.0 - 3.6e6).abs() < 0.05e6 && (mnist.0 - 5.5e6).abs() < 0.05e6, "{mnist:?}");
        assert_eq!(format!("{:.0} {:.0}", pct(mnist), pct(resnet20)), "65 12");
        for fact in [
            format!("MNIST ResNet from {} to {} multiply-adds (+{:.0}%)", thousands(mnist.0), thousands(mnist.1), pct(mnist)),
            format!("ResNet-20 from {} to {} (+{:.0}%)", thousands(resnet20.0), thousands(resnet20.1), pct(resnet20)),
        ] {
            assert!(page.contains(&fact), "www/tricks.js should say `{fact}`");
        }
        let quarter = stem_cost(ModelKind::MnistResnet, 1, 28, find("resnet-tweaks").unwrap().arms[1].config.width_mult as f32);
        assert_notes(&format!("{:.0}% more multiply-adds per image ({} to {})", pct(quarter), thousands(quarter.0), thousands(quarter.1)));
        assert_notes(&format!("{:.0}% more multiply-adds on this quarter-width model", pct(quarter)));
    }

    #[test]
    fn every_file_is_valid_and_in_its_written_form() {
        for (id, text) in FILES {
            let l = file::parse(text).unwrap_or_else(|e| panic!("lessons/{id}.json: {e}"));
            assert_eq!(l.id, id, "lessons/{id}.json names itself");
            assert_eq!(file::to_json(&l), text, "lessons/{id}.json is as `tricklab lesson --export {id}` writes it");
        }
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

//! The kernel picker: every pass of a network timed once per shape, the fastest kept and used,
//! nothing timed twice; the picks cache round-trips and ignores what it cannot read. (That each
//! variant computes the right numbers is tests/conv2d.rs, tests/linear.rs and
//! tests/conv_variants.rs; that a network trains the same with any of them is tests/trainer.rs.)

use tricklab::gpu::tune::{self, PickCache};
use tricklab::gpu::{block_on, GpuContext, Pass, TuneKey, TuneShape, Variant};
use tricklab::ops::conv2d::Conv2dShape;
use tricklab::ops::linear::LinearShape;
use tricklab::nn::gpu::GpuNet;
use tricklab::data::DatasetKind;
use tricklab::train::tuning;
use tricklab::train::TrainConfig;

fn small_config() -> TrainConfig {
    TrainConfig { batch_size: 4, width_mult: 0.25, ..TrainConfig::default_for(DatasetKind::Mnist) }
}

fn new_ctx() -> GpuContext {
    block_on(GpuContext::new()).expect("GPU tests need a WebGPU adapter (apt-get install mesa-vulkan-drivers)")
}

#[test]
fn every_pass_gets_the_fastest_measured_variant_once() {
    let ctx = new_ctx();
    let graph = small_config().graph(4).unwrap();
    let work = tuning::graph_work(&ctx, &graph);
    // mnist_resnet: conv passes of several shapes and the classifier's three products.
    assert!(work.iter().any(|w| w.pass() == Pass::ConvBackwardWeight) && work.iter().any(|w| w.pass() == Pass::LinearForward), "{work:?}");
    let timed = block_on(tuning::tune_graph(&ctx, &graph)).unwrap();
    assert_eq!(timed.len(), work.len(), "one timing per pass and shape");
    for pass in Pass::ALL {
        // The first shape of each pass times every variant; later ones may leave out a variant
        // that was far behind twice.
        if let Some(first) = timed.iter().find(|t| t.pass == pass.name()) {
            let w = work.iter().find(|w| w.pass() == pass).unwrap();
            assert_eq!(first.ms.len(), w.candidates(&ctx).len(), "{first:?}");
        }
    }
    for t in &timed {
        assert!(!t.ms.is_empty() && t.ms.values().all(|ms| ms.is_finite() && *ms > 0.0), "{t:?}");
        let fastest = t.ms.iter().min_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert_eq!(&t.picked, fastest, "{t:?}");
        let w = work.iter().find(|w| w.pass().name() == t.pass && w.key().to_string() == t.shape).unwrap();
        assert_eq!(ctx.picked(w.pass(), &w.key()).map(|v| v.name().to_string()), Some(t.picked.clone()));
        assert!(t.gflop_per_s(&t.picked).unwrap() > 0.0);
    }
    println!("{} passes timed on {}; picks: {:?}", timed.len(), ctx.describe(), ctx.picks());
    assert!(block_on(tuning::tune_graph(&ctx, &graph)).unwrap().is_empty(), "known shapes are not timed again");

    // A network built now uses the picks, and says which.
    let config = small_config();
    let _net = GpuNet::new(&ctx, graph.clone(), &graph.init_params(config.seed)).unwrap();
    let used = ctx.variants_used();
    for w in &work {
        if w.pass() == Pass::ConvForward || w.pass() == Pass::LinearForward {
            let pick = ctx.picked(w.pass(), &w.key()).unwrap();
            assert!(used.contains(&(w.pass(), pick)), "{} picked {pick} but the net used {used:?}", w.pass());
        }
    }
}

#[test]
fn picks_round_trip_through_the_cache() {
    let ctx = new_ctx();
    let conv = TuneShape::Conv(Conv2dShape::new(4, 16, 8, 16, 3, 1, 1));
    ctx.set_pick(Pass::ConvForward, &conv, Variant::Tiled);
    ctx.set_pick(Pass::LinearBackwardWeight, &TuneShape::Linear(LinearShape { batch: 4, in_features: 64, out_features: 10 }), Variant::Register);
    let mut cache = PickCache::default();
    cache.store_from(&ctx);
    let json = cache.to_json();
    let (back, problem) = PickCache::parse(&json);
    assert_eq!(problem, None);
    let other = new_ctx();
    back.load_into(&other);
    assert_eq!(other.picks(), ctx.picks());
    assert_eq!(other.pick(Pass::ConvForward, &conv), Variant::Tiled);
    let unknown = TuneShape::Conv(Conv2dShape::new(4, 1, 8, 16, 3, 1, 1));
    assert_eq!(other.pick(Pass::ConvForward, &unknown), Variant::Register, "an unknown shape uses the register kernels");

    // Another adapter's picks are not this one's.
    let mut foreign = back.clone();
    let entries = foreign.adapters.remove(&ctx.adapter_key()).unwrap();
    foreign.adapters.insert("some other GPU".into(), entries);
    let fresh = new_ctx();
    foreign.load_into(&fresh);
    assert!(fresh.picks().is_empty());

    // Unknown variant names (a newer build's) are skipped, not guessed.
    let renamed = json.replace("\"tiled\"", "\"tensor-cores\"");
    let fresh = new_ctx();
    PickCache::parse(&renamed).0.load_into(&fresh);
    assert_eq!(fresh.picks().len(), 1);
}

/// The picks are kept under typed keys whose text is the cache's (and the page's IndexedDB's)
/// "pass|shape" form, so saved picks load unchanged; a key this build cannot read is skipped.
#[test]
fn tune_keys_read_back_their_text() {
    let conv = TuneShape::Conv(Conv2dShape::new(4, 16, 8, 16, 3, 2, 1).with_groups(2));
    let linear = TuneShape::Linear(LinearShape { batch: 4, in_features: 64, out_features: 10 });
    assert_eq!(conv.to_string(), "n4 16x8x8 -> 16 k3x3 s2 p1 g2");
    assert_eq!(linear.to_string(), "n4 64 -> 10");
    for pass in Pass::ALL {
        for shape in [conv, linear] {
            let key = TuneKey { pass, shape };
            assert_eq!(TuneKey::parse(&key.to_string()), Some(key));
        }
    }
    for bad in ["conv forward|n4 16x8x8 -> 16 k3x3 s2 p1", "conv forward|n4 64->10", "conv sideways|n4 64 -> 10", "n4 64 -> 10", "conv forward|n4 64 -> 10 x"] {
        assert_eq!(TuneKey::parse(bad), None, "{bad}");
    }
    // A cache without the check record (as builds before it wrote them), of this build's version.
    let ctx = new_ctx();
    let current: serde_json::Value = serde_json::from_str(&PickCache::default().to_json()).unwrap();
    let saved = format!(
        r#"{{"version": {}, "adapters": {{"{}": {{"conv forward|n4 16x8x8 -> 16 k3x3 s2 p1 g2": "wide", "linear forward|n4 64 -> 10": "tiled", "conv forward|4x4": "tiled"}}}}}}"#,
        current["version"],
        ctx.adapter_key().replace('\\', "\\\\").replace('"', "\\\"")
    );
    let (cache, problem) = PickCache::parse(&saved);
    assert_eq!(problem, None);
    cache.load_into(&ctx);
    assert_eq!(ctx.picked(Pass::ConvForward, &conv), Some(Variant::Wide));
    assert_eq!(ctx.picked(Pass::LinearForward, &linear), Some(Variant::Tiled));
    assert_eq!(ctx.picks().len(), 2, "the unreadable key is skipped");
}

#[test]
fn an_unreadable_or_old_cache_is_ignored_with_its_reason() {
    let (c, why) = PickCache::parse("{ not json");
    assert_eq!(c, PickCache::default());
    assert!(why.unwrap().contains("key must be a string"));
    let (c, why) = PickCache::parse(r#"{"version": 99, "adapters": {}}"#);
    assert_eq!(c, PickCache::default());
    assert!(why.unwrap().contains("version 99"));
}

/// The check the browser tests run on SwiftShader, here on this adapter: every variant of every
/// pass agrees with the CPU reference.
#[test]
fn every_variant_agrees_with_the_reference_in_the_shared_check() {
    let ctx = new_ctx();
    let checks = block_on(tune::check_against_reference(&ctx)).unwrap();
    let variants: std::collections::BTreeSet<&str> = checks.iter().map(|c| c.variant.as_str()).collect();
    assert!(variants.contains("register-8x8") && variants.contains("tiled") && variants.contains("wide"), "{variants:?}");
    // Depthwise shapes are checked in their own variants, and only in those.
    for v in ["direct", "depthwise-4x4", "depthwise-2x8"] {
        assert!(variants.contains(v), "{v} is checked: {variants:?}");
        for c in checks.iter().filter(|c| c.variant == v) {
            let s = tricklab::gpu::TuneShape::parse(&c.shape).unwrap();
            assert!(matches!(s, tricklab::gpu::TuneShape::Conv(s) if tricklab::gpu::conv2d::uses_direct_kernels(&s)), "{c:?}");
        }
    }
    let bad: Vec<_> = checks.iter().filter(|c| c.mismatch.is_some()).collect();
    assert!(bad.is_empty(), "{bad:#?}");
    println!("{} checks, variants {variants:?}", checks.len());
}

/// A variant that disagrees with the CPU reference on an adapter is never timed, picked or used
/// there, even when a saved pick names it; the failure is kept with the picks, so a later session
/// knows it without checking again.
#[test]
fn a_variant_that_fails_its_check_is_never_used() {
    let ctx = new_ctx();
    ctx.break_variant(Variant::Register8x8);
    // A saved pick of the broken variant, as an earlier session (before it broke) made it.
    let graph = small_config().graph(4).unwrap();
    let work = tuning::graph_work(&ctx, &graph);
    let conv = work.iter().find(|w| w.pass() == Pass::ConvForward && w.candidates(&ctx).contains(&Variant::Register8x8)).expect("a conv shape register-8x8 runs");
    ctx.set_pick(Pass::ConvForward, &conv.key(), Variant::Register8x8);
    assert_eq!(ctx.picked(Pass::ConvForward, &conv.key()), Some(Variant::Register8x8), "saved");

    // Timing starts with the check (as every run's tune_nets does).
    let checks = block_on(tune::check_variants(&ctx)).unwrap();
    let failed: Vec<_> = checks.iter().filter(|c| c.mismatch.is_some()).collect();
    assert!(!failed.is_empty() && failed.iter().all(|c| c.variant == "register-8x8"), "{failed:#?}");
    let excluded = ctx.excluded();
    assert!(excluded.iter().any(|(p, v, _)| *p == Pass::ConvForward && *v == Variant::Register8x8), "{excluded:?}");
    assert_eq!(ctx.pick(Pass::ConvForward, &conv.key()), Variant::Register, "the saved pick of a failed variant is not used");

    // It is not timed (a broken variant writes nothing, so it would be the fastest) nor picked.
    let timed = block_on(tuning::tune_graph(&ctx, &graph)).unwrap();
    for t in &timed {
        let pass = Pass::from_name(&t.pass).unwrap();
        if ctx.is_excluded(pass, Variant::Register8x8) {
            assert!(!t.ms.contains_key("register-8x8") && t.picked != "register-8x8", "{t:?}");
        }
    }
    let _net = GpuNet::new(&ctx, graph.clone(), &graph.init_params(1)).unwrap();
    let used = ctx.variants_used();
    assert!(!used.iter().any(|(p, v)| *v == Variant::Register8x8 && ctx.is_excluded(*p, *v)), "{used:?}");

    // The failure travels with the picks: a new context of the same adapter knows it unchecked.
    let mut cache = PickCache::default();
    cache.store_from(&ctx);
    let (back, problem) = PickCache::parse(&cache.to_json());
    assert_eq!(problem, None);
    let fresh = new_ctx();
    back.load_into(&fresh);
    assert!(fresh.variants_checked());
    assert!(fresh.is_excluded(Pass::ConvForward, Variant::Register8x8));
    fresh.set_pick(Pass::ConvForward, &conv.key(), Variant::Register8x8);
    assert_eq!(fresh.pick(Pass::ConvForward, &conv.key()), Variant::Register);
}

/// A cache written before the depthwise variants (version 2) keeps its picks, but its record of
/// checked variants is dropped: the new variants were never checked on that adapter, so the
/// check runs again before the next timing. The current version's record is kept.
#[test]
fn a_check_record_from_before_the_depthwise_variants_is_checked_again() {
    let ctx = new_ctx();
    let adapter = ctx.adapter_key().replace('\\', "\\\\").replace('"', "\\\"");
    let saved = |version: u32| {
        format!(
            r#"{{"version": {version}, "adapters": {{"{adapter}": {{"linear forward|n4 64 -> 10": "tiled"}}}}, "excluded": {{"{adapter}": {{"conv forward|tiled": "mismatch"}}}}}}"#
        )
    };
    let (old, problem) = PickCache::parse(&saved(2));
    assert_eq!(problem, None);
    let fresh = new_ctx();
    old.load_into(&fresh);
    assert_eq!(fresh.picks().len(), 1, "the picks load");
    assert!(!fresh.variants_checked(), "a version 2 record did not check the depthwise variants");
    assert!(!fresh.is_excluded(Pass::ConvForward, Variant::Tiled));

    let current: serde_json::Value = serde_json::from_str(&PickCache::default().to_json()).unwrap();
    let (now, problem) = PickCache::parse(&saved(current["version"].as_u64().unwrap() as u32));
    assert_eq!(problem, None);
    let fresh = new_ctx();
    now.load_into(&fresh);
    assert!(fresh.variants_checked() && fresh.is_excluded(Pass::ConvForward, Variant::Tiled));
}

/// Versions 3-5 of the cache timed the depthwise variants before their 3×3 kernels were written
/// out (stride 1 in version 4, stride 2 in version 6), and versions before 5 the dense
/// convolutions before register-16x16: those picks are dropped (timed again), the others kept;
/// the check runs again.
#[test]
fn picks_from_before_the_newer_convolution_kernels_are_timed_again() {
    let ctx = new_ctx();
    let adapter = ctx.adapter_key().replace('\\', "\\\\").replace('"', "\\\"");
    for (version, kept) in [(3, vec!["tiled"]), (4, vec!["tiled"]), (5, vec!["tiled", "wide"])] {
        let saved = format!(
            r#"{{"version": {version}, "adapters": {{"{adapter}": {{"conv forward|n4 16x8x8 -> 16 k3x3 s1 p1 g1": "wide", "conv forward|n4 16x8x8 -> 16 k3x3 s1 p1 g16": "depthwise-2x8", "conv backward-weight|n4 16x8x8 -> 16 k3x3 s1 p1 g16": "direct", "linear forward|n4 64 -> 10": "tiled"}}}}, "excluded": {{"{adapter}": {{}}}}}}"#
        );
        let (old, problem) = PickCache::parse(&saved);
        assert_eq!(problem, None);
        let fresh = new_ctx();
        old.load_into(&fresh);
        let mut picks: Vec<&str> = fresh.picks().values().map(|v| v.name()).collect();
        let mut kept = kept;
        picks.sort();
        kept.sort();
        assert_eq!(picks, kept, "version {version}");
        assert!(!fresh.variants_checked(), "version {version}: the kernels changed, checked again");
    }
}

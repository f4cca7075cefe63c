//! A finished run gives back every GPU buffer it made: the process-wide counters of
//! `tricklab::gpu::live_buffers` return to where they started once the trainer is dropped, run
//! after run. (Its own test binary with one test, so no other test makes buffers meanwhile; the
//! page's browser test checks the same counters after 20 runs in one tab.)

use std::rc::Rc;

use tricklab::data::{Dataset, DatasetKind};
use tricklab::gpu::{block_on, live_buffers, GpuContext};
use tricklab::train::backend::Device;
use tricklab::train::trainer::Trainer;
use tricklab::train::TrainConfig;

/// `count` 28×28 images of noise with labels 0..9 in turn.
fn noise(count: usize) -> Dataset {
    let images = (0..count * 784).map(|i| (i * 37 % 251) as u8).collect();
    let labels = (0..count).map(|i| (i % 10) as u8).collect();
    Dataset { images, labels, count, channels: 1, height: 28, width: 28, classes: 10 }
}

#[test]
fn runs_return_every_buffer() {
    let config = TrainConfig {
        epochs: 1,
        batch_size: 8,
        width_mult: 0.25,
        lr_decay_epochs: vec![],
        ..TrainConfig::default_for(DatasetKind::Mnist)
    };
    let start = live_buffers();
    for run in 0..3 {
        let ctx = Rc::new(block_on(GpuContext::new()).unwrap());
        let mut trainer = Trainer::new(Device::Gpu(ctx), config.clone(), &noise(16), &noise(8), None).unwrap();
        while !trainer.is_done() {
            trainer.step().unwrap();
        }
        block_on(trainer.evaluate()).unwrap();
        let checkpoint = block_on(trainer.checkpoint()).unwrap();
        let during = live_buffers();
        assert!(during.buffers > start.buffers + 20, "run {run}: a trainer holds its buffers: {during:?}");
        drop(checkpoint);
        drop(trainer);
        assert_eq!(live_buffers(), start, "run {run}: every buffer is dropped with the trainer");
    }
}

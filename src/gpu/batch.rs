//! Dispatches for shaders/batch.wgsl. `GpuDataset` uploads a split's u8 pixels once, packed four to
//! a u32 and split into shards of whole images that each fit one storage binding (CIFAR-10's 150 MB
//! training set is above WebGPU's default 128 MiB), plus its labels as u32. `BatchAssembler` is
//! built once per data stream: it owns the small per-step input buffers, the output tensors
//! `x [B, C, H, W]`, `targets [B, K]`, `labels [B]` and their prepared dispatches (one gather per
//! shard, then the image mix and the targets). Each step the trainer only calls `write_step`.

use std::borrow::Cow;

use super::context::grid;
use super::shaders::BATCH;
use super::{Dispatch, GpuBuffer, GpuContext, Tensor};
use crate::ops::batch::{validate_step, AugParams, BatchShape, ImageSet};
use crate::{Error, Result};

const WG: u32 = 256;

/// Shards stay under 2 GiB so byte offsets fit the kernels' u32 arithmetic.
const MAX_SHARD_BYTES: u64 = 1 << 31;

/// Whole images `first .. first + count` of a split, packed in one storage buffer.
struct Shard {
    first: u32,
    count: u32,
    buffer: GpuBuffer,
}

/// One dataset split resident on the GPU as bytes.
pub struct GpuDataset {
    pub label: String,
    pub count: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub classes: usize,
    shards: Vec<Shard>,
    labels: GpuBuffer,
}

impl GpuDataset {
    /// Uploads `data`'s pixels and labels (a `Dataset`'s `view()`). Each shard holds as many whole images as fit the
    /// device's storage binding and buffer limits, or `max_shard_bytes` when given (tests use it to
    /// force several shards). Labels must be below `data.classes`.
    pub fn upload(ctx: &GpuContext, label: &str, data: &ImageSet, max_shard_bytes: Option<u64>) -> Result<GpuDataset> {
        let image_len = data.image_len();
        data.validate()?;
        if data.count > u32::MAX as usize / 2 {
            return Err(Error::shape("batch", format!("{} images are more than the kernels can index", data.count)));
        }
        let per_shard = images_per_shard(ctx, image_len, max_shard_bytes)?;
        let mut shards = Vec::new();
        for first in (0..data.count).step_by(per_shard) {
            let end = (first + per_shard).min(data.count);
            let bytes = &data.images[first * image_len..end * image_len];
            let buffer = ctx.buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(&format!("{label} pixels shard {} (images {first}..{end})", shards.len())),
                contents: &padded_to_words(bytes),
                usage: wgpu::BufferUsages::STORAGE,
            });
            shards.push(Shard { first: first as u32, count: (end - first) as u32, buffer });
        }
        let words: Vec<u32> = data.labels.iter().map(|&l| l as u32).collect();
        let labels = ctx.buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(&format!("{label} labels")),
            contents: bytemuck::cast_slice(&words),
            usage: wgpu::BufferUsages::STORAGE,
        });
        ctx.take_error().map_err(|e| Error::Gpu(format!("uploading {label}: {e}")))?;
        Ok(GpuDataset {
            label: label.to_string(),
            count: data.count,
            channels: data.channels,
            height: data.height,
            width: data.width,
            classes: data.classes,
            shards,
            labels,
        })
    }

    /// How many storage buffers the pixels were split into.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }
}

/// Whole images per shard under the device's limits (and the caller's cap, if any).
fn images_per_shard(ctx: &GpuContext, image_len: usize, max_shard_bytes: Option<u64>) -> Result<usize> {
    let device_limit = ctx.limits.max_storage_buffer_binding_size.min(ctx.limits.max_buffer_size);
    let limit = device_limit.min(max_shard_bytes.unwrap_or(u64::MAX)).min(MAX_SHARD_BYTES) / 4 * 4;
    let per_shard = (limit / image_len as u64) as usize;
    if per_shard == 0 {
        return Err(Error::shape("batch", format!("an image of {image_len} bytes does not fit a shard of {limit} bytes")));
    }
    Ok(per_shard)
}

/// The bytes zero-padded to a whole number of u32 words (the kernels read pixels four at a time);
/// copied only when padding is needed.
fn padded_to_words(bytes: &[u8]) -> Cow<'_, [u8]> {
    if bytes.len().is_multiple_of(4) {
        return Cow::Borrowed(bytes);
    }
    let mut out = bytes.to_vec();
    out.resize(bytes.len().div_ceil(4) * 4, 0);
    Cow::Owned(out)
}

/// The kernels' fixed parameters (one copy per dispatch; the shard fields differ per gather).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    mean: [f32; 4],
    std: [f32; 4],
    batch: u32,
    classes: u32,
    pad: u32,
    shard_first: u32,
    shard_count: u32,
    keep: f32,
    spread: f32,
}

/// The per-step uniform: entries below `valid` hold samples; `lambda` is the mixup weight.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct StepParams {
    valid: u32,
    lambda: f32,
    _pad: [u32; 2],
}

/// Assembles batches of one data stream (e.g. the augmented training set, or the plain test set).
pub struct BatchAssembler {
    shape: BatchShape,
    count: usize,
    indices: GpuBuffer,
    aug: GpuBuffer,
    step: GpuBuffer,
    /// Gathered, augmented and normalized images before mixing.
    _raw: Tensor,
    /// `[batch, channels, height, width]`, normalized (and mixed) images.
    pub x: Tensor,
    /// `[batch, classes]`, smoothed (and mixed) target rows; zero rows for padding entries.
    pub targets: Tensor,
    /// `[batch]`, class index of each sample as f32; −1 for padding entries.
    pub labels: Tensor,
    dispatches: Vec<Dispatch>,
}

impl BatchAssembler {
    /// Prepares the buffers and dispatches for batches of `s` drawn from `data`; `s`'s image shape
    /// and class count must be the dataset's.
    pub fn new(ctx: &GpuContext, label: &str, data: &GpuDataset, s: &BatchShape) -> Result<BatchAssembler> {
        s.validate()?;
        let dataset_shape = (data.channels, data.height, data.width, data.classes);
        if (s.channels, s.height, s.width, s.classes) != dataset_shape {
            return Err(Error::shape(
                "batch",
                format!(
                    "batches of {}x{}x{} images in {} classes asked of {}, which holds {:?} (channels, height, width, classes)",
                    s.channels, s.height, s.width, s.classes, data.label, dataset_shape
                ),
            ));
        }
        let small = |role: &str, size: u64, usage: wgpu::BufferUsages| {
            ctx.buffer(&wgpu::BufferDescriptor {
                label: Some(&format!("{label} {role}")),
                size,
                usage: usage | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let b = s.batch as u64;
        let indices = small("sample ids", b * 4, wgpu::BufferUsages::STORAGE);
        let aug = small("augmentation", b * 4, wgpu::BufferUsages::STORAGE);
        let step = small("step params", std::mem::size_of::<StepParams>() as u64, wgpu::BufferUsages::UNIFORM);
        let image_shape = [s.batch, s.channels, s.height, s.width];
        let raw = ctx.zeros(format!("{label} raw images"), &image_shape)?;
        let x = ctx.zeros(format!("{label} x"), &image_shape)?;
        let targets = ctx.zeros(format!("{label} targets"), &[s.batch, s.classes])?;
        let labels = ctx.zeros(format!("{label} labels"), &[s.batch])?;

        let base = params(s);
        let image = [("CHANNELS", s.channels as f64), ("HEIGHT", s.height as f64), ("WIDTH", s.width as f64)];
        let image_groups = grid((s.x_len() as u32).div_ceil(WG));
        let mut dispatches = Vec::with_capacity(data.shards.len() + 2);
        for (k, shard) in data.shards.iter().enumerate() {
            let p = Params { shard_first: shard.first, shard_count: shard.count, ..base };
            dispatches.push(ctx.dispatch(
                format!("batch gather {} shard {k} -> {}", data.label, raw.label),
                ctx.pipeline(&BATCH, "gather", &image)?,
                bytemuck::bytes_of(&p),
                &[(1, &step), (2, &indices), (3, &aug), (4, &shard.buffer), (6, &raw.buffer)],
                image_groups,
            )?);
        }
        dispatches.push(ctx.dispatch(
            format!("batch mix_images {} -> {}", raw.label, x.label),
            ctx.pipeline(&BATCH, "mix_images", &image)?,
            bytemuck::bytes_of(&base),
            &[(1, &step), (6, &raw.buffer), (7, &x.buffer)],
            image_groups,
        )?);
        dispatches.push(ctx.dispatch(
            format!("batch make_targets {} -> {}, {}", data.label, targets.label, labels.label),
            ctx.pipeline(&BATCH, "make_targets", &image)?,
            bytemuck::bytes_of(&base),
            &[(1, &step), (2, &indices), (5, &data.labels), (8, &targets.buffer), (9, &labels.buffer)],
            grid((s.targets_len() as u32).div_ceil(WG)),
        )?);
        Ok(BatchAssembler { shape: *s, count: data.count, indices, aug, step, _raw: raw, x, targets, labels, dispatches })
    }

    pub fn shape(&self) -> &BatchShape {
        &self.shape
    }

    /// The prepared dispatches, to record (in this order) before the model's forward pass.
    pub fn dispatches(&self) -> &[Dispatch] {
        &self.dispatches
    }

    /// Writes one step's inputs (queued before the next submit): 1 to `batch` sample ids with one
    /// `AugParams` each (fewer ids than `batch` make a partial batch; the remaining entries are
    /// padding: zero images and targets, label −1) and the mixup weight λ (1 = no mixing).
    pub fn write_step(&self, ctx: &GpuContext, indices: &[u32], aug: &[AugParams], lambda: f32) -> Result<()> {
        validate_step(&self.shape, self.count, indices, aug, lambda)?;
        let mut ids = vec![0u32; self.shape.batch];
        ids[..indices.len()].copy_from_slice(indices);
        let mut packed = vec![0u32; self.shape.batch];
        for (slot, a) in packed.iter_mut().zip(aug) {
            *slot = a.pack();
        }
        let step = StepParams { valid: indices.len() as u32, lambda, _pad: [0; 2] };
        ctx.queue.write_buffer(&self.indices, 0, bytemuck::cast_slice(&ids));
        ctx.queue.write_buffer(&self.aug, 0, bytemuck::cast_slice(&packed));
        ctx.queue.write_buffer(&self.step, 0, bytemuck::bytes_of(&step));
        Ok(())
    }
}

/// The fixed parameters of `s`; each gather sets its shard's range.
fn params(s: &BatchShape) -> Params {
    let mut mean = [0.0; 4];
    let mut std = [1.0; 4];
    mean[..3].copy_from_slice(&s.norm.mean);
    std[..3].copy_from_slice(&s.norm.std);
    let (keep, spread) = s.smoothing_terms();
    Params {
        mean,
        std,
        batch: s.batch as u32,
        classes: s.classes as u32,
        pad: s.pad,
        shard_first: 0,
        shard_count: 0,
        keep,
        spread,
    }
}

//! f32 tensors living in GPU storage buffers, with a shape and a label that names the layer and
//! role, so a validation error names the culprit. (`GpuContext::tensor` and `zeros` make them,
//! `write` and `read` move their contents.)

use super::buffer::GpuBuffer;
use crate::{Error, Result};

pub struct Tensor {
    pub buffer: GpuBuffer,
    pub shape: Vec<usize>,
    pub label: String,
}

impl Tensor {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn bytes(&self) -> u64 {
        (self.len() * 4) as u64
    }
}

impl crate::ops::Operand for Tensor {
    fn elements(&self) -> usize {
        self.len()
    }
    fn name(&self) -> Option<&str> {
        Some(&self.label)
    }
}

fn check_shape(label: &str, shape: &[usize], limit: u64) -> Result<usize> {
    let n: usize = shape.iter().product();
    if shape.is_empty() || n == 0 {
        return Err(Error::shape("tensor", format!("`{label}` has shape {shape:?}; tensors must have at least one element")));
    }
    if (n as u64) * 4 > limit {
        return Err(Error::shape("tensor", format!("`{label}` needs {} bytes, above this GPU's storage binding limit of {limit}", n * 4)));
    }
    Ok(n)
}

const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

impl Tensor {
    /// A tensor holding `data`, which must have exactly the shape's element count; `limit` is the
    /// device's storage binding limit in bytes.
    pub fn with_data(device: &wgpu::Device, limit: u64, label: String, shape: &[usize], data: &[f32]) -> Result<Tensor> {
        let n = check_shape(&label, shape, limit)?;
        if data.len() != n {
            return Err(Error::shape("tensor", format!("`{label}` has shape {shape:?} ({n} elements) but {} values were given", data.len())));
        }
        let desc = wgpu::util::BufferInitDescriptor { label: Some(&label), contents: bytemuck::cast_slice(data), usage: USAGE };
        let buffer = GpuBuffer::with_contents(device, &desc);
        Ok(Tensor { buffer, shape: shape.to_vec(), label })
    }

    /// A zero-filled tensor.
    pub fn zeroed(device: &wgpu::Device, limit: u64, label: String, shape: &[usize]) -> Result<Tensor> {
        let n = check_shape(&label, shape, limit)?;
        let desc = wgpu::BufferDescriptor { label: Some(&label), size: (n * 4) as u64, usage: USAGE, mapped_at_creation: false };
        let buffer = GpuBuffer::new(device, &desc);
        Ok(Tensor { buffer, shape: shape.to_vec(), label })
    }
}

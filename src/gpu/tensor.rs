//! f32 tensors living in GPU storage buffers, with a shape and a label that names the layer and
//! role, so a validation error names the culprit.

use super::{GpuBuffer, GpuContext};
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

impl GpuContext {
    /// A tensor holding `data`, which must have exactly the shape's element count.
    pub fn tensor(&self, label: impl Into<String>, shape: &[usize], data: &[f32]) -> Result<Tensor> {
        let label = label.into();
        let n = check_shape(&label, shape, self.limits.max_storage_buffer_binding_size)?;
        if data.len() != n {
            return Err(Error::shape("tensor", format!("`{label}` has shape {shape:?} ({n} elements) but {} values were given", data.len())));
        }
        let buffer = self.buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(&label),
            contents: bytemuck::cast_slice(data),
            usage: USAGE,
        });
        Ok(Tensor { buffer, shape: shape.to_vec(), label })
    }

    /// A zero-filled tensor.
    pub fn zeros(&self, label: impl Into<String>, shape: &[usize]) -> Result<Tensor> {
        let label = label.into();
        let n = check_shape(&label, shape, self.limits.max_storage_buffer_binding_size)?;
        let buffer = self.buffer(&wgpu::BufferDescriptor {
            label: Some(&label),
            size: (n * 4) as u64,
            usage: USAGE,
            mapped_at_creation: false,
        });
        Ok(Tensor { buffer, shape: shape.to_vec(), label })
    }

    /// Overwrites a tensor's contents (queued before the next submit).
    pub fn write(&self, t: &Tensor, data: &[f32]) -> Result<()> {
        if data.len() != t.len() {
            return Err(Error::shape("write", format!("`{}` holds {} values but {} were given", t.label, t.len(), data.len())));
        }
        self.queue.write_buffer(&t.buffer, 0, bytemuck::cast_slice(data));
        Ok(())
    }

    /// Reads a tensor back to the CPU.
    pub async fn read(&self, t: &Tensor) -> Result<Vec<f32>> {
        let bytes = self.read_bytes(&t.buffer, t.bytes()).await?;
        Ok(bytemuck::cast_slice(&bytes).to_vec())
    }

    /// Native convenience: `read` and wait.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_blocking(&self, t: &Tensor) -> Result<Vec<f32>> {
        super::block_on(self.read(t))
    }
}

//! The GPU context: adapter and device acquisition (Mesa's llvmpipe counts natively; the browser's
//! WebGPU on wasm32), pipelines compiled once and cached, prepared dispatches recorded into one
//! command encoder per submit (each in its own compute pass, labelled with the dispatch's label),
//! and asynchronous readback. GPU validation errors and a lost device are captured and returned as
//! `Error::Gpu` instead of panicking.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::shaders::Shader;
use super::variant::{Pass, TuneKey, TuneShape, Variant};
use super::buffer::GpuBuffer;
use super::tensor::Tensor;
use crate::{Error, Result};

/// Waits for a future on native targets (where every GPU future here completes after a poll).
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

/// On wasm32 there is no blocking; this exists so shared code compiles and must not be called.
#[cfg(target_arch = "wasm32")]
pub fn block_on<F: Future>(_f: F) -> F::Output {
    panic!("block_on is not available in the browser; await the future instead")
}

const INSTALL_HINT: &str = "no GPU adapter was found. On a machine without a GPU install Mesa's \
software Vulkan driver: `apt-get install mesa-vulkan-drivers` (it provides llvmpipe)";

pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub features: wgpu::Features,
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<String, Arc<wgpu::ComputePipeline>>>,
    error: Arc<Mutex<Option<String>>>,
    lost: Arc<AtomicBool>,
    /// The kernel variant picked for each pass and shape (`gpu::tune`); absent keys use
    /// `Variant::Register`.
    picks: Mutex<BTreeMap<TuneKey, Variant>>,
    /// The (pass, variant) pairs dispatches were prepared with, for reports.
    used: Mutex<BTreeSet<(Pass, Variant)>>,
    /// The (pass, variant) pairs that disagreed with the CPU reference on this adapter
    /// (`tune::check_variants`), with the mismatch: never picked here. `None` until checked.
    excluded: Mutex<Option<BTreeMap<(Pass, Variant), String>>>,
    /// A test hook: variants whose check is made to fail (`break_variant`).
    broken: Mutex<BTreeSet<Variant>>,
}

impl GpuContext {
    /// Finds an adapter (a real GPU first, a CPU one such as llvmpipe otherwise) and opens a device
    /// with the adapter's own limits, so large storage buffers work where the hardware allows.
    pub async fn new() -> Result<Self> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                apply_limit_buckets: false,
            })
            .await
            .map_err(|e| Error::NoAdapter(format!("{INSTALL_HINT} ({e})")))?;
        let info = adapter.get_info();
        let wanted = wgpu::Features::SHADER_F16 | wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SUBGROUP;
        let features = adapter.features() & wanted;
        let limits = adapter.limits();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("tricklab device"),
                required_features: features,
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::NoAdapter(format!("the adapter {} refused a device: {e}", info.name)))?;
        let error = Arc::new(Mutex::new(None::<String>));
        let sink = error.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut slot = sink.lock().unwrap();
            if slot.is_none() {
                *slot = Some(e.to_string());
            }
        }));
        let lost_flag = Arc::new(AtomicBool::new(false));
        let (lost, flag) = (error.clone(), lost_flag.clone());
        device.set_device_lost_callback(move |reason, msg| {
            flag.store(true, Ordering::SeqCst);
            let mut slot = lost.lock().unwrap();
            if slot.is_none() {
                *slot = Some(format!("the GPU device was lost ({reason:?}): {msg}"));
            }
        });
        Ok(GpuContext {
            device,
            queue,
            info,
            limits,
            features,
            modules: Mutex::new(HashMap::new()),
            pipelines: Mutex::new(HashMap::new()),
            error,
            lost: lost_flag,
            picks: Mutex::new(BTreeMap::new()),
            used: Mutex::new(BTreeSet::new()),
            excluded: Mutex::new(None),
            broken: Mutex::new(BTreeSet::new()),
        })
    }

    /// True once the device was lost (destroyed, reset, or its GPU process crashed): nothing more
    /// can run on this context.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// A stable name for this adapter, the key its kernel picks are cached under.
    pub fn adapter_key(&self) -> String {
        let i = &self.info;
        format!("{} | {:?} | {:?} | vendor {:#x} device {:#x} | {} {}", i.name, i.backend, i.device_type, i.vendor, i.device, i.driver, i.driver_info)
    }

    /// The variant to prepare `pass` on `shape` with (`Variant::Register` until one is picked),
    /// and remembers that it was used.
    /// A variant that failed its check against the CPU reference here is never returned.
    pub fn pick(&self, pass: Pass, shape: &TuneShape) -> Variant {
        let v = self.picked(pass, shape).filter(|v| !self.is_excluded(pass, *v)).unwrap_or(Variant::Register);
        self.used.lock().unwrap().insert((pass, v));
        v
    }

    /// The picked variant for `pass` on `shape`, if one was picked.
    pub fn picked(&self, pass: Pass, shape: &TuneShape) -> Option<Variant> {
        self.picks.lock().unwrap().get(&TuneKey { pass, shape: *shape }).copied()
    }

    pub fn set_pick(&self, pass: Pass, shape: &TuneShape, v: Variant) {
        self.picks.lock().unwrap().insert(TuneKey { pass, shape: *shape }, v);
    }

    /// Whether the variants were checked against the CPU reference on this adapter (here, or in
    /// an earlier session whose picks were loaded).
    pub fn variants_checked(&self) -> bool {
        self.excluded.lock().unwrap().is_some()
    }

    /// Records the check: the (pass, variant) pairs that failed it, with their mismatch.
    pub fn set_excluded(&self, failed: BTreeMap<(Pass, Variant), String>) {
        *self.excluded.lock().unwrap() = Some(failed);
    }

    /// True when `v` failed its check for `pass` on this adapter.
    pub fn is_excluded(&self, pass: Pass, v: Variant) -> bool {
        self.excluded.lock().unwrap().as_ref().is_some_and(|e| e.contains_key(&(pass, v)))
    }

    /// The variants left out here, per pass, with why.
    pub fn excluded(&self) -> Vec<(Pass, Variant, String)> {
        self.excluded.lock().unwrap().iter().flatten().map(|((p, v), why)| (*p, *v, why.clone())).collect()
    }

    /// A test hook: `v` computes wrong results in the reference check and in timing from now on
    /// (its dispatches write nothing), as a kernel with a driver bug would.
    pub fn break_variant(&self, v: Variant) {
        self.broken.lock().unwrap().insert(v);
    }

    pub fn is_broken(&self, v: Variant) -> bool {
        self.broken.lock().unwrap().contains(&v)
    }

    /// Every pick, by its key's text ("pass|shape", as the picks cache and the page keep them).
    pub fn picks(&self) -> BTreeMap<String, Variant> {
        self.picks.lock().unwrap().iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    /// Which variants dispatches were prepared with so far, per pass.
    pub fn variants_used(&self) -> Vec<(Pass, Variant)> {
        self.used.lock().unwrap().iter().copied().collect()
    }

    /// The same, grouped: each pass that has been prepared, in a step's order, with its variants.
    pub fn variants_by_pass(&self) -> Vec<(Pass, Vec<Variant>)> {
        let mut out: Vec<(Pass, Vec<Variant>)> = Vec::new();
        for (pass, v) in self.variants_used() {
            match out.last_mut() {
                Some((p, vs)) if *p == pass => vs.push(v),
                _ => out.push((pass, vec![v])),
            }
        }
        out
    }

    /// An uninitialized (zero-filled) counted buffer.
    pub fn buffer(&self, desc: &wgpu::BufferDescriptor) -> GpuBuffer {
        GpuBuffer::new(&self.device, desc)
    }

    /// A counted buffer holding `desc.contents`.
    pub fn buffer_init(&self, desc: &wgpu::util::BufferInitDescriptor) -> GpuBuffer {
        GpuBuffer::with_contents(&self.device, desc)
    }

    /// A tensor holding `data`, which must have exactly the shape's element count.
    pub fn tensor(&self, label: impl Into<String>, shape: &[usize], data: &[f32]) -> Result<Tensor> {
        Tensor::with_data(&self.device, self.limits.max_storage_buffer_binding_size, label.into(), shape, data)
    }

    /// A zero-filled tensor.
    pub fn zeros(&self, label: impl Into<String>, shape: &[usize]) -> Result<Tensor> {
        Tensor::zeroed(&self.device, self.limits.max_storage_buffer_binding_size, label.into(), shape)
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
        block_on(self.read(t))
    }

    /// How many compute pipelines this context has compiled.
    pub fn pipeline_count(&self) -> usize {
        self.pipelines.lock().unwrap().len()
    }

    /// One line naming the adapter, for logs and benchmark headers.
    pub fn describe(&self) -> String {
        format!("{} ({:?}, {:?})", self.info.name, self.info.device_type, self.info.backend)
    }

    /// A software adapter (llvmpipe, SwiftShader): it trains, but slowly.
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// Returns the first GPU error captured since the last call, if any.
    pub fn take_error(&self) -> Result<()> {
        match self.error.lock().unwrap().take() {
            Some(msg) => Err(Error::Gpu(msg)),
            None => Ok(()),
        }
    }

    /// The compute pipeline for `entry` in `shader`, with optional override constants; compiled on
    /// first use and cached for the life of the context.
    pub fn pipeline(
        &self,
        shader: &'static Shader,
        entry: &str,
        constants: &[(&str, f64)],
    ) -> Result<Arc<wgpu::ComputePipeline>> {
        let mut key = format!("{}::{entry}", shader.name);
        for (k, v) in constants {
            key.push_str(&format!(":{k}={v}"));
        }
        if let Some(p) = self.pipelines.lock().unwrap().get(&key) {
            return Ok(p.clone());
        }
        let mut modules = self.modules.lock().unwrap();
        let module = modules.entry(shader.name).or_insert_with(|| {
            self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(shader.name),
                source: wgpu::ShaderSource::Wgsl(shader.source.into()),
            })
        });
        let pipeline = self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&key),
            layout: None,
            module,
            entry_point: Some(entry),
            compilation_options: wgpu::PipelineCompilationOptions { constants, ..Default::default() },
            cache: None,
        });
        drop(modules);
        self.take_error()?;
        let pipeline = Arc::new(pipeline);
        self.pipelines.lock().unwrap().insert(key, pipeline.clone());
        Ok(pipeline)
    }

    /// Prepares one dispatch: the pipeline, a uniform buffer holding `params` at binding 0 (when
    /// non-empty) and `buffers` at their bindings. Made once, recorded every step.
    pub fn dispatch(
        &self,
        label: impl Into<String>,
        pipeline: Arc<wgpu::ComputePipeline>,
        params: &[u8],
        buffers: &[(u32, &GpuBuffer)],
        workgroups: [u32; 3],
    ) -> Result<Dispatch> {
        let label = label.into();
        let max = self.limits.max_compute_workgroups_per_dimension;
        if workgroups.iter().any(|&w| w > max) {
            return Err(Error::Gpu(format!("{label}: {workgroups:?} workgroups exceed the limit {max} per dimension")));
        }
        let params_buffer = (!params.is_empty()).then(|| {
            let mut bytes = params.to_vec();
            bytes.resize(params.len().div_ceil(16) * 16, 0);
            self.buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(&format!("{label} params")),
                contents: &bytes,
                usage: wgpu::BufferUsages::UNIFORM,
            })
        });
        let mut entries = Vec::with_capacity(buffers.len() + 1);
        if let Some(p) = &params_buffer {
            entries.push(wgpu::BindGroupEntry { binding: 0, resource: p.as_entire_binding() });
        }
        for (binding, buffer) in buffers {
            entries.push(wgpu::BindGroupEntry { binding: *binding, resource: buffer.as_entire_binding() });
        }
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(&label),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        self.take_error().map_err(|e| Error::Gpu(format!("{label}: {e}")))?;
        let mut bound: Vec<GpuBuffer> = buffers.iter().map(|(_, b)| (*b).clone()).collect();
        bound.extend(params_buffer);
        Ok(Dispatch { label, pipeline, bind_group, workgroups, _bound: bound })
    }

    /// Records `dispatches` in order into one encoder and submits it, each dispatch in its own
    /// compute pass. WebGPU promises that dispatches in one pass see each other's writes, but with
    /// wgpu 30 on lavapipe a whole training step recorded into one pass read a stale gradient
    /// (the loss's dlogits, in the classifier's backward); one pass per dispatch is correct there
    /// (tests/train_step.rs).
    pub fn submit(&self, dispatches: &[&Dispatch]) -> Result<()> {
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("submit") });
        for d in dispatches {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(&d.label), timestamp_writes: None });
            d.record(&mut pass);
        }
        self.queue.submit(Some(encoder.finish()));
        self.take_error()
    }

    /// Copies `size` bytes from the start of `src` into `dst` at byte `dst_offset` (queued after
    /// everything submitted before).
    pub fn copy(&self, src: &Tensor, dst: &Tensor, dst_offset: u64, size: u64) -> Result<()> {
        if size > src.bytes() || dst_offset + size > dst.bytes() {
            return Err(Error::shape("copy", format!("{size} bytes of `{}` do not fit `{}` at byte {dst_offset}", src.label, dst.label)));
        }
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("copy") });
        encoder.copy_buffer_to_buffer(&src.buffer, 0, &dst.buffer, dst_offset, size);
        self.queue.submit(Some(encoder.finish()));
        self.take_error()
    }

    /// Blocks (natively) until the queue is idle; a no-op in the browser.
    pub fn wait(&self) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the GPU failed: {e}")))?;
        self.take_error()
    }

    /// Copies `size` bytes of `buffer` back to the CPU; awaits the map without blocking the browser.
    pub async fn read_bytes(&self, buffer: &wgpu::Buffer, size: u64) -> Result<Vec<u8>> {
        let staging = self.buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
        self.queue.submit(Some(encoder.finish()));
        let (tx, rx) = futures_channel::oneshot::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.await
            .map_err(|_| Error::Gpu("the readback was cancelled".into()))?
            // A lost device fails the map; its own message (captured above) says more.
            .map_err(|e| self.take_error().err().unwrap_or_else(|| Error::Gpu(format!("mapping the readback buffer failed: {e}"))))?;
        let bytes = {
            let view = staging.slice(..).get_mapped_range().map_err(|e| Error::Gpu(format!("readback: {e}")))?;
            view.to_vec()
        };
        staging.unmap();
        Ok(bytes)
    }
}

/// A prepared dispatch: pipeline, bind group and grid, ready to record into any compute pass.
pub struct Dispatch {
    pub label: String,
    pipeline: Arc<wgpu::ComputePipeline>,
    bind_group: wgpu::BindGroup,
    pub workgroups: [u32; 3],
    /// Every buffer the bind group uses (the params uniform included), so none is destroyed
    /// while this dispatch can still be recorded.
    _bound: Vec<GpuBuffer>,
}

impl Dispatch {
    /// The kernel family, for profiles: the label up to " -> " (e.g. "conv2d forward \[register\]",
    /// "batchnorm train_stats"), or its first two words ("sgd step") when it has no arrow.
    pub fn family(&self) -> String {
        match self.label.split_once(" -> ") {
            Some((head, _)) => head.to_string(),
            None => self.label.split(' ').take(2).collect::<Vec<_>>().join(" "),
        }
    }

    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }
}

/// A 2-D grid of `groups` workgroups that stays under the per-dimension limit of 65535. Kernels
/// recover the linear workgroup index as `wid.x + wid.y * nwg.x` and skip indices past the end.
pub fn grid(groups: u32) -> [u32; 3] {
    const MAX: u32 = 65535;
    if groups <= MAX {
        [groups.max(1), 1, 1]
    } else {
        let y = groups.div_ceil(MAX);
        [groups.div_ceil(y), y, 1]
    }
}

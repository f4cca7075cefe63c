//! The only wasm-bindgen surface of the crate (compiled for wasm32 alone), so the core builds and
//! tests natively. The page's Web Worker imports these functions.

use wasm_bindgen::prelude::*;

use crate::gpu::GpuContext;

/// Opens the browser's WebGPU device and describes the adapter, or explains why there is none.
#[wasm_bindgen]
pub async fn adapter_info() -> Result<String, JsValue> {
    let ctx = GpuContext::new().await.map_err(|e| JsValue::from_str(&e.to_string()))?;
    Ok(ctx.describe())
}

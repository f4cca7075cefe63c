//! Looking inside a network: what a saved weights file holds, one image classified by it, and a
//! run's views (the last batch as the network saw it; the trained network on the test set).

use js_sys::{Float32Array, Promise};
use wasm_bindgen::prelude::*;

use super::trainer::WebTrainer;
use super::{js_error, to_js, with_slot};
use crate::inspect::views;
use crate::train::checkpoint;

/// What a safetensors file holds, as JSON `{config, parameters}`: the training config saved in it
/// (model, dataset, width, tricks) and its number of parameters, after every tensor was checked
/// against the shape its model needs. Throws the reason a file cannot be a tricklab model: not
/// safetensors, no tricklab config, a tensor missing or of the wrong shape.
#[wasm_bindgen]
pub fn checkpoint_info(bytes: &[u8]) -> Result<String, JsValue> {
    let (graph, ckpt) = checkpoint::load("this file", bytes, |c| c.graph(1)).map_err(js_error)?;
    let parameters: usize = graph.params.iter().map(|p| p.len()).sum();
    Ok(serde_json::json!({ "config": ckpt.config, "parameters": parameters }).to_string())
}

/// The class probabilities of one image (raw bytes, channels × height × width of the run's
/// dataset) under the network saved in `checkpoint` (a run's exported weights), computed on the
/// CPU: it works for any run in the history, with or without a GPU.
#[wasm_bindgen]
pub fn classify(checkpoint: &[u8], image: &[u8]) -> Result<Float32Array, JsValue> {
    let (_, ckpt) = checkpoint::load("the run's weights", checkpoint, |c| c.graph(1)).map_err(js_error)?;
    let probs = views::classify(&ckpt, image).map_err(js_error)?;
    Ok(Float32Array::from(&probs[..]))
}

#[wasm_bindgen]
impl WebTrainer {
    /// The first images of the last training batch as the network received them (crop, flip,
    /// mixup), with the classes their targets weigh. Resolves to a `BatchPreview`.
    pub fn batch_preview(&self) -> Promise {
        with_slot(self.slot.clone(), |t| async move {
            let r = match t.last_batch().await {
                Ok(b) => to_js(&views::batch_preview(&t.config, &b)),
                Err(e) => Err(js_error(e)),
            };
            (t, r)
        })
    }

    /// The trained network on the whole test set: loss, accuracy, confusion matrix, prediction
    /// grid, calibration and logit gaps. Resolves to a `FinalViews`.
    pub fn final_views(&self) -> Promise {
        let test = self.test.clone();
        with_slot(self.slot.clone(), move |mut t| async move {
            let r = views::final_views(&mut t, &test, false).await.map_err(js_error).and_then(|v| to_js(&v));
            (t, r)
        })
    }
}

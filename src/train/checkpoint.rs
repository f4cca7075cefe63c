//! Saving and loading a trained model as safetensors (the format PyTorch's `safetensors` package
//! reads): every parameter under its layer name (`block0.0.conv.weight`, ...), each BN layer's
//! `running_mean`/`running_var`, and the training config as JSON in the header's metadata, so a
//! saved run can be rebuilt (for instance as a distillation teacher).
//! Layout: an 8-byte little-endian header length, the JSON header (padded with spaces to a
//! multiple of 8), then the raw little-endian f32 data.

use serde_json::{json, Map, Value};

use super::config::TrainConfig;
use crate::nn::graph::{Graph, Layer};
use crate::{Error, Result};

/// The largest checkpoint `load` accepts. The largest model here, mobilenetv2 at width_mult 4
/// (the config's limit), saves about 58 MB; 256 MiB leaves room and keeps a teacher file from
/// filling memory (the CLI reads no further than this).
pub const MAX_CHECKPOINT_BYTES: u64 = 256 << 20;
/// The largest JSON header `load` parses; tricklab's own are under 100 KB.
const MAX_HEADER_BYTES: usize = 1 << 20;

/// A model's weights as saved: parameters in graph order and per-BN (mean, var).
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub config: TrainConfig,
    pub params: Vec<Vec<f32>>,
    pub running: Vec<(Vec<f32>, Vec<f32>)>,
}

impl Checkpoint {
    /// `config`'s model as it starts, before any step: the seeded initial weights and fresh running
    /// statistics (mean 0, variance 1), with its graph at `batch` images.
    pub fn initial(config: &TrainConfig, batch: usize) -> Result<(Graph, Checkpoint)> {
        let graph = config.graph(batch)?;
        let running = graph
            .nodes
            .iter()
            .filter_map(|n| match &n.layer {
                Layer::BatchNorm { s, .. } => Some((vec![0.0; s.channels], vec![1.0; s.channels])),
                _ => None,
            })
            .collect();
        let params = graph.init_params(config.seed);
        Ok((graph, Checkpoint { config: config.clone(), params, running }))
    }
}

/// The names of the BN layers, in graph order (their running statistics are saved under them).
fn bn_names(graph: &Graph) -> Vec<&str> {
    graph.nodes.iter().filter(|n| matches!(n.layer, Layer::BatchNorm { .. })).map(|n| n.name.as_str()).collect()
}

/// Every tensor of a checkpoint: (name, shape, values), in file order.
fn tensors<'a>(graph: &'a Graph, c: &'a Checkpoint) -> Vec<(String, Vec<usize>, &'a [f32])> {
    let mut out: Vec<(String, Vec<usize>, &[f32])> =
        graph.params.iter().zip(&c.params).map(|(p, v)| (p.name.clone(), p.shape.clone(), v.as_slice())).collect();
    for (name, (mean, var)) in bn_names(graph).into_iter().zip(&c.running) {
        out.push((format!("{name}.running_mean"), vec![mean.len()], mean));
        out.push((format!("{name}.running_var"), vec![var.len()], var));
    }
    out
}

/// Serializes `c` for `graph` (the graph the config builds).
pub fn save(graph: &Graph, c: &Checkpoint) -> Vec<u8> {
    let mut header = Map::new();
    header.insert("__metadata__".into(), json!({ "format": "pt", "tricklab_config": c.config.to_json() }));
    let mut offset = 0usize;
    let list = tensors(graph, c);
    for (name, shape, values) in &list {
        let end = offset + values.len() * 4;
        header.insert(name.clone(), json!({ "dtype": "F32", "shape": shape, "data_offsets": [offset, end] }));
        offset = end;
    }
    let mut text = Value::Object(header).to_string().into_bytes();
    text.resize(text.len().div_ceil(8) * 8, b' ');
    let mut out = Vec::with_capacity(8 + text.len() + offset);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    for (_, _, values) in &list {
        for v in values.iter() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Parses a checkpoint written by `save`; `build` turns its config into the model's graph so every
/// tensor can be checked against the shape it must have. `file` names the file in errors.
pub fn load(file: &str, bytes: &[u8], build: impl FnOnce(&TrainConfig) -> Result<Graph>) -> Result<(Graph, Checkpoint)> {
    let bad = |msg: String| Error::data(file, msg);
    if bytes.len() as u64 > MAX_CHECKPOINT_BYTES {
        return Err(bad(format!("is {} bytes; a tricklab checkpoint is at most {MAX_CHECKPOINT_BYTES}", bytes.len())));
    }
    if bytes.len() < 8 {
        return Err(bad("too short to be a safetensors file".into()));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    let n = usize::try_from(n).ok().filter(|&n| n <= MAX_HEADER_BYTES).ok_or_else(|| {
        bad(format!("the header claims {n} bytes; a tricklab checkpoint's header is at most {MAX_HEADER_BYTES}"))
    })?;
    let body = bytes.get(8..8usize.saturating_add(n)).ok_or_else(|| bad(format!("the header claims {n} bytes but the file is shorter")))?;
    let header: Map<String, Value> = serde_json::from_slice(body).map_err(|e| bad(format!("the header is not valid JSON: {e}")))?;
    let data = &bytes[8 + n..];
    let config_json = header
        .get("__metadata__")
        .and_then(|m| m.get("tricklab_config"))
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no tricklab config in the metadata: was it saved by tricklab?".into()))?;
    let config = TrainConfig::from_json(config_json)
        .and_then(|c| c.validate_saved().map(|()| c))
        .map_err(|e| bad(format!("the training config saved in this file is invalid: {e}")))?;
    let graph = build(&config)?;
    let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
        let entry = header.get(name).ok_or_else(|| bad(format!("tensor `{name}` is missing")))?;
        if entry.get("dtype").and_then(Value::as_str) != Some("F32") {
            return Err(bad(format!("tensor `{name}` is not F32")));
        }
        let got: Vec<usize> = serde_json::from_value(entry["shape"].clone()).map_err(|_| bad(format!("tensor `{name}` has no valid shape")))?;
        if got != shape {
            return Err(bad(format!("tensor `{name}` has shape {got:?}, the model needs {shape:?}")));
        }
        let offsets: [usize; 2] = serde_json::from_value(entry["data_offsets"].clone()).map_err(|_| bad(format!("tensor `{name}` has no valid data_offsets")))?;
        let raw = data.get(offsets[0]..offsets[1]).filter(|r| r.len() == shape.iter().product::<usize>() * 4);
        let raw = raw.ok_or_else(|| bad(format!("tensor `{name}`'s data is truncated or the wrong size")))?;
        Ok(raw.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect())
    };
    let params = graph.params.iter().map(|p| read(&p.name, &p.shape)).collect::<Result<Vec<_>>>()?;
    let mut running = Vec::new();
    for node in &graph.nodes {
        if let Layer::BatchNorm { s, .. } = &node.layer {
            let c = [s.channels];
            running.push((read(&format!("{}.running_mean", node.name), &c)?, read(&format!("{}.running_var", node.name), &c)?));
        }
    }
    Ok((graph, Checkpoint { config, params, running }))
}

//! WGSL sources, one file per kernel family, compiled into the binary, each after the common
//! prelude (shaders/common.wgsl: the grid index helpers every family uses).

/// A shader file: its name (used in labels and the pipeline cache) and its source.
#[derive(Debug)]
pub struct Shader {
    pub name: &'static str,
    pub source: &'static str,
}

macro_rules! shader {
    ($ident:ident, $name:literal) => {
        pub static $ident: Shader =
            Shader {
                name: $name,
                source: concat!(include_str!("../../shaders/common.wgsl"), include_str!(concat!("../../shaders/", $name, ".wgsl"))),
            };
    };
}

shader!(ELEMENTWISE, "elementwise");
shader!(CONV2D, "conv2d");
shader!(CONV2D_TILED, "conv2d_tiled");
shader!(BATCHNORM, "batchnorm");
shader!(POOL, "pool");
shader!(LINEAR, "linear");
shader!(LINEAR_TILED, "linear_tiled");
shader!(LOSS, "loss");
shader!(SGD, "sgd");
shader!(BATCH, "batch");

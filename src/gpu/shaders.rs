//! WGSL sources, one file per kernel family, compiled into the binary, each after the common
//! prelude (shaders/common.wgsl: the grid index helpers every family uses). A family that needs a
//! WGSL extension (`subgroups`) must only be compiled on a device with the matching feature.

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
    // A family whose files share preludes of their own (the convolution's and the linear layer's
    // kernel variants: parameters, bindings, guarded loads; the tiled GEMMs' staging), after
    // common.wgsl, in the order given.
    ($ident:ident, $name:literal, prelude $($pre:literal)+) => {
        pub static $ident: Shader = Shader {
            name: $name,
            source: concat!(
                include_str!("../../shaders/common.wgsl"),
                $(include_str!(concat!("../../shaders/", $pre, ".wgsl")),)+
                include_str!(concat!("../../shaders/", $name, ".wgsl"))
            ),
        };
    };
    // In the browser the extension's `enable` directive goes in front (directives must come before
    // any declaration). Natively it must not: naga 30 rejects `enable subgroups;` as not yet
    // implemented and offers the builtins without it, wherever the device has the feature.
    ($ident:ident, $name:literal, prelude $pre:literal, enable $ext:literal) => {
        #[cfg(target_arch = "wasm32")]
        pub static $ident: Shader = Shader {
            name: $name,
            source: concat!(
                "enable ",
                $ext,
                ";\n",
                include_str!("../../shaders/common.wgsl"),
                include_str!(concat!("../../shaders/", $pre, ".wgsl")),
                include_str!(concat!("../../shaders/", $name, ".wgsl"))
            ),
        };
        #[cfg(not(target_arch = "wasm32"))]
        shader!($ident, $name, prelude $pre);
    };
}

shader!(ELEMENTWISE, "elementwise");
// conv2d.wgsl's module includes the generated register-blocked kernels (the 4×4 ones are its
// forward, backward_input and backward_weight).
shader!(CONV2D, "conv2d", prelude "conv2d_common" "conv2d_blocked");
shader!(CONV2D_BLOCKED, "conv2d_blocked", prelude "conv2d_common");
shader!(CONV2D_POINTWISE, "conv2d_pointwise", prelude "conv2d_common");
shader!(CONV2D_TILED, "conv2d_tiled", prelude "conv2d_common" "tiled_common");
shader!(CONV2D_WIDE, "conv2d_wide", prelude "conv2d_common");
shader!(CONV2D_DEPTHWISE, "conv2d_depthwise", prelude "conv2d_common" "conv2d_depthwise3");
// Needs `wgpu::Features::SUBGROUP`: conv2d_subgroup.rs checks for it before asking for a pipeline.
shader!(CONV2D_SUBGROUP, "conv2d_subgroup", prelude "conv2d_common", enable "subgroups");
shader!(BATCHNORM, "batchnorm");
shader!(POOL, "pool");
shader!(LINEAR, "linear", prelude "linear_common");
shader!(LINEAR_TILED, "linear_tiled", prelude "linear_common" "tiled_common");
shader!(LOSS, "loss");
shader!(SGD, "sgd");
shader!(BATCH, "batch");

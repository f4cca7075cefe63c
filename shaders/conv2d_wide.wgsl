// 2-D convolution with a larger register block per thread than conv2d.wgsl (`Variant::Wide`):
// forward, backward for the input, backward for the weight (partial sums over chunks of batch·rows,
// summed by conv2d.wgsl's `reduce_splits`). Layouts, `Params`, bindings and helpers from
// conv2d_common.wgsl; blocks_a counts channel blocks of CH, blocks_b pixel blocks of PX (per row and
// stride phase) or blocks of PX weight taps, rows_per_chunk the (n, oh) rows a weight-gradient
// thread sums.
//
// Meant for CPU-emulated GPUs (llvmpipe, SwiftShader), where one invocation is one SIMD lane and
// every storage load with a computed index is a gather: the kernels spend fewer loads per
// multiply-add by keeping CH × PX outputs per thread, and the forward and input-gradient kernels
// load each input row segment once for all kernel columns (a window of (PX - 1)·STRIDE + KW values
// serves PX pixels × KW taps). The block shape, the kernel width and the stride are override
// constants, so the loops over them have constant bounds, are unrolled, and the window and the
// accumulators stay in registers. No workgroup memory, no barriers.

const MAX_CH: u32 = 8u;
const MAX_PX: u32 = 8u;
const MAX_WIN: u32 = 32u;

override CH: u32 = 8u;     // channels per thread (output channels; input channels for backward_input)
override PX: u32 = 4u;     // pixels per thread (weight taps for backward_weight)
override KW: u32 = 3u;     // kernel width (= p.k_w; forward and backward_input)
override STRIDE: u32 = 1u; // stride (= p.stride; forward and backward_input)

// ---------------------------------------------------------------------------------------------
// forward: a = x, b = w, out = y. Thread = CH output channels (of one group) × PX output pixels
// (ow0..ow0+PX-1 of one row), pixels fastest so neighbouring threads read the same weights.
@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    if t >= out_blocks() { return; }
    let o = out_block(t, CH, PX);
    let g = o.g;
    let c0 = o.c0;
    let ow0 = o.ow0;
    let taps = p.k_h * KW;
    let kvol = p.cin_g * taps;
    var wrow: array<u32, MAX_CH>;
    for (var c = 0u; c < CH; c++) {
        wrow[c] = (g * p.cout_g + min(c0 + c, p.cout_g - 1u)) * kvol;
    }
    let plane = i32(p.in_h * p.in_w);
    let x_n = x_image(o);
    let ih0 = i32(o.oh * STRIDE) - i32(p.pad);
    let iw0 = i32(ow0 * STRIDE) - i32(p.pad);
    let win = (PX - 1u) * STRIDE + KW;

    var acc: array<f32, MAX_CH * MAX_PX>; // [c·PX + j]
    for (var kh = 0u; kh < p.k_h; kh++) {
        let ih = ih0 + i32(kh);
        let row_ok = ih >= 0 && ih < i32(p.in_h);
        let row = x_n + ih * i32(p.in_w);
        for (var ci = 0u; ci < p.cin_g; ci++) {
            var xs: array<f32, MAX_WIN>;
            for (var i = 0u; i < win; i++) {
                let iw = iw0 + i32(i);
                xs[i] = load_a(row + i32(ci) * plane + iw, row_ok && iw >= 0 && iw < i32(p.in_w));
            }
            let wi = ci * taps + kh * KW;
            for (var kw = 0u; kw < KW; kw++) {
                for (var c = 0u; c < CH; c++) {
                    let wv = b[wrow[c] + wi + kw];
                    for (var j = 0u; j < PX; j++) {
                        acc[c * PX + j] += wv * xs[j * STRIDE + kw];
                    }
                }
            }
        }
    }

    let out_plane = p.out_h * p.out_w;
    let y0 = u32(y_first(o));
    for (var c = 0u; c < CH; c++) {
        if c0 + c < p.cout_g {
            let yc = y0 + c * out_plane;
            for (var j = 0u; j < PX; j++) {
                if ow0 + j < p.out_w { out[yc + j] = acc[c * PX + j]; }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// backward_input: a = dy, b = w, out = dx. Thread = CH input channels (of one group) × PX input
// pixels of one row that share a stride phase (iw = phase + STRIDE·(PX·blk + j)). The kernel
// columns that reach them are kw = kw0 + STRIDE·m (m < M = ceil(KW / STRIDE)), and pixel j meets
// tap m at ow = PX·blk + q + j - m: a window of PX + M - 1 values of one dy row serves them all.
@compute @workgroup_size(64)
fn backward_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    if t >= in_blocks(STRIDE) { return; }
    let o = in_block(t, CH, STRIDE);
    let c0 = o.c0;
    let blk = o.blk;
    let phase = o.phase;
    let ih = o.ih;

    let taps = p.k_h * KW;
    let kvol = p.cin_g * taps;
    var wcol: array<u32, MAX_CH>;
    for (var c = 0u; c < CH; c++) {
        wcol[c] = min(c0 + c, p.cin_g - 1u) * taps;
    }
    let m_taps = (KW + STRIDE - 1u) / STRIDE;
    let kw0 = (phase + p.pad) % STRIDE;
    let q = (phase + p.pad) / STRIDE;
    let win = PX + m_taps - 1u;
    let ow_base = i32(PX * blk + q) - i32(m_taps - 1u); // window element i is ow = ow_base + i
    let out_plane = i32(p.out_h * p.out_w);
    let dy_n = dy_image(o);

    var acc: array<f32, MAX_CH * MAX_PX>; // [c·PX + j]
    for (var kh = (ih + p.pad) % STRIDE; kh < p.k_h; kh += STRIDE) {
        let th = i32(ih + p.pad) - i32(kh); // = oh·stride
        if th < 0 { break; }
        let oh = th / i32(STRIDE);
        if oh >= i32(p.out_h) { continue; }
        let row = dy_n + oh * i32(p.out_w);
        for (var co = 0u; co < p.cout_g; co++) {
            var ds: array<f32, MAX_WIN>;
            for (var i = 0u; i < win; i++) {
                let ow = ow_base + i32(i);
                ds[i] = load_a(row + i32(co) * out_plane + ow, ow >= 0 && ow < i32(p.out_w));
            }
            let wr = (o.g * p.cout_g + co) * kvol + kh * KW;
            for (var m = 0u; m < m_taps; m++) {
                let kw = kw0 + STRIDE * m;
                let kw_ok = kw < KW;
                let wi = wr + min(kw, KW - 1u);
                for (var c = 0u; c < CH; c++) {
                    let wv = select(0.0, b[wcol[c] + wi], kw_ok);
                    for (var j = 0u; j < PX; j++) {
                        acc[c * PX + j] += wv * ds[j + m_taps - 1u - m];
                    }
                }
            }
        }
    }

    let in_plane = p.in_h * p.in_w;
    let x0 = u32(x_first(o)) + phase + STRIDE * PX * blk;
    for (var c = 0u; c < CH; c++) {
        if c0 + c < p.cin_g {
            let xc = x0 + c * in_plane;
            for (var j = 0u; j < PX; j++) {
                if phase + STRIDE * (PX * blk + j) < p.in_w { out[xc + STRIDE * j] = acc[c * PX + j]; }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// backward_weight: a = x, b = dy, out = partial sums [splits, len] (or dw itself when splits = 1).
// Thread = CH output channels × PX consecutive weight taps (ci, kh, kw), summed over the
// rows_per_chunk (n, oh) rows of its chunk and every ow of those rows. Taps fastest, so
// neighbouring threads read the same dy.
@compute @workgroup_size(64)
fn backward_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    if t >= tap_blocks() { return; }
    let o = tap_block(t, CH);
    let g = o.g;
    let c0 = o.c0;
    let tb = o.tb;

    let taps = p.k_h * p.k_w;
    let kvol = p.cin_g * taps;
    let s = i32(p.stride);
    let in_plane = p.in_h * p.in_w;
    let out_plane = p.out_h * p.out_w;
    var x_tap: array<i32, MAX_PX>; // x offset of the tap within an image, at oh = ow = 0
    var kh: array<i32, MAX_PX>;
    var kw: array<i32, MAX_PX>;
    for (var j = 0u; j < PX; j++) {
        let col = min(tb * PX + j, kvol - 1u);
        let ci = col / taps;
        kh[j] = i32((col % taps) / p.k_w) - i32(p.pad);
        kw[j] = i32(col % p.k_w) - i32(p.pad);
        x_tap[j] = i32((g * p.cin_g + ci) * in_plane);
    }
    var dy_c: array<u32, MAX_CH>;
    for (var c = 0u; c < CH; c++) {
        dy_c[c] = (g * p.cout_g + min(c0 + c, p.cout_g - 1u)) * out_plane;
    }
    let rows = chunk_rows(o.chunk);

    var acc: array<f32, MAX_CH * MAX_PX>; // [c·PX + j]
    for (var row = rows.x; row < rows.y; row++) {
        let n = row / p.out_h;
        let oh = row % p.out_h;
        let x_n = i32(n * p.in_c * in_plane);
        let dy_row = n * p.out_c * out_plane + oh * p.out_w;
        var ih: array<i32, MAX_PX>;
        var row_ok: array<bool, MAX_PX>;
        for (var j = 0u; j < PX; j++) {
            ih[j] = i32(oh) * s + kh[j];
            row_ok[j] = ih[j] >= 0 && ih[j] < i32(p.in_h);
        }
        for (var ow = 0u; ow < p.out_w; ow++) {
            var xv: array<f32, MAX_PX>;
            for (var j = 0u; j < PX; j++) {
                let iw = i32(ow) * s + kw[j];
                xv[j] = load_a(x_n + x_tap[j] + ih[j] * i32(p.in_w) + iw, row_ok[j] && iw >= 0 && iw < i32(p.in_w));
            }
            for (var c = 0u; c < CH; c++) {
                let d = b[dy_row + dy_c[c] + ow];
                for (var j = 0u; j < PX; j++) {
                    acc[c * PX + j] += d * xv[j];
                }
            }
        }
    }

    // out[chunk·len + co·kvol + col]
    for (var c = 0u; c < CH; c++) {
        if c0 + c < p.cout_g {
            let base = o.chunk * p.len + (g * p.cout_g + c0 + c) * kvol + tb * PX;
            for (var j = 0u; j < PX; j++) {
                if tb * PX + j < kvol { out[base + j] = acc[c * PX + j]; }
            }
        }
    }
}

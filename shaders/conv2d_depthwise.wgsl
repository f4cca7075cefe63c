// Register-blocked kernels for convolutions with one input channel per group (depthwise, or
// depthwise with a channel multiplier): `Variant::Depthwise4x4` and `Variant::Depthwise2x8`
// (src/gpu/conv2d_depthwise.rs). conv2d.wgsl's direct kernels (one output per thread) are the
// baseline they are timed against. Layouts, `Params`, bindings and `load_a`: conv2d_common.wgsl.
//
// Forward and input gradient: a thread computes PY rows × PX columns of one channel's plane; for
// each of its rows and each kernel row it loads one row window ((PX - 1)·STRIDE + KW values) that
// serves all PX pixels × KW taps, and the channel's taps are loaded once. (Keeping windows for
// several output rows, loaded once, measured slower on lavapipe: the loop over the rows read does
// not unroll there, so the taps are then indexed at run time.) The weight gradient: a thread sums
// all KH·KW taps of one output channel over a chunk of (n, oh) rows, PX output columns at a time,
// so each dy value is loaded once for every tap. The block shape, the kernel size and the stride
// are override constants: loops over them unroll and the arrays stay in registers (no workgroup
// memory, no barriers). blocks_a counts row blocks (per stride phase for the input gradient),
// blocks_b column blocks; rows_per_chunk and splits chunk the weight gradient as elsewhere.

const DW_MAX_PX: u32 = 8u;
const DW_MAX_PY: u32 = 4u;
const DW_MAX_TAPS: u32 = 49u; // kernels up to 7×7
const DW_MAX_WIN: u32 = 32u;

override PX: u32 = 4u;     // columns per thread
override PY: u32 = 4u;     // rows per thread (forward, backward_input)
override KH: u32 = 3u;     // = p.k_h
override KW: u32 = 3u;     // = p.k_w
override STRIDE: u32 = 1u; // = p.stride

// forward: a = x, b = w, out = y. Thread = rows oh0..oh0+PY-1 × columns ow0..ow0+PX-1 of output
// channel co of image n; column blocks fastest.
@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    let blocks = p.blocks_a * p.blocks_b;
    if t >= p.batch * p.out_c * blocks { return; }
    let ow0 = (t % p.blocks_b) * PX;
    let oh0 = ((t / p.blocks_b) % p.blocks_a) * PY;
    let nc = t / blocks; // n·out_c + co
    let co = nc % p.out_c;
    let n = nc / p.out_c;
    var wv: array<f32, DW_MAX_TAPS>;
    for (var k = 0u; k < KH * KW; k++) {
        wv[k] = b[co * KH * KW + k];
    }
    let x_plane = i32((n * p.in_c + co / p.cout_g) * p.in_h * p.in_w);
    let ih0 = i32(oh0 * STRIDE) - i32(p.pad);
    let iw0 = i32(ow0 * STRIDE) - i32(p.pad);
    var acc: array<f32, DW_MAX_PY * DW_MAX_PX>; // [i·PX + j]
    for (var i = 0u; i < PY; i++) {
        for (var kh = 0u; kh < KH; kh++) {
            let ih = ih0 + i32(i * STRIDE + kh);
            let row_ok = ih >= 0 && ih < i32(p.in_h);
            let row = x_plane + ih * i32(p.in_w);
            var xs: array<f32, DW_MAX_WIN>;
            for (var q = 0u; q < (PX - 1u) * STRIDE + KW; q++) {
                let iw = iw0 + i32(q);
                xs[q] = load_a(row + iw, row_ok && iw >= 0 && iw < i32(p.in_w));
            }
            for (var kw = 0u; kw < KW; kw++) {
                let w = wv[kh * KW + kw];
                for (var j = 0u; j < PX; j++) {
                    acc[i * PX + j] += w * xs[j * STRIDE + kw];
                }
            }
        }
    }
    for (var i = 0u; i < PY; i++) {
        let oh = oh0 + i;
        if oh < p.out_h {
            let y_row = (nc * p.out_h + oh) * p.out_w;
            for (var j = 0u; j < PX; j++) {
                if ow0 + j < p.out_w { out[y_row + ow0 + j] = acc[i * PX + j]; }
            }
        }
    }
}

// backward_input: a = dy, b = w, out = dx. Thread = PY × PX input pixels of input channel c of
// image n that share a stride phase (ph, pw): ih = ph + STRIDE·(by·PY + i), iw = pw + STRIDE·(bx·PX
// + j). For that phase only kernel rows kh0 + STRIDE·a (kh0 = (ph + pad) % STRIDE) reach them,
// from dy row (ph + pad) / STRIDE + by·PY + i - a (likewise for columns): a stride-1 correlation
// with at most TA × TB taps, computed as the forward computes its block.
@compute @workgroup_size(64)
fn backward_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    let blocks = p.blocks_a * p.blocks_b;
    let phases = STRIDE * STRIDE;
    if t >= p.batch * p.in_c * phases * blocks { return; }
    let bx = t % p.blocks_b;
    let by = (t / p.blocks_b) % p.blocks_a;
    let phase = (t / blocks) % phases;
    let nc = t / (blocks * phases); // n·in_c + c
    let c = nc % p.in_c;
    let n = nc / p.in_c;
    let ph = phase / STRIDE;
    let pw = phase % STRIDE;
    let kh0 = (ph + p.pad) % STRIDE;
    let kw0 = (pw + p.pad) % STRIDE;
    let TA = (KH + STRIDE - 1u) / STRIDE;
    let TB = (KW + STRIDE - 1u) / STRIDE;
    // The dy row and column of tap (0, 0) for the block's first pixel, less the window's reach.
    let oh_first = i32((ph + p.pad) / STRIDE + by * PY) - i32(TA - 1u);
    let ow_first = i32((pw + p.pad) / STRIDE + bx * PX) - i32(TB - 1u);
    var acc: array<f32, DW_MAX_PY * DW_MAX_PX>; // [i·PX + j]
    for (var m = 0u; m < p.cout_g; m++) {
        let co = c * p.cout_g + m;
        var wv: array<f32, DW_MAX_TAPS>; // [a·TB + b], zero for taps past the kernel
        for (var ta = 0u; ta < TA; ta++) {
            for (var tb = 0u; tb < TB; tb++) {
                let kh = kh0 + STRIDE * ta;
                let kw = kw0 + STRIDE * tb;
                let ok = kh < KH && kw < KW;
                wv[ta * TB + tb] = select(0.0, b[select(0u, (co * KH + kh) * KW + kw, ok)], ok);
            }
        }
        let dy_plane = i32((n * p.out_c + co) * p.out_h * p.out_w);
        for (var i = 0u; i < PY; i++) {
            for (var ta = 0u; ta < TA; ta++) {
                let oh = oh_first + i32(i + TA - 1u - ta);
                let row_ok = oh >= 0 && oh < i32(p.out_h);
                let row = dy_plane + oh * i32(p.out_w);
                var ds: array<f32, DW_MAX_WIN>;
                for (var q = 0u; q < PX + TB - 1u; q++) {
                    let ow = ow_first + i32(q);
                    ds[q] = load_a(row + ow, row_ok && ow >= 0 && ow < i32(p.out_w));
                }
                for (var tb = 0u; tb < TB; tb++) {
                    let w = wv[ta * TB + tb];
                    for (var j = 0u; j < PX; j++) {
                        acc[i * PX + j] += w * ds[j + TB - 1u - tb];
                    }
                }
            }
        }
    }
    let dx_plane = nc * p.in_h * p.in_w;
    for (var i = 0u; i < PY; i++) {
        let ih = ph + STRIDE * (by * PY + i);
        if ih < p.in_h {
            for (var j = 0u; j < PX; j++) {
                let iw = pw + STRIDE * (bx * PX + j);
                if iw < p.in_w { out[dx_plane + ih * p.in_w + iw] = acc[i * PX + j]; }
            }
        }
    }
}

// backward_weight: a = x, b = dy, out = partial sums [splits, len] (dw when splits = 1). Thread =
// every tap of output channel co over the (n, oh) rows of one chunk; channels fastest.
@compute @workgroup_size(64)
fn backward_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    if t >= p.out_c * p.splits { return; }
    let co = t % p.out_c;
    let chunk = t / p.out_c;
    let rows = chunk_rows(chunk);
    var acc: array<f32, DW_MAX_TAPS>; // [kh·KW + kw]
    for (var row = rows.x; row < rows.y; row++) {
        let n = row / p.out_h;
        let oh = row % p.out_h;
        let dy_row = ((n * p.out_c + co) * p.out_h + oh) * p.out_w;
        let x_plane = i32((n * p.in_c + co / p.cout_g) * p.in_h * p.in_w);
        for (var ow0 = 0u; ow0 < p.out_w; ow0 += PX) {
            var ds: array<f32, DW_MAX_PX>;
            for (var j = 0u; j < PX; j++) {
                let ok = ow0 + j < p.out_w;
                ds[j] = select(0.0, b[select(dy_row, dy_row + ow0 + j, ok)], ok);
            }
            let iw0 = i32(ow0 * STRIDE) - i32(p.pad);
            for (var kh = 0u; kh < KH; kh++) {
                let ih = i32(oh * STRIDE + kh) - i32(p.pad);
                if ih < 0 || ih >= i32(p.in_h) { continue; }
                let x_row = x_plane + ih * i32(p.in_w);
                var xs: array<f32, DW_MAX_WIN>;
                for (var q = 0u; q < (PX - 1u) * STRIDE + KW; q++) {
                    let iw = iw0 + i32(q);
                    xs[q] = load_a(x_row + iw, iw >= 0 && iw < i32(p.in_w));
                }
                for (var kw = 0u; kw < KW; kw++) {
                    var s = 0.0;
                    for (var j = 0u; j < PX; j++) {
                        s += ds[j] * xs[j * STRIDE + kw];
                    }
                    acc[kh * KW + kw] += s;
                }
            }
        }
    }
    let base = chunk * p.len + co * KH * KW;
    for (var k = 0u; k < KH * KW; k++) {
        out[base + k] = acc[k];
    }
}

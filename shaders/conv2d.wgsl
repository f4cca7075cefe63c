// 2-D convolution: forward, backward for the input, backward for the weight (split over the
// batch·rows reduction, then summed by `reduce_splits`), direct kernels for convolutions with one
// input channel per group (depthwise), and an NHWC forward kept for the layout measurement.
//
// Layouts: x [N, C_in, H, W], w [C_out, C_in/groups, KH, KW], y [N, C_out, OH, OW]; the NHWC entry
// uses x [N, H, W, C_in], w [KH, KW, C_in, C_out], y [N, OH, OW, C_out]. Zero padding, no bias.
//
// The three main kernels are implicit GEMMs in which every thread keeps a 4×4 block of outputs in
// registers (4 channels × 4 pixels of one row, or 4 output channels × 4 weight taps) and uses no
// workgroup memory and no barriers: on a CPU-emulated GPU (llvmpipe) barriers cost more than they
// save, and on a real GPU the grid still has one thread per 16 outputs. Reads that fall into the
// padding use a clamped index and are replaced by zero with `select`. `Params`, bindings and the
// guarded loads and stores: conv2d_common.wgsl.

// ---------------------------------------------------------------------------------------------
// forward: a = x, b = w, out = y. Thread = 4 output channels (of one group) × 4 output pixels
// (ow0..ow0+3 of one row). Threads are ordered pixels fastest, so a workgroup shares its weights.
@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    let pix_blocks = p.batch * p.out_h * p.blocks_b;
    if t >= pix_blocks * p.groups * p.blocks_a { return; }
    let pb = t % pix_blocks;
    let cb = t / pix_blocks;
    let g = cb / p.blocks_a;
    let c0 = (cb % p.blocks_a) * 4u; // first channel of the block, within the group
    let n = pb / (p.out_h * p.blocks_b);
    let oh = (pb / p.blocks_b) % p.out_h;
    let ow0 = (pb % p.blocks_b) * 4u;

    let taps = p.k_h * p.k_w;
    let kvol = p.cin_g * taps;
    let last = p.cout_g - 1u;
    let co = vec4u(g * p.cout_g) + min(vec4u(c0) + vec4u(LANES), vec4u(last));
    let wrow = co * kvol;
    let s = i32(p.stride);
    let plane = i32(p.in_h * p.in_w);
    let x_n = i32((n * p.in_c + g * p.cin_g) * p.in_h * p.in_w);
    let ih0 = i32(oh) * s - i32(p.pad);
    let iw0 = vec4i(i32(ow0) * s - i32(p.pad)) + LANES * s;

    var acc0 = vec4f(0.0);
    var acc1 = vec4f(0.0);
    var acc2 = vec4f(0.0);
    var acc3 = vec4f(0.0);
    for (var kh = 0u; kh < p.k_h; kh++) {
        let ih = ih0 + i32(kh);
        let row_ok = ih >= 0 && ih < i32(p.in_h);
        for (var kw = 0u; kw < p.k_w; kw++) {
            let iw = iw0 + vec4i(i32(kw));
            let ok = vec4<bool>(row_ok) & (iw >= vec4i(0)) & (iw < vec4i(i32(p.in_w)));
            let idx = select(vec4i(0), vec4i(x_n + ih * i32(p.in_w)) + iw, ok);
            let tap = kh * p.k_w + kw;
            for (var ci = 0u; ci < p.cin_g; ci++) {
                let xv = load4_a(idx, i32(ci) * plane, ok);
                let wi = ci * taps + tap;
                acc0 += b[wrow.x + wi] * xv;
                acc1 += b[wrow.y + wi] * xv;
                acc2 += b[wrow.z + wi] * xv;
                acc3 += b[wrow.w + wi] * xv;
            }
        }
    }

    let ow = vec4i(i32(ow0)) + LANES;
    let px_ok = ow < vec4i(i32(p.out_w));
    let out_plane = p.out_h * p.out_w;
    let y0 = vec4i(i32((n * p.out_c * p.out_h + oh) * p.out_w)) + ow;
    let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
    for (var i = 0u; i < 4u; i++) {
        if c0 + i < p.cout_g {
            store4(y0 + vec4i(i32((g * p.cout_g + c0 + i) * out_plane)), accs[i], px_ok);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// backward_input: a = dy, b = w, out = dx. Thread = 4 input channels (of one group) × 4 input
// pixels of one row that share a stride phase (iw = phase + stride·(4·blk + j)), so the same kernel
// taps reach all four and taps that reach none are skipped instead of masked.
@compute @workgroup_size(64)
fn backward_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    let pix_blocks = p.batch * p.in_h * p.stride * p.blocks_b;
    if t >= pix_blocks * p.groups * p.blocks_a { return; }
    let pb = t % pix_blocks;
    let cb = t / pix_blocks;
    let g = cb / p.blocks_a;
    let c0 = (cb % p.blocks_a) * 4u;
    let blk = pb % p.blocks_b;
    let r = pb / p.blocks_b;
    let phase = r % p.stride;
    let ih = (r / p.stride) % p.in_h;
    let n = r / (p.stride * p.in_h);

    let s = i32(p.stride);
    let iw = vec4i(i32(phase + p.stride * 4u * blk)) + LANES * s;
    let iw_ok = iw < vec4i(i32(p.in_w));
    let taps = p.k_h * p.k_w;
    let kvol = p.cin_g * taps;
    let last = p.cin_g - 1u;
    let wcol = min(vec4u(c0) + vec4u(LANES), vec4u(last)) * taps;
    let out_plane = i32(p.out_h * p.out_w);
    let dy_n = i32((n * p.out_c + g * p.cout_g) * p.out_h * p.out_w);

    var acc0 = vec4f(0.0);
    var acc1 = vec4f(0.0);
    var acc2 = vec4f(0.0);
    var acc3 = vec4f(0.0);
    for (var kh = (ih + p.pad) % p.stride; kh < p.k_h; kh += p.stride) {
        let th = i32(ih + p.pad) - i32(kh); // = oh·stride
        if th < 0 { break; }
        let oh = th / s;
        if oh >= i32(p.out_h) { continue; }
        for (var kw = (phase + p.pad) % p.stride; kw < p.k_w; kw += p.stride) {
            let tw = iw + vec4i(i32(p.pad) - i32(kw)); // = ow·stride where valid
            let ow = tw / vec4i(s);
            let ok = iw_ok & (tw >= vec4i(0)) & (ow < vec4i(i32(p.out_w)));
            let idx = select(vec4i(0), vec4i(dy_n + oh * i32(p.out_w)) + ow, ok);
            let tap = kh * p.k_w + kw;
            for (var co = 0u; co < p.cout_g; co++) {
                let dyv = load4_a(idx, i32(co) * out_plane, ok);
                let wi = vec4u((g * p.cout_g + co) * kvol + tap) + wcol;
                acc0 += b[wi.x] * dyv;
                acc1 += b[wi.y] * dyv;
                acc2 += b[wi.z] * dyv;
                acc3 += b[wi.w] * dyv;
            }
        }
    }

    let in_plane = p.in_h * p.in_w;
    let x0 = vec4i(i32((n * p.in_c * p.in_h + ih) * p.in_w)) + iw;
    let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
    for (var i = 0u; i < 4u; i++) {
        if c0 + i < p.cin_g {
            store4(x0 + vec4i(i32((g * p.cin_g + c0 + i) * in_plane)), accs[i], iw_ok);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// backward_weight: a = x, b = dy, out = partial sums [splits, len] (or dw itself when splits = 1).
// Thread = 4 output channels × 4 consecutive weight taps (ci, kh, kw), summed over the
// rows_per_chunk (n, oh) rows of its chunk and every ow of those rows.
@compute @workgroup_size(64)
fn backward_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    let per_split = p.groups * p.blocks_a * p.blocks_b;
    if t >= per_split * p.splits { return; }
    let tb = t % p.blocks_b;
    let cb = (t / p.blocks_b) % (p.groups * p.blocks_a);
    let chunk = t / per_split;
    let g = cb / p.blocks_a;
    let c0 = (cb % p.blocks_a) * 4u;

    let taps = p.k_h * p.k_w;
    let kvol = p.cin_g * taps;
    let col = vec4u(tb * 4u) + vec4u(LANES);
    let col_ok = col < vec4u(kvol);
    let colc = min(col, vec4u(kvol - 1u));
    let ci = colc / taps;
    let kh = vec4i((colc % taps) / p.k_w);
    let kw = vec4i(colc % p.k_w);
    let co = vec4u(g * p.cout_g) + min(vec4u(c0) + vec4u(LANES), vec4u(p.cout_g - 1u));

    let s = i32(p.stride);
    let in_plane = p.in_h * p.in_w;
    let out_plane = p.out_h * p.out_w;
    let x_c = vec4i((vec4u(g * p.cin_g) + ci) * in_plane);
    let rows = p.batch * p.out_h;
    let row_end = min(rows, (chunk + 1u) * p.rows_per_chunk);

    var acc0 = vec4f(0.0); // tap 0, four output channels
    var acc1 = vec4f(0.0);
    var acc2 = vec4f(0.0);
    var acc3 = vec4f(0.0);
    for (var row = chunk * p.rows_per_chunk; row < row_end; row++) {
        let n = row / p.out_h;
        let oh = row % p.out_h;
        let ih = vec4i(i32(oh) * s - i32(p.pad)) + kh;
        let row_ok = col_ok & (ih >= vec4i(0)) & (ih < vec4i(i32(p.in_h)));
        let x_row = vec4i(i32(n * p.in_c * in_plane)) + x_c + ih * i32(p.in_w);
        let dy_row = (vec4u(n * p.out_c) + co) * out_plane + vec4u(oh * p.out_w);
        let iw0 = kw - vec4i(i32(p.pad));
        for (var ow = 0u; ow < p.out_w; ow++) {
            let iw = iw0 + vec4i(i32(ow) * s);
            let ok = row_ok & (iw >= vec4i(0)) & (iw < vec4i(i32(p.in_w)));
            let xv = load4_a(select(vec4i(0), x_row + iw, ok), 0, ok);
            let d = dy_row + vec4u(ow);
            let dyv = vec4f(b[d.x], b[d.y], b[d.z], b[d.w]);
            acc0 += dyv * xv.x;
            acc1 += dyv * xv.y;
            acc2 += dyv * xv.z;
            acc3 += dyv * xv.w;
        }
    }

    // out[chunk·len + co·kvol + col]: transpose the accumulators to one vec4 per channel.
    let accs = array<vec4f, 4>(
        vec4f(acc0.x, acc1.x, acc2.x, acc3.x),
        vec4f(acc0.y, acc1.y, acc2.y, acc3.y),
        vec4f(acc0.z, acc1.z, acc2.z, acc3.z),
        vec4f(acc0.w, acc1.w, acc2.w, acc3.w),
    );
    for (var i = 0u; i < 4u; i++) {
        if c0 + i < p.cout_g {
            let base = chunk * p.len + (g * p.cout_g + c0 + i) * kvol;
            store4(vec4i(i32(base)) + vec4i(col), accs[i], col_ok);
        }
    }
}

// reduce_splits: a = partial sums [splits, len], out = dw [len].
@compute @workgroup_size(64)
fn reduce_splits(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.len { return; }
    var sum = 0.0;
    for (var c = 0u; c < p.splits; c++) {
        sum += a[c * p.len + i];
    }
    out[i] = sum;
}

// ---------------------------------------------------------------------------------------------
// Direct kernels for one input channel per group (depthwise, or depthwise with a channel
// multiplier): output channel co reads input channel co / cout_g only. One output per thread.

// a = x, b = w, out = y
@compute @workgroup_size(64)
fn depthwise_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    if t >= p.batch * p.out_c * p.out_h * p.out_w { return; }
    let ow = t % p.out_w;
    let oh = (t / p.out_w) % p.out_h;
    let co = (t / (p.out_w * p.out_h)) % p.out_c;
    let n = t / (p.out_w * p.out_h * p.out_c);
    let x_c = (n * p.in_c + co / p.cout_g) * p.in_h * p.in_w;
    let ih0 = i32(oh * p.stride) - i32(p.pad);
    let iw0 = i32(ow * p.stride) - i32(p.pad);
    var sum = 0.0;
    for (var kh = 0u; kh < p.k_h; kh++) {
        let ih = ih0 + i32(kh);
        if ih < 0 || ih >= i32(p.in_h) { continue; }
        for (var kw = 0u; kw < p.k_w; kw++) {
            let iw = iw0 + i32(kw);
            if iw < 0 || iw >= i32(p.in_w) { continue; }
            sum += a[x_c + u32(ih) * p.in_w + u32(iw)] * b[(co * p.k_h + kh) * p.k_w + kw];
        }
    }
    out[t] = sum;
}

// a = dy, b = w, out = dx
@compute @workgroup_size(64)
fn depthwise_backward_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    if t >= p.batch * p.in_c * p.in_h * p.in_w { return; }
    let iw = t % p.in_w;
    let ih = (t / p.in_w) % p.in_h;
    let c = (t / (p.in_w * p.in_h)) % p.in_c;
    let n = t / (p.in_w * p.in_h * p.in_c);
    var sum = 0.0;
    for (var co = c * p.cout_g; co < (c + 1u) * p.cout_g; co++) {
        let dy_c = (n * p.out_c + co) * p.out_h * p.out_w;
        for (var kh = (ih + p.pad) % p.stride; kh < p.k_h; kh += p.stride) {
            let th = i32(ih + p.pad) - i32(kh);
            if th < 0 { break; }
            let oh = u32(th) / p.stride;
            if oh >= p.out_h { continue; }
            for (var kw = (iw + p.pad) % p.stride; kw < p.k_w; kw += p.stride) {
                let tw = i32(iw + p.pad) - i32(kw);
                if tw < 0 { break; }
                let ow = u32(tw) / p.stride;
                if ow >= p.out_w { continue; }
                sum += a[dy_c + oh * p.out_w + ow] * b[(co * p.k_h + kh) * p.k_w + kw];
            }
        }
    }
    out[t] = sum;
}

// a = x, b = dy, out = partial sums [splits, len] (or dw when splits = 1). Thread = one weight
// element × one chunk of (n, oh) rows.
@compute @workgroup_size(64)
fn depthwise_backward_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    if t >= p.len * p.splits { return; }
    let wi = t % p.len;
    let chunk = t / p.len;
    let kw = wi % p.k_w;
    let kh = (wi / p.k_w) % p.k_h;
    let co = wi / (p.k_w * p.k_h);
    let rows = p.batch * p.out_h;
    let row_end = min(rows, (chunk + 1u) * p.rows_per_chunk);
    var sum = 0.0;
    for (var row = chunk * p.rows_per_chunk; row < row_end; row++) {
        let n = row / p.out_h;
        let oh = row % p.out_h;
        let ih = i32(oh * p.stride + kh) - i32(p.pad);
        if ih < 0 || ih >= i32(p.in_h) { continue; }
        let x_row = ((n * p.in_c + co / p.cout_g) * p.in_h + u32(ih)) * p.in_w;
        let dy_row = ((n * p.out_c + co) * p.out_h + oh) * p.out_w;
        for (var ow = 0u; ow < p.out_w; ow++) {
            let iw = i32(ow * p.stride + kw) - i32(p.pad);
            if iw < 0 || iw >= i32(p.in_w) { continue; }
            sum += b[dy_row + ow] * a[x_row + u32(iw)];
        }
    }
    out[chunk * p.len + wi] = sum;
}

// ---------------------------------------------------------------------------------------------
// forward_nhwc (layout measurement, groups = 1): a = x [N, H, W, C_in], b = w [KH, KW, C_in, C_out],
// out = y [N, OH, OW, C_out]. Thread = 4 output channels × 4 output pixels of one row, channel
// blocks fastest so neighbouring threads write neighbouring outputs.
@compute @workgroup_size(64)
fn forward_nhwc(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let t = thread_index(wid, nwg, lid, WG);
    let pix_blocks = p.batch * p.out_h * p.blocks_b;
    if t >= pix_blocks * p.blocks_a { return; }
    let c0 = (t % p.blocks_a) * 4u;
    let pb = t / p.blocks_a;
    let n = pb / (p.out_h * p.blocks_b);
    let oh = (pb / p.blocks_b) % p.out_h;
    let ow0 = (pb % p.blocks_b) * 4u;

    let co = min(vec4u(c0) + vec4u(LANES), vec4u(p.out_c - 1u));
    let s = i32(p.stride);
    let cin = i32(p.in_c);
    let ih0 = i32(oh) * s - i32(p.pad);
    let iw0 = vec4i(i32(ow0) * s - i32(p.pad)) + LANES * s;

    var acc0 = vec4f(0.0);
    var acc1 = vec4f(0.0);
    var acc2 = vec4f(0.0);
    var acc3 = vec4f(0.0);
    for (var kh = 0u; kh < p.k_h; kh++) {
        let ih = ih0 + i32(kh);
        let row_ok = ih >= 0 && ih < i32(p.in_h);
        for (var kw = 0u; kw < p.k_w; kw++) {
            let iw = iw0 + vec4i(i32(kw));
            let ok = vec4<bool>(row_ok) & (iw >= vec4i(0)) & (iw < vec4i(i32(p.in_w)));
            let idx = select(vec4i(0), (vec4i(i32(n * p.in_h) + ih) * i32(p.in_w) + iw) * cin, ok);
            let tap = (kh * p.k_w + kw) * p.in_c;
            for (var ci = 0u; ci < p.in_c; ci++) {
                let xv = load4_a(idx, i32(ci), ok);
                let wi = vec4u((tap + ci) * p.out_c) + co;
                acc0 += b[wi.x] * xv;
                acc1 += b[wi.y] * xv;
                acc2 += b[wi.z] * xv;
                acc3 += b[wi.w] * xv;
            }
        }
    }

    let ow = vec4i(i32(ow0)) + LANES;
    let px_ok = ow < vec4i(i32(p.out_w));
    let y0 = (vec4i(i32(n * p.out_h + oh) * i32(p.out_w)) + ow) * i32(p.out_c);
    let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
    for (var i = 0u; i < 4u; i++) {
        if c0 + i < p.out_c {
            store4(y0 + vec4i(i32(c0 + i)), accs[i], px_ok);
        }
    }
}

// 2-D convolution, the kernels besides the register-blocked passes: the sum of the weight
// gradient's partial sums (`reduce_splits`), direct kernels for convolutions with one input channel
// per group (depthwise), and an NHWC forward kept for the layout measurement. The main forward,
// backward_input and backward_weight (4×4 blocks, `Variant::Register`) are generated into
// conv2d_blocked.wgsl with the larger blocks; src/gpu/shaders.rs puts that file in this module.
//
// Layouts: x [N, C_in, H, W], w [C_out, C_in/groups, KH, KW], y [N, C_out, OH, OW]; the NHWC entry
// uses x [N, H, W, C_in], w [KH, KW, C_in, C_out], y [N, OH, OW, C_out]. Zero padding, no bias.
// `Params`, bindings and the guarded loads and stores: conv2d_common.wgsl.

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
    if t >= out_blocks() { return; }
    let pb = t / p.blocks_a;
    let o = OutBlock(0u, (t % p.blocks_a) * 4u, pb / (p.out_h * p.blocks_b), (pb / p.blocks_b) % p.out_h, (pb % p.blocks_b) * 4u);
    let co = min(vec4u(o.c0) + vec4u(LANES), vec4u(p.out_c - 1u));
    let iw0 = in_cols(o, 0u);
    var acc0 = vec4f(0.0);
    var acc1 = vec4f(0.0);
    var acc2 = vec4f(0.0);
    var acc3 = vec4f(0.0);
    for (var kh = 0u; kh < p.k_h; kh++) {
        let ih = in_row(o, kh);
        for (var kw = 0u; kw < p.k_w; kw++) {
            let iw = iw0 + vec4i(i32(kw));
            let ok = x_ok(ih, iw);
            let idx = select(vec4i(0), (vec4i(i32(o.n * p.in_h) + ih) * i32(p.in_w) + iw) * i32(p.in_c), ok);
            let w_tap = vec4u((kh * p.k_w + kw) * p.in_c * p.out_c) + co;
            for (var ci = 0u; ci < p.in_c; ci++) {
                let xv = load4_a(idx, i32(ci), ok);
                let wi = w_tap + vec4u(ci * p.out_c);
                acc0 += b[wi.x] * xv;
                acc1 += b[wi.y] * xv;
                acc2 += b[wi.z] * xv;
                acc3 += b[wi.w] * xv;
            }
        }
    }
    let y0 = i32(((o.n * p.out_h + o.oh) * p.out_w + o.ow0) * p.out_c + o.c0);
    store_rows(vec4i(y0) + LANES * i32(p.out_c), 1, i32(p.out_c - o.c0), out_cols_ok(o, 0u), acc0, acc1, acc2, acc3);
}

// 2-D convolution forward with the weights shared between the invocations of a subgroup
// (`Variant::Subgroup`): conv2d_wide.wgsl's forward (CH output channels × PX pixels per thread, one
// input row window for all kernel columns), except that the CH weights a thread needs for one tap
// are not each loaded by every invocation: lane k of the subgroup (k < 4) loads the weights of
// channels k, 4 + k, ... of its block, and every invocation takes all CH from lanes 0..3 with
// `subgroupBroadcast`. On llvmpipe a broadcast from a constant lane is one extract and a splat,
// against a gather of 8 scalar loads for a storage load with a computed index.
//
// Needs the `subgroups` extension: shaders.rs puts `enable subgroups;` in front of this file for
// the browser (naga, natively, rejects the directive and offers the builtins without it).
// Correct for any subgroup size of at least 4 and any mapping of invocations to lanes: the weights
// are shared only when every invocation of the subgroup works on the same channel block as lane 0
// (`subgroupAll`, so the choice is uniform across the subgroup); otherwise each loads its own.
// Every invocation reaches the subgroup operations: threads past the end compute on a clamped
// thread index and skip the store. Layouts, `Params`, bindings and helpers from
// conv2d_common.wgsl; blocks_a counts channel blocks of CH, blocks_b pixel blocks of PX per row.

const MAX_CH: u32 = 8u;
const MAX_PX: u32 = 8u;
const MAX_WIN: u32 = 32u;

override CH: u32 = 8u;     // output channels per thread: 4 or 8
override PX: u32 = 4u;     // output pixels per thread
override KW: u32 = 3u;     // kernel width (= p.k_w)
override STRIDE: u32 = 1u; // stride (= p.stride)

// What one thread's forward block needs, computed once.
struct Block {
    wrow: array<u32, MAX_CH>,  // w offset of each of the block's channels (clamped)
    wlane: array<u32, 2>,      // w offset of channels lane, 4 + lane (lane = subgroup id mod 4)
    x_n: i32,                  // x offset of the image and group
    ih0: i32,
    iw0: i32,
}

// The CH weights of tap `wi` (offset within a channel's weights) for this thread's block.
fn weights(blk: Block, wi: u32, share: bool) -> array<f32, MAX_CH> {
    var wv: array<f32, MAX_CH>;
    if share {
        let v0 = b[blk.wlane[0] + wi];
        wv[0] = subgroupBroadcast(v0, 0u);
        wv[1] = subgroupBroadcast(v0, 1u);
        wv[2] = subgroupBroadcast(v0, 2u);
        wv[3] = subgroupBroadcast(v0, 3u);
        if CH > 4u {
            let v1 = b[blk.wlane[1] + wi];
            wv[4] = subgroupBroadcast(v1, 0u);
            wv[5] = subgroupBroadcast(v1, 1u);
            wv[6] = subgroupBroadcast(v1, 2u);
            wv[7] = subgroupBroadcast(v1, 3u);
        }
    } else {
        for (var c = 0u; c < CH; c++) {
            wv[c] = b[blk.wrow[c] + wi];
        }
    }
    return wv;
}

// The block's sums over (kh, ci, kw). `share` is uniform across the subgroup and is a constant at
// each call site, so each copy compiles to straight code.
fn accumulate(acc: ptr<function, array<f32, 64>>, blk: Block, share: bool) {
    let taps = p.k_h * KW;
    let plane = i32(p.in_h * p.in_w);
    let win = (PX - 1u) * STRIDE + KW;
    for (var kh = 0u; kh < p.k_h; kh++) {
        let ih = blk.ih0 + i32(kh);
        let row_ok = ih >= 0 && ih < i32(p.in_h);
        let row = blk.x_n + ih * i32(p.in_w);
        for (var ci = 0u; ci < p.cin_g; ci++) {
            var xs: array<f32, MAX_WIN>;
            for (var i = 0u; i < win; i++) {
                let iw = blk.iw0 + i32(i);
                xs[i] = load_a(row + i32(ci) * plane + iw, row_ok && iw >= 0 && iw < i32(p.in_w));
            }
            for (var kw = 0u; kw < KW; kw++) {
                let wv = weights(blk, ci * taps + kh * KW + kw, share);
                for (var c = 0u; c < CH; c++) {
                    for (var j = 0u; j < PX; j++) {
                        (*acc)[c * PX + j] += wv[c] * xs[j * STRIDE + kw];
                    }
                }
            }
        }
    }
}

// forward: a = x, b = w, out = y. Thread = CH output channels × PX output pixels of one row,
// pixels fastest, so the invocations of a subgroup usually share one channel block.
@compute @workgroup_size(64)
fn forward(
    @builtin(workgroup_id) wid: vec3u,
    @builtin(num_workgroups) nwg: vec3u,
    @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_invocation_id) sid: u32,
    @builtin(subgroup_size) sg_size: u32,
) {
    let t_raw = thread_index(wid, nwg, lid, WG);
    let live = t_raw < out_blocks();
    let t = min(t_raw, out_blocks() - 1u); // no early return: every invocation takes part in the broadcasts
    let o = out_block(t, CH, PX);
    let g = o.g;
    let c0 = o.c0;
    let cb = g * p.blocks_a + c0 / CH; // the channel block

    let kvol = p.cin_g * p.k_h * KW;
    let last = p.cout_g - 1u;
    var blk: Block;
    for (var c = 0u; c < CH; c++) {
        blk.wrow[c] = (g * p.cout_g + min(c0 + c, last)) * kvol;
    }
    let lane = sid % 4u;
    blk.wlane[0] = (g * p.cout_g + min(c0 + lane, last)) * kvol;
    blk.wlane[1] = (g * p.cout_g + min(c0 + 4u + lane, last)) * kvol;
    blk.x_n = x_image(o);
    blk.ih0 = i32(o.oh * STRIDE) - i32(p.pad);
    blk.iw0 = i32(o.ow0 * STRIDE) - i32(p.pad);

    // Lanes 0..3 hold the weights of lane 0's block; use them only if that is everyone's block.
    let share = sg_size >= 4u && subgroupAll(subgroupBroadcast(cb, 0u) == cb);
    var acc: array<f32, 64>; // [c·PX + j]
    if share {
        accumulate(&acc, blk, true);
    } else {
        accumulate(&acc, blk, false);
    }

    if !live { return; }
    let out_plane = p.out_h * p.out_w;
    let y0 = u32(y_first(o));
    for (var c = 0u; c < CH; c++) {
        if c0 + c < p.cout_g {
            let yc = y0 + c * out_plane;
            for (var j = 0u; j < PX; j++) {
                if o.ow0 + j < p.out_w { out[yc + j] = acc[c * PX + j]; }
            }
        }
    }
}

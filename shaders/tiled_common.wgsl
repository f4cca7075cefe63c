// What the workgroup-tiled GEMM kernels share (conv2d_tiled.wgsl, linear_tiled.wgsl; concatenated
// before each of them, after the family's own prelude): one workgroup of 256 threads computes a
// 64×64 tile of C, staging A and B in steps of KT = 16 along K (two 16×64 arrays, 8 KB of
// workgroup memory) with a barrier before and after each step. Thread (tm, tn) = (lid / 16,
// lid % 16) keeps C rows 4·tm..4·tm+3 × columns 4·tn..4·tn+3 in registers and reads them from the
// staged tiles as vec4s.

const TILE: u32 = 64u; // C tile edge, along M and N
const KT: u32 = 16u;   // K elements staged per step

// Staged operands, k-major: tile_a[k·16 + m/4][m % 4] = A[m0 + m, k0 + k], likewise tile_b for B.
var<workgroup> tile_a: array<vec4f, 256>;
var<workgroup> tile_b: array<vec4f, 256>;

// The thread's 4×4 block of C: acc_i holds row 4·tm + i, columns 4·tn..4·tn+3.
var<private> acc0: vec4f;
var<private> acc1: vec4f;
var<private> acc2: vec4f;
var<private> acc3: vec4f;

// Where thread `lid` stages element j (0..3) of a 16×64 step, as (k, row). k fastest: 16 threads
// read 16 consecutive k of a row, each thread rows lid/16 + 16·j; otherwise (row fastest) 64
// threads read 64 consecutive rows, each thread k = lid/64 + 4·j. Either way neighbouring threads
// read neighbouring addresses when the operand is contiguous along k (or along rows).
fn staging_slot(lid: u32, j: u32, k_fastest: bool) -> vec2u {
    if k_fastest {
        return vec2u(lid % 16u, lid / 16u + 16u * j);
    }
    return vec2u(lid / 64u + 4u * j, lid % 64u);
}

fn put_a(slot: vec2u, v: f32) {
    tile_a[slot.x * 16u + slot.y / 4u][slot.y % 4u] = v;
}

fn put_b(slot: vec2u, v: f32) {
    tile_b[slot.x * 16u + slot.y / 4u][slot.y % 4u] = v;
}

fn clear_block() {
    acc0 = vec4f(0.0);
    acc1 = vec4f(0.0);
    acc2 = vec4f(0.0);
    acc3 = vec4f(0.0);
}

// After this thread has put its share of one K step: waits for the whole workgroup's, adds the step
// to the thread's block, and waits again before the tiles are overwritten. Every thread of the
// workgroup must call it.
fn multiply_staged(lid: u32) {
    workgroupBarrier();
    let tm = lid / 16u;
    let tn = lid % 16u;
    for (var k = 0u; k < KT; k++) {
        let av = tile_a[k * 16u + tm];
        let bv = tile_b[k * 16u + tn];
        acc0 = fma(vec4f(av.x), bv, acc0);
        acc1 = fma(vec4f(av.y), bv, acc1);
        acc2 = fma(vec4f(av.z), bv, acc2);
        acc3 = fma(vec4f(av.w), bv, acc3);
    }
    workgroupBarrier();
}

// Row i of the thread's block.
fn acc_row(i: u32) -> vec4f {
    switch i {
        case 0u: { return acc0; }
        case 1u: { return acc1; }
        case 2u: { return acc2; }
        default: { return acc3; }
    }
}

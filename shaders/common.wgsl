// Shared by every kernel file: the shader! macro in src/gpu/shaders.rs puts this text in front of
// each file's own. Large dispatches are a 2-D grid of workgroups (`gpu::context::grid` splits them
// over y to stay under 65535 per dimension); these turn a thread's place in it into one index.

// The linear index of a thread's workgroup in the grid.
fn workgroup_index(wid: vec3u, nwg: vec3u) -> u32 {
    return wid.x + wid.y * nwg.x;
}

// The linear index of a thread, in a grid of workgroups of `wg` threads.
fn thread_index(wid: vec3u, nwg: vec3u, lid: u32, wg: u32) -> u32 {
    return workgroup_index(wid, nwg) * wg + lid;
}


// Reads a safetensors file in node, as PyTorch's `safetensors` package would: an 8-byte
// little-endian header length, the JSON header (each tensor's dtype, shape and byte range, and the
// `__metadata__` strings), then the raw little-endian data. For the tests that check what the page
// exports and compare two runs' weights.

export function readSafetensors(bytes) {
  const buf = Buffer.from(bytes);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const data = buf.subarray(8 + n);
  const { __metadata__: metadata = {}, ...entries } = header;
  const tensors = {};
  for (const [name, { dtype, shape, data_offsets: [start, end] }] of Object.entries(entries)) {
    if (dtype !== 'F32') throw new Error(`${name}: dtype ${dtype}`);
    const raw = data.subarray(start, end);
    tensors[name] = { shape, values: Array.from({ length: raw.length / 4 }, (_, i) => raw.readFloatLE(4 * i)) };
  }
  return { metadata, tensors };
}

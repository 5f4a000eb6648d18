// umap-js peer for bench_projection / tests/projection/make_reference.py: UMAP of the float32 rows of a .npy
// file with umap-js's defaults (nNeighbors 15, minDist 0.1, spread 1, epochs by size) and a seeded
// Math.random replacement, so the run is repeatable.
//   node projection_peer.js vectors.npy layout.f32 [folder with node_modules/umap-js] [seed]
// Writes the layout as raw little-endian float32 [N, 2] and prints a JSON line with the timings.
'use strict';
const fs = require('fs');
const path = require('path');
const os = require('os');

const [input, output, prefix = path.join(os.homedir(), '.cache/loupe-bench'), seedArg = '42'] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node projection_peer.js vectors.npy layout.f32 [umap-js prefix] [seed]');
  process.exit(2);
}
const { UMAP } = require(path.join(prefix, 'node_modules', 'umap-js'));

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header))
    throw new Error(`${file}: expected little-endian float32 in C order, got ${header.trim()}`);
  const shape = header.match(/'shape':\s*\((\d+),\s*(\d+)\)/);
  if (!shape) throw new Error(`${file}: expected a 2-D array, got ${header.trim()}`);
  const [n, d] = [Number(shape[1]), Number(shape[2])];
  const values = new Float32Array(buf.buffer.slice(buf.byteOffset + start + headerLen,
                                                   buf.byteOffset + start + headerLen + n * d * 4));
  const rows = new Array(n);
  for (let i = 0; i < n; ++i) rows[i] = Array.from(values.subarray(i * d, (i + 1) * d));
  return rows;
}

// mulberry32: a small seeded generator in [0, 1).
function mulberry32(a) {
  return function () {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const t0 = process.hrtime.bigint();
const data = readNpy(input);
const t1 = process.hrtime.bigint();
const umap = new UMAP({ nComponents: 2, nNeighbors: 15, minDist: 0.1, spread: 1.0, random: mulberry32(Number(seedArg)) });
const layout = umap.fit(data);
const t2 = process.hrtime.bigint();
const out = new Float32Array(layout.length * 2);
layout.forEach((p, i) => { out[2 * i] = p[0]; out[2 * i + 1] = p[1]; });
fs.writeFileSync(output, Buffer.from(out.buffer));
console.log(JSON.stringify({ peer: 'umap-js', n: data.length, dims: data[0].length,
                             read_s: Number(t1 - t0) / 1e9, umap_s: Number(t2 - t1) / 1e9 }));

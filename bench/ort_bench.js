// ort_bench.js MODEL INPUT_DIR REPEAT - median latency of ONNX Runtime (CPU,
// 1 intra-op thread, all graph optimizations) on DIR/input_K.pb; prints
// "ort_ms <median>" and "ort_rss_kb <peak RSS of the node process>". Reads
// TensorProto files with a minimal protobuf decoder (dims, data_type,
// raw_data or float_data: what test_data_set files use).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function varint(buf, pos) {
  let v = 0n, shift = 0n;
  for (;;) {
    const b = buf[pos++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v, pos];
    shift += 7n;
  }
}

function readTensor(file) {
  const buf = fs.readFileSync(file);
  const dims = [];
  let type = 0, raw = null, floats = [];
  for (let pos = 0; pos < buf.length;) {
    let key;
    [key, pos] = varint(buf, pos);
    const field = Number(key >> 3n), wire = Number(key & 7n);
    if (wire === 0) {
      let v;
      [v, pos] = varint(buf, pos);
      if (field === 1) dims.push(Number(v));
      if (field === 2) type = Number(v);
    } else if (wire === 2) {
      let len;
      [len, pos] = varint(buf, pos);
      const body = buf.subarray(pos, pos + Number(len));
      pos += Number(len);
      if (field === 1) for (let p = 0; p < body.length;) { let v; [v, p] = varint(body, p); dims.push(Number(v)); }
      if (field === 9) raw = body;
      if (field === 4) for (let p = 0; p + 4 <= body.length; p += 4) floats.push(body.readFloatLE(p));
    } else if (wire === 5) {
      if (field === 4) floats.push(buf.readFloatLE(pos));
      pos += 4;
    } else if (wire === 1) {
      pos += 8;
    } else throw new Error(`${file}: unsupported wire type ${wire}`);
  }
  if (type !== 1) throw new Error(`${file}: only float32 inputs are supported here`);
  const data = raw ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length))
                   : Float32Array.from(floats);
  return new ort.Tensor('float32', data, dims);
}

(async () => {
  const [model, dir, repeatArg] = process.argv.slice(2);
  const repeat = Number(repeatArg || 10);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all'});
  const feeds = {};
  session.inputNames.forEach((name, k) => { feeds[name] = readTensor(path.join(dir, `input_${k}.pb`)); });
  await session.run(feeds); // warm-up
  const times = [];
  for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(`ort_ms ${times[Math.floor(repeat / 2)].toFixed(3)}`);
  console.log(`ort_rss_kb ${process.resourceUsage().maxRSS}`);
})().catch((e) => { console.error(`ort_bench: ${e.message}`); process.exit(1); });

import { expect } from 'chai';
import type { HostTensor } from '../../runtime/host-tensor.js';
import { ArgumentError, CheckpointError } from '../../compiler/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../../runtime/safetensors.js';

/** A file built by hand: 8-byte little-endian header length, the header text as given, then the data. */
function handBuilt(header: string, data: ArrayLike<number> = [], headerLength?: number): Uint8Array {
  const json = new TextEncoder().encode(header);
  const file = new Uint8Array(8 + json.length + data.length);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  file.set(json, 8);
  file.set(Array.from(data), 8 + json.length);
  return file;
}

/** Python-style byte string → bytes (the reference implementation's tests write their fixtures so). */
function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

const rawBytes = (t: HostTensor) => Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));

function expectDecodeError(file: Uint8Array, message: RegExp): void {
  expect(() => decodeSafetensors(file)).to.throw(CheckpointError, message);
}

describe('runtime/safetensors', () => {
  describe('round trip', () => {
    it('gives back every tensor bit for bit: NaN payloads, -0, infinities, subnormals, i32 extremes, bools, rank 0 and empty', () => {
      const f32 = new Float32Array(new Uint32Array([0x7fc00001, 0xffbfffff, 0x7f800001, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x3f800000]).buffer);
      const tensors: Record<string, HostTensor> = {
        'layer.w': { shape: [2, 4], dtype: 'f32', data: f32 },
        'optimizer.step': { shape: [], dtype: 'i32', data: Int32Array.from([-(2 ** 31)]) },
        counts: { shape: [3], dtype: 'i32', data: Int32Array.from([2 ** 31 - 1, -1, 0]) },
        mask: { shape: [5], dtype: 'bool', data: Uint8Array.from([1, 0, 0, 1, 1]) },
        empty: { shape: [0, 3], dtype: 'f32', data: new Float32Array(0) },
      };
      const { tensors: decoded, metadata } = decodeSafetensors(encodeSafetensors(tensors, { plan: 'mlp', note: 'ünïcode ✓' }));
      expect(metadata).to.deep.equal({ plan: 'mlp', note: 'ünïcode ✓' });
      expect(Object.keys(decoded).sort()).to.deep.equal(Object.keys(tensors).sort());
      for (const [name, tensor] of Object.entries(tensors)) {
        const back = decoded[name]!;
        expect(back.dtype, name).to.equal(tensor.dtype);
        expect(back.shape, name).to.deep.equal(tensor.shape);
        expect(back.data.constructor, name).to.equal(tensor.data.constructor);
        expect(rawBytes(back), name).to.deep.equal(rawBytes(tensor));
      }
    });

    it('copies values out: changing the decoded arrays leaves the file and other decodes alone', () => {
      const file = encodeSafetensors({ x: { shape: [2], dtype: 'f32', data: Float32Array.from([1, 2]) } });
      const first = decodeSafetensors(file).tensors['x']!;
      first.data[0] = 99;
      expect(Array.from(decodeSafetensors(file).tensors['x']!.data)).to.deep.equal([1, 2]);
    });

    it('reads a tensor that starts at an odd offset in a subarray of a larger buffer', () => {
      const file = encodeSafetensors({ x: { shape: [3], dtype: 'f32', data: Float32Array.from([0.5, -2, 7]) } });
      const padded = new Uint8Array(file.length + 3);
      padded.set(file, 3);
      expect(Array.from(decodeSafetensors(padded.subarray(3)).tensors['x']!.data)).to.deep.equal([0.5, -2, 7]);
    });
  });

  describe('compatibility with the format and its reference implementation', () => {
    // Expected bytes from the reference implementation's own tests (bindings/python/tests/test_simple.py).
    it('writes the same bytes as the reference implementation for one i32 tensor (header padded with spaces to 64)', () => {
      const file = encodeSafetensors({ test: { shape: [2, 2], dtype: 'i32', data: Int32Array.from([0, 0, 0, 1]) } });
      const expected = bytesOf(
        '@\x00\x00\x00\x00\x00\x00\x00{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}    ' +
          '\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00',
      );
      expect(Array.from(file)).to.deep.equal(Array.from(expected));
    });

    it('writes metadata first, as the reference implementation does', () => {
      const file = encodeSafetensors({ test1: { shape: [2, 2], dtype: 'i32', data: new Int32Array(4) } }, { framework: 'pt' });
      const expected = bytesOf(
        '`\x00\x00\x00\x00\x00\x00\x00{"__metadata__":{"framework":"pt"},"test1":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}} ' +
          '\x00'.repeat(16),
      );
      expect(Array.from(file)).to.deep.equal(Array.from(expected));
    });

    it('lays tensors out widest dtype first, then by name, whatever the order given', () => {
      const tensors: Record<string, HostTensor> = {
        b_mask: { shape: [3], dtype: 'bool', data: Uint8Array.from([1, 0, 1]) },
        z_count: { shape: [1], dtype: 'i32', data: Int32Array.from([7]) },
        a_count: { shape: [1], dtype: 'i32', data: Int32Array.from([8]) },
        w: { shape: [2], dtype: 'f32', data: Float32Array.from([1, 2]) },
      };
      const file = encodeSafetensors(tensors);
      const headerLength = Number(new DataView(file.buffer).getBigUint64(0, true));
      expect(headerLength % 8).to.equal(0);
      const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength))) as Record<string, { data_offsets: number[] }>;
      expect(Object.keys(header)).to.deep.equal(['w', 'a_count', 'z_count', 'b_mask']);
      expect(Object.values(header).map((t) => t.data_offsets)).to.deep.equal([[0, 8], [8, 12], [12, 16], [16, 19]]);
      const reversed = Object.fromEntries(Object.entries(tensors).reverse());
      expect(Array.from(encodeSafetensors(reversed))).to.deep.equal(Array.from(file));
    });

    it('reads a hand-written file with an unpadded header and the values where the offsets say', () => {
      const file = handBuilt('{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}', [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]);
      const { tensors, metadata } = decodeSafetensors(file);
      expect(metadata).to.deep.equal({});
      expect(tensors['test']).to.deep.equal({ shape: [2, 2], dtype: 'i32', data: Int32Array.from([1, 2, 3, 4]) });
    });

    it('reads tensors listed out of data order, a BOOL scalar and little-endian f32 bytes', () => {
      const header = '{"b":{"dtype":"F32","shape":[1],"data_offsets":[1,5]},"__metadata__":{"format":"pt"},"a":{"dtype":"BOOL","shape":[],"data_offsets":[0,1]}}  ';
      const file = handBuilt(header, [1, 0x00, 0x00, 0xc0, 0xbf]);
      const { tensors, metadata } = decodeSafetensors(file);
      expect(metadata).to.deep.equal({ format: 'pt' });
      expect(tensors['a']).to.deep.equal({ shape: [], dtype: 'bool', data: Uint8Array.from([1]) });
      expect(Array.from(tensors['b']!.data)).to.deep.equal([-1.5]);
    });
  });

  describe('malformed files are rejected with a CheckpointError saying what is wrong', () => {
    const tensor = (dtype: string, shape: number[], offsets: number[]) => JSON.stringify({ dtype, shape, data_offsets: offsets });

    it('a file shorter than the 8-byte header length', () => {
      expectDecodeError(new Uint8Array(5), /truncated file: 5 bytes.*8-byte header length/);
    });

    it('a header length past the end of the file', () => {
      expectDecodeError(handBuilt('{}', [], 4000), /header length 4000 runs past the end of the file \(2 bytes follow it\)/);
    });

    it('a header that is not a JSON object', () => {
      expectDecodeError(handBuilt('[1, 2]   '), /must be a JSON object starting with '\{'/);
      expectDecodeError(handBuilt('{"a": '), /not valid JSON/);
      expectDecodeError(handBuilt(''), /must be a JSON object starting/);
    });

    it('a header that is not UTF-8', () => {
      const file = handBuilt('{}  ');
      file[9] = 0xff;
      expectDecodeError(file, /not valid UTF-8/);
    });

    it('a dtype kiln does not have, or one the format does not define', () => {
      expectDecodeError(handBuilt(`{"h":${tensor('F16', [2], [0, 4])}}`, [0, 0, 0, 0]), /tensor 'h': dtype F16 is not supported; kiln reads F32, I32 and BOOL/);
      expectDecodeError(handBuilt(`{"q":${tensor('Q8', [2], [0, 2])}}`, [0, 0]), /tensor 'q': unknown dtype "Q8"/);
    });

    it('a byte range whose size does not match the dtype and shape', () => {
      expectDecodeError(handBuilt(`{"w":${tensor('F32', [2, 3], [0, 20])}}`, new Array(20).fill(0)), /tensor 'w': F32\[2,3\] needs 24 bytes, but data_offsets \[0, 20\] hold 20/);
    });

    it('a bad shape or bad offsets', () => {
      expectDecodeError(handBuilt(`{"w":${tensor('F32', [-1], [0, 0])}}`), /tensor 'w': shape must be an array of non-negative integers, got \[-1\]/);
      expectDecodeError(handBuilt(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4]}}`, [0, 0, 0, 0]), /tensor 'w': data_offsets must be two non-negative integers/);
      expectDecodeError(handBuilt(`{"w":${tensor('F32', [0], [4, 0])}}`, [0, 0, 0, 0]), /data_offsets \[4, 0\] end before they begin/);
      expectDecodeError(handBuilt(`{"w":"F32"}`), /tensor 'w': its entry must be an object/);
    });

    it('overlapping byte ranges', () => {
      const header = `{"a":${tensor('F32', [2], [0, 8])},"b":${tensor('F32', [2], [4, 12])}}`;
      expectDecodeError(handBuilt(header, new Array(12).fill(0)), /data_offsets of 'b' \[4, 12\] overlap 'a' \[0, 8\]/);
    });

    it('byte ranges past the end of the data (a truncated file)', () => {
      expectDecodeError(handBuilt(`{"a":${tensor('F32', [4], [0, 16])}}`, new Array(12).fill(0)), /data_offsets of 'a' \[0, 16\] run past the end of the data \(12 bytes\); the file is truncated/);
    });

    it('bytes that belong to no tensor, between tensors or after the last', () => {
      expectDecodeError(handBuilt(`{"a":${tensor('I32', [1], [4, 8])}}`, new Array(8).fill(0)), /bytes \[0, 4\] of the data belong to no tensor \(before 'a' \[4, 8\]\)/);
      expectDecodeError(handBuilt(`{"a":${tensor('I32', [1], [0, 4])}}`, new Array(8).fill(0)), /bytes \[4, 8\] of the data belong to no tensor/);
    });

    it('metadata that is not an object of strings', () => {
      expectDecodeError(handBuilt('{"__metadata__":{"epoch":3}}'), /__metadata__\.epoch must be a string, got 3/);
      expectDecodeError(handBuilt('{"__metadata__":[]}'), /__metadata__ must be an object of strings/);
    });

    it('a BOOL byte other than 0 or 1', () => {
      expectDecodeError(handBuilt(`{"m":${tensor('BOOL', [3], [0, 3])}}`, [0, 1, 2]), /tensor 'm': BOOL element 2 is 2; BOOL bytes must be 0 or 1/);
    });
  });

  describe('encoding checks its tensors', () => {
    it('rejects data whose length does not match the shape, naming the tensor', () => {
      const bad = { w: { shape: [2, 2], dtype: 'f32', data: new Float32Array(3) } } as const;
      expect(() => encodeSafetensors(bad)).to.throw(CheckpointError, /tensor 'w': shape \[2,2\] has 4 elements, but data has 3/);
    });

    it('rejects a typed array of the wrong kind, a bool other than 0/1, an unknown dtype, a reserved name and non-string metadata', () => {
      expect(() => encodeSafetensors({ w: { shape: [1], dtype: 'f32', data: new Int32Array(1) } })).to.throw(CheckpointError, /f32 data must be a Float32Array, got Int32Array/);
      expect(() => encodeSafetensors({ m: { shape: [2], dtype: 'bool', data: Uint8Array.from([0, 5]) } })).to.throw(CheckpointError, /bool element 1 is 5/);
      const f16 = { shape: [1], dtype: 'f16', data: new Float32Array(1) } as unknown as HostTensor;
      expect(() => encodeSafetensors({ h: f16 })).to.throw(CheckpointError, /tensor 'h': unknown dtype "f16"/);
      expect(() => encodeSafetensors({ __metadata__: { shape: [], dtype: 'f32', data: new Float32Array(1) } })).to.throw(CheckpointError, /reserved for metadata/);
      const metadata = { epoch: 3 } as unknown as Record<string, string>;
      expect(() => encodeSafetensors({}, metadata)).to.throw(CheckpointError, /metadata 'epoch' must be a string/);
    });

    it('encodes no tensors as an empty header', () => {
      const file = encodeSafetensors({});
      expect(Array.from(file)).to.deep.equal(Array.from(bytesOf('\x08\x00\x00\x00\x00\x00\x00\x00{}      ')));
      expect(decodeSafetensors(file)).to.deep.equal({ tensors: {}, metadata: {} });
    });
  });

  it('rejects decode options that are not an object or name an unknown key, as the other option checks do', () => {
    const file = encodeSafetensors({});
    expect(() => decodeSafetensors(file, { skip: true } as never)).to.throw(ArgumentError, "decodeSafetensors: unknown option 'skip'. Options: skipUnsupported.");
    expect(() => decodeSafetensors(file, null as never)).to.throw(ArgumentError, 'decodeSafetensors: options must be an object ({skipUnsupported}), got null.');
  });
});

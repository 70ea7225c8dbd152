/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11):
 * a counter-based generator. Any element's random bits are a pure function of
 * (key, counter), so the same values can be produced on the CPU here and in a WGSL
 * kernel later, in any order and in parallel, identically in Node and the browser.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two u32 values. */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lo = aLo * bLo;
  const mid1 = aHi * bLo;
  const mid2 = aLo * bHi;
  const carry = ((lo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/** One Philox4x32-10 block: four u32 outputs for a 128-bit counter and a 64-bit key. */
export function philox4x32(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((v) => v >>> 0) as [number, number, number, number];
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** FNV-1a hash of a string to u32: turns a parameter's name into part of its key. */
export function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** u32 → float in [0, 1) with 24 random bits (exactly representable in f32). */
export function toUnitFloat(bits: number): number {
  return (bits >>> 8) * 2 ** -24;
}

/** `count` u32 values of the stream with this key: element i is word i % 4 of block i / 4. */
export function randomBits(key: readonly [number, number], count: number): Uint32Array {
  const out = new Uint32Array(count);
  for (let block = 0; block * 4 < count; block++) {
    const words = philox4x32([block, 0, 0, 0], key);
    for (let w = 0; w < 4 && block * 4 + w < count; w++) out[block * 4 + w] = words[w]!;
  }
  return out;
}

/** `count` uniform floats in [0, 1). */
export function randomUniform(key: readonly [number, number], count: number): Float64Array {
  const bits = randomBits(key, count);
  return Float64Array.from(bits, toUnitFloat);
}

/**
 * `count` standard normal floats by Box–Muller over pairs of uniforms (the first of a
 * pair is shifted to (0, 1] so its log is finite).
 */
export function randomNormal(key: readonly [number, number], count: number): Float64Array {
  const bits = randomBits(key, 2 * Math.ceil(count / 2));
  const out = new Float64Array(count);
  for (let i = 0; i < count; i += 2) {
    const u1 = ((bits[i]! >>> 8) + 1) * 2 ** -24;
    const u2 = toUnitFloat(bits[i + 1]!);
    const radius = Math.sqrt(-2 * Math.log(u1));
    out[i] = radius * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/**
 * A tiny end-to-end GPU check shared by the Node (Dawn) and browser tests: upload x,
 * run a real WGSL compute shader computing y[i] = x[i] * 2 + 1 over several workgroups,
 * read y back. Every value is exact in f32, so results compare with `===`.
 */

export const AFFINE_WORKGROUP_SIZE = 64;

const AFFINE_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(${AFFINE_WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  // The last workgroup runs past the end when the length is not a multiple of 64.
  if (id.x < arrayLength(&y)) {
    y[id.x] = x[id.x] * 2.0 + 1.0;
  }
}
`;

/** Inputs with a fractional part and both signs, all exactly representable. */
export function affineInput(length: number): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length }, (_, i) => (i - 500) + 0.25 * (i % 4));
}

/** What the shader must produce, computed on the CPU in f32. */
export function affineExpected(x: Float32Array): Float32Array {
  return x.map((v) => Math.fround(v * 2 + 1));
}

/** Runs the shader on `device` and returns y. */
export async function runAffineKernel(device: GPUDevice, x: Float32Array<ArrayBuffer>): Promise<Float32Array> {
  const bytes = x.byteLength;
  const input = device.createBuffer({ label: 'x', size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const output = device.createBuffer({ label: 'y', size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ label: 'y readback', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(input, 0, x);

  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: 'affine', code: AFFINE_WGSL });
  const pipeline = await device.createComputePipelineAsync({ label: 'affine', layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: input } },
      { binding: 1, resource: { buffer: output } },
    ],
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.ceil(x.length / AFFINE_WORKGROUP_SIZE));
  pass.end();
  encoder.copyBufferToBuffer(output, 0, readback, 0, bytes);
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  if (error) throw new Error(`affine kernel: ${error.message}`);

  await readback.mapAsync(GPUMapMode.READ);
  const y = new Float32Array(readback.getMappedRange().slice(0));
  readback.unmap();
  for (const buffer of [input, output, readback]) buffer.destroy();
  return y;
}

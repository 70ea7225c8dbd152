import { expect } from 'chai';
import { DeviceLimitError } from '../../compiler/errors.js';
import type { PlanLimits } from '../../compiler/plan-check.js';
import { PlanError } from '../../compiler/errors.js';
import { checkPlanFitsDevice, validatePlan } from '../../compiler/plan-check.js';
import type { Plan, PlanBinding, PlanKernel } from '../../compiler/plan-format.js';
import { scalePlan } from '../scale-plan.js';

const DELETE = Symbol('delete');

/** The plan with the field at a dotted path (`buffers.1.role`; '' for the whole plan) set to `value`, or deleted. */
function corrupted(path: string, value: unknown): unknown {
  if (path === '') return value;
  const plan = scalePlan() as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let parent = plan as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  if (value === DELETE) delete parent[keys.at(-1)!];
  else parent[keys.at(-1)!] = value;
  return plan;
}

/** [what is corrupted, where, the bad value, the message expected]. */
const cases: readonly (readonly [string, string, unknown, RegExp])[] = [
  ['the plan is not an object', '', null, /invalid plan: plan: expected an object, got null/],
  ['the plan is an array', '', [], /plan: expected an object, got an array/],
  ['format', 'format', 'onnx', /format: expected 'kiln-plan', got "onnx"/],
  ['a version from the future', 'version', 4, /version: expected 3, got 4/],
  ['a version that is not a number', 'version', '3', /version: expected 3, got "3"/],
  ['name', 'name', DELETE, /name: must be a string/],
  ['buffers', 'buffers', {}, /buffers: must be an array/],
  ['kernels', 'kernels', null, /kernels: must be an array/],
  ['entries', 'entries', [], /entries: must be an object/],
  ['a buffer that is not an object', 'buffers.1', 7, /buffers\[1\]: must be an object/],
  ['buffer id', 'buffers.2.id', 5, /buffers\[2\]\.id: 5 does not match its position 2/],
  ['buffer name', 'buffers.0.name', 3, /buffers\[0\]\.name: must be a string/],
  ['buffer role', 'buffers.1.role', 'weight', /buffers\[1\]\.role: unknown role "weight"/],
  ['buffer dtype', 'buffers.1.dtype', 'f16', /buffers\[1\]\.dtype: unknown dtype "f16" \(f32, i32 or bool\)/],
  ['buffer shape', 'buffers.1.shape', [3, -1], /buffers\[1\]\.shape\[1\]: must be a non-negative integer or a symbolic size such as "784\*batch", got -1/],
  ['buffer shape of non-integers', 'buffers.1.shape', [1.5], /buffers\[1\]\.shape\[0\]: must be a non-negative integer or a symbolic size/],
  ['buffer bytes too small', 'buffers.1.bytes', 8, /buffers\[1\]\.bytes: 8 cannot hold 3 elements/],
  ['buffer bytes not a multiple of 4', 'buffers.1.bytes', 13, /buffers\[1\]\.bytes: 13 cannot hold/],
  ['const data count', 'buffers.3.data', [1, 2], /buffers\[3\]\.data: must be 1 or 1 numbers/],
  ['const data of non-numbers (NaN written to JSON becomes null)', 'buffers.3.data', [null], /buffers\[3\]\.data: must be 1 or 1 numbers/],
  ['a const without data', 'buffers.3.data', DELETE, /buffers\[3\]\.data: a const buffer needs data/],
  ['data on a buffer that is not const', 'buffers.1.data', [1], /buffers\[1\]\.data: only const buffers carry data/],
  ['a kernel that is not an object', 'kernels.1', 'k', /kernels\[1\]: must be an object/],
  ['kernel name', 'kernels.1.name', 1, /kernels\[1\] \(1\)\.name: must be a string/],
  ['kernel wgsl', 'kernels.1.wgsl', DELETE, /kernels\[1\] \(k2_mul\)\.wgsl: must be a string/],
  ['kernel bindings', 'kernels.1.bindings', 0, /kernels\[1\] \(k2_mul\)\.bindings: must be an array of \{buffer, access\}/],
  ['a kernel binding that is a bare buffer id (version 1)', 'kernels.1.bindings.1', 1, /kernels\[1\] \(k2_mul\)\.bindings\[1\]: must be an object \{buffer, access\}, got 1/],
  ['a kernel binding of a buffer that does not exist', 'kernels.1.bindings.3.buffer', 9, /kernels\[1\] \(k2_mul\)\.bindings\[3\]\.buffer: buffer id 9 does not exist \(the plan has 6 buffers\)/],
  ['a kernel binding with an unknown access', 'kernels.1.bindings.1.access', 'write', /kernels\[1\] \(k2_mul\)\.bindings\[1\]\.access: unknown access "write" \(read or read_write\)/],
  ['a kernel binding without its access', 'kernels.1.bindings.1.access', DELETE, /kernels\[1\] \(k2_mul\)\.bindings\[1\]\.access: unknown access undefined \(read or read_write\)/],
  ['kernel workgroups', 'kernels.1.workgroups', [1, 1], /kernels\[1\] \(k2_mul\)\.workgroups: must be three workgroup counts, got \[1,1\]/],
  ['kernel workgroup size', 'kernels.1.workgroupSize', [64, 1], /kernels\[1\] \(k2_mul\)\.workgroupSize: must be three positive integers, got \[64,1\]/],
  ['a kernel workgroup size of 0', 'kernels.1.workgroupSize', [0, 1, 1], /kernels\[1\] \(k2_mul\)\.workgroupSize: must be three positive integers, got \[0,1,1\]/],
  ['a kernel without its workgroup size', 'kernels.1.workgroupSize', DELETE, /kernels\[1\] \(k2_mul\)\.workgroupSize: must be three positive integers, got undefined/],
  ['a kernel without its workgroup storage', 'kernels.1.workgroupStorageBytes', DELETE, /kernels\[1\] \(k2_mul\)\.workgroupStorageBytes: must be a non-negative integer, got undefined/],
  ['a workgroup storage of non-integer bytes', 'kernels.1.workgroupStorageBytes', 2.5, /kernels\[1\] \(k2_mul\)\.workgroupStorageBytes: must be a non-negative integer, got 2\.5/],
  ['kernel nodes', 'kernels.1.nodes', ['%2'], /kernels\[1\] \(k2_mul\)\.nodes: must be an array of node ids/],
  ['kernel ops', 'kernels.1.ops', [2], /kernels\[1\] \(k2_mul\)\.ops: must be an array of op names/],
  ['kernel nodes and ops of different lengths', 'kernels.1.ops', ['mul'], /kernels\[1\] \(k2_mul\): has 2 nodes but 1 ops/],
  ['an entry that is not an object', 'entries.forward', 1, /entries\.forward: must be an object/],
  ['entry inputs', 'entries.forward.inputs', DELETE, /entries\.forward\.inputs: must be an object of buffer ids/],
  ['an entry input of a buffer that does not exist', 'entries.forward.inputs.x', 12, /entries\.forward\.inputs\.x: buffer id 12 does not exist/],
  ['an entry input that is not an input buffer', 'entries.forward.inputs.x', 1, /entries\.forward\.inputs\.x: buffer #1 \(w\) has role param, not input/],
  ['entry outputs', 'entries.forward.outputs', [2], /entries\.forward\.outputs: must be an object of buffer ids/],
  ['an entry output of a buffer that does not exist', 'entries.forward.outputs.y', -1, /entries\.forward\.outputs\.y: buffer id -1 does not exist/],
  ['entry output shapes', 'entries.forward.outputShapes', [[3]], /entries\.forward\.outputShapes: must be an object of shapes/],
  ['the shape of an output that does not exist', 'entries.forward.outputShapes', { z: [3] }, /entries\.forward\.outputShapes\.z: is not an output of this entry/],
  ['an output shape naming an unknown dim', 'entries.forward.outputShapes', { y: [1, 'x'] }, /entries\.forward\.outputShapes\.y\[1\]: size 'x' names dim 'x', which is not one of the plan's dims \(none\)/],
  ['an output shape with another element count', 'entries.forward.outputShapes', { y: [2, 2] }, /entries\.forward\.outputShapes\.y: \[2,2\] does not have the elements of buffer #2 \(%2, \[3\]\)/],
  ['entry dispatches', 'entries.forward.dispatches', {}, /entries\.forward\.dispatches: must be an array of kernel indices/],
  ['a dispatch of a kernel that does not exist', 'entries.forward.dispatches', [0, 2], /entries\.forward\.dispatches\[1\]: kernel 2 does not exist \(the plan has 2 kernels\)/],
  ['entry copies', 'entries.trainStep.copies', DELETE, /entries\.trainStep\.copies: must be an array of \{from, to\}/],
  ['a copy that is not an object', 'entries.trainStep.copies', [[2, 1]], /entries\.trainStep\.copies\[0\]: must be an object \{from, to\}/],
  ['a copy from a buffer that does not exist', 'entries.trainStep.copies.0.from', 40, /entries\.trainStep\.copies\[0\]\.from: buffer id 40 does not exist/],
  ['a copy into a buffer that is not a param or state', 'entries.trainStep.copies.0.to', 0, /entries\.trainStep\.copies\[0\]\.to: buffer #0 \(x\) has role input, not param or state/],
  ['a copy between buffers of different sizes', 'entries.trainStep.copies.0', { from: 3, to: 1 }, /entries\.trainStep\.copies\[0\]: #3 \(%3, 4 bytes\) and #1 \(w, 12 bytes\) differ in size/],
  [
    'a copy reading a slot another copy writes (the result would depend on their order)',
    'entries.trainStep.copies.1',
    { from: 1, to: 1 },
    /entries\.trainStep\.copies\[1\]\.from: buffer #1 is also written by a copy of this entry/,
  ],
  ['the limits it was compiled for, missing', 'limits', DELETE, /limits: must be the device limits the plan was compiled for \(\{maxComputeWorkgroupsPerDimension, .*\}\), got undefined/],
  ['a recorded limit kiln does not compile for', 'limits.maxTextureDimension2D', 8192, /limits\.maxTextureDimension2D: is not a limit kiln compiles for/],
  ['a recorded limit that is not a positive integer', 'limits.maxStorageBuffersPerShaderStage', 0, /limits\.maxStorageBuffersPerShaderStage: must be a positive integer, got 0/],
  ['a missing init entry', 'entries.init', DELETE, /entries: the 'init' entry is missing/],
  ['an init entry with inputs', 'entries.init.inputs', { x: 0 }, /entries\.init\.inputs: init takes no inputs/],
];

describe('compiler/plan-check', () => {
  it('accepts a valid plan, and the same plan after a JSON round trip', () => {
    const plan = scalePlan();
    expect(() => validatePlan(plan)).not.to.throw();
    expect(() => validatePlan(JSON.parse(JSON.stringify(plan)))).not.to.throw();
  });

  describe('rejects a corrupted plan with a PlanError naming the field', () => {
    for (const [what, path, value, message] of cases) {
      it(what, () => {
        const plan = corrupted(path, value);
        expect(() => validatePlan(plan)).to.throw(PlanError, message);
        expect(() => validatePlan(plan)).to.throw(/The plan is corrupted or was hand-edited; recompile it with compile\(\)\./);
      });
    }
  });

  it('tells a plan of version 1 apart from a corrupted one: it was written by an older kiln and must be recompiled', () => {
    const old = { ...scalePlan(), version: 1, kernels: scalePlan().kernels.map(({ workgroupSize: _, ...k }) => ({ ...k, bindings: k.bindings.map((b) => b.buffer) })) };
    expect(() => validatePlan(old)).to.throw(PlanError, /^plan version 1 was written by an older kiln \(this one reads version 3: sizes may be symbolic in the plan's dims, and kernels record their bindings as \{buffer, access\} and their workgroupSize\)\. Recompile it with compile\(\)\.$/);
  });

  describe("cross-checks a kernel's WGSL against its bindings and workgroup size, naming the kernel and binding", () => {
    /** scalePlan with kernel `k` changed by `edit`. */
    const withKernel = (k: number, edit: (kernel: PlanKernel) => PlanKernel): Plan => {
      const plan = scalePlan();
      return { ...plan, kernels: plan.kernels.map((kernel, i) => (i === k ? edit(kernel) : kernel)) };
    };
    const editWgsl = (k: number, edit: (wgsl: string) => string): Plan => withKernel(k, (kernel) => ({ ...kernel, wgsl: edit(kernel.wgsl) }));
    const rebind = (k: number, b: number, binding: PlanBinding): Plan => withKernel(k, (kernel) => ({ ...kernel, bindings: kernel.bindings.map((old, i) => (i === b ? binding : old)) }));
    /** k2_mul with every binding read-only, in the WGSL and the plan. */
    const readOnly = (plan: Plan): Plan => ({
      ...plan,
      kernels: plan.kernels.map((kernel, i) => (i === 1 ? { ...kernel, wgsl: kernel.wgsl.replaceAll('read_write', 'read'), bindings: kernel.bindings.map((b) => ({ ...b, access: 'read' as const })) } : kernel)),
    });
    const rejected: readonly (readonly [string, Plan, RegExp])[] = [
      [
        'a binding the WGSL declares and the plan does not bind',
        editWgsl(1, (wgsl) => `${wgsl}\n@group(0) @binding(4) var<storage, read> b4: array<f32>;`),
        /kernels\[1\] \(k2_mul\)\.wgsl: declares @binding\(4\) \(b4\), which the plan does not bind \(it binds 4 buffers, @binding\(0\) to @binding\(3\)\)/,
      ],
      [
        'a plan binding the WGSL does not declare',
        withKernel(1, (kernel) => ({ ...kernel, bindings: [...kernel.bindings, { buffer: 5, access: 'read' }] })),
        /kernels\[1\] \(k2_mul\)\.bindings\[4\]: buffer #5 \(step\) is bound at @binding\(4\), which the WGSL does not declare/,
      ],
      ['a binding declared twice', editWgsl(1, (wgsl) => wgsl.replace('@binding(3)', '@binding(2)')), /kernels\[1\] \(k2_mul\)\.wgsl: declares @binding\(2\) twice \(b2 and b3\)/],
      [
        'a read_write declaration of a binding the plan says is read',
        rebind(1, 1, { buffer: 1, access: 'read' }),
        /kernels\[1\] \(k2_mul\)\.bindings\[1\]: is var<storage, read> in the plan but the WGSL declares @binding\(1\) as var<storage, read_write> b1/,
      ],
      [
        'a read declaration of a binding the plan says is read_write',
        editWgsl(1, (wgsl) => wgsl.replace('var<storage, read_write> b2', 'var<storage> b2')),
        /kernels\[1\] \(k2_mul\)\.bindings\[2\]: is var<storage, read_write> in the plan but the WGSL declares @binding\(2\) as var<storage, read> b2/,
      ],
      [
        'a uniform declaration',
        editWgsl(1, (wgsl) => wgsl.replace('var<storage, read_write> b1: array<f32>', 'var<uniform> b1: vec4f')),
        /kernels\[1\] \(k2_mul\)\.bindings\[1\]: is var<storage, read_write> in the plan but the WGSL declares @binding\(1\) as var<uniform> b1/,
      ],
      ['a bind group other than 0', editWgsl(0, (wgsl) => wgsl.replace('@group(0)', '@group(1)')), /kernels\[0\] \(init_1_w\)\.wgsl: declares @group\(1\) @binding\(0\) var b0; kernels use group 0, and group 1 only for the size block/],
      ['a bind group other than 0, attributes in the other order', editWgsl(0, (wgsl) => wgsl.replace('@group(0) @binding(0)', '@binding(0) @group(2)')), /kernels\[0\] \(init_1_w\)\.wgsl: declares @group\(2\) @binding\(0\) var b0; kernels use group 0, and group 1 only for the size block/],
      [
        'a binding without a literal index',
        editWgsl(0, (wgsl) => wgsl.replace('@binding(0)', '@binding(slot)')),
        /kernels\[0\] \(init_1_w\)\.wgsl: declares @group\(0\) @binding\(slot\) var b0; every binding needs a literal @group\(0\) and @binding\(i\)/,
      ],
      [
        'one buffer bound twice, once read_write (WebGPU forbids writable aliasing)',
        rebind(1, 3, { buffer: 0, access: 'read_write' }),
        /kernels\[1\] \(k2_mul\)\.bindings\[3\]: binds buffer #0 \(x\) again \(also @binding\(0\)\), and one of the two is read_write: WebGPU forbids a writable binding that aliases another/,
      ],
      [
        'a workgroup size other than the WGSL declares',
        editWgsl(1, (wgsl) => `${wgsl}\n@compute @workgroup_size(32)\nfn main() {}`),
        /kernels\[1\] \(k2_mul\)\.workgroupSize: is \[64, 1, 1\] but the WGSL declares @workgroup_size\(32, 1, 1\)/,
      ],
      [
        'workgroup storage the plan does not record',
        editWgsl(1, (wgsl) => `${wgsl}\nvar<workgroup> partial: array<f32, 5>;`),
        /kernels\[1\] \(k2_mul\)\.workgroupStorageBytes: is 0 but the WGSL declares 32 bytes of workgroup storage/,
      ],
      [
        'more workgroup storage recorded than the WGSL declares',
        withKernel(1, (kernel) => ({ ...kernel, wgsl: `${kernel.wgsl}\nvar<workgroup> partial: array<f32, 64>;`, workgroupStorageBytes: 512 })),
        /kernels\[1\] \(k2_mul\)\.workgroupStorageBytes: is 512 but the WGSL declares 256 bytes of workgroup storage/,
      ],
      [
        'workgroup memory the checker cannot size',
        withKernel(1, (kernel) => ({ ...kernel, wgsl: `struct S { a: f32 }\n${kernel.wgsl}\nvar<workgroup> s: S;`, workgroupStorageBytes: 16 })),
        /kernels\[1\] \(k2_mul\)\.workgroupStorageBytes: is 16 but the WGSL declares workgroup variables of a type the plan checker cannot size/,
      ],
    ];
    for (const [what, plan, message] of rejected) {
      it(`rejects ${what}`, () => {
        expect(() => validatePlan(plan)).to.throw(PlanError, message);
        expect(() => validatePlan(JSON.parse(JSON.stringify(plan)))).to.throw(PlanError, /The plan is corrupted or was hand-edited; recompile it with compile\(\)\.$/);
      });
    }

    const accepted: readonly (readonly [string, Plan])[] = [
      ['one buffer bound twice, both read', readOnly(rebind(1, 3, { buffer: 0, access: 'read' }))],
      ['a declaration in a comment (it declares nothing)', editWgsl(1, (wgsl) => `${wgsl}\n// @group(0) @binding(4) var<storage, read> b4: array<f32>;\n/* @group(1) @binding(0) var<uniform> u: f32; */`)],
      ['the workgroup size the WGSL declares', editWgsl(1, (wgsl) => `${wgsl}\n@compute @workgroup_size(64u, 1)\nfn main() {}`)],
      ['a workgroup size the WGSL spells with an override (the pipeline checks it)', editWgsl(1, (wgsl) => `override size = 32u;\n${wgsl}\n@compute @workgroup_size(size)\nfn main() {}`)],
      ['attributes in either order and spacing', editWgsl(0, (wgsl) => wgsl.replace('@group(0) @binding(0) var<storage, read_write>', '@binding( 0 ) @group(0)\nvar < storage , read_write >'))],
    ];
    for (const [what, plan] of accepted) {
      it(`accepts ${what}`, () => {
        expect(() => validatePlan(plan)).not.to.throw();
      });
    }
  });

  describe('checkPlanFitsDevice', () => {
    const limits: PlanLimits = {
      maxComputeWorkgroupsPerDimension: 65535,
      maxStorageBuffersPerShaderStage: 8,
      maxStorageBufferBindingSize: 1 << 27,
      maxBufferSize: 1 << 28,
    };
    const plan = scalePlan;

    it('accepts a plan within the limits', () => {
      expect(() => checkPlanFitsDevice(plan(), limits)).not.to.throw();
    });

    it('rejects a kernel with more workgroups than the device dispatches, naming the kernel and the fix', () => {
      expect(() => checkPlanFitsDevice(plan(), { ...limits, maxComputeWorkgroupsPerDimension: 0 })).to.throw(
        DeviceLimitError,
        /^plan 'scale': kernel init_1_w dispatches \[1, 1, 1\] workgroups, over this device's maxComputeWorkgroupsPerDimension of 0\. The plan was compiled for WebGPU's default limits, and this device is below them \(maxComputeWorkgroupsPerDimension 0\): compile with this device's limits: compile\(graph, \{limits: device\.limits\}\)\.$/,
      );
    });

    it('rejects a kernel that binds more storage buffers than the device allows', () => {
      expect(() => checkPlanFitsDevice(plan(), { ...limits, maxStorageBuffersPerShaderStage: 3 })).to.throw(
        DeviceLimitError,
        /kernel k2_mul binds 4 storage buffers, over this device's maxStorageBuffersPerShaderStage of 3/,
      );
    });

    it('rejects a buffer larger than the device can bind', () => {
      expect(() => checkPlanFitsDevice(plan(), { ...limits, maxBufferSize: 8 })).to.throw(
        DeviceLimitError,
        /buffer #0 \(x\) needs 12 bytes, over this device's storage-buffer limit of 8/,
      );
    });
  });
});

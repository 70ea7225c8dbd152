import { expect } from 'chai';
import { Graph } from '../../../compiler/graph.js';
import { matmul } from '../../../compiler/ops/matmul.js';
import { compile } from '../../../compiler/plan.js';
import type { MatmulShape, TuningTable } from '../../../compiler/codegen/tuning.js';
import {
  DEFAULT_MATMUL_VARIANT,
  DEFAULT_TUNED_CLASSES,
  LARGE_MATMUL_VARIANT,
  MATMUL_CANDIDATES,
  checkTuningTable,
  defaultVariantFor,
  matmulShapeClass,
  matmulVariantFor,
  parseVariant,
  reduceShapeClass,
  reduceStrategyFor,
  variantName,
} from '../../../compiler/codegen/tuning.js';
import { sum } from '../../../compiler/ops/reduce.js';
import { DEFAULT_LIMITS } from '../../../compiler/codegen/wgsl.js';
import { ArgumentError } from '../../../compiler/errors.js';

const shape = (m: number, k: number, n: number, layout = 'nn', batch = 1): MatmulShape => ({
  m,
  k,
  n,
  batch,
  transposeA: layout[0] === 't',
  transposeB: layout[1] === 't',
});

const table = (matmul: TuningTable['matmul']): TuningTable => ({ format: 'kiln-tuning', version: 1, adapter: 'test', matmul });

/** The names of the kernels compiled for y = a·b (stored shapes, with flags). */
function kernelNames(shapeA: number[], shapeB: number[], options: { transposeA?: boolean; transposeB?: boolean }, tuning?: TuningTable): string[] {
  const g = new Graph('mm');
  g.output('y', matmul(g.input('a', shapeA), g.input('b', shapeB), options));
  return compile(g, tuning ? { tuning } : {}).kernels.map((k) => k.name);
}

describe('matmul tuning', () => {
  it('classifies matmuls by output size, narrowness and operand layout', () => {
    expect(matmulShapeClass(shape(128, 784, 128))).to.equal('large-nn');
    expect(matmulShapeClass(shape(784, 128, 128, 'tn'))).to.equal('large-tn');
    expect(matmulShapeClass(shape(128, 64, 10))).to.equal('small-nn');
    expect(matmulShapeClass(shape(2048, 256, 8, 'nt'))).to.equal('skinny-nt');
    // A batch of small matrices is as much work as one large one.
    expect(matmulShapeClass(shape(16, 64, 16, 'tt', 64))).to.equal('large-tt');
  });

  it('names variants by block and workgroup size, and reads the names back', () => {
    for (const variant of MATMUL_CANDIDATES) expect(parseVariant(variantName(variant))).to.deep.equal(variant);
    expect(variantName(DEFAULT_MATMUL_VARIANT)).to.equal('b4x4_w64');
    expect(() => parseVariant('b3x4_w64')).to.throw(ArgumentError, "'b3x4_w64' is not a matmul variant. Fix: use b<rows>x<cols>_w<size>");
  });

  it('tunes every size class in the three layouts of a training step by default', () => {
    expect(DEFAULT_TUNED_CLASSES).to.have.length(9);
    expect(DEFAULT_TUNED_CLASSES).to.include.members(['small-nn', 'skinny-nt', 'large-tn']);
  });

  it('rejects tables that are not kiln tuning tables, naming the problem', () => {
    expect(() => checkTuningTable({ format: 'other' })).to.throw(ArgumentError, 'not a kiln tuning table');
    expect(() => checkTuningTable({ format: 'kiln-tuning', version: 1, adapter: 'x', matmul: { 'huge-nn': 'b4x4_w64' } })).to.throw(
      ArgumentError,
      "unknown matmul shape class 'huge-nn'",
    );
    expect(() => checkTuningTable(table({ 'large-nn': 'fast' }))).to.throw(ArgumentError, "'fast' is not a matmul variant");
    const good = table({ 'large-nn': 'b8x4_w64' });
    expect(checkTuningTable(JSON.parse(JSON.stringify(good)))).to.deep.equal(good);
  });

  it("picks the table's variant for the class, the class default for other classes, and the class default where the variant does not fit the device", () => {
    const tuning = table({ 'large-nn': 'b4x4_w256' });
    expect(matmulVariantFor(undefined, shape(256, 256, 256), DEFAULT_LIMITS)).to.deep.equal(LARGE_MATMUL_VARIANT);
    expect(matmulVariantFor(undefined, shape(64, 256, 64), DEFAULT_LIMITS)).to.deep.equal(DEFAULT_MATMUL_VARIANT);
    expect(matmulVariantFor(undefined, shape(2048, 256, 8), DEFAULT_LIMITS)).to.deep.equal(DEFAULT_MATMUL_VARIANT);
    expect(matmulVariantFor(tuning, shape(256, 256, 256), DEFAULT_LIMITS)).to.deep.equal({ rows: 4, cols: 4, workgroupSize: 256 });
    expect(matmulVariantFor(tuning, shape(256, 256, 256, 'tn'), DEFAULT_LIMITS)).to.deep.equal(LARGE_MATMUL_VARIANT);
    const small = { ...DEFAULT_LIMITS, maxComputeInvocationsPerWorkgroup: 128 };
    expect(matmulVariantFor(tuning, shape(256, 256, 256), small)).to.deep.equal(LARGE_MATMUL_VARIANT);
    expect(defaultVariantFor('large-tn')).to.deep.equal(LARGE_MATMUL_VARIANT);
    expect(defaultVariantFor('small-tn')).to.deep.equal(DEFAULT_MATMUL_VARIANT);
  });

  it('compiles the tuned variant into the plan, its name recording the variant', () => {
    expect(kernelNames([128, 784], [784, 128], {})).to.deep.equal(['k2_matmul_ak4_bn4_b8x8_w64']);
    const tuning = table({ 'large-nn': 'b8x4_w64', 'large-tn': 'b2x4_w128' });
    expect(kernelNames([128, 784], [784, 128], {}, tuning)).to.deep.equal(['k2_matmul_ak4_bn4_b8x4_w64']);
    // Two rows per block cannot read a transposed a four rows at a time, so a is read as scalars.
    expect(kernelNames([128, 784], [128, 128], { transposeA: true }, tuning)).to.deep.equal(['k2_matmul_as_bn4_b2x4_w128']);
    // A class the table leaves out keeps its default kernel and name; the 4×4 variant has no suffix.
    expect(kernelNames([8, 8], [8, 8], {}, tuning)).to.deep.equal(['k2_matmul_ak4_bn4']);
    expect(kernelNames([128, 784], [784, 128], {}, table({ 'large-nn': 'b4x4_w64' }))).to.deep.equal(['k2_matmul_ak4_bn4']);
  });

  it('writes the block and workgroup into the kernel: workgroup size, outputs per invocation and tile', () => {
    const g = new Graph('mm');
    g.output('y', matmul(g.input('a', [256, 256]), g.input('b', [256, 256])));
    const [kernel] = compile(g, { tuning: table({ 'large-nn': 'b4x8_w128' }) }).kernels;
    expect(kernel!.wgsl).to.contain('@workgroup_size(128)');
    expect(kernel!.wgsl).to.contain('4×8 outputs per invocation, 32×128 per workgroup');
    // 256×256 outputs in 32×128 tiles: 16 workgroups.
    expect(kernel!.workgroups).to.deep.equal([16, 1, 1]);
  });

  it('keeps vec4 reads of an edge block in bounds: a second vec4 past the edge starts at the last four rows or columns', () => {
    // 36 rows and columns in blocks of 8: the last block's second vec4 (rows 36–39) would start past the end.
    const g = new Graph('mm');
    g.output('y', matmul(g.input('a', [40, 36]), g.input('b', [40, 36]), { transposeA: true }));
    const [kernel] = compile(g, { tuning: table({ 'small-tn': 'b8x8_w64' }) }).kernels;
    expect(kernel!.name).to.equal('k2_matmul_am4_bn4_b8x8_w64');
    expect(kernel!.wgsl).to.contain('let a_rows_1 = (a_base + min(row0 + 4u, 32u)) / 4u;');
    expect(kernel!.wgsl).to.contain('let b_cols_1 = (b_base + min(col0 + 4u, 32u)) / 4u;');
  });

  it('classifies reductions by group length and output count, and takes the tree by default where a GPU wants it', () => {
    expect(reduceShapeClass(63, 1)).to.equal(undefined);
    expect(reduceShapeClass(100, 4)).to.equal('medium-few');
    expect(reduceShapeClass(100, 64)).to.equal('medium-many');
    expect(reduceShapeClass(256, 1e4)).to.equal('long-many');
    expect(reduceStrategyFor(undefined, 63, 1)).to.equal('perOutput');
    expect(reduceStrategyFor(undefined, 100, 4)).to.equal('tree');
    expect(reduceStrategyFor(undefined, 100, 64)).to.equal('perOutput');
    expect(reduceStrategyFor(undefined, 1e6, 1)).to.equal('tree');
  });

  it("follows the table's reduction strategy per class and compiles it", () => {
    const tuning = { ...table({}), reduce: { 'long-many': 'perOutput', 'medium-many': 'tree' } } as const;
    expect(reduceStrategyFor(tuning, 1024, 1024)).to.equal('perOutput');
    expect(reduceStrategyFor(tuning, 100, 100)).to.equal('tree');
    expect(reduceStrategyFor(tuning, 1024, 4)).to.equal('tree');
    const g = new Graph('rows');
    g.output('y', sum(g.input('x', [1024, 1024]), 1));
    expect(compile(g).kernels.map((k) => k.name)).to.deep.equal(['k1_sum_tree']);
    expect(compile(g, { tuning }).kernels.map((k) => k.name)).to.deep.equal(['k1_sum']);
    expect(() => checkTuningTable({ ...table({}), reduce: { 'long-many': 'fast' } })).to.throw(ArgumentError, "reduce entry 'long-many': 'fast' is not valid");
  });
});

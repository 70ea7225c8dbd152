import { expect } from 'chai';
import {
  dimAdd,
  dimDivide,
  dimFromJson,
  dimMul,
  dimNames,
  dimProduct,
  dimSub,
  dimToJson,
  evaluateDim,
  isSymbolic,
  substituteDim,
  symbol,
} from '../../compiler/dims.js';
import { ArgumentError } from '../../compiler/errors.js';

describe('symbolic dims', () => {
  const batch = symbol('batch');
  const seq = symbol('seq');

  it('interns equal sizes: the same object however they are computed', () => {
    expect(symbol('batch')).to.equal(batch);
    expect(dimMul(784, batch)).to.equal(dimMul(batch, 784));
    expect(dimAdd(batch, batch)).to.equal(dimMul(2, batch));
    expect(dimMul(batch, seq)).to.equal(dimMul(seq, batch));
    expect(dimProduct([batch, 28, 28])).to.equal(dimMul(784, batch));
  });

  it('does arithmetic on polynomials, collapsing to a number when no name is left', () => {
    expect(dimSub(batch, batch)).to.equal(0);
    expect(dimSub(dimAdd(batch, 3), batch)).to.equal(3);
    expect(dimMul(dimAdd(batch, 1), 2)).to.equal(dimAdd(dimMul(2, batch), 2));
    expect(dimAdd(2, 3)).to.equal(5);
    expect(dimProduct([])).to.equal(1);
    expect(isSymbolic(dimMul(batch, 0))).to.equal(false);
  });

  it('divides exactly or not at all', () => {
    expect(dimDivide(dimMul(784, batch), 784)).to.equal(batch);
    expect(dimDivide(dimMul(batch, seq), seq)).to.equal(batch);
    expect(dimDivide(dimMul(784, batch), batch)).to.equal(784);
    expect(dimDivide(batch, batch)).to.equal(1);
    expect(dimDivide(12, 4)).to.equal(3);
    expect(dimDivide(12, 5)).to.equal(undefined);
    expect(dimDivide(batch, 2)).to.equal(undefined);
    expect(dimDivide(dimMul(6, batch), 4)).to.equal(undefined);
    expect(dimDivide(batch, seq)).to.equal(undefined);
    expect(dimDivide(batch, 0)).to.equal(undefined);
    const polynomial = dimAdd(batch, 1);
    expect(dimDivide(dimMul(polynomial, seq), polynomial)).to.equal(seq);
    expect(dimDivide(dimAdd(dimMul(batch, seq), 1), polynomial)).to.equal(undefined);
  });

  it('prints as shapes show it', () => {
    expect(String(batch)).to.equal('batch');
    expect(String(dimMul(784, batch))).to.equal('784*batch');
    expect(String(dimAdd(dimMul(batch, seq), 1))).to.equal('batch*seq + 1');
    expect(String(dimSub(batch, 1))).to.equal('batch - 1');
    expect(String(dimSub(1, batch))).to.equal('-batch + 1');
  });

  it('evaluates and substitutes names', () => {
    const size = dimAdd(dimMul(dimMul(3, batch), seq), 2);
    expect(evaluateDim(size, { batch: 4, seq: 5 })).to.equal(62);
    expect(evaluateDim(7, {})).to.equal(7);
    expect(() => evaluateDim(size, { batch: 4 })).to.throw(ArgumentError, /dim 'seq'/);
    expect(substituteDim(size, { batch: 4 })).to.equal(dimAdd(dimMul(12, seq), 2));
    expect(substituteDim(size, { batch: 4, seq: 5 })).to.equal(62);
    expect(substituteDim(size, {})).to.equal(size);
  });

  it('round-trips through JSON as its printed form', () => {
    for (const d of [5, batch, dimMul(784, batch), dimAdd(dimMul(batch, seq), 1), dimSub(batch, 1)]) {
      expect(dimFromJson(JSON.parse(JSON.stringify(dimToJson(d))))).to.equal(d);
    }
    expect(JSON.stringify([batch, 3])).to.equal('["batch",3]');
    expect(() => dimFromJson(true)).to.throw(ArgumentError, /number or a size/);
    expect(() => dimFromJson('2batch')).to.throw();
  });

  it('lists the names of dims and refuses names that are not identifiers', () => {
    expect(dimNames([3, dimMul(seq, batch), batch])).to.deep.equal(['batch', 'seq']);
    expect(batch.names).to.deep.equal(['batch']);
    expect(() => symbol('2x')).to.throw(ArgumentError, /not an identifier/);
    expect(() => symbol('a b')).to.throw(ArgumentError);
  });
});

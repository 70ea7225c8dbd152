import { expect } from 'chai';
import { DeviceError } from '../../compiler/errors.js';
import { uncapturedErrorsOf, withErrorScopes } from '../../runtime/device-errors.js';
import { DeviceGuard } from '../../runtime/device-guard.js';
import { rejectionOf } from '../gpu/runtime-fixtures.js';

type Filter = 'validation' | 'out-of-memory' | 'internal';

/** A stand-in GPUDevice with a scope stack: `raise` reports an error to the innermost scope of its kind, or as uncaptured. */
function fakeDevice() {
  const scopes: { filter: Filter; error: GPUError | null }[] = [];
  const listeners: ((event: Event) => void)[] = [];
  const device = {
    pushErrorScope: (filter: Filter) => scopes.push({ filter, error: null }),
    popErrorScope: () => Promise.resolve(scopes.pop()!.error),
    addEventListener: (_type: string, listener: (event: Event) => void) => listeners.push(listener),
  };
  const raise = (filter: Filter, message: string): void => {
    const scope = [...scopes].reverse().find((s) => s.filter === filter);
    const error = { message } as GPUError;
    if (scope) scope.error ??= error;
    else for (const listener of listeners) listener({ error } as unknown as Event);
  };
  return { device: device as unknown as GPUDevice, raise, scopes, listeners };
}

describe('runtime/device-errors (no GPU: a stand-in device)', () => {
  describe('withErrorScopes', () => {
    it('returns the work\'s result and no report when the device reports nothing, leaving no scope open', async () => {
      const { device, scopes } = fakeDevice();
      const { result, report: caught } = withErrorScopes(device, () => 42);
      expect(result).to.equal(42);
      expect(await caught).to.equal(undefined);
      expect(scopes).to.have.length(0);
    });

    it('reports running out of memory over the validation errors it causes (an invalid buffer used later)', async () => {
      const { device, raise } = fakeDevice();
      const { report: both } = withErrorScopes(device, () => {
        raise('out-of-memory', 'could not allocate 64 GiB');
        raise('validation', 'writeBuffer to an invalid buffer');
      });
      expect(await both).to.deep.equal({ kind: 'out-of-memory', message: 'could not allocate 64 GiB' });
    });

    it('reports an internal error over a validation error, and a lone validation error as one', async () => {
      const { device, raise } = fakeDevice();
      const internal = withErrorScopes(device, () => {
        raise('validation', 'follow-on');
        raise('internal', 'driver failed');
      }).report;
      const validation = withErrorScopes(device, () => raise('validation', 'bad bind group')).report;
      expect(await internal).to.deep.equal({ kind: 'internal', message: 'driver failed' });
      expect(await validation).to.deep.equal({ kind: 'validation', message: 'bad bind group' });
    });

    it('closes its scopes when the work throws, and rethrows', () => {
      const { device, scopes } = fakeDevice();
      expect(() =>
        withErrorScopes(device, () => {
          throw new RangeError('thrown by the work');
        }),
      ).to.throw(RangeError, 'thrown by the work');
      expect(scopes).to.have.length(0);
    });
  });

  describe('uncaptured errors', () => {
    it('fail the wait in flight with the error its explain gives', async () => {
      const { device, raise } = fakeDevice();
      const guard = new DeviceGuard('busy');
      uncapturedErrorsOf(device).add(guard);
      const waiting = guard.untilDone(new Promise<never>(() => undefined), (r) => new DeviceError(`explained: ${r.message}`));
      expect(guard.busy).to.equal(true);
      raise('validation', 'submit rejected');
      const error = await rejectionOf(waiting);
      expect(error).to.be.instanceOf(DeviceError);
      expect(error.message).to.equal('explained: submit rejected');
      expect(guard.busy).to.equal(false);
    });

    it('fail a wait whose work the device rejects before submit returns (work given as a function starts once the wait is in flight)', async () => {
      const { device, raise } = fakeDevice();
      const guard = new DeviceGuard('sync');
      uncapturedErrorsOf(device).add(guard);
      const error = await rejectionOf(
        guard.untilDone(() => {
          raise('validation', 'rejected inside submit');
          return Promise.resolve('zeros');
        }),
      );
      expect(error.message).to.match(/^Session 'sync': the GPU device reported a validation error while a call was in flight .*: rejected inside submit$/);
    });

    it('go, when no session waits, to the session that submitted last, whose next call fails once', async () => {
      const { device, raise } = fakeDevice();
      const [first, last] = [new DeviceGuard('first'), new DeviceGuard('last')];
      const errors = uncapturedErrorsOf(device);
      errors.add(first);
      errors.add(last);
      errors.submitting(first);
      errors.submitting(last);
      raise('validation', 'late report');
      expect(() => first.throwIfFailed()).not.to.throw();
      expect(() => last.throwIfFailed()).to.throw(DeviceError, /^Session 'last': the GPU device reported a validation error after this session's last call had returned: .*: late report$/);
      expect(() => last.throwIfFailed()).not.to.throw();
      expect(await last.untilDone(Promise.resolve('next'))).to.equal('next');
    });

    it('are heard through one listener per device, however many sessions it serves', () => {
      const { device, listeners } = fakeDevice();
      expect(uncapturedErrorsOf(device)).to.equal(uncapturedErrorsOf(device));
      expect(listeners).to.have.length(1);
    });
  });
});

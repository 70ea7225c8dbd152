/**
 * What a session does when its device fails outside an error scope: every GPU wait in
 * flight fails at once with a DeviceError (a lost device may never answer it; work the
 * device rejected did not happen, so its readback would hold stale values or zeros), and
 * so does every later call after a loss. An error the device reported while none of the
 * session's waits was in flight fails its next call instead.
 */

import { DeviceError } from '../compiler/errors.js';
import type { DeviceReport } from './device-errors.js';
import { describeReport } from './device-errors.js';

/** Turns a device report into the error a waiting call rejects with. */
type ExplainReport = (report: DeviceReport) => Promise<Error> | Error;

/** A GPU wait in flight: how it explains an uncaptured error, the error once it has one, and how to end it early. */
interface Wait {
  readonly explain: ExplainReport;
  failure: Promise<Error> | undefined;
  abort: (error: Error) => void;
}

export class DeviceGuard {
  private lostInfo: GPUDeviceLostInfo | undefined;
  /** An uncaptured device error no call has reported yet. */
  private unreported: DeviceError | undefined;
  private readonly waits = new Set<Wait>();

  /** `sessionName` names the session in the error. */
  constructor(private readonly sessionName: string) {}

  /** Whether a GPU wait is in flight (the device's next uncaptured error is taken as its). */
  get busy(): boolean {
    return this.waits.size > 0;
  }

  /** Throws the DeviceError if the device is gone, or once for an uncaptured error not reported yet. */
  throwIfFailed(): void {
    if (this.lostInfo) throw this.lostError(this.lostInfo);
    const unreported = this.unreported;
    this.unreported = undefined;
    if (unreported) throw unreported;
  }

  /**
   * Waits for GPU work, or fails with a DeviceError as soon as the device is lost or reports
   * an error to no scope (`explain` words that one; by default it names the session): a
   * wait that got one fails even if its work then resolves (with values the device never
   * computed). Work given as a function is started once the wait is in flight: the device
   * may report a rejected submit before `submit` returns.
   */
  async untilDone<T>(work: Promise<T> | (() => Promise<T>), explain: ExplainReport = (report) => this.uncapturedError(report, 'while a call was in flight')): Promise<T> {
    this.throwIfFailed();
    const wait: Wait = { explain, failure: undefined, abort: () => undefined };
    const aborted = new Promise<never>((_, reject) => (wait.abort = reject));
    this.waits.add(wait);
    try {
      const result = await Promise.race([typeof work === 'function' ? work() : work, aborted]);
      if (wait.failure) throw await wait.failure;
      return result;
    } catch (error) {
      if (this.lostInfo) throw this.lostError(this.lostInfo);
      throw wait.failure ? await wait.failure : error;
    } finally {
      this.waits.delete(wait);
    }
  }

  onLost(info: GPUDeviceLostInfo): void {
    this.lostInfo = info;
    const error = this.lostError(info);
    for (const wait of this.waits) wait.abort(error);
    this.waits.clear();
  }

  /** An error the device reported to no scope, while this session's wait was in flight or after its last submit. */
  onUncapturedError(report: DeviceReport): void {
    if (!this.busy) {
      this.unreported = this.uncapturedError(report, "after this session's last call had returned: that call's results may be wrong, and this call is refused");
      return;
    }
    for (const wait of this.waits) {
      if (wait.failure) continue;
      const failure = Promise.resolve()
        .then(() => wait.explain(report))
        .catch((error: Error) => error);
      wait.failure = failure;
      void failure.then(wait.abort);
    }
  }
  private uncapturedError(report: DeviceReport, when: string): DeviceError {
    return new DeviceError(
      `Session '${this.sessionName}': the GPU device reported ${describeReport(report)} ${when} (work the device rejects does not run, ` +
        `so its results are not returned): ${report.message.trim()}`,
    );
  }

  private lostError(info: GPUDeviceLostInfo): DeviceError {
    const why = info.message ? `${info.reason}: ${info.message}` : info.reason;
    return new DeviceError(
      `Session '${this.sessionName}': the GPU device was lost (${why}). Request a new device and create a new session; ` +
        'params and state on the lost device are gone (save checkpoints to keep them).',
    );
  }
}

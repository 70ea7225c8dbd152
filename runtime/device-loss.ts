/**
 * What a session does when its device is lost (driver reset, `destroy()`): every GPU wait
 * in flight fails at once with a DeviceError (a lost device may never answer it), and so
 * does every later call.
 */

import { DeviceError } from '../compiler/errors.js';

export class DeviceLossGuard {
  private lostInfo: GPUDeviceLostInfo | undefined;
  /** Rejecters of the GPU waits in flight. */
  private readonly waits = new Set<(error: Error) => void>();

  /** `sessionName` names the session in the error. */
  constructor(private readonly sessionName: string) {}

  /** Throws the DeviceError if the device is gone. */
  throwIfLost(): void {
    if (this.lostInfo) throw this.lostError(this.lostInfo);
  }

  /** Waits for GPU work, or fails with a DeviceError as soon as the device is lost. */
  async untilDone<T>(work: Promise<T>): Promise<T> {
    let reject!: (error: Error) => void;
    const aborted = new Promise<never>((_, r) => (reject = r));
    this.waits.add(reject);
    try {
      return await Promise.race([work, aborted]);
    } catch (error) {
      throw this.lostInfo ? this.lostError(this.lostInfo) : error;
    } finally {
      this.waits.delete(reject);
    }
  }

  onLost(info: GPUDeviceLostInfo): void {
    this.lostInfo = info;
    for (const reject of this.waits) reject(this.lostError(info));
    this.waits.clear();
  }

  private lostError(info: GPUDeviceLostInfo): DeviceError {
    const why = info.message ? `${info.reason}: ${info.message}` : info.reason;
    return new DeviceError(
      `Session '${this.sessionName}': the GPU device was lost (${why}). Request a new device and create a new session; ` +
        'params and state on the lost device are gone (save checkpoints to keep them).',
    );
  }
}

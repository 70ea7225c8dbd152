/**
 * Counting GPU memory as the WebGPU implementation sees it: every GPUBuffer created and not
 * yet destroyed, by wrapping GPUDevice.prototype.createBuffer and GPUBuffer.prototype.destroy
 * (Dawn in Node installs both classes as globals; see runtime/dawn.ts).
 */

export interface LiveBuffers {
  readonly count: number;
  readonly bytes: number;
}

export interface BufferCounter {
  /** Buffers created on `device` (or any device) since counting began and not destroyed. */
  live(device?: GPUDevice): LiveBuffers;
  /** Every buffer created on `device` since counting began, destroyed or not. */
  created(device?: GPUDevice): number;
  /** Puts the original methods back. */
  stop(): void;
}

interface Created {
  readonly device: GPUDevice;
  readonly bytes: number;
}

/** Starts counting buffers (call `stop()` when done). In Node, call after requestDevice, which installs the classes. */
export function countBuffers(): BufferCounter {
  const { GPUDevice: Device, GPUBuffer: Buffer } = globalThis as unknown as { GPUDevice?: typeof GPUDevice; GPUBuffer?: typeof GPUBuffer };
  if (!Device || !Buffer) throw new Error('countBuffers: GPUDevice and GPUBuffer are not globals yet; call requestDevice() first.');
  const createBuffer = Device.prototype.createBuffer;
  const destroy = Buffer.prototype.destroy;
  const live = new Map<GPUBuffer, Created>();
  const everCreated: Created[] = [];
  Device.prototype.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor): GPUBuffer {
    const buffer = createBuffer.call(this, descriptor);
    const record = { device: this, bytes: descriptor.size };
    live.set(buffer, record);
    everCreated.push(record);
    return buffer;
  };
  Buffer.prototype.destroy = function (this: GPUBuffer): undefined {
    live.delete(this);
    return destroy.call(this);
  };
  const mine = (record: Created, device?: GPUDevice): boolean => device === undefined || record.device === device;
  return {
    live(device) {
      const records = [...live.values()].filter((r) => mine(r, device));
      return { count: records.length, bytes: records.reduce((sum, r) => sum + r.bytes, 0) };
    },
    created: (device) => everCreated.filter((r) => mine(r, device)).length,
    stop() {
      Device.prototype.createBuffer = createBuffer;
      Buffer.prototype.destroy = destroy;
    },
  };
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ArgumentError, DeviceError } from '../../compiler/errors.js';
import { decideSwiftShaderRetry, SWIFTSHADER_ICD, swiftShaderFirst, vulkanDriverDirs } from '../../runtime/dawn.js';
import type { KilnDevice } from '../../runtime/device.js';
import {
  isSoftwareAdapter,
  limitsRecord,
  missingWebGPUMessage,
  requestDevice,
  resolveRequiredLimits,
} from '../../runtime/device.js';
import { affineExpected, affineInput, runAffineKernel } from './affine-kernel.js';

describe('runtime/device', () => {
  describe('on the GPU in Node (Dawn; SwiftShader without a GPU)', () => {
    let gpu: KilnDevice;
    before(async () => {
      gpu = await requestDevice();
    });
    after(() => gpu?.destroy());

    it('describes the adapter it found', () => {
      expect(gpu.info.backend).to.equal('node-dawn');
      expect(gpu.info.vendor).to.be.a('string');
      expect(gpu.info.architecture).to.be.a('string');
      expect(gpu.info.software).to.be.a('boolean');
    });

    it('asks for every limit the adapter offers by default', () => {
      expect(limitsRecord(gpu.limits)).to.deep.equal(limitsRecord(gpu.adapter.limits));
      expect(gpu.limits.maxComputeWorkgroupsPerDimension).to.be.at.least(65535);
    });

    it('runs a compute shader over several workgroups and reads back exact results', async () => {
      const x = affineInput(1000);
      const y = await runAffineKernel(gpu.device, x);
      expect(Array.from(y)).to.deep.equal(Array.from(affineExpected(x)));
    });

    it('installs WebGPU constants as globals in Node', () => {
      expect(GPUBufferUsage.STORAGE).to.be.a('number');
      expect(GPUMapMode.READ).to.be.a('number');
    });

    it('resolves lost with reason "destroyed" after destroy()', async () => {
      const other = await requestDevice({ requiredLimits: {} });
      other.destroy();
      const info = await other.lost;
      expect(info.reason).to.equal('destroyed');
    });

    it('grants a limit asked for explicitly', async () => {
      const wanted = gpu.adapter.limits.maxComputeWorkgroupStorageSize;
      const other = await requestDevice({ requiredLimits: { maxComputeWorkgroupStorageSize: wanted } });
      expect(other.limits.maxComputeWorkgroupStorageSize).to.equal(wanted);
      other.destroy();
    });

    it('refuses a feature the adapter lacks, naming it', async function () {
      const candidates: GPUFeatureName[] = ['shader-f16', 'float32-filterable', 'timestamp-query', 'subgroups', 'texture-compression-astc'];
      const missing = candidates.find((feature) => !gpu.adapter.features.has(feature));
      if (missing === undefined) this.skip();
      let caught: unknown;
      await requestDevice({ requiredFeatures: [missing!] }).catch((error: unknown) => (caught = error));
      expect(caught).to.be.instanceOf(DeviceError);
      expect((caught as Error).message).to.match(new RegExp(`does not support the feature\\(s\\) ${missing}`));
    });

    it('never overrides a Vulkan driver the user chose, and says so', async function () {
      // A child process, so the variable is seen by a fresh Vulkan loader.
      this.timeout(30000);
      const script = [
        "import { requestDevice } from './runtime/device.ts';",
        'requestDevice().then(',
        "  () => console.log('unexpected adapter'),",
        '  (e) => console.log(JSON.stringify({ name: e.name, message: e.message, env: process.env.VK_ICD_FILENAMES })),',
        ');',
      ].join('\n');
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json' },
      });
      const result = JSON.parse(stdout.trim()) as { name: string; message: string; env: string };
      expect(result.name).to.equal('DeviceError');
      expect(result.message).to.contain('VK_ICD_FILENAMES=/nonexistent/icd.json is set, so kiln did not override it');
      expect(result.message).to.contain('apt-get install chromium libvulkan1');
      expect(result.env).to.equal('/nonexistent/icd.json');
    });
  });

  describe('decideSwiftShaderRetry', () => {
    const installed = (path: string) => path === SWIFTSHADER_ICD;
    const absent = () => false;

    it('retries with SwiftShader when no driver is named and SwiftShader is installed', () => {
      expect(decideSwiftShaderRetry({}, installed)).to.deep.equal({ retry: true, icdFile: SWIFTSHADER_ICD });
    });

    it('treats an empty VK_ICD_FILENAMES as unset', () => {
      expect(decideSwiftShaderRetry({ VK_ICD_FILENAMES: '' }, installed).retry).to.equal(true);
    });

    it('never overrides VK_ICD_FILENAMES set by the user', () => {
      const decision = decideSwiftShaderRetry({ VK_ICD_FILENAMES: '/opt/nvidia_icd.json' }, installed);
      expect(decision).to.deep.equal({
        retry: false,
        reason: 'VK_ICD_FILENAMES=/opt/nvidia_icd.json is set, so kiln did not override it with SwiftShader',
      });
    });

    it('never overrides VK_DRIVER_FILES set by the user', () => {
      const decision = decideSwiftShaderRetry({ VK_DRIVER_FILES: '/opt/radeon_icd.json' }, installed);
      expect(decision.retry).to.equal(false);
      expect(decision.retry === false && decision.reason).to.contain('VK_DRIVER_FILES=/opt/radeon_icd.json');
    });

    it('does not retry when SwiftShader is not installed, and names the missing file', () => {
      const decision = decideSwiftShaderRetry({}, absent);
      expect(decision).to.deep.equal({ retry: false, reason: `SwiftShader is not installed (no ${SWIFTSHADER_ICD})` });
    });
  });

  describe('swiftShaderFirst: finding the adapter without Dawn warning that no driver exists', () => {
    const installed = (path: string) => path === SWIFTSHADER_ICD;
    const noManifests = () => [];
    const nvidiaIn = (driverDir: string) => (dir: string) => (dir === driverDir ? ['nvidia_icd.json'] : []);

    it('starts with SwiftShader on Linux when no Vulkan driver manifest is installed', () => {
      expect(swiftShaderFirst({}, 'linux', installed, noManifests)).to.equal(SWIFTSHADER_ICD);
    });

    it('asks the system first when a driver is installed in any of the loader\'s directories', () => {
      for (const dir of ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/home/u/.local/share/vulkan/icd.d']) {
        expect(swiftShaderFirst({ HOME: '/home/u' }, 'linux', installed, nvidiaIn(dir)), dir).to.equal(undefined);
      }
    });

    it('never replaces a driver the user named, and leaves macOS and Windows to Dawn', () => {
      for (const name of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES']) {
        expect(swiftShaderFirst({ [name]: '/opt/icd.json' }, 'linux', installed, noManifests), name).to.equal(undefined);
      }
      expect(swiftShaderFirst({}, 'darwin', installed, noManifests)).to.equal(undefined);
      expect(swiftShaderFirst({}, 'win32', installed, noManifests)).to.equal(undefined);
    });

    it('asks the system when SwiftShader is not installed (its error then says what to install)', () => {
      expect(swiftShaderFirst({}, 'linux', () => false, noManifests)).to.equal(undefined);
    });

    it("searches the loader's directories, following the XDG variables", () => {
      expect(vulkanDriverDirs({ HOME: '/home/u' })).to.deep.equal([
        '/etc/xdg/vulkan/icd.d',
        '/usr/local/etc/vulkan/icd.d',
        '/etc/vulkan/icd.d',
        '/home/u/.local/share/vulkan/icd.d',
        '/usr/local/share/vulkan/icd.d',
        '/usr/share/vulkan/icd.d',
      ]);
      expect(vulkanDriverDirs({ XDG_DATA_DIRS: '/nix/share', XDG_CONFIG_DIRS: '/cfg', XDG_DATA_HOME: '/data' })).to.deep.equal([
        '/cfg/vulkan/icd.d',
        '/usr/local/etc/vulkan/icd.d',
        '/etc/vulkan/icd.d',
        '/data/vulkan/icd.d',
        '/nix/share/vulkan/icd.d',
      ]);
    });
  });

  describe('resolveRequiredLimits', () => {
    const adapter = { maxBufferSize: 1 << 30, maxComputeWorkgroupSizeX: 256, minStorageBufferOffsetAlignment: 256 };

    it("copies every adapter limit for 'adapter'", () => {
      expect(resolveRequiredLimits(adapter, 'adapter')).to.deep.equal(adapter);
    });

    it('asks only for the limits given', () => {
      expect(resolveRequiredLimits(adapter, { maxBufferSize: 1024 })).to.deep.equal({ maxBufferSize: 1024 });
    });

    it('refuses a maximum beyond the adapter, naming the limit', () => {
      expect(() => resolveRequiredLimits(adapter, { maxComputeWorkgroupSizeX: 1024 })).to.throw(
        DeviceError,
        "limit maxComputeWorkgroupSizeX=1024 is beyond this adapter's maximum of 256. Fix: ask for at most 256",
      );
    });

    it('refuses an alignment smaller than the adapter supports', () => {
      expect(() => resolveRequiredLimits(adapter, { minStorageBufferOffsetAlignment: 64 })).to.throw(
        DeviceError,
        "minStorageBufferOffsetAlignment=64 is beyond this adapter's minimum of 256. Fix: ask for at least 256",
      );
      expect(resolveRequiredLimits(adapter, { minStorageBufferOffsetAlignment: 512 })).to.deep.equal({
        minStorageBufferOffsetAlignment: 512,
      });
    });

    it('refuses an unknown limit, listing the known ones', () => {
      expect(() => resolveRequiredLimits(adapter, { maxWarpSpeed: 9 })).to.throw(
        ArgumentError,
        "unknown limit 'maxWarpSpeed'. Fix: use one of maxBufferSize, maxComputeWorkgroupSizeX, minStorageBufferOffsetAlignment",
      );
    });

    it('refuses a non-integer or negative limit', () => {
      expect(() => resolveRequiredLimits(adapter, { maxBufferSize: 1.5 })).to.throw(ArgumentError, /must be a non-negative integer, got 1.5/);
      expect(() => resolveRequiredLimits(adapter, { maxBufferSize: -1 })).to.throw(ArgumentError, /got -1/);
    });
  });

  describe('isSoftwareAdapter', () => {
    it('recognizes fallback adapters and CPU drivers by name', () => {
      expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', description: '' })).to.equal(true);
      expect(isSoftwareAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).to.equal(true);
      expect(isSoftwareAdapter({ vendor: '', architecture: '', description: '', isFallbackAdapter: true })).to.equal(true);
    });

    it('treats a named hardware GPU as hardware', () => {
      expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200', isFallbackAdapter: false })).to.equal(false);
    });
  });

  describe('missingWebGPUMessage', () => {
    it('tells an insecure page to use https or localhost', () => {
      expect(missingWebGPUMessage(false)).to.match(/only available in secure contexts.*http:\/\/localhost/);
    });

    it('tells a secure page how to enable WebGPU', () => {
      expect(missingWebGPUMessage(true)).to.match(/navigator\.gpu is missing.*--enable-unsafe-webgpu/);
    });
  });
});

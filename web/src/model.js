// The ONNX model in onnxruntime-web: WebGPU when the browser offers an adapter and the model runs there,
// else WebAssembly (multi-threaded when the page is cross-origin isolated). Input "images": uint8 [1, H, W, 3].
//
// Two builds of onnxruntime-web, loaded on demand: the plain SIMD WebAssembly build for the CPU, and the
// JSEP build only for WebGPU. The JSEP build is compiled with Emscripten's Asyncify (its WebGPU kernels
// await the GPU), which slows every CPU kernel too: measured in docs/web.md ("Latency").
// Sessions are warmed up with one run at the model's input size before use: the first run compiles and
// plans, and a backend that cannot run a node (WebGPU has no antialiased Resize) fails there, not on the
// user's first image.

const RUNTIMES = {
  wasm: () => import('./ort/ort.wasm.min.mjs'),
  webgpu: () => import('./ort/ort.min.mjs'),
};

async function webgpuAvailable() {
  try {
    return Boolean(navigator.gpu && (await navigator.gpu.requestAdapter()));
  } catch {
    return false;
  }
}

/** Backends to try in order: ?backend=wasm|webgpu forces one. */
export async function backendOrder(requested) {
  if (requested) return [requested];
  return (await webgpuAvailable()) ? ['webgpu', 'wasm'] : ['wasm'];
}

async function warmedSession(ort, bytes, backend, imageSize) {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [backend] });
  try {
    const pixels = new Uint8Array(imageSize * imageSize * 3);
    await session.run({ images: new ort.Tensor('uint8', pixels, [1, imageSize, imageSize, 3]) }, ['probs']);
    return session;
  } catch (error) {
    await session.release();
    throw error;
  }
}

export class Model {
  constructor(ort, session, backend, labels, fallback) {
    this.ort = ort;
    this.session = session;
    this.backend = backend;
    this.labels = labels;
    this.fallback = fallback;
  }

  /**
   * A warmed-up session on the first backend of `backends` that loads and runs the model. `artifacts(backend)`
   * gives the model bytes for a backend (the bundle may hold one per backend); `threads` sets wasm threads.
   */
  static async create(artifacts, labels, imageSize, { backends, threads } = {}) {
    const errors = [];
    for (const backend of backends) {
      try {
        const ort = await RUNTIMES[backend]();
        if (threads) ort.env.wasm.numThreads = threads;
        const session = await warmedSession(ort, await artifacts(backend), backend, imageSize);
        return new Model(ort, session, backend, labels, errors.join('; '));
      } catch (error) {
        errors.push(`${backend}: ${error.message ?? error}`);
      }
    }
    throw new Error(`onnxruntime-web cannot load the model (${errors.join('; ')})`);
  }

  get description() {
    const threads = this.ort.env.wasm.numThreads;
    const name = this.backend === 'wasm' ? `WebAssembly, ${threads} thread${threads === 1 ? '' : 's'}` : 'WebGPU';
    return this.fallback ? `${name} (not used: ${this.fallback})` : name;
  }

  /** Probabilities (Float32Array) and milliseconds for one image {width, height, rgb}. */
  async classify(image) {
    const input = new this.ort.Tensor('uint8', image.rgb, [1, image.height, image.width, 3]);
    const start = performance.now();
    const outputs = await this.session.run({ images: input }, ['probs']);
    const ms = performance.now() - start;
    return { probs: outputs.probs.data, ms };
  }
}

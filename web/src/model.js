// The ONNX model in onnxruntime-web: WebGPU when the browser offers an adapter, else WebAssembly
// (multi-threaded when the page is cross-origin isolated). Input "images": uint8 [1, H, W, 3].
import * as ort from './ort/ort.min.mjs';

async function webgpuAvailable() {
  try {
    return Boolean(navigator.gpu && (await navigator.gpu.requestAdapter()));
  } catch {
    return false;
  }
}

/** Backends to try in order: ?backend=wasm|webgpu forces one. */
async function backendOrder(requested) {
  if (requested) return [requested];
  return (await webgpuAvailable()) ? ['webgpu', 'wasm'] : ['wasm'];
}

export class Model {
  constructor(session, backend, labels) {
    this.session = session;
    this.backend = backend;
    this.labels = labels;
  }

  /**
   * Create the session from model bytes; falls back from WebGPU to wasm when WebGPU fails.
   * `backend` ('wasm' or 'webgpu') and `threads` (wasm threads) override the defaults when given.
   */
  static async create(bytes, labels, { backend: requested, threads } = {}) {
    if (threads) ort.env.wasm.numThreads = threads;
    const errors = [];
    for (const backend of await backendOrder(requested)) {
      try {
        const session = await ort.InferenceSession.create(bytes, { executionProviders: [backend] });
        return new Model(session, backend, labels);
      } catch (error) {
        errors.push(`${backend}: ${error.message ?? error}`);
      }
    }
    throw new Error(`onnxruntime-web cannot load the model (${errors.join('; ')})`);
  }

  get description() {
    const threads = ort.env.wasm.numThreads;
    return this.backend === 'wasm' ? `WebAssembly, ${threads} thread${threads === 1 ? '' : 's'}` : 'WebGPU';
  }

  /** Probabilities (Float32Array) and milliseconds for one image {width, height, rgb}. */
  async classify(image) {
    const input = new ort.Tensor('uint8', image.rgb, [1, image.height, image.width, 3]);
    const start = performance.now();
    const outputs = await this.session.run({ images: input });
    const ms = performance.now() - start;
    return { probs: outputs.probs.data, ms };
  }
}

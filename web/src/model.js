// The ONNX model in onnxruntime-web: WebGPU when the browser offers an adapter and the model runs there,
// else WebAssembly (multi-threaded when the page is cross-origin isolated). Input "images": uint8 [1, H, W, 3].
//
// Two builds of onnxruntime-web, loaded on demand: the plain SIMD WebAssembly build for the CPU, and the
// JSEP build only for WebGPU. The JSEP build is compiled with Emscripten's Asyncify (its WebGPU kernels
// await the GPU), which slows every CPU kernel too: measured in docs/web.md ("Latency").
// Sessions are warmed up with one run at the model's input size before use: the first run compiles and
// plans, and a backend that cannot run a node (WebGPU has no antialiased Resize) fails there, not on the
// user's first image. The warm-up's probabilities must also be finite and sum to 1: a GPU whose shaders
// fail validation (an fp16 model on an adapter without 'shader-f16') reports no error to the session and
// returns zeros, which must never reach a user as an answer.

const RUNTIMES = {
  wasm: () => import('./ort/ort.wasm.min.mjs'),
  webgpu: () => import('./ort/ort.min.mjs'),
};

/** The WebGPU adapter's features (a Set), or null when the browser offers no adapter. */
export async function webgpuFeatures() {
  try {
    const adapter = navigator.gpu && (await navigator.gpu.requestAdapter());
    return adapter ? new Set(adapter.features) : null;
  } catch {
    return null;
  }
}

/** Backends to try in order: ?backend=wasm|webgpu forces one. */
export function backendOrder(requested, features) {
  if (requested) return [requested];
  return features ? ['webgpu', 'wasm'] : ['wasm'];
}

/** Largest |sum - 1| of a probability vector from a working session (float32 softmax: ~1e-7). */
const SUM_TOLERANCE = 1e-3;

function checkProbabilities(probs, backend) {
  let sum = 0;
  for (const p of probs) sum += p;
  if (!Number.isFinite(sum) || Math.abs(sum - 1) > SUM_TOLERANCE) {
    throw new Error(`the model ran but its probabilities sum to ${sum}, not 1: ${backend} failed to compute it`);
  }
}

async function warmedSession(ort, bytes, backend, imageSize) {
  // logSeverityLevel 3: errors only (ONNX Runtime's warnings about shape ops placed on the CPU are not the user's).
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [backend], logSeverityLevel: 3 });
  try {
    const pixels = new Uint8Array(imageSize * imageSize * 3);
    const { probs } = await session.run(
      { images: new ort.Tensor('uint8', pixels, [1, imageSize, imageSize, 3]) }, ['probs']);
    checkProbabilities(probs.data, backend);
    return session;
  } catch (error) {
    await session.release();
    throw error;
  }
}

export class Model {
  constructor(ort, session, backend, format, labels, fallback) {
    this.ort = ort;
    this.session = session;
    this.backend = backend;
    this.format = format;
    this.labels = labels;
    this.fallback = fallback;
  }

  /**
   * A warmed-up session on the first backend of `backends` that loads and runs the model. `artifacts(backend)`
   * gives {artifact, model} (manifest entry and bytes) for a backend (the bundle may hold one per backend);
   * `threads` sets wasm threads.
   */
  static async create(artifacts, labels, imageSize, { backends, threads } = {}) {
    const errors = [];
    for (const backend of backends) {
      try {
        const ort = await RUNTIMES[backend]();
        if (threads) ort.env.wasm.numThreads = threads;
        const { artifact, model } = await artifacts(backend);
        const session = await warmedSession(ort, model, backend, imageSize);
        return new Model(ort, session, backend, artifact.format, labels, errors.join('; '));
      } catch (error) {
        errors.push(`${backend}: ${error.message ?? error}`);
      }
    }
    throw new Error(`onnxruntime-web cannot load the model (${errors.join('; ')})`);
  }

  get description() {
    const threads = this.ort.env.wasm.numThreads;
    const where = this.backend === 'wasm' ? `WebAssembly, ${threads} thread${threads === 1 ? '' : 's'}` : 'WebGPU';
    const name = `${where}, ${this.format}`;
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

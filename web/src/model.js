// The model in the browser, on the first backend that loads and runs it (backendOrder):
//
// - webgpu: an ONNX artifact in onnxruntime-web's WebGPU build, when the browser offers an adapter;
// - litert: the bundle's web-litert artifact, two stages: its pixels graph (the in-model preprocessing, the
//   antialiased resize) in onnxruntime-web on WebAssembly, then its .tflite in LiteRT.js, whose XNNPACK
//   kernels use WebAssembly's relaxed SIMD (fused multiply-add), about twice as fast as onnxruntime-web's
//   (docs/web.md, "Backends");
// - wasm: an ONNX artifact in onnxruntime-web on WebAssembly.
// Input "images": uint8 [1, H, W, 3] at the image's own size, as in Python.
//
// Two builds of onnxruntime-web, loaded on demand: the plain SIMD WebAssembly build for the CPU, and the
// JSEP build only for WebGPU. The JSEP build is compiled with Emscripten's Asyncify (its WebGPU kernels
// await the GPU), which slows every CPU kernel too: measured in docs/web.md ("Latency").
// Models are warmed up with one run at the model's input size before use: the first run compiles and
// plans, and a backend that cannot run a node (WebGPU has no antialiased Resize) fails there, not on the
// user's first image. The warm-up's probabilities must also be finite and sum to 1: a GPU whose shaders
// fail validation (an fp16 model on an adapter without 'shader-f16') reports no error to the session and
// returns zeros, which must never reach a user as an answer.
import { Tensor, getGlobalLiteRtPromise, loadAndCompile, loadLiteRt } from '@litertjs/core';

const ORT_BUILDS = {
  wasm: () => import('./ort/ort.wasm.min.mjs'),
  webgpu: () => import('./ort/ort.min.mjs'),
};
/** Every backend, in the order tried when none is forced. */
export const BACKENDS = ['webgpu', 'litert', 'wasm'];
/** LiteRT.js's WebAssembly files (web/build.mjs copies them): it picks the build the browser supports. */
const LITERT_DIR = new URL('./litert/', import.meta.url).href;

/** The WebGPU adapter's features (a Set), or null when the browser offers no adapter. */
export async function webgpuFeatures() {
  try {
    const adapter = navigator.gpu && (await navigator.gpu.requestAdapter());
    return adapter ? new Set(adapter.features) : null;
  } catch {
    return null;
  }
}

/**
 * Backends to try in order: ?backend=litert|wasm|webgpu forces one. ?format=NAME runs that artifact, so an
 * ONNX format leaves LiteRT.js out and web-litert leaves only LiteRT.js.
 */
export function backendOrder(requested, features, format) {
  if (requested) return [requested];
  if (format === 'web-litert') return ['litert'];
  return BACKENDS.filter((backend) => (backend !== 'webgpu' || features) && (backend !== 'litert' || !format));
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

const plural = (n) => `${n} thread${n === 1 ? '' : 's'}`;

/** An ONNX artifact in onnxruntime-web (webgpu or wasm execution provider). */
class OrtRunner {
  constructor(ort, session, backend) {
    this.ort = ort;
    this.session = session;
    this.backend = backend;
  }

  static async create(backend, model, threads) {
    const ort = await ORT_BUILDS[backend]();
    if (threads) ort.env.wasm.numThreads = threads;
    // logSeverityLevel 3: errors only (ONNX Runtime's warnings about shape ops placed on the CPU are not the user's).
    const session = await ort.InferenceSession.create(model, { executionProviders: [backend], logSeverityLevel: 3 });
    return new OrtRunner(ort, session, backend);
  }

  get where() {
    return this.backend === 'wasm' ? `WebAssembly, ${plural(this.ort.env.wasm.numThreads)}` : 'WebGPU';
  }

  async probs(image) {
    const input = new this.ort.Tensor('uint8', image.rgb, [1, image.height, image.width, 3]);
    const { probs } = await this.session.run({ images: input }, ['probs']);
    return probs.data;
  }

  async release() {
    await this.session.release();
  }
}

/** A LiteRT.js log line: its runtime logs INFO and WARNING lines (environment set-up, "NPU accelerator could
 * not be loaded", "Created TensorFlow Lite XNNPACK delegate") to stderr, which Emscripten prints as console
 * errors; only its errors are errors. */
function liteRtLog(text) {
  if (/^(ERROR|FATAL)\b/.test(text)) console.error(`LiteRT.js: ${text}`);
  else console.debug(`LiteRT.js: ${text}`);
}

/** LiteRT.js's module, loaded once per page (loadLiteRt cannot be called again once it has succeeded). */
function liteRt(threaded) {
  const loaded = getGlobalLiteRtPromise();
  if (loaded) return loaded;
  // @litertjs/wasm-utils hands a global `Module` to the Emscripten factory (and clears it): its print hooks.
  globalThis.Module = { print: liteRtLog, printErr: liteRtLog };
  return loadLiteRt(LITERT_DIR, { threads: threaded });
}

/**
 * The web-litert artifact: its pixels graph in onnxruntime-web (wasm), its .tflite in LiteRT.js (wasm).
 * LiteRT.js tensors live in its WebAssembly memory and are freed by hand (Tensor.delete).
 */
class LiteRtRunner {
  constructor(ort, pixelsSession, compiled, threads) {
    this.ort = ort;
    this.pixelsSession = pixelsSession;
    this.compiled = compiled;
    this.threads = threads;
  }

  /** `threads` > 1 takes LiteRT.js's threaded build, which needs cross-origin isolation (SharedArrayBuffer). */
  static async create({ model, pixels }, threads) {
    const count = threads > 1 && self.crossOriginIsolated ? threads : 1;
    const ort = await ORT_BUILDS.wasm();
    if (threads) ort.env.wasm.numThreads = threads;
    await liteRt(count > 1);
    const compiled = await loadAndCompile(model, { accelerator: 'wasm', cpuOptions: { numThreads: count } });
    try {
      const session = await ort.InferenceSession.create(pixels, { executionProviders: ['wasm'], logSeverityLevel: 3 });
      return new LiteRtRunner(ort, session, compiled, count);
    } catch (error) {
      compiled.delete();
      throw error;
    }
  }

  get where() {
    return `WebAssembly (LiteRT.js), ${plural(this.threads)}`;
  }

  async probs(image) {
    const input = new this.ort.Tensor('uint8', image.rgb, [1, image.height, image.width, 3]);
    const { pixels } = await this.pixelsSession.run({ images: input }, ['pixels']);
    const tensor = new Tensor(pixels.data, Array.from(pixels.dims));
    let outputs;
    try {
      outputs = await this.compiled.run({ pixels: tensor });
    } finally {
      tensor.delete();
    }
    try {
      if (!outputs.probs) throw new Error(`the .tflite has no 'probs' output (${Object.keys(outputs).join(', ')})`);
      return outputs.probs.toTypedArray(); // a copy out of LiteRT.js's memory
    } finally {
      for (const output of Object.values(outputs)) output.delete();
    }
  }

  async release() {
    this.compiled.delete();
    await this.pixelsSession.release();
  }
}

export class Model {
  constructor(runner, backend, format, labels, fallback) {
    this.runner = runner;
    this.backend = backend;
    this.format = format;
    this.labels = labels;
    this.fallback = fallback;
  }

  /**
   * A warmed-up model on the first backend of `backends` that loads and runs it. `artifacts(backend)` gives
   * the manifest entry and bytes a backend runs: {artifact, model} for onnxruntime-web (the bundle may hold one
   * per backend), {artifact, model, pixels} for litert; `threads` sets WebAssembly threads. Each backend's
   * failure is kept and shown in the description.
   */
  static async create(artifacts, labels, imageSize, { backends, threads } = {}) {
    const errors = [];
    for (const backend of backends) {
      try {
        const loaded = await artifacts(backend);
        const runner = backend === 'litert'
          ? await LiteRtRunner.create(loaded, threads)
          : await OrtRunner.create(backend, loaded.model, threads);
        const model = new Model(runner, backend, loaded.artifact.format, labels, errors.join('; '));
        try {
          await model.warmUp(imageSize);
        } catch (error) {
          await runner.release();
          throw error;
        }
        return model;
      } catch (error) {
        errors.push(`${backend}: ${error.message ?? error}`);
      }
    }
    throw new Error(`cannot load the model (${errors.join('; ')})`);
  }

  /** One run at the model's size: compiles and plans, and proves the backend computes probabilities. */
  async warmUp(imageSize) {
    const rgb = new Uint8Array(imageSize * imageSize * 3);
    const probs = await this.runner.probs({ width: imageSize, height: imageSize, rgb });
    checkProbabilities(probs, this.backend);
  }

  get description() {
    const name = `${this.runner.where}, ${this.format}`;
    return this.fallback ? `${name} (not used: ${this.fallback})` : name;
  }

  /** Probabilities (Float32Array) and milliseconds for one image {width, height, rgb}, all stages included. */
  async classify(image) {
    const start = performance.now();
    const probs = await this.runner.probs(image);
    return { probs, ms: performance.now() - start };
  }

  /** Frees the sessions (and LiteRT.js's memory); the model cannot be used afterwards. */
  async release() {
    await this.runner.release();
  }
}

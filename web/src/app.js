// The page: load the bundle, then classify dropped, picked or camera images one after another.
import { BundleError, filesSource, litertArtifact, onnxArtifact, readManifest, urlSource } from './bundle.js';
import { topK } from './bundle-core.js';
import { cameraAvailable, captureFrame, startCamera } from './camera.js';
import { DecodeError, decodeFile } from './decode.js';
import { Model, backendOrder, webgpuFeatures } from './model.js';
import { errorCard, predictionCard } from './results.js';
import { registerOffline } from './offline.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
/** ?allow-unverified=1: load an artifact that failed or lacks verification; every result then says so. */
const bundleOptions = { allowUnverified: params.get('allow-unverified') === '1' };
let model = null;
let unverified = null;
let limits = null;
let queue = Promise.resolve();

function setStatus(state, text = state) {
  $('status').textContent = text;
  $('status').dataset.state = state;
}

function showBundleError(message) {
  setStatus('error', 'no model');
  $('bundle-error').textContent = `Cannot read the bundle: ${message}`;
  $('bundle-error').hidden = false;
}

/**
 * Formats a backend prefers over the manifest's order. WebGPU cannot run the `onnx` artifact (its Resize kernel
 * refuses antialiasing): it runs the fp16 model where the adapter has 'shader-f16', else the fp32 one with the
 * same matrix-product resize. (The litert backend runs the web-litert artifact, never an ONNX one.)
 */
function preferences(features, format) {
  if (format) return { webgpu: [format], wasm: [format] };
  const webgpu = features?.has('shader-f16') ? ['onnx-fp16', 'onnx-webgpu'] : ['onnx-webgpu'];
  return { webgpu, wasm: [] };
}

/** Read the bundle `source` (bundle.js's urlSource or filesSource) and load its model on the first backend
 * that runs it; the files of an artifact are fetched only when a backend tries it. */
async function useBundle(source) {
  setStatus('loading', 'loading');
  $('bundle-error').hidden = true;
  try {
    const features = await webgpuFeatures();
    const format = params.get('format');
    const backends = backendOrder(params.get('backend'), features, format);
    const prefer = preferences(features, format === 'web-litert' ? null : format);
    const text = await source.manifest();
    // Checked before any backend is tried: schema, paths, an ONNX artifact (the page's fallback).
    const onnx = readManifest(text, source, { ...bundleOptions, prefer: prefer.wasm });
    const { manifest } = onnx;
    // An unverified web-litert artifact is allowed only where the ONNX one is unverified too: a verified
    // artifact always wins over an allowed unverified one, as among ONNX artifacts (bundle-core's chooseArtifact).
    const litertOptions = { allowUnverified: bundleOptions.allowUnverified && onnx.unverified !== null };
    // The last artifact asked for is the one the model runs (Model.create tries backends in order).
    let chosen = null;
    const artifacts = async (backend) => {
      chosen = backend === 'litert'
        ? await litertArtifact(source, manifest, litertOptions)
        : await onnxArtifact(source, readManifest(text, source, { ...bundleOptions, prefer: prefer[backend] }));
      return chosen;
    };
    const threads = Number(params.get('threads')) || undefined;
    const loaded = await Model.create(artifacts, manifest.labels, manifest.input.image_size, { backends, threads });
    const previous = model;
    model = loaded;
    limits = onnx.limits;
    unverified = chosen.unverified;
    if (previous) queue = queue.then(() => previous.release()).catch(() => {});
    $('model-name').textContent = `· ${manifest.model.name}, ${manifest.labels.length} classes`;
    $('model-info').textContent = unverified ? `${model.description} · UNVERIFIED: ${unverified}` : model.description;
    for (const id of ['files', 'camera-start']) $(id).disabled = false;
    setStatus('ready');
  } catch (error) {
    const previous = model;
    model = null;
    if (previous) queue = queue.then(() => previous.release()).catch(() => {});
    for (const id of ['files', 'camera-start']) $(id).disabled = true;
    showBundleError(error instanceof BundleError ? error.message : String(error.message ?? error));
  }
}

async function classify(file) {
  const k = Math.max(1, Math.min(Number($('top-k').value) || 3, model.labels.length));
  try {
    const image = await decodeFile(file, { maxPixels: limits.maxPixels });
    const { probs, ms } = await model.classify(image);
    return predictionCard(file.name, URL.createObjectURL(file), topK(probs, model.labels, k), ms, image, probs, unverified);
  } catch (error) {
    const reason = error instanceof DecodeError ? error.message : `inference failed: ${error.message ?? error}`;
    return errorCard(file.name, reason);
  }
}

/** Classify files in order, one at a time (a session runs one call at a time). */
function enqueue(files) {
  for (const file of files) {
    queue = queue.then(async () => $('results').prepend(await classify(file)));
  }
}

function wireInputs() {
  $('files').addEventListener('change', (event) => {
    enqueue(Array.from(event.target.files));
    event.target.value = '';
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    if (model) enqueue(Array.from(event.dataTransfer.files));
  });
  $('clear').addEventListener('click', () => $('results').replaceChildren());
  $('bundle-files').addEventListener('change', (event) => {
    useBundle(filesSource(event.target.files));
  });
}

function wireCamera() {
  if (!cameraAvailable()) return;
  let stop = null;
  $('camera-start').hidden = false;
  $('camera-start').addEventListener('click', async () => {
    try {
      stop = await startCamera($('camera-video'));
      $('camera').hidden = false;
      $('camera-capture').focus();
    } catch (error) {
      $('results').prepend(errorCard('camera', `camera unavailable: ${error.message}`));
    }
  });
  $('camera-capture').addEventListener('click', async () => enqueue([await captureFrame($('camera-video'))]));
  $('camera-stop').addEventListener('click', () => {
    stop?.();
    $('camera').hidden = true;
  });
}

// The page's own decoder, for tests and debugging (web/tools/browser.mjs --pixels compares it with Python).
globalThis.lightship = { decodeFile };
wireInputs();
wireCamera();
registerOffline((state, text) => {
  $('offline').textContent = text;
  $('offline').dataset.state = state;
});
const bundleUrl = new URL(params.get('bundle') ?? 'bundle/', location.href);
useBundle(urlSource(bundleUrl));

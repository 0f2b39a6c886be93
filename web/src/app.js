// The page: load the bundle, then classify dropped, picked or camera images one after another.
import { BundleError, bundleFromFiles, bundleFromUrl } from './bundle.js';
import { topK } from './bundle-core.js';
import { cameraAvailable, captureFrame, startCamera } from './camera.js';
import { DecodeError, decodeFile } from './decode.js';
import { Model } from './model.js';
import { errorCard, predictionCard } from './results.js';
import { registerOffline } from './offline.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
/** ?allow-unverified=1: load an artifact that failed or lacks verification; every result then says so. */
const bundleOptions = { allowUnverified: params.get('allow-unverified') === '1' };
let model = null;
let unverified = null;
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

async function useBundle(loading) {
  setStatus('loading', 'loading');
  $('bundle-error').hidden = true;
  try {
    const { manifest, model: bytes, unverified: reason } = await loading;
    unverified = reason;
    const options = { backend: params.get('backend'), threads: Number(params.get('threads')) || undefined };
    model = await Model.create(bytes, manifest.labels, options);
    $('model-name').textContent = `· ${manifest.model.name}, ${manifest.labels.length} classes`;
    $('model-info').textContent = unverified ? `${model.description} · UNVERIFIED: ${unverified}` : model.description;
    for (const id of ['files', 'camera-start']) $(id).disabled = false;
    setStatus('ready');
  } catch (error) {
    model = null;
    showBundleError(error instanceof BundleError ? error.message : String(error.message ?? error));
  }
}

async function classify(file) {
  const k = Math.max(1, Math.min(Number($('top-k').value) || 3, model.labels.length));
  try {
    const image = await decodeFile(file);
    const { probs, ms } = await model.classify(image);
    return predictionCard(file.name, URL.createObjectURL(file), topK(probs, model.labels, k), ms, image, unverified);
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
  $('bundle-files').addEventListener('change', (event) => useBundle(bundleFromFiles(event.target.files, bundleOptions)));
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

wireInputs();
wireCamera();
registerOffline();
useBundle(bundleFromUrl(new URL(params.get('bundle') ?? 'bundle/', location.href), bundleOptions));

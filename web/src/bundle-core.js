// The bundle contract in JavaScript (docs/bundle.md), one module for the web app and the Node runner:
// which schema versions are read, which artifact runs (the manifest's runtime_preference, restricted to what
// ONNX Runtime runs), the sha256 check of its file, the input limits, and the top-k of a prediction.
// The web app bundles it with esbuild (web/src/bundle.js); the Node runner imports it by relative path
// (node/bundle.mjs). It uses only what both have: JSON, Web Crypto (globalThis.crypto, Node 20+).

export const SCHEMA_VERSIONS = [1, 2];
/** The runtime onnxruntime-web and onnxruntime-node are: artifacts of other runtimes cannot run here. */
export const RUNTIME = 'onnxruntime';
/** The order `auto` used before manifests recorded it (schema 1). */
const SCHEMA1_PREFERENCE = ['onnx', 'openvino', 'torchscript', 'onnx-int8'];
/** Python's lightship.images limits: for schema 1 manifests, which do not record them, and the decoders. */
export const DEFAULT_LIMITS = Object.freeze({
  maxPixels: 64_000_000,
  imageExtensions: ['.bmp', '.gif', '.jpeg', '.jpg', '.png', '.tif', '.tiff', '.webp'],
});

export class BundleError extends Error {}

/** Hex sha256 of bytes (ArrayBuffer or view). */
export async function sha256Hex(bytes) {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** {maxPixels, imageExtensions} of a manifest (schema 1: the built-in ones). */
export function limitsOf(manifest) {
  const limits = manifest.limits;
  if (!limits) return DEFAULT_LIMITS;
  return { maxPixels: limits.max_pixels, imageExtensions: limits.image_extensions };
}

/** The first artifact of the manifest's preference that ONNX Runtime runs, or undefined. */
export function chooseArtifact(manifest) {
  const preference = manifest.runtime_preference ?? SCHEMA1_PREFERENCE;
  const artifacts = manifest.artifacts ?? [];
  return preference
    .map((format) => artifacts.find((a) => a.format === format && a.runtime === RUNTIME))
    .find(Boolean);
}

/**
 * Parse and check manifest.json text from `where`: {manifest, artifact, limits, notice}. `notice` says what
 * a schema 1 manifest lacks (null for schema 2). BundleError says what is wrong otherwise.
 */
export function parseManifest(text, where) {
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new BundleError(`${where} is not valid JSON (${error.message}); re-run lightship export`);
  }
  if (!SCHEMA_VERSIONS.includes(manifest?.schema_version)) {
    throw new BundleError(
      `${where} has schema_version ${manifest?.schema_version}; this reader reads ${SCHEMA_VERSIONS.join(', ')}`);
  }
  const artifact = chooseArtifact(manifest);
  if (!artifact) {
    throw new BundleError('the bundle has no ONNX artifact; export it with lightship export --formats onnx');
  }
  const notice = manifest.schema_version === 1
    ? `${where} is a schema 1 bundle: no runtime_preference and no limits, so the built-in ones are used; `
      + 're-export it with this lightship to record them'
    : null;
  return { manifest, artifact, limits: limitsOf(manifest), notice };
}

/** The model bytes if they match the artifact's size and sha256 in the manifest; BundleError otherwise. */
export async function checkedModel(bytes, artifact) {
  const record = artifact.files.find((f) => f.path === artifact.file);
  if (record && (bytes.byteLength !== record.bytes || (await sha256Hex(bytes)) !== record.sha256)) {
    throw new BundleError(`${artifact.file} does not match its sha256 in manifest.json: modified or corrupted`);
  }
  return bytes;
}

/** [{label, score}] of the k best classes, best first; ties keep class order, as Python's stable argsort. */
export function topK(probs, labels, k) {
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  return order.slice(0, Math.max(1, Math.min(k, labels.length))).map((i) => ({ label: labels[i], score: probs[i] }));
}

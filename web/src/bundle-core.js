// The bundle contract in JavaScript (docs/bundle.md), one module for the web app and the Node runner:
// which schema versions are read, that every file path stays inside the bundle, which artifact runs (the
// manifest's runtime_preference, restricted to what ONNX Runtime runs and to artifacts that passed
// verification; the web app's LiteRT.js artifact, web-litert, apart), the sha256 checks, the input limits,
// and the top-k of a prediction.
// The web app bundles it with esbuild (web/src/bundle.js); the Node runner imports it by relative path
// (node/bundle.mjs). It uses only what both have: JSON, Web Crypto (globalThis.crypto, Node 20+).

export const SCHEMA_VERSIONS = [1, 2, 3];
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

/** Why a manifest file path could leave the bundle folder, or null: as Python's confined_path. */
export function pathProblem(path) {
  if (typeof path !== 'string' || path === '') return 'is not a non-empty string';
  if (path.startsWith('/') || path.includes('\\') || path[1] === ':') return 'is absolute or not a POSIX relative path';
  if (path.split('/').some((part) => part === '' || part === '.' || part === '..')) return "has an empty, '.' or '..' part";
  return null;
}

/** Every file record of the manifest, with who lists it. */
function records(manifest) {
  const artifacts = (manifest.artifacts ?? []).flatMap((a) => (a.files ?? []).map((r) => [`artifact ${a.format}`, r]));
  const proof = ['reference', 'samples'].flatMap((section) => (manifest[section]?.files ?? []).map((r) => [section, r]));
  return [...artifacts, ...proof];
}

/** BundleError unless every path stays inside the bundle and every artifact's file is among its files. */
function checkPaths(manifest, where) {
  for (const [owner, record] of records(manifest)) {
    const problem = pathProblem(record?.path);
    if (problem) throw new BundleError(`${where}: ${owner}: file path ${JSON.stringify(record?.path)} ${problem}: paths must stay inside the bundle`);
  }
  // The main file is hashed, or it is a package folder (Core ML's .mlpackage) whose files all are.
  const listed = (artifact) => {
    const files = artifact.files ?? [];
    return files.some((record) => record.path === artifact.file)
      || (files.length > 0 && files.every((record) => String(record.path).startsWith(`${artifact.file}/`)));
  };
  for (const artifact of manifest.artifacts ?? []) {
    if (!listed(artifact)) {
      throw new BundleError(`${where}: artifact ${artifact.format}: its file ${JSON.stringify(artifact.file)} is not among its hashed files`);
    }
  }
}

/** Why `artifact` must not be used without an override (naming it and its gate), or null: as Python's
 * lightship.bundle.verification.unverified_reason. */
export function unverifiedReason(manifest, artifact, root = 'BUNDLE') {
  const name = `artifact '${artifact.format}' (${artifact.file})`;
  const record = artifact.verification;
  const reverify = `\`lightship verify ${root} --record true\``;
  if (record && typeof record === 'object' && record.passed == null && record.note) {
    return `${name} is unverified (${record.note}); verify it with ${reverify}`;
  }
  if (!manifest.verification?.gates || typeof record !== 'object' || record === null) {
    return `${name} is unverified: the bundle was written before verification covered every class, off-size `
      + `images and int8 agreement; re-verify it with ${reverify} (artifacts that predate the \`pixels\` output `
      + 'fail it: then re-export with `lightship export RUN`)';
  }
  if (record.passed === true) return null;
  return `${name} failed verification: ${(record.failures ?? []).join('; ') || 'see manifest.json'}`;
}

/**
 * {artifact, unverified} of the first artifact of the manifest's preference that ONNX Runtime runs and that
 * passed verification; with `allowUnverified`, the first one ONNX Runtime runs, and `unverified` says why it
 * is not verified. BundleError naming every candidate and its gate otherwise. Formats in `prefer` come first
 * when the bundle has them (the web app runs onnx-fp16 on WebGPU).
 */
export function chooseArtifact(manifest, { allowUnverified = false, root, prefer = [] } = {}) {
  const preference = [...prefer, ...(manifest.runtime_preference ?? SCHEMA1_PREFERENCE)];
  const artifacts = manifest.artifacts ?? [];
  const candidates = preference
    .map((format) => artifacts.find((a) => a.format === format && a.runtime === RUNTIME))
    .filter(Boolean);
  if (candidates.length === 0) {
    throw new BundleError('the bundle has no ONNX artifact; export it with lightship export --formats onnx');
  }
  const reasons = candidates.map((a) => unverifiedReason(manifest, a, root));
  const verified = candidates.findIndex((_, i) => reasons[i] === null);
  if (verified >= 0) return { artifact: candidates[verified], unverified: null };
  if (allowUnverified) return { artifact: candidates[0], unverified: reasons[0] };
  throw new BundleError(`refusing to use an unverified artifact: ${reasons.join(' | ')}. `
    + 'Re-export or re-verify the bundle, or allow it explicitly (node: --allow-unverified; page: ?allow-unverified=1)');
}

/** The web app's LiteRT.js artifact (docs/web.md): `model.web.pixels.onnx`, run by onnxruntime-web, turns the
 * uint8 image into the model's input (the antialiased resize, whole levels 0..255); `model.web.tflite`, run by
 * LiteRT.js, maps those `pixels` to `probs` and `logits`. The Node runner never runs it (chooseArtifact takes
 * ONNX Runtime's artifacts only). */
export const WEB_LITERT = Object.freeze({ format: 'web-litert', runtime: 'litert-web' });

/**
 * {artifact, unverified, model, pixels} of the manifest's web-litert artifact: `model` is the file record of its
 * .tflite, `pixels` that of its pixels graph (its one other file, an .onnx). BundleError when the bundle has
 * none, when its files are not those two, or when it is unverified, unless `allowUnverified` (then
 * `unverified` says why). The manifest must have been read with parseManifest (which checks every path).
 */
export function chooseWebLitert(manifest, { allowUnverified = false, root } = {}) {
  const { format, runtime } = WEB_LITERT;
  const artifact = (manifest.artifacts ?? []).find((a) => a.format === format && a.runtime === runtime);
  if (!artifact) {
    throw new BundleError('the bundle has no web-litert artifact; export it with lightship export --formats web-litert');
  }
  const files = artifact.files ?? [];
  const model = files.find((record) => record.path === artifact.file);
  const others = files.filter((record) => record !== model);
  const pixels = others.length === 1 && String(others[0].path).endsWith('.onnx') ? others[0] : null;
  if (!model || !String(model.path).endsWith('.tflite') || !pixels) {
    throw new BundleError(`artifact web-litert: expected a .tflite model and one .onnx pixels graph, not `
      + `${JSON.stringify(files.map((record) => record.path))}; re-export it`);
  }
  const unverified = unverifiedReason(manifest, artifact, root);
  if (unverified && !allowUnverified) throw new BundleError(`refusing to use an unverified artifact: ${unverified}`);
  return { artifact, unverified, model, pixels };
}

/**
 * Parse and check manifest.json text from `where`: {manifest, artifact, unverified, limits, notice}.
 * `notice` says what a schema 1 manifest lacks (null otherwise); `unverified` why the chosen artifact is
 * used unverified (only with `allowUnverified`). BundleError says what is wrong otherwise.
 */
export function parseManifest(text, where, { allowUnverified = false, root, prefer = [] } = {}) {
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
  checkPaths(manifest, where);
  const { artifact, unverified } = chooseArtifact(manifest, { allowUnverified, root, prefer });
  const notice = manifest.schema_version === 1
    ? `${where} is a schema 1 bundle: no runtime_preference and no limits, so the built-in ones are used; `
      + 're-export it with this lightship to record them'
    : null;
  return { manifest, artifact, unverified, limits: limitsOf(manifest), notice };
}

/** `bytes` if they match `record`'s size and sha256; BundleError naming the file otherwise. */
export async function checkedFile(bytes, record) {
  if (bytes.byteLength !== record.bytes || (await sha256Hex(bytes)) !== record.sha256) {
    throw new BundleError(`${record.path} does not match its sha256 in manifest.json: modified or corrupted`);
  }
  return bytes;
}

/** The model bytes if they match the artifact's record in the manifest (always listed: checkPaths). */
export async function checkedModel(bytes, artifact) {
  return checkedFile(bytes, artifact.files.find((f) => f.path === artifact.file));
}

/** [{label, score}] of the k best classes, best first; ties keep class order, as Python's stable argsort. */
export function topK(probs, labels, k) {
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  return order.slice(0, Math.max(1, Math.min(k, labels.length))).map((i) => ({ label: labels[i], score: probs[i] }));
}

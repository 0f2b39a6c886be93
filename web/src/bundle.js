// Reading a lightship bundle in the browser, from a URL (the site's bundle/ folder) or from files the user
// picks: only the fetching and file picking are here; what the manifest means is bundle-core.js's.
//
// A source ({where, manifest(), bytes(path)}) says where the files come from; the manifest is read once, then
// each backend asks for the artifact it runs (onnxArtifact, litertArtifact), whose files are fetched only then
// and checked against their sha256 in the manifest.
import { BundleError, checkedFile, checkedModel, chooseWebLitert, parseManifest } from './bundle-core.js';

export { BundleError };

async function fetchOk(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new BundleError(`cannot fetch ${url} (${error.message})`);
  }
  if (!response.ok) throw new BundleError(`cannot fetch ${url}: HTTP ${response.status}`);
  return response;
}

/** The bundle folder at a URL ending in '/'. */
export function urlSource(base) {
  const manifestUrl = new URL('manifest.json', base);
  return {
    where: manifestUrl.pathname,
    manifest: async () => (await fetchOk(manifestUrl)).text(),
    async bytes(path) {
      // bundle-core's checkPaths refused '..' and absolute paths; a URL can still leave the folder in ways a
      // file path cannot ('%2e%2e/', 'https:host/'), so the resolved URL must be under the folder's.
      const url = new URL(path, base);
      const folder = new URL('./', base);
      if (url.origin !== folder.origin || !url.pathname.startsWith(folder.pathname) || url.search || url.hash) {
        const where = `file path ${JSON.stringify(path)} resolves outside the bundle (${url.href})`;
        throw new BundleError(`manifest.json: ${where}`);
      }
      return new Uint8Array(await (await fetchOk(url)).arrayBuffer());
    },
  };
}

/** The files the user picked: manifest.json and the model files it names (by file name). */
export function filesSource(files) {
  const byName = new Map(Array.from(files, (f) => [f.name, f]));
  return {
    where: 'manifest.json',
    async manifest() {
      const file = byName.get('manifest.json');
      if (!file) throw new BundleError('pick the bundle\'s manifest.json together with its model files');
      return file.text();
    },
    async bytes(path) {
      const name = path.split('/').pop();
      const file = byName.get(name);
      if (!file) throw new BundleError(`pick ${name} too: manifest.json names it as a model file`);
      return new Uint8Array(await file.arrayBuffer());
    },
  };
}

/**
 * {manifest, artifact, unverified, limits, notice} of the source's manifest (bundle-core's parseManifest):
 * `artifact` is the ONNX artifact, `options.prefer` formats first. `options.allowUnverified` lets an artifact
 * that failed or lacks verification load (`unverified` says why).
 */
export function readManifest(text, source, options = {}) {
  const parsed = parseManifest(text, source.where, options);
  if (parsed.notice) console.warn(parsed.notice);
  return parsed;
}

/** {artifact, unverified, model: Uint8Array} of the ONNX artifact `parsed` chose (readManifest). */
export async function onnxArtifact(source, parsed) {
  const bytes = await source.bytes(parsed.artifact.file);
  const { artifact, unverified } = parsed;
  return { artifact, unverified, model: await checkedModel(bytes, artifact) };
}

/**
 * {artifact, unverified, model, pixels} of the web-litert artifact (bundle-core's chooseWebLitert): the .tflite
 * and the pixels graph's bytes, both checked. BundleError when the bundle has none or a file does not match.
 */
export async function litertArtifact(source, manifest, options = {}) {
  const chosen = chooseWebLitert(manifest, options);
  const [model, pixels] = await Promise.all([chosen.model, chosen.pixels].map((record) => source.bytes(record.path)));
  return {
    artifact: chosen.artifact,
    unverified: chosen.unverified,
    model: await checkedFile(model, chosen.model),
    pixels: await checkedFile(pixels, chosen.pixels),
  };
}

// Reading a lightship bundle in the browser, from a URL (the site's bundle/ folder) or from files the user
// picks: only the fetching and file picking are here; what the manifest means is bundle-core.js's.
import { BundleError, checkedModel, parseManifest } from './bundle-core.js';

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

function read(text, where, options) {
  const parsed = parseManifest(text, where, options);
  if (parsed.notice) console.warn(parsed.notice);
  return parsed;
}

/**
 * {manifest, artifact, unverified, limits, model: Uint8Array} from a bundle folder URL ending in '/'.
 * `options.allowUnverified` lets an artifact that failed or lacks verification load (`unverified` says why);
 * formats in `options.prefer` win over the manifest's preference when the bundle has them.
 */
export async function bundleFromUrl(base, options = {}) {
  const manifestUrl = new URL('manifest.json', base);
  const parsed = read(await (await fetchOk(manifestUrl)).text(), manifestUrl.pathname, options);
  const bytes = new Uint8Array(await (await fetchOk(new URL(parsed.artifact.file, base))).arrayBuffer());
  return { ...parsed, model: await checkedModel(bytes, parsed.artifact) };
}

/** The same from picked files: manifest.json plus the .onnx file it names. */
export async function bundleFromFiles(files, options = {}) {
  const byName = new Map(Array.from(files, (f) => [f.name, f]));
  const manifestFile = byName.get('manifest.json');
  if (!manifestFile) throw new BundleError('pick the bundle\'s manifest.json together with its .onnx file');
  const parsed = read(await manifestFile.text(), 'manifest.json', options);
  const modelName = parsed.artifact.file.split('/').pop();
  const modelFile = byName.get(modelName);
  if (!modelFile) throw new BundleError(`pick ${modelName} too: manifest.json names it as the ONNX model`);
  const bytes = new Uint8Array(await modelFile.arrayBuffer());
  return { ...parsed, model: await checkedModel(bytes, parsed.artifact) };
}

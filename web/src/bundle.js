// Reading a lightship bundle in the browser: manifest.json (docs/bundle.md) and its ONNX artifact,
// checked against the manifest's size and sha256 before use. From a URL (the site's bundle/ folder)
// or from files the user picks.
const SCHEMA_VERSIONS = [1, 2];
const FORMATS = ['onnx', 'onnx-int8'];

export class BundleError extends Error {}

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function parseManifest(text, where) {
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new BundleError(`${where} is not valid JSON (${error.message}); re-run lightship export`);
  }
  if (!SCHEMA_VERSIONS.includes(manifest.schema_version)) {
    throw new BundleError(`${where} has schema_version ${manifest.schema_version}; this page reads ${SCHEMA_VERSIONS.join(', ')}`);
  }
  const artifact = FORMATS.map((f) => manifest.artifacts?.find((a) => a.format === f)).find(Boolean);
  if (!artifact) {
    throw new BundleError(`the bundle has no ONNX artifact; export it with lightship export --formats onnx`);
  }
  return { manifest, artifact };
}

async function checked(bytes, artifact) {
  const record = artifact.files.find((f) => f.path === artifact.file);
  if (record && (bytes.byteLength !== record.bytes || (await sha256Hex(bytes)) !== record.sha256)) {
    throw new BundleError(`${artifact.file} does not match its sha256 in manifest.json: modified or corrupted`);
  }
  return bytes;
}

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

/** {manifest, artifact, model: Uint8Array} from a bundle folder URL ending in '/'. */
export async function bundleFromUrl(base) {
  const manifestUrl = new URL('manifest.json', base);
  const text = await (await fetchOk(manifestUrl)).text();
  const { manifest, artifact } = parseManifest(text, manifestUrl.pathname);
  const bytes = new Uint8Array(await (await fetchOk(new URL(artifact.file, base))).arrayBuffer());
  return { manifest, artifact, model: await checked(bytes, artifact) };
}

/** The same from picked files: manifest.json plus the .onnx file it names. */
export async function bundleFromFiles(files) {
  const byName = new Map(Array.from(files, (f) => [f.name, f]));
  const manifestFile = byName.get('manifest.json');
  if (!manifestFile) throw new BundleError('pick the bundle\'s manifest.json together with its .onnx file');
  const { manifest, artifact } = parseManifest(await manifestFile.text(), 'manifest.json');
  const modelName = artifact.file.split('/').pop();
  const modelFile = byName.get(modelName);
  if (!modelFile) throw new BundleError(`pick ${modelName} too: manifest.json names it as the ONNX model`);
  const bytes = new Uint8Array(await modelFile.arrayBuffer());
  return { manifest, artifact, model: await checked(bytes, artifact) };
}

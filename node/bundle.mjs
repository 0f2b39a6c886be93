// A lightship bundle on disk (docs/bundle.md): the manifest and its ONNX artifact, checked against the
// manifest's size and sha256 before loading, as Python's lightship.runtime does.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const SCHEMA_VERSIONS = [1, 2];
const FORMATS = ['onnx', 'onnx-int8'];

export class BundleError extends Error {}

async function readManifest(root) {
  let text;
  try {
    text = await readFile(join(root, 'manifest.json'), 'utf8');
  } catch {
    throw new BundleError(`${root} has no manifest.json, so it is not a bundle; create one with lightship export`);
  }
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new BundleError(`${join(root, 'manifest.json')} is not valid JSON (${error.message})`);
  }
  if (!SCHEMA_VERSIONS.includes(manifest.schema_version)) {
    throw new BundleError(`${root}: schema_version ${manifest.schema_version}, this runner reads ${SCHEMA_VERSIONS.join(', ')}`);
  }
  return manifest;
}

/** {manifest, artifact, model: Buffer} of the bundle folder `root`. */
export async function loadBundle(root) {
  const manifest = await readManifest(root);
  const artifact = FORMATS.map((f) => manifest.artifacts.find((a) => a.format === f)).find(Boolean);
  if (!artifact) throw new BundleError(`${root} has no ONNX artifact; export it with --formats onnx`);
  const model = await readFile(join(root, artifact.file)).catch(() => {
    throw new BundleError(`${join(root, artifact.file)} is listed in the manifest but missing`);
  });
  const record = artifact.files.find((f) => f.path === artifact.file);
  const sha256 = createHash('sha256').update(model).digest('hex');
  if (record && (model.length !== record.bytes || sha256 !== record.sha256)) {
    throw new BundleError(`${join(root, artifact.file)} does not match its sha256 in the manifest`);
  }
  return { manifest, artifact, model };
}

// A lightship bundle on disk for the Node runner: reading its files is here; what the manifest means (schema,
// confined paths, artifact choice and verification, sha256 checks, limits) is the web app's shared module,
// web/src/bundle-core.js.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleError, checkedFile, parseManifest } from '../web/src/bundle-core.js';

export { BundleError };

async function readListed(root, record) {
  return readFile(join(root, record.path)).catch(() => {
    throw new BundleError(`${join(root, record.path)} is listed in the manifest but missing`);
  });
}

/**
 * {manifest, artifact, unverified, limits, model: Buffer} of the bundle folder `root`. Every file the runner
 * relies on is checked against its sha256: the model, and the proof it was verified with (reference model and
 * samples), so a bundle whose evidence was altered is refused like one whose model was.
 */
export async function loadBundle(root, { allowUnverified = false } = {}) {
  const where = join(root, 'manifest.json');
  const text = await readFile(where, 'utf8').catch(() => {
    throw new BundleError(`${root} has no manifest.json, so it is not a bundle; create one with lightship export`);
  });
  const parsed = parseManifest(text, where, { allowUnverified, root });
  if (parsed.notice) process.stderr.write(`note: ${parsed.notice}\n`);
  const { manifest, artifact } = parsed;
  const proof = [...manifest.reference.files, ...manifest.samples.files];
  for (const record of proof) await checkedFile(await readListed(root, record), record);
  const record = artifact.files.find((f) => f.path === artifact.file);
  return { ...parsed, model: await checkedFile(await readListed(root, record), record) };
}

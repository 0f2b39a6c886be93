// A lightship bundle on disk for the Node runner: reading its files is here; what the manifest means (schema,
// artifact choice, sha256 check, limits) is the web app's shared module, web/src/bundle-core.js.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleError, checkedModel, parseManifest } from '../web/src/bundle-core.js';

export { BundleError };

/** {manifest, artifact, limits, model: Buffer} of the bundle folder `root`. */
export async function loadBundle(root) {
  const where = join(root, 'manifest.json');
  const text = await readFile(where, 'utf8').catch(() => {
    throw new BundleError(`${root} has no manifest.json, so it is not a bundle; create one with lightship export`);
  });
  const parsed = parseManifest(text, where);
  if (parsed.notice) process.stderr.write(`note: ${parsed.notice}\n`);
  const model = await readFile(join(root, parsed.artifact.file)).catch(() => {
    throw new BundleError(`${join(root, parsed.artifact.file)} is listed in the manifest but missing`);
  });
  return { ...parsed, model: await checkedModel(model, parsed.artifact) };
}

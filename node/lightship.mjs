#!/usr/bin/env node
// lightship in Node.js: classify images with a bundle's ONNX model (onnxruntime-node, CPU) and print
// the JSON lines of `lightship predict --json`: {"path","label","score","top_k":[{"label","score"}]}.
//
//   node node/lightship.mjs predict BUNDLE IMAGE_OR_FOLDER... [--top-k 3] [--allow-unverified]   (or --top_k 3)
//
// An artifact that failed or lacks verification is refused (exit 2, naming it and its gate) unless
// --allow-unverified: then every line carries "unverified" with the reason, as Python's does.
// Undecodable images are skipped with a message on stderr; exit 1 when none was classified, 2 on a bad
// bundle or bad arguments.
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { topK } from '../web/src/bundle-core.js';
import { BundleError, loadBundle } from './bundle.mjs';
import { DecodeError, decodeImage } from './decode.mjs';

const USAGE = 'usage: node node/lightship.mjs predict BUNDLE IMAGE_OR_FOLDER... [--top-k 3] [--allow-unverified]';

/**
 * Files as given; folders walked recursively in sorted order, skipping hidden entries and files whose
 * extension is not among `extensions` (the bundle's limits), as Python does.
 */
async function* expand(paths, extensions) {
  for (const path of paths) {
    if (!(await stat(path).catch(() => null))?.isDirectory()) {
      yield path;
      continue;
    }
    const entries = (await readdir(path)).filter((name) => !name.startsWith('.')).sort();
    for (const name of entries) {
      const child = join(path, name);
      if ((await stat(child)).isDirectory()) yield* expand([child], extensions);
      else if (extensions.has(extname(name).toLowerCase())) yield child;
    }
  }
}

async function predict(bundlePath, images, k, allowUnverified) {
  const { manifest, model, limits, unverified } = await loadBundle(bundlePath, { allowUnverified });
  if (unverified) process.stderr.write(`warning: ${unverified}; used because of --allow-unverified\n`);
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  const labels = manifest.labels;
  let done = 0;
  for await (const path of expand(images, new Set(limits.imageExtensions))) {
    let image;
    try {
      image = await decodeImage(path, { maxPixels: limits.maxPixels });
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      process.stderr.write(`skipped ${path}: ${error.message}\n`);
      continue;
    }
    const input = new ort.Tensor('uint8', image.rgb, [1, image.height, image.width, 3]);
    const { probs } = await session.run({ images: input });
    const top = topK(probs.data, labels, k);
    const line = { path, label: top[0].label, score: top[0].score, top_k: top, ...(unverified ? { unverified } : {}) };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    done += 1;
  }
  if (done === 0) process.stderr.write('no image could be classified\n');
  return done ? 0 : 1;
}

/**
 * lightship's one spelling policy (as in `lightship` itself): option names take dashes or underscores, so
 * `--top_k 3` = `--top-k 3`. Values and positionals are left alone.
 */
export function dashed(argv) {
  return argv.map((arg) => {
    if (!arg.startsWith('--')) return arg;
    const cut = arg.indexOf('=');
    const name = cut < 0 ? arg : arg.slice(0, cut);
    return name.replaceAll('_', '-') + (cut < 0 ? '' : arg.slice(cut));
  });
}

async function main(argv) {
  const { values, positionals } = parseArgs({ args: dashed(argv), allowPositionals: true,
    options: {
      'top-k': { type: 'string', default: '3' },
      'allow-unverified': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    } });
  const [command, bundle, ...images] = positionals;
  const k = Number.parseInt(values['top-k'], 10);
  if (values.help || command !== 'predict' || !bundle || images.length === 0 || !(k >= 1)) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  return predict(bundle, images, k, values['allow-unverified']);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof BundleError) && error.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw error;
  process.stderr.write(`error: ${error.message}\n`);
  process.exitCode = 2;
}

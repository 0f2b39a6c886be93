// The Node runner's decoder (node/decode.mjs) on each image, for tests/web/test_node.py: writes the RGB bytes
// to DIR/<file name>.<width>x<height>.rgb, or DIR/<file name>.err with the message.
//   node tests/web/pixels.mjs DIR IMAGE...
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decodeImage } from '../../node/decode.mjs';

const [dir, ...images] = process.argv.slice(2);
mkdirSync(dir, { recursive: true });
for (const path of images) {
  const name = basename(path);
  try {
    const { width, height, rgb } = await decodeImage(path);
    writeFileSync(join(dir, `${name}.${width}x${height}.rgb`), rgb);
  } catch (error) {
    writeFileSync(join(dir, `${name}.err`), error.message);
  }
}

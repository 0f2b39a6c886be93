// Image file -> uint8 RGB pixels with sharp (libvips), following lightship's decoding policy
// (lightship.images): EXIF orientation applied, embedded ICC profile ignored, grayscale/palette to RGB,
// alpha dropped, 8 bits per channel; 16-bit grayscale scaled with rounding as Python does (libvips would
// truncate). Same pixel limit as Python.
import sharp from 'sharp';
import { DEFAULT_LIMITS } from '../web/src/bundle-core.js';

const MAX_PIXELS = DEFAULT_LIMITS.maxPixels;

export class DecodeError extends Error {}

const OPTIONS = { autoOrient: true, ignoreIcc: true, limitInputPixels: MAX_PIXELS };

async function gray16(path) {
  const { data, info } = await sharp(path, OPTIONS)
    .toColourspace('grey16')
    .raw({ depth: 'ushort' })
    .toBuffer({ resolveWithObject: true });
  const samples = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
  const rgb = Buffer.alloc(samples.length * 3);
  samples.forEach((value, i) => rgb.fill(Math.floor((value / 65535) * 255 + 0.5), i * 3, i * 3 + 3));
  return { width: info.width, height: info.height, rgb };
}

async function rgb8(path) {
  const { data, info } = await sharp(path, OPTIONS)
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgb: data };
}

/** {width, height, rgb: Buffer} of the image at `path`; DecodeError saying why not. */
export async function decodeImage(path) {
  try {
    const { depth, channels } = await sharp(path, OPTIONS).metadata();
    return depth === 'ushort' && channels === 1 ? await gray16(path) : await rgb8(path);
  } catch (error) {
    throw new DecodeError(error.message.replace(/^Input file /, ''));
  }
}

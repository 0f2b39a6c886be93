// Image file -> uint8 RGB pixels, decoded as Python's lightship.images (Pillow) decodes it. sharp (libvips)
// decodes JPEG, PNG, WebP, GIF and TIFF exactly as Pillow on tests/web/corpus.py's files, with EXIF
// orientation applied and the embedded ICC profile ignored, except where its policy differs, handled here:
// CMYK (libvips converts through a colour profile; Pillow uses a plain formula: decode/pixels.js), GIF
// transparency (decode/gif.js), 16-bit grayscale (libvips truncates, Python rounds). BMP, which libvips
// cannot read, is decoded by the web app's decoder (decode/bmp.js). Same pixel limit as Python.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { bmpSize, decodeBmp } from '../web/src/decode/bmp.js';
import { imageFormat } from '../web/src/decode/format.js';
import { gifTransparentColour } from '../web/src/decode/gif.js';
import { rgbFromCmyk, rgbFromRgba } from '../web/src/decode/pixels.js';
import { DEFAULT_LIMITS } from '../web/src/bundle-core.js';

export const MAX_PIXELS = DEFAULT_LIMITS.maxPixels;

export class DecodeError extends Error {}

function checkSize(width, height, maxPixels) {
  if (width * height > maxPixels) {
    throw new DecodeError(`${width}x${height} pixels exceeds the limit of ${maxPixels} (decompression bomb?)`);
  }
}

async function raw(pipeline) {
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

async function gray16(image) {
  const { data, width, height } = await raw(image.toColourspace('grey16').raw({ depth: 'ushort' }));
  const samples = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
  const rgb = new Uint8Array(samples.length * 3);
  samples.forEach((value, i) => rgb.fill(Math.floor((value / 65535) * 255 + 0.5), i * 3, i * 3 + 3));
  return { width, height, rgb };
}

async function cmyk(image) {
  const { data, width, height, channels } = await raw(image.pipelineColourspace('cmyk').toColourspace('cmyk').raw());
  return { width, height, rgb: rgbFromCmyk(data, channels) };
}

async function gif(image, bytes) {
  const { data, width, height } = await raw(image.ensureAlpha().raw());
  return { width, height, rgb: rgbFromRgba(data, gifTransparentColour(bytes)) };
}

async function rgb8(image) {
  const { data, width, height } = await raw(image.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }));
  return { width, height, rgb: data };
}

async function decodeWithSharp(bytes, format, maxPixels) {
  const open = () => sharp(bytes, { autoOrient: true, ignoreIcc: true, limitInputPixels: maxPixels });
  const { depth, channels, space } = await open().metadata();
  if (space === 'cmyk') return cmyk(open());
  if (format === 'gif') return gif(open(), bytes);
  if (depth === 'ushort' && channels === 1) return gray16(open());
  return rgb8(open());
}

/** {width, height, rgb} of the image at `path`; DecodeError saying why not. */
export async function decodeImage(path, { maxPixels = MAX_PIXELS } = {}) {
  let bytes;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new DecodeError(error.code === 'ENOENT' ? 'file not found' : `cannot read file (${error.code ?? error.message})`);
  }
  if (bytes.length === 0) throw new DecodeError('empty file (0 bytes)');
  const format = imageFormat(bytes);
  try {
    if (format === 'bmp') {
      const { width, height } = bmpSize(bytes);
      checkSize(width, height, maxPixels);
      return decodeBmp(bytes);
    }
    return await decodeWithSharp(bytes, format, maxPixels);
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    throw new DecodeError(error.message.replace(/^Input (file|buffer) /, ''));
  }
}

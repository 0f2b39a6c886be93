// Any image File -> uint8 RGB pixels at the image's own size (the model resizes inside), decoded as
// Python's lightship.images (Pillow) decodes it. Per format, whatever gives Pillow's pixels here:
// - PNG and BMP: decoded in JavaScript (decode/png.js, decode/bmp.js): exact (a canvas would premultiply
//   alpha and lose transparent pixels' colours; browsers round 16-bit BMP channels differently);
// - JPEG: the browser's decoder (libjpeg-turbo in Chromium and Firefox: exact for RGB and grayscale; CMYK is
//   converted by the browser, up to 1 level from Pillow, see docs/web.md), EXIF orientation applied by it;
// - GIF: the browser's decoder, transparent pixels given Pillow's palette colour (decode/gif.js);
// - WebP: WebCodecs' ImageDecoder where the image has alpha (unpremultiplied pixels), else the browser's
//   decoder; EXIF orientation applied here (browsers ignore it in WebP);
// - TIFF: refused with a message (Chromium and Firefox cannot decode it).
import { decodeBmp, bmpSize } from './decode/bmp.js';
import { imageFormat } from './decode/format.js';
import { gifTransparentColour } from './decode/gif.js';
import { applyOrientation, containerOrientation } from './decode/orientation.js';
import { rgbFromRgba } from './decode/pixels.js';
import { decodePng } from './decode/png.js';
import { DEFAULT_LIMITS } from './bundle-core.js';

/** Same refusal as Python's lightship.images.MAX_PIXELS (decompression bombs). */
export const MAX_PIXELS = DEFAULT_LIMITS.maxPixels;
const MIME = { jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };
const RGB_FRAMES = { RGBA: [0, 1, 2], RGBX: [0, 1, 2], BGRA: [2, 1, 0], BGRX: [2, 1, 0] };

export class DecodeError extends Error {}

function checkSize(width, height, maxPixels) {
  if (width * height > maxPixels) {
    throw new DecodeError(`${width}x${height} pixels exceeds the limit of ${maxPixels} (decompression bomb?)`);
  }
}

/** RGBA from the browser's decoder drawn on a canvas (which premultiplies alpha: exact for opaque pixels). */
async function canvasRgba(bytes, type) {
  const bitmap = await createImageBitmap(new Blob([bytes], { type }), {
    imageOrientation: 'from-image',
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  try {
    const { width, height } = bitmap;
    const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bitmap, 0, 0);
    return { width, height, rgba: ctx.getImageData(0, 0, width, height).data };
  } finally {
    bitmap.close();
  }
}

/** RGB from WebCodecs' ImageDecoder when it yields unpremultiplied RGB(A) frames; null where it cannot. */
async function imageDecoderRgb(bytes, type) {
  if (typeof ImageDecoder === 'undefined') return null;
  const decoder = new ImageDecoder({ data: bytes, type, premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  try {
    const { image: frame } = await decoder.decode();
    try {
      const order = RGB_FRAMES[frame.format];
      if (!order) return null;
      const { codedWidth: width, codedHeight: height } = frame;
      const data = new Uint8Array(frame.allocationSize());
      const [{ offset, stride }] = await frame.copyTo(data);
      const rgb = new Uint8Array(width * height * 3);
      for (let y = 0; y < height; y += 1) {
        for (let x = 0; x < width; x += 1) {
          const from = offset + y * stride + x * 4;
          const to = (y * width + x) * 3;
          for (let c = 0; c < 3; c += 1) rgb[to + c] = data[from + order[c]];
        }
      }
      return { width, height, rgb };
    } finally {
      frame.close();
    }
  } finally {
    decoder.close();
  }
}

/** True when a WebP declares alpha (VP8X flag, or the VP8L header's alpha bit). */
function webpHasAlpha(bytes) {
  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  if (chunk === 'VP8X') return Boolean(bytes[20] & 0x10);
  if (chunk === 'VP8L') return Boolean(bytes[24] & 0x10);
  return false;
}

async function decodeWebp(bytes) {
  let image = webpHasAlpha(bytes) ? await imageDecoderRgb(bytes, MIME.webp) : null;
  if (!image) {
    const { width, height, rgba } = await canvasRgba(bytes, MIME.webp);
    image = { width, height, rgb: rgbFromRgba(rgba) };
  }
  return applyOrientation(image, containerOrientation(bytes, 'webp'));
}

async function decodeWithBrowser(bytes, format) {
  if (format === 'webp') return decodeWebp(bytes);
  const { width, height, rgba } = await canvasRgba(bytes, MIME[format] ?? '');
  return { width, height, rgb: rgbFromRgba(rgba, format === 'gif' ? gifTransparentColour(bytes) : null) };
}

function decodeInJs(bytes, format, maxPixels) {
  if (format === 'png') {
    if (bytes.length >= 24) {
      const header = new DataView(bytes.buffer, bytes.byteOffset);
      checkSize(header.getUint32(16), header.getUint32(20), maxPixels);
    }
    return applyOrientation(decodePng(bytes), containerOrientation(bytes, 'png'));
  }
  const { width, height } = bmpSize(bytes);
  checkSize(width, height, maxPixels);
  return decodeBmp(bytes);
}

/** Decode a File to {width, height, rgb}; DecodeError with a message for people otherwise. */
export async function decodeFile(file, { maxPixels = MAX_PIXELS } = {}) {
  if (file.size === 0) throw new DecodeError('empty file (0 bytes)');
  const bytes = new Uint8Array(await file.arrayBuffer());
  const format = imageFormat(bytes);
  if (format === 'tiff') {
    throw new DecodeError('TIFF images cannot be decoded in the browser; convert it to PNG, or use Python or the '
      + 'Node runner (node/lightship.mjs), which read TIFF');
  }
  if (format === 'png' || format === 'bmp') {
    try {
      return decodeInJs(bytes, format, maxPixels);
    } catch (error) {
      if (error instanceof DecodeError) throw error;
      throw new DecodeError(`corrupt or unsupported ${format.toUpperCase()} (${error.message})`);
    }
  }
  let image;
  try {
    image = await decodeWithBrowser(bytes, format);
  } catch {
    if (!format && file.type && !file.type.startsWith('image/')) {
      throw new DecodeError(`not an image (${file.type}); choose a JPEG, PNG, WebP, GIF or BMP file`);
    }
    throw new DecodeError('this browser cannot decode the image (unsupported format, corrupt or not an image)');
  }
  checkSize(image.width, image.height, maxPixels);
  return image;
}

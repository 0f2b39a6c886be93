// Any image File -> uint8 RGB pixels at the image's own size (the model resizes inside).
// PNG: decoded in JavaScript (png.js) for exact parity with Python. Other formats: the browser's decoder
// via createImageBitmap with EXIF orientation applied, no colour-space conversion and no premultiplied
// alpha, drawn to a canvas; alpha is dropped.
import { DEFAULT_LIMITS } from './bundle-core.js';
import { decodePng } from './png.js';

/** Same refusal as Python's lightship.images.MAX_PIXELS (decompression bombs). */
const MAX_PIXELS = DEFAULT_LIMITS.maxPixels;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export class DecodeError extends Error {}

const isPng = (bytes) => PNG_SIGNATURE.every((b, i) => bytes[i] === b);

function checkSize(width, height) {
  if (width * height > MAX_PIXELS) {
    throw new DecodeError(`${width}x${height} pixels exceeds the limit of ${MAX_PIXELS} (decompression bomb?)`);
  }
}

function rgbFromRgba(rgba) {
  const rgb = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
    rgb[o] = rgba[i];
    rgb[o + 1] = rgba[i + 1];
    rgb[o + 2] = rgba[i + 2];
  }
  return rgb;
}

function pixelsOf(bitmap) {
  const { width, height } = bitmap;
  const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  return { width, height, rgb: rgbFromRgba(ctx.getImageData(0, 0, width, height).data) };
}

async function decodeWithBrowser(file) {
  const bitmap = await createImageBitmap(file, {
    imageOrientation: 'from-image',
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  try {
    checkSize(bitmap.width, bitmap.height);
    return pixelsOf(bitmap);
  } finally {
    bitmap.close();
  }
}

/** Decode a File to {width, height, rgb}; DecodeError with a message for people otherwise. */
export async function decodeFile(file) {
  if (file.size === 0) throw new DecodeError('empty file (0 bytes)');
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (isPng(bytes)) {
    if (bytes.length >= 24) {
      const header = new DataView(bytes.buffer);
      checkSize(header.getUint32(16), header.getUint32(20));
    }
    try {
      return decodePng(bytes);
    } catch (error) {
      throw new DecodeError(`corrupt or unsupported PNG (${error.message})`);
    }
  }
  try {
    return await decodeWithBrowser(file);
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    if (file.type && !file.type.startsWith('image/')) {
      throw new DecodeError(`not an image (${file.type}); choose a JPEG, PNG, WebP, GIF or BMP file`);
    }
    throw new DecodeError('this browser cannot decode the image (unsupported format, corrupt or not an image)');
  }
}

// EXIF orientation for the containers whose orientation the browser ignores: PNG (eXIf chunk) and WebP
// (EXIF chunk). Pillow's ImageOps.exif_transpose applies it for every format, so lightship does too.
// (JPEG: browsers apply it while decoding; BMP and GIF carry none.)

const ORIENTATION_TAG = 0x0112;

/** The orientation (1..8) in a TIFF-structured EXIF block (with or without the "Exif\0\0" prefix); 1 if none. */
export function exifOrientation(exif) {
  let data = exif;
  if (data.length >= 6 && String.fromCharCode(...data.subarray(0, 4)) === 'Exif') data = data.subarray(6);
  if (data.length < 8) return 1;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = data[0] === 0x49;
  if (!little && data[0] !== 0x4d) return 1;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > data.length) return 1;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i += 1) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > data.length) break;
    if (view.getUint16(entry, little) === ORIENTATION_TAG) {
      const value = view.getUint16(entry + 8, little);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}

/** The payload of the first PNG chunk of `type`, or null. */
function pngChunk(bytes, type) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let pos = 8; pos + 8 <= bytes.length;) {
    const length = view.getUint32(pos);
    const name = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (name === type) return bytes.subarray(pos + 8, pos + 8 + length);
    if (name === 'IDAT' || name === 'IEND') return null;
    pos += 12 + length;
  }
  return null;
}

/** The payload of the WebP (RIFF) chunk `type`, or null. */
function webpChunk(bytes, type) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let pos = 12; pos + 8 <= bytes.length;) {
    const length = view.getUint32(pos + 4, true);
    if (String.fromCharCode(...bytes.subarray(pos, pos + 4)) === type) return bytes.subarray(pos + 8, pos + 8 + length);
    pos += 8 + length + (length & 1);
  }
  return null;
}

/** EXIF orientation of PNG or WebP bytes (1 when absent). */
export function containerOrientation(bytes, format) {
  const exif = format === 'png' ? pngChunk(bytes, 'eXIf') : format === 'webp' ? webpChunk(bytes, 'EXIF') : null;
  return exif ? exifOrientation(exif) : 1;
}

// For each orientation, the source pixel (x, y) of output pixel (i, j) in an image of w x h (source size).
const SOURCE = {
  2: (i, j, w) => [w - 1 - i, j],
  3: (i, j, w, h) => [w - 1 - i, h - 1 - j],
  4: (i, j, w, h) => [i, h - 1 - j],
  5: (i, j) => [j, i],
  6: (i, j, w, h) => [j, h - 1 - i],
  7: (i, j, w, h) => [w - 1 - j, h - 1 - i],
  8: (i, j, w) => [w - 1 - j, i],
};

/** {width, height, rgb} turned upright for EXIF `orientation`, as Pillow's exif_transpose does. */
export function applyOrientation(image, orientation) {
  const source = SOURCE[orientation];
  if (!source) return image;
  const { width: w, height: h, rgb } = image;
  const [width, height] = orientation >= 5 ? [h, w] : [w, h];
  const out = new Uint8Array(rgb.length);
  for (let j = 0; j < height; j += 1) {
    for (let i = 0; i < width; i += 1) {
      const [x, y] = source(i, j, w, h);
      const from = (y * w + x) * 3;
      out.set(rgb.subarray(from, from + 3), (j * width + i) * 3);
    }
  }
  return { width, height, rgb: out };
}

// BMP -> 8-bit RGB exactly as Pillow (and so Python's lightship.images) reads it. Shared by the web app
// and the Node runner; no dependencies. Written here because no maintained npm decoder matched Pillow
// (measured on tests/web/corpus.py's files: bmp-ts 1.0.9 misreads every palette image and OS/2 headers,
// decode-bmp 0.2.1 has no 16-bit, top-down 8-bit or OS/2 support, fast-bmp 4 reads only V5 headers), and
// browsers scale 5/6-bit channels by bit replication where Pillow computes value * 255 / max (1 level off).
//
// Pillow's policy, followed here: 1/4/8-bit palettes (BGRX, or BGR in OS/2 headers) looked up, indices past
// the palette are black; 16-bit is 5-5-5 unless bit fields say 5-6-5; 24-bit BGR; 32-bit BGRX, alpha
// ignored (Pillow reads 32-bit BMPs as RGB unless a header mask names alpha, and lightship drops alpha
// anyway); BI_RLE8/BI_RLE4 with Pillow's handling of deltas and short data (unset pixels are index 0);
// rows bottom-up unless the height is negative.

export class BmpError extends Error {}

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const INFO_HEADERS = new Set([40, 52, 56, 64, 108, 124]);

function header(view) {
  const size = view.getUint32(14, true);
  if (size === 12) {
    return { size, width: view.getUint16(18, true), height: view.getUint16(20, true), bits: view.getUint16(24, true),
      compression: BI_RGB, colors: 0, paletteEntry: 3 };
  }
  if (!INFO_HEADERS.has(size)) throw new BmpError(`unsupported BMP header size ${size}`);
  return { size, width: view.getInt32(18, true), height: view.getInt32(22, true), bits: view.getUint16(28, true),
    compression: view.getUint32(30, true), colors: view.getUint32(46, true), paletteEntry: 4 };
}

/** The R, G, B masks of a bit-field image: inside a 52+ byte header, or right after a 40-byte one. */
function masks(view, info) {
  const at = info.size >= 52 ? 54 : 14 + info.size;
  return [0, 1, 2].map((i) => view.getUint32(at + 4 * i, true));
}

function defaultMasks(bits) {
  if (bits === 16) return [0x7c00, 0x03e0, 0x001f];
  return [0xff0000, 0x00ff00, 0x0000ff];
}

/** value * 255 / max with integer truncation, as Pillow's BGR;15 / BGR;16 unpackers do. */
function channelReader(mask) {
  if (mask === 0) return () => 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift += 1;
  const max = mask >>> shift;
  return max === 255 ? (p) => (p >>> shift) & 255 : (p) => Math.floor((((p & mask) >>> shift) * 255) / max);
}

function readPalette(bytes, at, count, entry) {
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < Math.min(count, 256); i += 1) {
    const o = at + i * entry;
    if (o + 3 > bytes.length) break;
    palette.set([bytes[o + 2], bytes[o + 1], bytes[o]], i * 3);
  }
  return palette;
}

/** Pillow's BmpRleDecoder: indices in bottom-up row order, unset pixels 0. */
function rleIndices(bytes, offset, width, height, rle4) {
  const out = new Uint8Array(width * height);
  let length = 0;
  let x = 0;
  let pos = offset;
  const total = width * height;
  while (length < total && pos + 1 < bytes.length) {
    const count = bytes[pos];
    const value = bytes[pos + 1];
    pos += 2;
    if (count) {
      const n = Math.min(count, Math.max(0, width - x));
      for (let i = 0; i < n && length < total; i += 1) {
        out[length++] = rle4 ? (i % 2 === 0 ? value >> 4 : value & 15) : value;
      }
      x += n;
    } else if (value === 0) {
      length = Math.min(total, Math.ceil(length / width) * width);
      x = 0;
    } else if (value === 1) {
      break;
    } else if (value === 2) {
      if (pos + 1 >= bytes.length) break;
      length = Math.min(total, length + bytes[pos] + bytes[pos + 1] * width);
      pos += 2;
      x = length % width;
    } else {
      const byteCount = rle4 ? value >> 1 : value;
      const available = Math.min(byteCount, bytes.length - pos);
      for (let i = 0; i < available && length < total; i += 1) {
        const b = bytes[pos + i];
        if (rle4) {
          out[length++] = b >> 4;
          if (length < total) out[length++] = b & 15;
        } else {
          out[length++] = b;
        }
      }
      pos += available;
      if (available < byteCount) break;
      x += value;
      if (pos % 2) pos += 1;
    }
  }
  return out;
}

function packedIndices(bytes, offset, width, height, bits) {
  const stride = Math.floor((width * bits + 31) / 32) * 4;
  const out = new Uint8Array(width * height);
  const mask = (1 << bits) - 1;
  for (let row = 0; row < height; row += 1) {
    const base = offset + row * stride;
    for (let x = 0; x < width; x += 1) {
      const bit = x * bits;
      const byte = bytes[base + (bit >> 3)] ?? 0;
      out[row * width + x] = (byte >> (8 - bits - (bit & 7))) & mask;
    }
  }
  return out;
}

function directPixels(view, offset, width, height, bits, channelMasks) {
  const stride = Math.floor((width * bits + 31) / 32) * 4;
  const [r, g, b] = channelMasks.map(channelReader);
  const step = bits / 8;
  const rgb = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row += 1) {
    for (let x = 0; x < width; x += 1) {
      const at = offset + row * stride + x * step;
      let p = 0;
      if (at + step <= view.byteLength) {
        if (bits === 16) p = view.getUint16(at, true);
        else if (bits === 24) p = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getUint8(at + 2) << 16);
        else p = view.getUint32(at, true);
      }
      const o = (row * width + x) * 3;
      rgb[o] = r(p);
      rgb[o + 1] = g(p);
      rgb[o + 2] = b(p);
    }
  }
  return rgb;
}

function flipRows(rgb, width, height) {
  const flipped = new Uint8Array(rgb.length);
  const stride = width * 3;
  for (let row = 0; row < height; row += 1) {
    flipped.set(rgb.subarray(row * stride, (row + 1) * stride), (height - 1 - row) * stride);
  }
  return flipped;
}

/** {width, height} from the header without decoding (for the pixel limit). */
export function bmpSize(bytes) {
  if (bytes.length < 26) throw new BmpError('truncated BMP header');
  const info = header(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { width: Math.abs(info.width), height: Math.abs(info.height) };
}

/** Decode BMP bytes (Uint8Array) to {width, height, rgb: Uint8Array of width*height*3}. */
export function decodeBmp(bytes) {
  if (bytes.length < 26 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw new BmpError('not a BMP file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const info = header(view);
  const topDown = info.height < 0;
  const width = info.width;
  const height = Math.abs(info.height);
  if (width <= 0 || height === 0) throw new BmpError(`invalid BMP size ${width}x${info.height}`);
  const offset = view.getUint32(10, true);
  let rgb;
  if ([1, 4, 8].includes(info.bits)) {
    const count = info.colors || 1 << info.bits;
    const palette = readPalette(bytes, 14 + info.size, count, info.paletteEntry);
    let indices;
    if (info.compression === BI_RLE8 || info.compression === BI_RLE4) {
      indices = rleIndices(bytes, offset, width, height, info.compression === BI_RLE4);
    } else if (info.compression === BI_RGB) {
      indices = packedIndices(bytes, offset, width, height, info.bits);
    } else {
      throw new BmpError(`unsupported BMP compression ${info.compression} for ${info.bits}-bit images`);
    }
    rgb = new Uint8Array(width * height * 3);
    indices.forEach((index, p) => rgb.set(palette.subarray(index * 3, index * 3 + 3), p * 3));
  } else if ([16, 24, 32].includes(info.bits)) {
    let channelMasks = defaultMasks(info.bits);
    if (info.compression === BI_BITFIELDS) channelMasks = masks(view, info);
    else if (info.compression !== BI_RGB) throw new BmpError(`unsupported BMP compression ${info.compression}`);
    rgb = directPixels(view, offset, width, height, info.bits, channelMasks);
  } else {
    throw new BmpError(`unsupported BMP bit depth ${info.bits}`);
  }
  return { width, height, rgb: topDown ? rgb : flipRows(rgb, width, height) };
}

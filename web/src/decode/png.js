// PNG -> 8-bit RGB with the exact policy of Python's lightship.images (Pillow): samples of 1, 2 and 4 bits
// are scaled to 0..255, 16-bit colour keeps the high byte, 16-bit grayscale is scaled with rounding,
// palettes are looked up, alpha and tRNS are dropped (not composited). The browser's own decoder would
// premultiply alpha on a canvas and lose the colour of transparent pixels, so PNGs are decoded here.
import { decode } from 'fast-png';

function unpackSamples(png) {
  const { width, height, depth, channels, data } = png;
  if (depth >= 8) return data;
  const perRow = Math.ceil((width * channels * depth) / 8);
  const out = new Uint8Array(width * height * channels);
  const mask = (1 << depth) - 1;
  let o = 0;
  for (let y = 0; y < height; y += 1) {
    for (let i = 0; i < width * channels; i += 1) {
      const bit = i * depth;
      out[o++] = (data[y * perRow + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

function to8bit(value, depth) {
  if (depth === 16) return value >> 8;
  if (depth < 8) return Math.round((value * 255) / ((1 << depth) - 1));
  return value;
}

/** Decode PNG bytes (ArrayBuffer or view) to {width, height, rgb: Uint8Array of width*height*3}. */
export function decodePng(bytes) {
  const png = decode(bytes);
  const { width, height, depth, channels, palette } = png;
  const samples = unpackSamples(png);
  const rgb = new Uint8Array(width * height * 3);
  const gray16 = depth === 16 && channels === 1;
  for (let p = 0; p < width * height; p += 1) {
    const base = p * channels;
    for (let c = 0; c < 3; c += 1) {
      let value;
      if (palette) value = (palette[samples[base]] ?? [0, 0, 0])[c];
      else if (channels <= 2) value = gray16 ? Math.floor((samples[base] / 65535) * 255 + 0.5) : to8bit(samples[base], depth);
      else value = to8bit(samples[base + c], depth);
      rgb[p * 3 + c] = value;
    }
  }
  return { width, height, rgb };
}

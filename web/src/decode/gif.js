// What a GIF's transparent pixels are in Pillow. Decoders (browsers, libvips) return transparent pixels,
// and the area outside the first frame, as (0, 0, 0, 0); Pillow reads the first frame as a palette image
// whose transparent pixels (and the area outside the frame) keep their palette index, and lightship
// converts that to RGB without compositing. So those pixels take the colour of the transparent index
// (or of index 0 when the GIF has no transparency), from the first frame's own palette or the global one.

function skipSubBlocks(bytes, pos) {
  let at = pos;
  while (at < bytes.length && bytes[at] !== 0) at += bytes[at] + 1;
  return at + 1;
}

/** [r, g, b] that Pillow gives the first frame's transparent (or uncovered) pixels; null if unknown. */
export function gifTransparentColour(bytes) {
  if (bytes.length < 13) return null;
  const flags = bytes[10];
  let palette = null;
  let pos = 13;
  if (flags & 0x80) {
    palette = bytes.subarray(pos, pos + 3 * (2 << (flags & 7)));
    pos += palette.length;
  }
  let transparent = 0;
  while (pos < bytes.length) {
    const block = bytes[pos];
    if (block === 0x21) {
      if (bytes[pos + 1] === 0xf9 && bytes[pos + 2] >= 4 && bytes[pos + 3] & 1) transparent = bytes[pos + 6];
      pos = skipSubBlocks(bytes, pos + 2);
    } else if (block === 0x2c) {
      const local = bytes[pos + 9];
      if (local & 0x80) palette = bytes.subarray(pos + 10, pos + 10 + 3 * (2 << (local & 7)));
      break;
    } else {
      return null;
    }
  }
  if (!palette) return [transparent, transparent, transparent];
  return transparent * 3 + 2 < palette.length ? Array.from(palette.subarray(transparent * 3, transparent * 3 + 3)) : [0, 0, 0];
}

// Pillow's conversions to 8-bit RGB that platform decoders do differently (lightship.images' policy).

/** Pillow's CMYK -> RGB (Convert.c cmyk2rgb): X' = (255 - K) - round(X * (255 - K) / 255). */
export function rgbFromCmyk(cmyk, channels = 4) {
  const rgb = new Uint8Array((cmyk.length / channels) * 3);
  for (let i = 0, o = 0; i < cmyk.length; i += channels, o += 3) {
    const nk = 255 - cmyk[i + 3];
    for (let c = 0; c < 3; c += 1) {
      const t = cmyk[i + c] * nk + 128;
      rgb[o + c] = nk - ((t + (t >> 8)) >> 8);
    }
  }
  return rgb;
}

/**
 * RGB of RGBA pixels, alpha dropped. `transparent` ([r, g, b] or null) replaces fully transparent pixels:
 * a GIF's transparent pixels are its transparent palette colour in Pillow, where decoders give (0, 0, 0, 0).
 */
export function rgbFromRgba(rgba, transparent = null) {
  const rgb = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
    if (transparent && rgba[i + 3] === 0) {
      rgb.set(transparent, o);
    } else {
      rgb[o] = rgba[i];
      rgb[o + 1] = rgba[i + 1];
      rgb[o + 2] = rgba[i + 2];
    }
  }
  return rgb;
}

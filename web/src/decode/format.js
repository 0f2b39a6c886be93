// Which image format some bytes are, from their signature (the file name and MIME type can lie).

const SIGNATURES = [
  ['png', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ['jpeg', [0xff, 0xd8, 0xff]],
  ['gif', [0x47, 0x49, 0x46, 0x38]],
  ['bmp', [0x42, 0x4d]],
  ['tiff', [0x49, 0x49, 0x2a, 0x00]],
  ['tiff', [0x4d, 0x4d, 0x00, 0x2a]],
];

const startsWith = (bytes, signature, at = 0) => signature.every((b, i) => bytes[at + i] === b);
const ascii = (text) => Array.from(text, (c) => c.charCodeAt(0));

/** 'png' | 'jpeg' | 'gif' | 'bmp' | 'tiff' | 'webp' | null for anything else. */
export function imageFormat(bytes) {
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  return SIGNATURES.find(([, signature]) => startsWith(bytes, signature))?.[0] ?? null;
}

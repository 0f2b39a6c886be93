// Build the static app into dist/: src/app.js and its modules bundled by esbuild (fast-png and @litertjs/core
// included), the HTML, CSS and service worker copied, onnxruntime-web's ES module + WebAssembly files copied to
// dist/ort/ and LiteRT.js's WebAssembly files to dist/litert/, so the site serves everything itself (no CDN).
// `lightship web` copies dist/ into a site.
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';

// The plain WebAssembly build for the CPU and the JSEP build for WebGPU (src/model.js loads one of them).
const ORT_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort.min.mjs',
  'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];
// LiteRT.js's builds (src/model.js, backend litert; loadLiteRt picks one by the browser's features): relaxed
// SIMD, relaxed SIMD + threads (?threads=N on a cross-origin isolated page), and plain SIMD for browsers without
// relaxed SIMD. Not the JSPI build, which the page never asks for.
const LITERT_FILES = ['litert_wasm_internal', 'litert_wasm_threaded_internal', 'litert_wasm_compat_internal']
  .flatMap((name) => [`${name}.js`, `${name}.wasm`]);
const STATIC_FILES = ['index.html', 'style.css', 'sw.js'];
const here = (path) => new URL(path, import.meta.url);

rmSync(here('dist'), { recursive: true, force: true });
mkdirSync(here('dist/ort'), { recursive: true });
mkdirSync(here('dist/litert'), { recursive: true });
await build({
  entryPoints: [here('src/app.js').pathname],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  external: ['./ort/ort.min.mjs', './ort/ort.wasm.min.mjs'],
  outfile: here('dist/app.js').pathname,
  logLevel: 'warning',
});
for (const file of STATIC_FILES) cpSync(here(`src/${file}`), here(`dist/${file}`));
for (const file of ORT_FILES) cpSync(here(`node_modules/onnxruntime-web/dist/${file}`), here(`dist/ort/${file}`));
for (const file of LITERT_FILES) cpSync(here(`node_modules/@litertjs/core/wasm/${file}`), here(`dist/litert/${file}`));
console.log('built web/dist');

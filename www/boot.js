// Starts the web client without any inline script, so that the page runs under
// Content-Security-Policy: script-src 'self' 'wasm-unsafe-eval'.
//
// Trunk's own loader is an inline <script type="module">. Trunk.toml replaces it
// (`pattern_script`) with <meta name="sealtip-app" data-js=… data-wasm=…>, which
// carries the content-hashed names of the wasm-bindgen module and the .wasm file;
// this file, copied and hashed by Trunk, reads them and starts the app.
const app = document.querySelector('meta[name="sealtip-app"]');

import(app.dataset.js)
  .then((bindings) => bindings.default({ module_or_path: app.dataset.wasm }))
  .catch((error) => console.error("sealtip: the page could not start", error));

// Starts the web client without any inline script, so that the page runs under
// Content-Security-Policy: script-src 'self' 'wasm-unsafe-eval'.
//
// Trunk's own loader is an inline <script type="module">. Trunk.toml replaces it
// (`pattern_script`) with <meta name="sealtip-app" data-js=… data-wasm=…>, which
// carries the content-hashed names of the wasm-bindgen module and the .wasm file;
// this file, copied and hashed by Trunk, reads them and starts the app.
//
// Nothing runs unless its bytes are the ones the build recorded (Subresource
// Integrity). The module comes from the module map that its
// <link rel=modulepreload integrity=…> filled (Trunk writes the hash; a
// mismatch there fails this import), and the wasm is fetched with the hash
// the web build wrote on the <meta> (data-wasm-integrity), so the browser
// refuses other bytes. Without those hashes the page does not start.
//
// The wasm is not preloaded: on a page with a first screen (the form the
// relay drew for /a/{agency}), its download starts once that screen's first
// frame is drawn, so that on a slow connection the screen is not held back
// by it (xtask/src/app_wasm.rs). A page without one starts it at once.
const app = document.querySelector('meta[name="sealtip-app"]');

function integrityOf(rel, href) {
  for (const link of document.querySelectorAll(`link[rel="${rel}"]`)) {
    if (link.getAttribute("href") === href && link.integrity) return link.integrity;
  }
  throw new Error(`no integrity hash for ${href}`);
}

// Once the browser says the first screen's text was painted (its
// first-contentful-paint entry: the frame was on screen, not only
// produced), else after the next frame (a timer set from
// requestAnimationFrame runs after that frame's paint). A frame that is
// never drawn (a hidden tab, a frame out of view) does not hold the page
// back for long.
function afterFirstPaint() {
  return new Promise((resolve) => {
    setTimeout(resolve, 500);
    if (PerformanceObserver.supportedEntryTypes?.includes("paint")) {
      new PerformanceObserver((list, observer) => {
        if (list.getEntriesByName("first-contentful-paint").length > 0) {
          observer.disconnect();
          setTimeout(resolve, 0);
        }
      }).observe({ type: "paint", buffered: true });
    } else {
      requestAnimationFrame(() => setTimeout(resolve, 0));
    }
  });
}

(document.getElementById("first-screen") ? afterFirstPaint() : Promise.resolve())
  .then(() => {
    const wasm = app.dataset.wasmIntegrity;
    if (!wasm || !wasm.startsWith("sha384-")) throw new Error(`no integrity hash for ${app.dataset.wasm}`);
    integrityOf("modulepreload", app.dataset.js);
    return import(app.dataset.js).then((bindings) =>
      bindings.default({
        module_or_path: fetch(app.dataset.wasm, { integrity: wasm, credentials: "same-origin" }),
      }),
    );
  })
  .catch((error) => {
    console.error("sealtip: the page could not start", error);
    // On the first screen, the tipster sees why Send stays disabled
    // (the message is in the screen's language, hidden until now).
    const notStarted = document.getElementById("first-screen") && document.getElementById("not-started");
    if (notStarted) {
      notStarted.hidden = false;
      notStarted.focus();
    }
  });

// Until the app takes over the first screen the relay drew (the form in
// the HTML, before the wasm arrives), its quick exit works from here as the
// app's does: the button, or Shift pressed three times within five seconds
// (any other key in between starts the count again), blanks the page and
// replaces it in the history with the agency's exit address.
const firstScreen = document.getElementById("first-screen");
if (firstScreen) {
  const button = firstScreen.querySelector(".quick-exit-button");
  const leave = () => {
    if (!document.getElementById("first-screen")) return;
    document.title = "";
    document.documentElement.classList.add("exiting");
    location.replace(button?.dataset.exit || "about:blank");
  };
  button?.addEventListener("click", leave);
  let shifts = [];
  window.addEventListener("keydown", (event) => {
    if (event.repeat) return;
    if (event.key !== "Shift") {
      shifts = [];
      return;
    }
    const now = Date.now();
    shifts = shifts.filter((time) => now - time < 5000);
    shifts.push(now);
    if (shifts.length >= 3) {
      shifts = [];
      leave();
    }
  });
}

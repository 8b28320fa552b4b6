/* sealtip widget loader: the tip form on a partner's page, with one tag:
   <script src="https://RELAY/embed.js" data-agency="ID" data-pin="FINGERPRINT" async></script>
   README, "Embed the form", says what it does and what the partner sees.
   Messages from the frame: "hello" (answered "ready"), "shown" (once: the
   height step, the form's language, the exit address), "exit" (leave). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var relay = new URL(script.src).origin;
  var data = script.dataset;
  var agency = data.agency || "";
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(agency)) return;

  // The frame's sandbox, each flag explained in the README ("Embed the form").
  var SANDBOX = "allow-scripts allow-same-origin allow-forms allow-top-navigation-by-user-activation";
  var WORDS = {
    en: ["Send a tip safely", "Close the tip form", "Tip form"],
    es: ["Enviar una denuncia segura", "Cerrar el formulario", "Formulario de denuncia"],
    fr: ["Envoyer un signalement en sécurité", "Fermer le formulaire", "Formulaire de signalement"],
    ar: ["أرسل بلاغًا بأمان", "أغلق النموذج", "نموذج البلاغ"]
  };
  // The quick exit's words, in the form's language (the frame says which).
  var EXIT = {
    en: "Quick exit", es: "Salida rápida", fr: "Sortie rapide", pt: "Saída rápida",
    ar: "خروج سريع", zh: "快速离开", vi: "Thoát nhanh", ru: "Быстрый выход",
    tl: "Umalis agad", ht: "Sòti vit"
  };
  var lang = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(data.lang || "") ? data.lang : "";
  var words = WORDS[lang.split("-")[0].toLowerCase()] || WORDS.en;

  var query = "agency=" + agency + (lang ? "&lang=" + lang : "");
  var accent = (data.accent || "").replace(/^#/, "");
  var ok = /^([0-9a-f]{3}){1,2}$/i.test(accent);
  if (ok) query += "&accent=" + accent;
  var scheme = getComputedStyle(document.documentElement).colorScheme || "";
  var dark = /dark/.test(scheme), light = /light/.test(scheme);
  var theme = /^(light|dark)$/.test(data.theme) ? data.theme : dark && !light ? "dark" : light && !dark ? "light" : "";
  if (theme) query += "&theme=" + theme;
  // The pin travels in the fragment, which browsers never send to a server.
  // One that is not hex, commas and dashes still goes, unread, so that the
  // frame refuses to seal rather than forget it.
  var pin = data.pin == null ? "" : data.pin.replace(/\s+/g, "");
  var src = relay + "/embed?" + query + (data.pin == null ? "" : "#pin=" + (/^[0-9A-Fa-f:,-]+$/.test(pin) ? pin : "x"));

  var box = document.createElement("div");
  box.className = "sealtip-widget";
  var root = box.attachShadow({ mode: "open" });
  var sheet = new CSSStyleSheet();
  var color = ok ? "#" + accent : "#0b4f8a";
  sheet.replaceSync(
    ":host{all:initial;display:block}" +
    "iframe{display:block;width:100%;height:40rem;border:0;color-scheme:" + (theme || "light dark") + "}" +
    "button{font:600 1.125rem/1.3 system-ui,sans-serif;min-height:3rem;padding:.6rem 1.2rem;border:0;border-radius:.3rem;cursor:pointer;" +
    "background:" + color + ";color:" + (ok && luminance(accent) > 0.179 ? "#000" : "#fff") + "}" +
    "button:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
    ".exit{position:fixed;top:.5rem;inset-inline-end:.5rem;z-index:2147483647;background:#b01c1c;color:#fff;border:2px solid #fff;box-shadow:0 2px 6px #0009}" +
    "[hidden]{display:none}"
  );
  root.adoptedStyleSheets = [sheet];

  var frame = null, exitUrl = "";
  // Quick exit on this page itself, fixed in view: shown once the form is.
  var exit = document.createElement("button");
  exit.type = "button";
  exit.className = "exit";
  exit.hidden = true;
  exit.addEventListener("click", function () { leave(exitUrl); });
  function makeFrame() {
    frame = document.createElement("iframe");
    frame.title = words[2];
    frame.setAttribute("sandbox", SANDBOX);
    frame.referrerPolicy = "no-referrer";
    frame.allow = "clipboard-write";
    frame.src = src;
    return frame;
  }

  if (data.mode === "button") {
    var button = document.createElement("button");
    var panel = document.createElement("div");
    button.type = "button";
    button.textContent = words[0];
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", "panel");
    panel.id = "panel";
    panel.hidden = true;
    button.addEventListener("click", function () {
      var open = panel.hidden;
      panel.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      button.textContent = words[open ? 1 : 0];
      if (open && !frame) panel.appendChild(makeFrame());
    });
    panel.appendChild(exit);
    root.append(button, panel);
  } else {
    root.append(exit, makeFrame());
  }

  window.addEventListener("message", function (event) {
    if (!frame || event.source !== frame.contentWindow || event.origin !== relay) return;
    var m = event.data;
    if (!m || m.sealtip !== 1) return;
    if (m.type === "hello") {
      frame.contentWindow.postMessage({ sealtip: 1, type: "ready" }, relay);
    } else if (m.type === "shown" && m.height > 0 && /^https?:\/\//.test(m.exit)) {
      frame.style.height = Math.min(Math.ceil(m.height), 20000) + "px";
      exitUrl = m.exit;
      var label = EXIT[String(m.lang).split("-")[0]];
      exit.textContent = typeof label == "string" ? label : EXIT.en;
      exit.hidden = false;
    } else if (m.type === "exit") {
      leave(m.url);
    }
  });

  // Quick exit: blank this page at once and replace it in the history.
  function leave(url) {
    if (!/^https?:\/\//.test(url)) return;
    document.documentElement.style.visibility = "hidden";
    location.replace(url);
  }

  if (script.parentNode && script.parentNode !== document.head) {
    script.parentNode.insertBefore(box, script.nextSibling);
  } else if (document.body) {
    document.body.appendChild(box);
  } else {
    document.addEventListener("DOMContentLoaded", function () { document.body.appendChild(box); });
  }

  // WCAG relative luminance of a #rgb / #rrggbb colour (without "#").
  function luminance(hex) {
    if (hex.length === 3) hex = hex.replace(/./g, "$&$&");
    var sum = 0, weights = [0.2126, 0.7152, 0.0722];
    for (var i = 0; i < 3; i++) {
      var c = parseInt(hex.substr(i * 2, 2), 16) / 255;
      sum += weights[i] * (c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
    }
    return sum;
  }
})();

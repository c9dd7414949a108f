/* Chorale portal: refreshes, without reloading the page, the parts that follow something in
   progress (« Suivi des flux »: flows being processed). Each such part is an element with
   data-actualiser="<address of its fragment>"; the fragment is the same part, rendered again
   by the server (or a whole page holding a part of the same id, taken from it). Polling stops once the fragment no longer asks for it (every flow reached
   its final status). Without JavaScript the page offers an « Actualiser » link instead.
   Vendored, no dependency; allowed by the portal's Content-Security-Policy (script-src 'self'). */
(function () {
  "use strict";
  var INTERVAL_MS = 3000;
  var MAX_ROUNDS = 200;

  function follow(element, rounds) {
    var address = element.getAttribute("data-actualiser");
    if (!address || rounds > MAX_ROUNDS) { return; }
    window.setTimeout(function () {
      fetch(address, { credentials: "same-origin" })
        .then(function (response) {
          if (response.redirected) { return null; } /* signed out meanwhile: stop here */
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          if (html === null) { return; }
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.firstElementChild;
          if (fresh && fresh.id !== element.id) {
            /* a whole page (the address of the page itself): its part of the same id */
            fresh = holder.querySelector("#" + CSS.escape(element.id));
          }
          /* only the same part, never anything else (an error page, say) */
          if (!fresh || fresh.id !== element.id) { return; }
          element.replaceWith(fresh);
          follow(fresh, rounds + 1);
        })
        .catch(function () {
          follow(element, rounds + 1); /* a network hiccup: try again at the next round */
        });
    }, INTERVAL_MS);
  }

  function start() {
    var parts = document.querySelectorAll("[data-actualiser]");
    for (var i = 0; i < parts.length; i += 1) {
      var manual = parts[i].querySelector(".actualiser-sans-js");
      if (manual) { manual.hidden = true; }
      follow(parts[i], 0);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());

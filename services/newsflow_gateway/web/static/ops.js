// The operator console refreshes itself: every few seconds the figures are fetched
// again from /ops/panel and swapped in. Nothing is swapped while a control inside
// them has focus, so a keyboard user never loses their place. When the session has
// ended the page reloads, which shows the login form.
(function () {
  "use strict";
  var panel = document.getElementById("ops-panel");
  if (!panel) {
    return;
  }
  var seconds = Number(panel.getAttribute("data-refresh-s")) || 5;

  function refresh() {
    if (panel.contains(document.activeElement)) {
      return;
    }
    fetch("/ops/panel", { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.status === 401) {
          window.location.reload();
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && !panel.contains(document.activeElement)) {
          var open = Array.prototype.map.call(
            panel.querySelectorAll("details[open]"),
            function (d) { return d.closest("li") ? d.closest("li").id : ""; }
          );
          panel.innerHTML = html;
          open.forEach(function (id) {
            var item = id && document.getElementById(id);
            var details = item && item.querySelector("details");
            if (details) { details.open = true; }
          });
        }
      })
      .catch(function () { /* the next tick tries again */ });
  }

  window.setInterval(refresh, seconds * 1000);
})();

// Newsflow reader pages: enhancements only. Every page works without this file:
// filters submit the form, links load pages. With it, filter toggles and filter
// links swap the results region in place (the URL still holds the state, through
// history.pushState), and an EventSource on /v1/stream announces new stories.
(function () {
  "use strict";
  var form = document.getElementById("search");
  var live = document.getElementById("live");
  var button = document.getElementById("live-button");
  var source = null;
  var fresh = 0;
  var latest = 0;

  document.documentElement.classList.add("js");

  function region() {
    return document.getElementById("region");
  }

  function formUrl() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (value !== "") { params.append(name, value); }
    });
    var query = params.toString();
    return query ? "/?" + query : "/";
  }

  function syncForm(doc) {
    if (!form) { return; }
    ["q", "sort"].forEach(function (id) {
      var mine = document.getElementById(id);
      var theirs = doc.getElementById(id);
      if (mine && theirs && mine !== document.activeElement) { mine.value = theirs.value; }
    });
  }

  // Fetch the page at url and put its #region in place of ours.
  function swap(url, push, focusId) {
    var ticket = ++latest;
    return fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        return response.text().then(function (html) {
          return { ok: response.ok, html: html };
        });
      })
      .then(function (answer) {
        if (ticket !== latest) { return; }  // a newer request is on its way
        var doc = new DOMParser().parseFromString(answer.html, "text/html");
        var next = doc.getElementById("region");
        var current = region();
        if (!answer.ok || !next || !current) { window.location.assign(url); return; }
        current.replaceWith(next);
        document.title = doc.title;
        syncForm(doc);
        if (push) { history.pushState(null, "", url); }
        var nextLive = doc.getElementById("live");
        if (live && nextLive) { live.dataset.stream = nextLive.dataset.stream; }
        follow();
        var target = (focusId && document.getElementById(focusId)) ||
          document.getElementById("results-heading");
        if (target) { target.focus(); }
      })
      .catch(function () { window.location.assign(url); });
  }

  function say(count) {
    button.textContent = count + (count === 1 ? " new story" : " new stories") + " — show them";
    button.hidden = false;
  }

  // Follow the current search's new stories; the banner counts them.
  function follow() {
    if (source) { source.close(); source = null; }
    fresh = 0;
    if (!live || !button || !window.EventSource) { return; }
    button.hidden = true;
    button.textContent = "";
    source = new EventSource(live.dataset.stream);
    source.addEventListener("item", function () {
      fresh += 1;
      say(fresh);
    });
  }

  if (button) {
    button.addEventListener("click", function () {
      var url = new URL(window.location.href);
      url.searchParams.delete("cursor");
      var target = url.pathname + url.search;
      if (region()) {
        swap(target, target !== window.location.pathname + window.location.search, null);
      } else {
        window.location.assign(target);
      }
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!form || input.form !== form || input.name === "q") { return; }
    swap(formUrl(), true, input.id);
  });

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
        event.shiftKey || event.altKey) { return; }
    var link = event.target.closest ? event.target.closest("a.chip, a.older, .months a") : null;
    if (!link || !region()) { return; }
    event.preventDefault();
    swap(link.getAttribute("href"), true, null);
  });

  window.addEventListener("popstate", function () {
    swap(window.location.pathname + window.location.search, false, null);
  });

  window.addEventListener("pagehide", function () {
    if (source) { source.close(); source = null; }
  });

  follow();
})();

// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // A second click while the first is on its way sends nothing (the server is safe anyway:
  // asking carries an Idempotency-Key).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sending === "1") { event.preventDefault(); return; }
    form.dataset.sending = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (f) {
      delete f.dataset.sending;
      f.querySelectorAll("button[aria-disabled]").forEach(function (b) { b.removeAttribute("aria-disabled"); });
    });
  });

  // After a refused form, start where the first problem is.
  var invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();

  var live = Array.prototype.slice.call(document.querySelectorAll("[data-live-src]"));

  function refresh(el) {
    // Do not pull a form away from under someone typing into it.
    if (el.contains(document.activeElement) && document.activeElement.matches("input, textarea, select")) return;
    fetch(el.dataset.liveSrc, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null && html.trim() !== el.innerHTML.trim()) el.innerHTML = html; })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  live.forEach(function (el) {
    var every = Number(el.dataset.liveEvery || 0);
    if (every > 0) setInterval(function () { refresh(el); }, every * 1000);
  });

  function announce(text) {
    var box = document.getElementById("announcer");
    if (box) box.textContent = text;
  }

  if (document.body.dataset.signedIn && window.EventSource) {
    var stream = new EventSource("/inbox/stream");
    stream.addEventListener("notification", function (event) {
      var item = {};
      try { item = JSON.parse(event.data); } catch (e) { return; }
      var badge = document.getElementById("unread-count");
      if (badge) {
        var n = Number(badge.textContent || 0) + 1;
        badge.textContent = String(n);
        badge.setAttribute("aria-label", n + " unread");
      }
      announce("New: " + (item.subject || "notification"));
      live.forEach(refresh);
      // A page that only waits for this news (nothing typed on it) shows what comes next.
      var waiting = document.querySelector("[data-reload-on~='" + item.kind + "']");
      var typing = document.activeElement && document.activeElement.matches("input, textarea, select");
      if (waiting && !typing) window.location.reload();
    });
  }
})();

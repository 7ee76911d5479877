// NexusOps incidents: the "d" shortcut, live clocks, and htmx showing inline errors.
(function () {
  "use strict";

  // Inline errors come back as 4xx (400 invalid, 403, 409 conflict): swap them in so the
  // message and the refreshed sections appear where the user is looking.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "4..", swap: true, error: true },
      { code: "...", swap: false, error: true },
    ];
  }

  // "d" opens the declare page, unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "d" || event.ctrlKey || event.metaKey || event.altKey) return;
    var el = event.target;
    if (el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName))) return;
    var meta = document.querySelector('meta[name="declare-url"]');
    if (!meta) return;
    event.preventDefault();
    window.location.assign(meta.content);
  });

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function clock(seconds) {
    var s = Math.abs(Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    if (h >= 48) return Math.floor(h / 24) + " d " + (h % 24) + " h";
    return (h ? h + ":" + two(m) : m) + ":" + two(s % 60);
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = clock((now - Date.parse(el.dataset.since)) / 1000);
    });
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = (Date.parse(el.dataset.due) - now) / 1000;
      // An empty data-words (the label is printed beside it) leaves just "due in 3:00".
      var words = el.dataset.words ? el.dataset.words + " " : "";
      el.textContent = words + (left >= 0 ? "due in " : "overdue by ") + clock(left);
      el.classList.toggle("overdue", left < 0);
    });
  }
  // A glance link (data-open-fold) to a folded section opens the fold before jumping to it;
  // a fragment alone would scroll to a shut <details> and show nothing.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-open-fold]");
    if (!link) return;
    var fold = document.querySelector(link.getAttribute("href"));
    if (fold && fold.tagName === "DETAILS") fold.open = true;
  });

  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);
})();

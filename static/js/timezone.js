// Loaded only while the signed-in person has no time zone (base.html adds it with the
// <meta name="browser-time-zone-url"> it posts to). Sends the browser's IANA zone once; the
// server stores it only if the person still has none, so a choice made on the profile page
// always wins. The CSRF token is the one htmx sends, from <body hx-headers>.
(function () {
  var meta = document.querySelector('meta[name="browser-time-zone-url"]');
  if (!meta || !window.fetch || !window.Intl) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) return;
  var headers = {};
  try {
    headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  } catch (e) {
    return;
  }
  var body = new URLSearchParams();
  body.set("time_zone", zone);
  fetch(meta.getAttribute("content"), {
    method: "POST",
    credentials: "same-origin",
    headers: headers,
    body: body,
  });
})();

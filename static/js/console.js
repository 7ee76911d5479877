// NexusOps console: the little behaviour htmx does not cover. The Content-Security-Policy
// forbids inline scripts and on* attributes, so pages mark elements with data-* attributes
// and these delegated listeners (which also see content htmx swaps in) give them behaviour.
document.addEventListener("click", function (event) {
  var close = event.target.closest(".flash-close");
  if (close) close.closest(".flash").remove();
});

// <form data-confirm="Roll back D-12?">: ask before a dangerous submit.
document.addEventListener("submit", function (event) {
  var form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
});

document.addEventListener("change", function (event) {
  var el = event.target;
  // <select data-autosubmit>: a filter that applies as soon as it changes.
  if (el.matches("select[data-autosubmit]")) el.form.submit();
  // The status publish form: picking a stage fills in its template message, unless the
  // commander has written one of their own.
  if (el.matches("select[data-fills-message]")) {
    var message = el.form.elements.message;
    var template = el.options[el.selectedIndex].getAttribute("data-template") || "";
    if (!message.value.trim() || message.value === message.getAttribute("data-filled")) {
      message.value = template;
      message.setAttribute("data-filled", template);
    }
  }
});

// NexusOps console: the little behaviour htmx does not cover.
document.addEventListener("click", function (event) {
  var close = event.target.closest(".flash-close");
  if (close) close.closest(".flash").remove();
});

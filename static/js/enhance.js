// Small enhancements on top of htmx. Loaded as a file because the Content-Security-Policy forbids inline script.
// Without JavaScript every page still works: forms post and redirect as usual.
(function () {
  "use strict";

  function focusTarget() {
    // GOV.UK behaviour: errors first, otherwise the new page's main region (tabindex="-1"), like a page load.
    return document.getElementById("error-summary") || document.getElementById("main");
  }

  function announce(text) {
    var status = document.getElementById("status");
    if (!status) return;
    // Clear first so the same words are announced again on a second identical swap.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target) target.setAttribute("aria-busy", "true");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var target = event.detail.target;
    if (target) target.removeAttribute("aria-busy");
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.target || event.detail.target.id !== "page") return;
    var target = focusTarget();
    if (target) target.focus();
    var title = document.title.replace(/ – Coding Pathways$/, "");
    announce(document.getElementById("error-summary") ? "There is a problem. " + title : title);
  });
})();

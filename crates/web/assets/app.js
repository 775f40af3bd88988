// jixiao: the little JavaScript the pages use. Every page works without it; this
// only adds conveniences. No inline scripts anywhere (CSP), so behaviour is attached
// here by data attributes.
(function () {
  "use strict";
  // <form data-confirm="…">: ask before submitting (disable, revoke…).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      e.preventDefault();
    }
  });
  // <select data-autosubmit>: submit its form on change (language switch).
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.submit();
    }
  });
  // Hide the submit button of auto-submitting forms when scripts run.
  document.querySelectorAll("[data-autosubmit-button]").forEach(function (b) {
    b.hidden = true;
  });
  // <button data-copy="#id">: copy the text of an element (a new API token).
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-copy]");
    if (!b) return;
    var el = document.querySelector(b.getAttribute("data-copy"));
    if (el && navigator.clipboard) {
      navigator.clipboard.writeText(el.textContent.trim());
      b.classList.add("copied");
    }
  });
})();

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
  // <form data-formula-check="/api/v1/formula/check">: check the formula as it is
  // typed, with the engine's own compiler, and show the result; the form's submit
  // button does the same without scripts.
  document.querySelectorAll("form[data-formula-check]").forEach(function (form) {
    var out = document.getElementById("try-result");
    var timer = null;
    function check() {
      var inputs = {};
      form.querySelectorAll("input[name^='in.']").forEach(function (i) {
        var v = parseFloat(i.value);
        if (!isNaN(v)) inputs[i.name.slice(3)] = v;
      });
      // The scheme editor's node form: its fields (sample value 1), params and
      // points are the names the formula may use.
      var el = form.elements;
      if (el.fields && el.params) {
        el.fields.value.split("\n").forEach(function (line) {
          var key = line.split(/[|｜]/)[0].trim();
          if (key) inputs[key] = 1;
        });
        el.params.value.split(/[\n,，]/).forEach(function (line) {
          var kv = line.split(/[=＝]/);
          var v = parseFloat(kv[1]);
          if (kv.length === 2 && kv[0].trim() && !isNaN(v)) inputs[kv[0].trim()] = v;
        });
        var points = parseFloat(el.points && el.points.value);
        inputs.points = isNaN(points) ? 0 : points;
      }
      var csrf = form.querySelector("input[name=_csrf]");
      fetch(form.getAttribute("data-formula-check"), {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf ? csrf.value : "" },
        body: JSON.stringify({ formula: form.elements.formula.value, inputs: inputs }),
      })
        .then(function (r) { return r.json(); })
        .then(function (res) {
          if (!out || !res) return;
          out.textContent = "";
          var p = document.createElement("p");
          if (res.errors && res.errors.length) {
            p.className = "alert";
            p.textContent = res.errors.map(function (e) {
              return e.line + ":" + e.column + " " + e.message + (e.suggestion ? " — " + e.suggestion + "?" : "");
            }).join("\n");
          } else if (res.error) {
            p.className = "alert";
            p.textContent = res.error;
          } else {
            p.textContent = "= " + res.raw + "  →  " + res.score;
            p.id = "live-score";
          }
          out.appendChild(p);
        })
        .catch(function () {});
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    });
  });
})();

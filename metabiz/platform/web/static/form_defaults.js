/* metabiz forms: defaults that follow a lookup. When a lookup of a new record's form
   changes, the server evaluates the defaults that read through lookups (a quote line's
   unit price from its product) and this fills in the fields the user has not typed into. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-defaults-url]");
  if (!form) { return; }
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var typed = {};

  form.addEventListener("input", function (event) {
    var name = event.target.getAttribute("name");
    if (name && !event.target.hasAttribute("data-lookup-search")) { typed[name] = true; }
  });

  function fill(values) {
    Object.keys(values).forEach(function (name) {
      if (typed[name]) { return; }
      var input = form.querySelector('[name="' + name + '"]:not([type=hidden])');
      if (!input || input.type === "checkbox") { return; }
      input.value = values[name];
      input.classList.add("defaulted");
    });
  }

  form.addEventListener("change", function (event) {
    if (!event.target.hasAttribute("data-lookup-value")) { return; }
    fetch(form.getAttribute("data-defaults-url"), {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRF-Token": token}
    }).then(function (response) {
      return response.ok ? response.json() : {};
    }).then(fill).catch(function () { /* the save computes the defaults anyway */ });
  });
})();

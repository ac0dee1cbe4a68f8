/* metabiz builder: drag-and-drop order (SortableJS), picklist rows, the formula pickers,
   the field form's type-specific keys, and API names suggested from labels.
   Every page works without it; this only makes editing quicker. */
(function () {
  "use strict";

  function each(selector, fn, root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), fn);
  }

  function sortable(list, options) {
    if (window.Sortable && !list.getAttribute("data-sortable-ready")) {
      list.setAttribute("data-sortable-ready", "1");
      window.Sortable.create(list, Object.assign({ animation: 150, handle: ".drag-handle" }, options || {}));
    }
  }

  function setup() {
    each("[data-sortable]", function (list) { sortable(list); });
    each("[data-sortable-group]", function (list) {
      sortable(list, { group: list.getAttribute("data-sortable-group"), handle: null });
    });
    each("[data-type-select]", function (select) { showTypeKeys(select); });
    each("[data-action-kind]", function (select) { showActionKeys(select); });
  }

  // a flow action: the keys of its chosen kind only
  function showActionKeys(select) {
    var slot = select.closest("[data-action-slot]");
    each("[data-action-keys]", function (box) {
      box.hidden = box.getAttribute("data-action-keys") !== select.value;
    }, slot);
  }

  // the keys of the chosen field type only
  function showTypeKeys(select) {
    var form = select.closest("form");
    var chosen = select.value;
    each("[data-types]", function (box) {
      var types = box.getAttribute("data-types").split(" ");
      box.hidden = types.indexOf(chosen) < 0;
    }, form);
  }

  // a report's object: the form comes back with that object's fields
  function reloadWith(select) {
    var params = new URLSearchParams(window.location.search);
    params.set(select.getAttribute("data-reload-with"), select.value);
    window.location.search = params.toString();
  }
  // an object chosen before this script ran counts too
  each("select[data-reload-with]", function (select) {
    var rendered = Array.prototype.filter.call(select.options, function (o) {
      return o.defaultSelected;
    });
    var initial = rendered.length ? rendered[0].value : (select.options[0] || {}).value;
    if (select.value !== initial) { reloadWith(select); }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-type-select]")) { showTypeKeys(target); return; }
    if (target.matches("[data-action-kind]")) { showActionKeys(target); return; }
    if (target.matches("[data-reload-with]")) { reloadWith(target); return; }
    if (target.matches("[data-insert-into]") && target.value) {
      var area = document.getElementById(target.getAttribute("data-insert-into"));
      var text = target.value + (target.hasAttribute("data-function") ? "(" : "");
      var start = area.selectionStart || 0, end = area.selectionEnd || 0;
      area.value = area.value.slice(0, start) + text + area.value.slice(end);
      area.focus();
      area.selectionStart = area.selectionEnd = start + text.length;
      target.value = "";
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }
  });

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var box = add.closest("fieldset");
      var template = box.querySelector("template[data-row-template]");
      var list = box.querySelector("[data-picklist]");
      list.appendChild(template.content.cloneNode(true));
      var inputs = list.lastElementChild.querySelectorAll("input");
      if (inputs.length) { inputs[0].focus(); }
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var row = remove.closest("li");
      if (row.parentNode.children.length > 1) { row.remove(); }
      else { each("input", function (input) { input.value = ""; }, row); }
    }
  });

  // a new object's or field's API name follows its English label until typed by hand
  function followLabel(source) {
    each("[data-api-name-from='" + source.id + "']", function (target) {
      if (target.getAttribute("data-typed")) { return; }
      var name = source.value.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "_")
        .replace(/^[^a-z]+/, "").replace(/_+$/, "").slice(0, 63);
      target.value = name;
    });
  }
  document.addEventListener("input", function (event) {
    var source = event.target;
    if (source.matches("[data-api-name-from]")) { source.setAttribute("data-typed", "1"); return; }
    followLabel(source);
  });
  // a label typed (or filled in by the browser) before this script ran counts too
  each("[data-api-name-from]", function (target) {
    var source = document.getElementById(target.getAttribute("data-api-name-from"));
    if (source && source.value && !target.value) { followLabel(source); }
  });

  // the layout: each field goes to the section list it was dragged into
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-layout-form]")) { return; }
    each("[data-section-list]", function (list) {
      var index = list.getAttribute("data-section-list");
      each("input[type=hidden]", function (input) {
        input.name = index === "" ? "unplaced" : "s" + index + "_fields";
      }, list);
    }, form);
  });

  // a report's chart offers the groupings and measures as they are typed
  function chartChoices(form) {
    var x = form.querySelector("select[name=chart_x]");
    var y = form.querySelector("[data-chart-y]");
    if (!x || !y) { return; }
    var keys = [];
    each("[data-group]", function (row) {
      var formula = row.querySelector("textarea[name$=_formula]");
      var field = row.querySelector("select[name$=_field]");
      var column = row.querySelector("input[name$=_api_name]");
      var key = formula && formula.value.trim() ? (column ? column.value.trim() : "")
                                                : (field ? field.value : "");
      if (key) { keys.push(key); }
    }, form);
    var chosenX = x.value;
    Array.prototype.slice.call(x.options, 1).forEach(function (o) { o.remove(); });
    keys.forEach(function (key) {
      var option = new Option(key, key, false, key === chosenX);
      x.add(option);
    });
    var checked = {};
    each("input[name=chart_y]", function (box) { checked[box.value] = box.checked; }, y);
    var names = [];
    each("input[name=measure_api_name]", function (input) {
      var name = input.value.trim();
      if (name && names.indexOf(name) < 0) { names.push(name); }
    }, form);
    y.textContent = "";
    names.forEach(function (name) {
      var label = document.createElement("label");
      label.className = "check-row";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.name = "chart_y";
      box.value = name;
      box.checked = !!checked[name];
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + name));
      y.appendChild(label);
    });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("[data-report-form]");
    if (form && !event.target.matches("input[name=chart_y], select[name=chart_x]")) {
      chartChoices(form);
    }
  });

  // a report preview swapped in: the reports' own script draws its chart (it draws the
  // charts present when it runs, so it runs again for the new one)
  function drawPreviewCharts(event) {
    var box = event.target && event.target.closest && event.target.closest("[data-reports-script]");
    if (!box || !box.querySelector("[data-report-chart]:not([data-drawn])")) { return; }
    var script = document.createElement("script");
    script.src = box.getAttribute("data-reports-script");
    script.setAttribute("data-preview-script", "");
    each("script[data-preview-script]", function (old) { old.remove(); });
    document.body.appendChild(script);
  }

  // an editor sharing its name with other rows' (a report's measures) checks its own text
  document.addEventListener("htmx:configRequest", function (event) {
    var source = event.detail.elt;
    if (source && source.matches && source.matches("[data-formula-own]")) {
      event.detail.parameters[source.name] = source.value;
    }
  });
  document.addEventListener("htmx:afterSettle", setup);
  document.addEventListener("htmx:afterSettle", drawPreviewCharts);
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setup); }
  else { setup(); }
})();

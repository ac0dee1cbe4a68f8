/* metabiz end-user UI: small progressive enhancements (the pages work without them).
   The mobile menu, "go back" links, and the lookup widget's type-ahead list (htmx fills it). */
(function () {
  "use strict";
  document.documentElement.classList.remove("no-js");

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-menu-toggle]");
    if (toggle) {
      var menu = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = menu.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    var back = event.target.closest("[data-back]");
    if (back && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
      return;
    }
    var option = event.target.closest(".lookup-option");
    if (option) {
      choose(option);
      return;
    }
    document.querySelectorAll("[data-lookup]").forEach(function (box) {
      if (!box.contains(event.target)) { close(box); }
    });
    document.querySelectorAll(".search-suggestions").forEach(function (list) {
      if (!list.parentNode.contains(event.target)) { list.innerHTML = ""; }
    });
    document.querySelectorAll("details[open].popover, details[open].user-menu").forEach(function (d) {
      if (!d.contains(event.target)) { d.removeAttribute("open"); }
    });
  });

  function parts(box) {
    return {
      value: box.querySelector("[data-lookup-value]"),
      search: box.querySelector("[data-lookup-search]"),
      list: box.querySelector(".lookup-options")
    };
  }

  function close(box) {
    var p = parts(box);
    if (p.list) { p.list.innerHTML = ""; }
    if (p.search) { p.search.setAttribute("aria-expanded", "false"); }
  }

  function choose(option) {
    var box = option.closest("[data-lookup]");
    var p = parts(box);
    p.value.value = option.getAttribute("data-id");
    p.search.value = option.getAttribute("data-name");
    p.search.setAttribute("data-chosen", p.search.value);
    p.value.dispatchEvent(new Event("change", {bubbles: true}));  // defaults may follow it
    close(box);
    p.search.focus();
  }

  document.addEventListener("input", function (event) {
    var search = event.target.closest("[data-lookup-search]");
    if (!search) { return; }
    // typing replaces the chosen record: nothing is chosen until an option is picked
    if (search.value !== search.getAttribute("data-chosen")) {
      var value = parts(search.closest("[data-lookup]")).value;
      if (value.value) {
        value.value = "";
        value.dispatchEvent(new Event("change", {bubbles: true}));
      }
    }
  });

  // no search for the name of the record just picked (a debounced input may still fire)
  document.addEventListener("htmx:beforeRequest", function (event) {
    var search = event.detail.elt;
    if (search && search.hasAttribute && search.hasAttribute("data-lookup-search") &&
        search.value && search.value === search.getAttribute("data-chosen") &&
        event.detail.requestConfig && event.detail.requestConfig.triggeringEvent &&
        event.detail.requestConfig.triggeringEvent.type !== "focus") {
      event.preventDefault();
    }
  });

  // a select marked data-load-people gets its users the first time someone is about to
  // use its form (pointer over it, a touch, keyboard focus): htmx's "people-wanted" trigger
  ["mouseover", "focusin", "touchstart"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var form = event.target instanceof Element ? event.target.closest("form") : null;
      var select = form ? form.querySelector("select[data-load-people]") : null;
      if (select && !select.hasAttribute("data-people-asked") && window.htmx) {
        select.setAttribute("data-people-asked", "");
        window.htmx.trigger(select, "people-wanted");
      }
    }, {passive: true});
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.target;
    if (!list.classList || !list.classList.contains("lookup-options")) { return; }
    var box = list.closest("[data-lookup]");
    var search = parts(box).search;
    if (document.activeElement !== search && !box.contains(document.activeElement)) {
      close(box);
      return;
    }
    search.setAttribute("aria-expanded", list.children.length ? "true" : "false");
  });

  document.addEventListener("keydown", function (event) {
    var box = event.target.closest && event.target.closest("[data-lookup]");
    if (!box) { return; }
    var p = parts(box);
    var options = Array.prototype.slice.call(p.list.querySelectorAll(".lookup-option"));
    var index = options.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      options[Math.min(index + 1, options.length - 1)].focus();
    } else if (event.key === "ArrowUp" && options.length) {
      event.preventDefault();
      if (index <= 0) { p.search.focus(); } else { options[index - 1].focus(); }
    } else if (event.key === "Enter" && index >= 0) {
      event.preventDefault();
      choose(options[index]);
    } else if (event.key === "Escape") {
      close(box);
      p.search.focus();
    }
  });

  // the name the page was served with is the chosen record's (text typed before this
  // script ran is not)
  document.querySelectorAll("[data-lookup-search]").forEach(function (search) {
    search.setAttribute("data-chosen", search.defaultValue);
  });

  // text typed before the scripts ran asks for its suggestions too: htmx saw no input
  // event, and its "changed" check takes that text as already seen. htmx processed the
  // page in its own DOMContentLoaded listener, added before this one.
  document.addEventListener("DOMContentLoaded", function () {
    var typing = document.activeElement;
    if (!typing || !typing.matches || !typing.matches("input[hx-trigger*='typed-early']") ||
        !typing.value || typing.value === typing.defaultValue || !window.htmx) { return; }
    typing.dispatchEvent(new Event("input", {bubbles: true}));  // a lookup forgets its record
    window.htmx.trigger(typing, "typed-early");
  });

  // a scroll cue: the edge of a table, tab row or board that has more beyond it fades out
  var SCROLLERS = ".table-wrap, .view-tabs, .board-scroll, .stage-path";
  function cue(el) {
    var beyond = el.scrollWidth - el.clientWidth;
    el.classList.toggle("more-left", beyond > 1 && el.scrollLeft > 1);
    el.classList.toggle("more-right", beyond > 1 && el.scrollLeft < beyond - 1);
  }
  function cueAll() { document.querySelectorAll(SCROLLERS).forEach(cue); }
  document.addEventListener("scroll", function (event) {
    if (event.target.matches && event.target.matches(SCROLLERS)) { cue(event.target); }
  }, true);
  window.addEventListener("resize", cueAll);
  cueAll();
})();

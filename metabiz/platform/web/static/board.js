/* metabiz kanban board: drag a card to another column (SortableJS) and the record service
   decides. A refusal (a validation rule, a locked record, someone else's change) puts the
   card back and shows why on it. Without script every card has a "Move to" form. */
(function () {
  "use strict";
  var board = document.querySelector("[data-board]");
  if (!board || typeof Sortable === "undefined" || board.getAttribute("data-editable") !== "true") {
    return;
  }
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var scale = parseInt(board.getAttribute("data-scale") || "0", 10);
  var format = new Intl.NumberFormat(board.getAttribute("data-lang") === "zh" ? "zh-CN" : "en-US",
    {minimumFractionDigits: scale, maximumFractionDigits: scale});

  function shift(column, count, amount) {
    var n = parseInt(column.getAttribute("data-count"), 10) + count;
    column.setAttribute("data-count", String(n));
    column.querySelector("[data-column-count]").textContent = String(n);
    var total = column.querySelector("[data-column-total]");
    if (total && column.getAttribute("data-total") !== "") {
      var sum = parseFloat(column.getAttribute("data-total")) + amount;
      column.setAttribute("data-total", String(sum));
      total.textContent = format.format(sum);
    }
  }

  function say(card, message) {
    var error = card.querySelector(".board-error");
    error.textContent = message;
    error.hidden = !message;
    card.classList.toggle("has-error", !!message);
  }

  function send(card, value) {
    var form = card.querySelector("form.board-move");
    var data = new FormData(form);
    data.set("value", value);
    data.set("version", card.getAttribute("data-version"));
    return fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRF-Token": token}
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          throw new Error(body.error && body.error.message ? body.error.message
                                                           : board.getAttribute("data-failed"));
        }
        return body;
      });
    });
  }

  function moved(event) {
    if (event.from === event.to) { return; }
    var card = event.item;
    var from = event.from.closest("[data-column]");
    var to = event.to.closest("[data-column]");
    var amount = parseFloat(card.getAttribute("data-amount") || "0") || 0;
    say(card, "");
    card.classList.add("saving");
    send(card, event.to.getAttribute("data-value")).then(function (body) {
      card.setAttribute("data-version", String(body.version));
      var select = card.querySelector("form.board-move select");
      if (select) { select.value = event.to.getAttribute("data-value"); }
      card.querySelector("form.board-move input[name=version]").value = String(body.version);
      shift(from, -1, -amount);
      shift(to, 1, amount);
    }).catch(function (error) {
      // back where it was, with the reason on the card
      var siblings = event.from.children;
      event.from.insertBefore(card, siblings[event.oldIndex] || null);
      say(card, error.message);
    }).then(function () {
      card.classList.remove("saving");
    });
  }

  board.querySelectorAll(".board-cards").forEach(function (list) {
    Sortable.create(list, {
      group: "board", animation: 150, filter: ".locked, select, button",
      preventOnFilter: false, draggable: ".board-card", ghostClass: "board-ghost",
      onEnd: moved
    });
  });

  // the "Move to" form without a page load
  board.addEventListener("submit", function (event) {
    var form = event.target.closest("form.board-move");
    if (!form) { return; }
    event.preventDefault();
    var card = form.closest(".board-card");
    var value = form.querySelector("select").value;
    var target = board.querySelector('.board-cards[data-value="' + value.replace(/"/g, '\\"') + '"]');
    var from = card.parentNode;
    if (!target || target === from) { return; }
    var oldIndex = Array.prototype.indexOf.call(from.children, card);
    target.insertBefore(card, target.firstChild);
    moved({from: from, to: target, item: card, oldIndex: oldIndex});
  });
})();

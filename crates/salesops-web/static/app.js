// salesops: the one small hand-written script. Pages work without it; it
// adds drag and drop where a list is marked with data-reorder or data-board,
// and logs activities in the background from forms marked data-inline.
(function () {
  "use strict";

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function order(list) {
    return Array.prototype.map.call(list.querySelectorAll("li[data-id]"), function (li) {
      return li.dataset.id;
    });
  }

  // Puts the items back in the given order (a cancelled drag).
  function restore(list, ids) {
    ids.forEach(function (id) {
      var li = list.querySelector('li[data-id="' + id + '"]');
      if (li) list.appendChild(li);
    });
  }

  function enableReorder(list) {
    var dragged = null;
    var before = null;
    var dropped = false;
    var errorBox = document.getElementById("reorder-error");

    list.addEventListener("dragstart", function (e) {
      var item = e.target.closest("li[data-id]");
      if (!item) return;
      dragged = item;
      before = order(list);
      dropped = false;
      item.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", item.dataset.id);
    });

    list.addEventListener("dragover", function (e) {
      if (!dragged) return;
      e.preventDefault();
      var over = e.target.closest("li[data-id]");
      if (!over || over === dragged) return;
      var box = over.getBoundingClientRect();
      var after = e.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });

    list.addEventListener("drop", function (e) {
      if (!dragged) return;
      e.preventDefault();
      dropped = true;
    });

    list.addEventListener("dragend", function () {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      var ids = order(list);
      if (!dropped) {
        restore(list, before);
        return;
      }
      if (ids.join() === before.join()) return;
      fetch(list.dataset.reorder, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRF-Token": csrfToken(),
          "If-Match": '"' + list.dataset.version + '"'
        },
        body: JSON.stringify({ stage_ids: ids })
      }).then(function (resp) {
        if (resp.ok) {
          var url = new URL(window.location.href);
          url.search = "?reordered=1";
          window.location.assign(url.toString());
          return;
        }
        return resp.json().then(function (problem) {
          if (errorBox) {
            errorBox.textContent = problem.detail || resp.statusText;
            errorBox.hidden = false;
          }
        });
      }).catch(function (err) {
        if (errorBox) {
          errorBox.textContent = String(err);
          errorBox.hidden = false;
        }
      });
    });
  }

  // The pipeline board: drop a card on another column to move the lead.
  function enableBoard(board) {
    var card = null;
    var errorBox = document.getElementById("board-error");

    board.addEventListener("dragstart", function (e) {
      var c = e.target.closest(".lead-card");
      if (!c) return;
      card = c;
      c.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", c.dataset.id);
    });

    board.addEventListener("dragover", function (e) {
      if (!card) return;
      var column = e.target.closest(".column");
      if (!column) return;
      e.preventDefault();
      Array.prototype.forEach.call(board.querySelectorAll(".drop-target"), function (x) {
        if (x !== column) x.classList.remove("drop-target");
      });
      column.classList.add("drop-target");
    });

    board.addEventListener("drop", function (e) {
      if (!card) return;
      var column = e.target.closest(".column");
      e.preventDefault();
      if (!column || column.contains(card)) return;
      var moved = card;
      fetch("/api/v1/leads/" + moved.dataset.id + "/move", {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRF-Token": csrfToken(),
          "If-Match": '"' + moved.dataset.version + '"'
        },
        body: JSON.stringify({ stage_id: column.dataset.stage })
      }).then(function (resp) {
        if (resp.ok) {
          var url = new URL(window.location.href);
          url.searchParams.set("moved", "1");
          window.location.assign(url.toString());
          return;
        }
        return resp.json().then(function (problem) {
          if (errorBox) {
            errorBox.textContent = problem.detail || resp.statusText;
            errorBox.hidden = false;
          }
        });
      }).catch(function (err) {
        if (errorBox) {
          errorBox.textContent = String(err);
          errorBox.hidden = false;
        }
      });
    });

    board.addEventListener("dragend", function () {
      if (card) card.classList.remove("dragging");
      card = null;
      Array.prototype.forEach.call(board.querySelectorAll(".drop-target"), function (x) {
        x.classList.remove("drop-target");
      });
    });
  }

  // Logs an activity from a list row without leaving the list: the form
  // is posted in the background and the row says what was logged. Without
  // the script the same form posts and comes back to the list.
  function enableInline(form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var result = form.querySelector(".inline-result");
      var select = form.querySelector("select");
      var what = select ? select.options[select.selectedIndex].text : "";
      var button = form.querySelector("button");
      if (button) button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
        redirect: "follow"
      }).then(function (r) {
        if (button) button.disabled = false;
        if (result) {
          result.textContent = r.ok ? "✓ " + what : "✗ " + r.status;
          result.className = "inline-result " + (r.ok ? "ok" : "field-error");
        }
      }).catch(function () {
        if (button) button.disabled = false;
        form.submit();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-inline]"), enableInline);
    Array.prototype.forEach.call(document.querySelectorAll("[data-reorder]"), enableReorder);
    Array.prototype.forEach.call(document.querySelectorAll("[data-board]"), enableBoard);
  });
})();

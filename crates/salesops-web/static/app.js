// salesops: the one small hand-written script. Pages work without it; it
// adds drag and drop where a list is marked with data-reorder.
(function () {
  "use strict";

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function enableReorder(list) {
    var dragged = null;
    var errorBox = document.getElementById("reorder-error");

    list.addEventListener("dragstart", function (e) {
      var item = e.target.closest("li[data-id]");
      if (!item) return;
      dragged = item;
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

    list.addEventListener("dragend", function () {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      var ids = Array.prototype.map.call(list.querySelectorAll("li[data-id]"), function (li) {
        return li.dataset.id;
      });
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

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-reorder]"), enableReorder);
  });
})();

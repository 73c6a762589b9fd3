// The sweep report's script: sorts and filters the run table's existing rows, opens run cards
// and loads a card's figures when it opens. It never builds markup from the runs' text. The view lives in the address
// (#sort=KEY&dir=asc|desc&FILTER=VALUE...&card=N, or #card-N), so a view can be linked to.
(function () {
  "use strict";
  var table = document.getElementById("runs");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  rows.forEach(function (row, i) { row.dataset.order = String(i); });
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var filters = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var shown = document.getElementById("shown");
  var view = { sort: "", dir: "asc" };

  function sortValue(row, index, numeric) {
    var text = row.cells[index].dataset.v;
    if (!numeric) { return text; }
    var number = parseFloat(text);
    return isNaN(number) ? null : number;
  }

  function compare(index, numeric, sign) {
    return function (a, b) {
      var x = sortValue(a, index, numeric), y = sortValue(b, index, numeric);
      if (x === null || x === "" || y === null || y === "") {  // no value: always last
        if ((x === null || x === "") && (y === null || y === "")) {
          return a.dataset.order - b.dataset.order;
        }
        return (x === null || x === "") ? 1 : -1;
      }
      var c = numeric ? x - y : x.localeCompare(y);
      return c !== 0 ? sign * c : a.dataset.order - b.dataset.order;
    };
  }

  function apply() {
    var count = 0;
    rows.forEach(function (row) {
      var keep = filters.every(function (f) {
        return !f.value || row.getAttribute("data-" + f.dataset.filter) === f.value;
      });
      row.hidden = !keep;
      if (keep) { count += 1; }
    });
    var index = -1;
    headers.forEach(function (h, i) {
      var on = h.dataset.key === view.sort;
      if (on) { index = i; }
      h.setAttribute("aria-sort", on ? (view.dir === "desc" ? "descending" : "ascending") : "none");
    });
    var ordered = rows.slice();
    if (index >= 0) {
      ordered.sort(compare(index, headers[index].dataset.type === "num",
                           view.dir === "desc" ? -1 : 1));
    }
    ordered.forEach(function (row) { body.appendChild(row); });
    shown.textContent = count + " of " + rows.length + " rows shown";
  }

  function writeAddress() {
    var parts = [];
    if (view.sort) { parts.push("sort=" + encodeURIComponent(view.sort), "dir=" + view.dir); }
    filters.forEach(function (f) {
      if (f.value) { parts.push(f.dataset.filter + "=" + encodeURIComponent(f.value)); }
    });
    history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname);
  }

  function openCard(id) {
    var card = document.getElementById(id);
    if (card && card.tagName === "DETAILS") {
      card.open = true;
      card.scrollIntoView();
      card.querySelector("summary").focus();
    }
  }

  function readAddress() {
    var hash = location.hash.slice(1);
    if (/^card-\d+$/.test(hash)) { apply(); openCard(hash); return; }
    var params = {};
    hash.split("&").forEach(function (pair) {
      var k = pair.indexOf("=");
      if (k > 0) {
        try { params[pair.slice(0, k)] = decodeURIComponent(pair.slice(k + 1)); } catch (e) {}
      }
    });
    var known = headers.some(function (h) { return h.dataset.key === params.sort; });
    view.sort = known ? params.sort : "";
    view.dir = params.dir === "desc" ? "desc" : "asc";
    filters.forEach(function (f) {
      var wanted = params[f.dataset.filter] || "";
      var exists = Array.prototype.some.call(f.options, function (o) { return o.value === wanted; });
      f.value = exists ? wanted : "";
    });
    apply();
    if (/^\d+$/.test(params.card || "")) { openCard("card-" + params.card); }
  }

  headers.forEach(function (h) {
    h.querySelector("button").addEventListener("click", function () {
      if (view.sort === h.dataset.key) {
        view.dir = view.dir === "asc" ? "desc" : "asc";
      } else {
        view.sort = h.dataset.key;
        view.dir = h.dataset.type === "num" ? "desc" : "asc";  // best scores first
      }
      writeAddress();
      apply();
    });
  });
  filters.forEach(function (f) {
    f.addEventListener("change", function () { writeAddress(); apply(); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("details.card"), function (card) {
    card.addEventListener("toggle", function () {  // a card's figures load when it opens
      if (!card.open) { return; }
      Array.prototype.forEach.call(card.querySelectorAll("img[data-src]"), function (img) {
        img.src = img.dataset.src;
        img.removeAttribute("data-src");
      });
    });
  });
  window.addEventListener("hashchange", readAddress);
  readAddress();
  document.documentElement.dataset.readyMs = performance.now().toFixed(1);
}());

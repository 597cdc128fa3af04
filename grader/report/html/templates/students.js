// The students table: sort by name or score (click a header), find by id, one page of rows at a time.
(function () {
  "use strict";
  var table = document.getElementById("students");
  if (!table) { return; }
  var body = table.tBodies[0];
  var all = Array.prototype.slice.call(body.rows);
  all.forEach(function (row, i) { row.dataset.order = String(i); });
  var filter = document.getElementById("student-filter");
  var size = document.getElementById("student-page-size");
  var prev = document.getElementById("student-prev");
  var next = document.getElementById("student-next");
  var info = document.getElementById("student-page-info");
  var state = { key: "name", ascending: true, page: 0, rows: all };

  function byName(a, b) {
    var x = a.dataset.name, y = b.dataset.name;
    return x < y ? -1 : x > y ? 1 : Number(a.dataset.order) - Number(b.dataset.order);
  }
  function byScore(a, b) {
    return Number(a.dataset.score) - Number(b.dataset.score) || byName(a, b);
  }
  function pageSize() { return Number(size.value) || state.rows.length || 1; }

  function show() {
    var n = pageSize(), pages = Math.max(1, Math.ceil(state.rows.length / n));
    state.page = Math.min(Math.max(state.page, 0), pages - 1);
    var first = state.page * n, last = Math.min(first + n, state.rows.length);
    var visible = new Set(state.rows.slice(first, last));
    all.forEach(function (row) { row.hidden = !visible.has(row); });
    info.textContent = state.rows.length
      ? "students " + (first + 1) + "\u2013" + last + " of " + state.rows.length + " (page " + (state.page + 1) + " of " + pages + ")"
      : "no student matches";
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
  }

  function sort() {
    var compare = state.key === "score" ? byScore : byName;
    all.sort(function (a, b) { return state.ascending ? compare(a, b) : compare(b, a); });
    all.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.querySelectorAll("th[data-sort]"), function (th) {
      th.setAttribute("aria-sort", th.dataset.sort !== state.key ? "none" : state.ascending ? "ascending" : "descending");
    });
    refilter();
  }

  function refilter() {
    var q = filter.value.trim().toLowerCase();
    state.rows = all.filter(function (row) { return !q || row.dataset.name.indexOf(q) !== -1; });
    show();
  }

  Array.prototype.forEach.call(table.tHead.querySelectorAll("th[data-sort]"), function (th) {
    th.querySelector("button").addEventListener("click", function () {
      state.ascending = state.key === th.dataset.sort ? !state.ascending : true;
      state.key = th.dataset.sort;
      state.page = 0;
      sort();
    });
  });
  filter.addEventListener("input", function () { state.page = 0; refilter(); });
  size.addEventListener("change", function () { state.page = 0; show(); });
  prev.addEventListener("click", function () { state.page -= 1; show(); });
  next.addEventListener("click", function () { state.page += 1; show(); });
  show();
}());

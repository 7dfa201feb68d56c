// Sort every table by a click on its header (numbers by their exact data-v value).
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute("data-dir") !== "asc";
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-v") || a.cells[col].textContent;
        var y = b.cells[col].getAttribute("data-v") || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
      th.setAttribute("data-dir", asc ? "asc" : "desc");
    });
  });
});
document.body.setAttribute("data-ready", "true");
console.info("planner report ready");

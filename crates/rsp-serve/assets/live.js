// rsp dashboard: live run progress over server-sent events. Progressive enhancement only:
// the table is rendered by the server and stays correct (if static) without this script.
// Builds rows with textContent, never innerHTML, so run data cannot inject markup.
(function () {
  "use strict";
  var table = document.getElementById("live-runs");
  if (!table || !window.EventSource) return;
  var body = table.querySelector("tbody");
  var status = document.getElementById("live-status");
  function cell(row, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    if (text !== null) td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function render(runs) {
    while (body.firstChild) body.removeChild(body.firstChild);
    if (runs.length === 0) {
      var empty = document.createElement("tr");
      var td = cell(empty, "No run in flight.");
      td.colSpan = 5;
      body.appendChild(empty);
      return;
    }
    runs.forEach(function (r) {
      var tr = document.createElement("tr");
      var a = document.createElement("a");
      a.href = "/runs/" + encodeURIComponent(r.id);
      a.textContent = r.id;
      cell(tr, null).appendChild(a);
      cell(tr, r.model);
      cell(tr, r.suite + " / " + r.task);
      var p = cell(tr, null);
      var bar = document.createElement("progress");
      bar.max = Math.max(r.total, 1);
      bar.value = r.done;
      p.appendChild(bar);
      p.appendChild(document.createTextNode(" " + r.done + " / " + r.total));
      cell(tr, String(r.errors), "num");
      body.appendChild(tr);
    });
  }
  var source = new EventSource(table.getAttribute("data-events"));
  source.addEventListener("progress", function (e) {
    render(JSON.parse(e.data));
    if (status) status.textContent = "Live · updated " + new Date().toLocaleTimeString();
  });
  source.onerror = function () {
    if (status) status.textContent = "Connection lost; retrying…";
  };
})();

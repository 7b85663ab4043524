// Unit breakdown of one member x course cell: the cell carries its units (JSON), the page the unit names.
(function () {
  "use strict";
  var panel = document.getElementById("unit-panel");
  if (!panel) { return; }
  var names = JSON.parse(document.getElementById("unit-names").textContent || "{}");
  var title = document.getElementById("unit-panel-title");
  var meta = document.getElementById("unit-panel-meta");
  var body = document.querySelector("#unit-table tbody");
  var selected = null;

  function cellFor(text) {
    var td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function show(button) {
    var units = JSON.parse(button.dataset.units || "[]");
    var courseNames = names[button.dataset.courseId] || {};
    if (selected) { selected.classList.remove("selected"); }
    selected = button;
    button.classList.add("selected");
    title.textContent = button.dataset.userId + " \u2013 " + button.dataset.courseName;
    var parts = [button.dataset.completed + " of " + button.dataset.leafCount + " lessons"];
    parts.push(button.dataset.batchId ? "batch " + button.dataset.batchId : "no activity");
    if (button.dataset.lastActivity) { parts.push("last active " + button.dataset.lastActivity.replace("T", " ").replace("Z", " UTC")); }
    meta.textContent = parts.join(" \u00b7 ");
    body.textContent = "";
    units.forEach(function (unit) {
      var row = document.createElement("tr");
      row.dataset.unitId = unit.unitId;
      row.appendChild(cellFor(courseNames[unit.unitId] || unit.unitId));
      row.appendChild(cellFor(unit.completed + "/" + unit.leafCount));
      var barCell = document.createElement("td");
      var bar = document.createElement("div");
      bar.className = "bar";
      var fill = document.createElement("span");
      fill.style.width = unit.percent + "%";
      fill.style.backgroundColor = "hsl(" + Math.round(unit.percent * 1.2) + ", 65%, 50%)";
      bar.appendChild(fill);
      barCell.appendChild(bar);
      row.appendChild(barCell);
      row.appendChild(cellFor(unit.percent + "%"));
      body.appendChild(row);
    });
    if (!units.length) {
      var empty = document.createElement("tr");
      empty.appendChild(cellFor("This course has no units."));
      body.appendChild(empty);
    }
    panel.hidden = false;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.cell");
    if (button) { show(button); }
  });
  document.getElementById("unit-panel-close").addEventListener("click", function () {
    panel.hidden = true;
    if (selected) { selected.classList.remove("selected"); selected = null; }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { panel.hidden = true; }
  });
}());

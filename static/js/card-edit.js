// Keep the completeness meter in step with the text while typing (the server computes
// the saved value the same way: a section counts once it has any text).
(function () {
  "use strict";
  var areas = document.querySelectorAll("#card-form textarea[data-card-section]");
  var meter = document.getElementById("completeness-meter");
  var text = document.getElementById("completeness-text");
  if (!areas.length || !meter || !text) { return; }
  function update() {
    var filled = 0;
    areas.forEach(function (a) { if (a.value.trim()) { filled += 1; } });
    var pct = Math.round(100 * filled / areas.length);
    meter.value = pct;
    meter.textContent = pct + "%";
    text.textContent = filled + " of " + areas.length + " sections filled (" + pct + "%)" +
      (filled === areas.length ? " · complete" : "");
  }
  areas.forEach(function (a) { a.addEventListener("input", update); });
  update();
})();

// Keep the completeness meter in step with the form while typing. The server counts a
// section the same way: it has text, and that text was written or reviewed for this
// version (kept as it was inherited, it counts only once "Reviewed" is ticked).
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  var meter = document.getElementById("completeness-meter");
  var text = document.getElementById("completeness-text");
  var note = document.getElementById("inherited-note");
  if (!form || !meter || !text) {
    return;
  }
  var areas = form.querySelectorAll("textarea[data-card-section]");

  function counts(area) {
    if (!area.value.trim()) {
      return false;
    }
    if (area.dataset.counts === "true" || area.value !== area.defaultValue) {
      return true;
    }
    var box = form.querySelector('input[data-confirms="' + area.dataset.cardSection + '"]');
    return Boolean(box && box.checked);
  }

  function update() {
    var filled = 0;
    var inherited = 0;
    areas.forEach(function (area) {
      if (counts(area)) {
        filled += 1;
      } else if (area.value.trim()) {
        inherited += 1;
      }
    });
    var pct = Math.round(100 * filled / areas.length);
    meter.value = pct;
    meter.textContent = pct + "%";
    text.textContent = filled + " of " + areas.length + " sections filled (" + pct + "%)" +
      (filled === areas.length ? " · complete" : "");
    if (note) {
      note.hidden = inherited === 0;
      var count = note.querySelector(".count");
      if (count) {
        count.textContent = inherited + (inherited === 1 ? " section" : " sections");
      }
    }
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();

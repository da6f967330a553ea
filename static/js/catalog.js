// Progressive enhancement: apply a facet or sort as soon as it changes.
(function () {
  "use strict";
  document.querySelectorAll("#catalog-form input[type=checkbox], #catalog-form select")
    .forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
})();

// Select the whole new token when its field gets focus, ready to copy.
(function () {
  "use strict";
  var field = document.getElementById("new-token");
  if (field) { field.addEventListener("focus", function () { field.select(); }); }
})();

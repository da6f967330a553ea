// The audit page's chain verification: while one is running, ask its status every two
// seconds and reload the page when it is done, so the result shows without a click.
(function () {
  "use strict";
  var section = document.getElementById("verification");
  if (!section || section.dataset.state !== "running") {
    return;
  }
  var url = section.dataset.statusUrl;
  var delay = 2000;
  var attempts = 0;
  function poll() {
    attempts += 1;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (status) {
        if (status.running) {
          window.setTimeout(poll, delay);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        // A network hiccup: keep trying, more slowly, for a while.
        if (attempts < 150) {
          window.setTimeout(poll, delay * 2);
        }
      });
  }
  window.setTimeout(poll, delay);
})();

// The download page of a large export (templates/reports/download.html): start the download,
// then poll the export's progress every second and show it in the <progress> bar. No inline
// script (the CSP forbids it); the texts come translated in data- attributes.
(function () {
  "use strict";
  var box = document.getElementById("export-progress");
  if (!box) {
    return;
  }
  var bar = document.getElementById("export-bar");
  var status = document.getElementById("export-status");
  var link = document.getElementById("export-link");
  var numbers;
  try {
    numbers = new Intl.NumberFormat(document.documentElement.lang.replace(/_/g, "-") || undefined);
  } catch (error) {
    numbers = new Intl.NumberFormat(); // a locale name the browser does not know
  }

  function show(state, rows, total) {
    var text = box.dataset["text" + state.charAt(0).toUpperCase() + state.slice(1)] || "";
    if (state === "writing" && total) {
      bar.max = total;
      bar.value = rows;
      text += " " + numbers.format(rows) + " / " + numbers.format(total);
    } else if (state === "sending" || state === "finished") {
      bar.max = 1;
      bar.value = 1;
    }
    status.textContent = text;
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.json();
      })
      .then(function (progress) {
        show(progress.state, progress.rows, progress.total);
        if (progress.state !== "finished" && progress.state !== "unknown") {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }

  link.click();
  window.setTimeout(poll, 300);
})();

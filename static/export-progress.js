// The page of an export job (templates/reports/job.html), or of an import job
// (templates/vat/victims/import_job.html, data-reload: the page itself shows the outcome): poll the job's record every second and
// show it in the <progress> bar; when the file is ready, download it (once: the server deletes
// it). No inline script (the CSP forbids it); the texts come translated in data- attributes.
(function () {
  "use strict";
  var box = document.getElementById("export-progress");
  if (!box) {
    return;
  }
  var bar = document.getElementById("export-bar");
  var status = document.getElementById("export-status");
  var link = document.getElementById("export-link");
  var notice = document.getElementById("export-notice"); // the worker is not running
  var numbers;
  try {
    numbers = new Intl.NumberFormat(document.documentElement.lang.replace(/_/g, "-") || undefined);
  } catch (error) {
    numbers = new Intl.NumberFormat(); // a locale name the browser does not know
  }

  function text(name) {
    return box.dataset["text" + name.charAt(0).toUpperCase() + name.slice(1)] || "";
  }

  function show(job) {
    var shown = text(job.state);
    if (job.state === "running" && job.total) {
      bar.max = job.total;
      bar.value = job.rows;
      shown += " " + numbers.format(job.rows) + " / " + numbers.format(job.total);
    } else if (job.state === "finished") {
      bar.max = 1;
      bar.value = 1;
      if (job.file) {
        link.href = job.file;
        link.hidden = false;
        link.click();
      } else {
        shown = text("taken");
      }
    } else if (job.state === "failed") {
      bar.max = 1;
      bar.value = 0;
      shown += " " + (job.error || "");
    }
    status.textContent = shown;
    if (notice) {
      notice.textContent = job.notice || "";
      notice.hidden = !job.notice;
    }
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.json();
      })
      .then(function (job) {
        if (box.dataset.reload && (job.state === "finished" || job.state === "failed")) {
          window.location.reload(); // the page shows the outcome (an import's report)
          return;
        }
        show(job);
        if (job.state === "queued" || job.state === "running") {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }

  window.setTimeout(poll, 300);
})();

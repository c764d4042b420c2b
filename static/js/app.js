/* Small progressive enhancements: Plotly figures built server-side, bulk-selection helpers,
   org switcher submit. Pages work without JavaScript except for the charts. */
(function () {
  "use strict";

  function renderCharts(root) {
    if (typeof Plotly === "undefined") { return; }
    root.querySelectorAll("[data-figure]").forEach(function (el) {
      if (el.dataset.rendered) { return; }
      var source = document.getElementById(el.dataset.figure);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      el.dataset.rendered = "1";
      Plotly.newPlot(el, figure.data, figure.layout, {
        displaylogo: false,
        responsive: true,
        modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
      });
    });
  }

  function wireBulkSelection(root) {
    root.querySelectorAll("[data-select-all]").forEach(function (toggle) {
      toggle.addEventListener("change", function () {
        var form = document.getElementById(toggle.dataset.selectAll);
        if (!form) { return; }
        form.querySelectorAll("input[name=finding]").forEach(function (box) { box.checked = toggle.checked; });
        updateBulkCount(form);
      });
    });
    root.querySelectorAll("form[data-bulk]").forEach(function (form) {
      form.addEventListener("change", function () { updateBulkCount(form); });
      updateBulkCount(form);
    });
  }

  function updateBulkCount(form) {
    var count = form.querySelectorAll("input[name=finding]:checked").length;
    var label = form.querySelector("[data-bulk-count]");
    if (label) { label.textContent = count + " selected"; }
    form.querySelectorAll("[data-bulk-action]").forEach(function (button) { button.disabled = count === 0; });
  }

  function wireAutoSubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  function enhance(root) {
    renderCharts(root);
    wireBulkSelection(root);
    wireAutoSubmit(root);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
})();

// Draws the dashboard's Vega-Lite specs (made server-side by Altair). Expressions go through
// vega-interpreter: the page's Content-Security-Policy allows no eval.
(function () {
  "use strict";
  function draw() {
    var charts = document.querySelectorAll(".chart[data-spec]");
    var pending = [];
    charts.forEach(function (el) {
      var island = document.getElementById(el.getAttribute("data-spec"));
      if (!island) { return; }
      var spec = JSON.parse(island.textContent);
      pending.push(
        window.vegaEmbed(el, spec, {
          ast: true,
          expr: window.vegaInterpreter.expressionInterpreter,
          actions: false,
          renderer: "svg",
        }).then(function () { el.setAttribute("data-drawn", "1"); })
      );
    });
    Promise.all(pending).then(function () {
      document.body.setAttribute("data-charts-drawn", String(pending.length));
    }, function (err) {
      document.body.setAttribute("data-charts-failed", String(err));
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

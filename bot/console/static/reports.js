// 统计报表: draws each chart of the report with ECharts from the page's JSON block
// (<script type="application/json" id="report-data">); no inline script (the console's
// Content-Security-Policy allows our own files only). The tables under the charts hold the
// same figures (for printing and screen readers).
(function () {
  "use strict";
  var source = document.getElementById("report-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent || "{}");
  var charts = [];

  function option(spec) {
    var unit = spec.unit || "";
    if (spec.type === "pie") {
      return {
        animation: false,
        tooltip: { trigger: "item" },
        legend: { bottom: 0 },
        series: spec.series.map(function (s) {
          return { name: s.name, type: "pie", radius: ["35%", "65%"], data: s.data,
                   label: { formatter: "{b}：{c}（{d}%）" } };
        })
      };
    }
    var category = { type: "category", data: spec.categories,
                     axisLabel: { interval: 0, hideOverlap: true } };
    var value = { type: "value", name: unit, max: spec.max, minInterval: unit ? 0 : 1,
                  nameTextStyle: { align: spec.horizontal ? "right" : "left" } };
    return {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 32, top: 48, bottom: 8, containLabel: true },
      xAxis: spec.horizontal ? value : category,
      yAxis: spec.horizontal ? category : value,
      series: spec.series.map(function (s) {
        return { name: s.name, type: "bar", data: s.data, stack: spec.stack ? "all" : undefined,
                 label: { show: !spec.stack, position: spec.horizontal ? "right" : "top" } };
      })
    };
  }

  document.querySelectorAll(".chart[data-chart]").forEach(function (box) {
    var spec = data[box.getAttribute("data-chart")];
    if (!spec) { return; }
    var chart = echarts.init(box, null, { renderer: "canvas", locale: "ZH" });
    chart.setOption(option(spec));
    charts.push(chart);
  });

  function resize() { charts.forEach(function (c) { c.resize(); }); }
  window.addEventListener("resize", resize);
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
  var print = document.getElementById("print-report");
  if (print) { print.addEventListener("click", function () { window.print(); }); }
})();

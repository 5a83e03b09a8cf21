/* Charts of the console: every element with data-chart="ID" draws the bar chart whose data is the JSON in
   <script type="application/json" id="ID">. Clicking a bar opens that tenant (drill-down). The same figures
   are in a table next to the chart, so nothing depends on seeing the chart. */
document.addEventListener("DOMContentLoaded", function () {
  if (!window.echarts) return;
  var large = document.body.classList.contains("elder");
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var size = large ? 20 : 16;
    var chart = echarts.init(el);
    chart.setOption({
      grid: {left: 56, right: 16, top: 24, bottom: 72},
      xAxis: {type: "category", data: data.labels, axisLabel: {fontSize: size, interval: 0, rotate: data.labels.length > 4 ? 30 : 0}},
      yAxis: {type: "value", axisLabel: {fontSize: size}},
      series: [{type: "bar", data: data.values, label: {show: true, position: "top", fontSize: size}, itemStyle: {color: "#a61b1b"}}]
    });
    chart.on("click", function (p) { if (data.codes) location.href = "/t/" + data.codes[p.dataIndex] + "/" + (data.query || ""); });
    window.addEventListener("resize", function () { chart.resize(); });
  });
});

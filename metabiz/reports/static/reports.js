/* Draws the report charts of a page with the vendored ECharts, from the JSON block each chart
   names in data-report-chart; clicking a bar, point, slice or table row opens its records. */
(function () {
  "use strict";

  function measureHeader(data, name) {
    return data.headers[data.keys.length + data.measures.indexOf(name)];
  }

  /* numbers as the page's language writes them: 2,568,000 (the axes already do) */
  var numbers = new Intl.NumberFormat(document.documentElement.lang === "zh" ? "zh-CN" : "en-US",
                                      {maximumFractionDigits: 6});

  function number(value) {
    if (value === null || value === undefined || value === "") { return ""; }
    return isNaN(Number(value)) ? String(value) : numbers.format(Number(value));
  }

  function point(value, href) {
    return { value: value === null ? 0 : Number(value), href: href || null };
  }

  function unique(values) {
    var seen = [];
    values.forEach(function (v) { if (seen.indexOf(v) < 0) { seen.push(v); } });
    return seen;
  }

  function cartesian(data, spec) {
    var k = data.keys.length;
    var xi = Math.max(0, data.keys.indexOf(spec.x));
    var kind = spec.type === "line" ? "line" : "bar";
    var categories, series;
    if (k === 2) {
      /* two levels: one series per value of the other key, stacked bars */
      var other = 1 - xi;
      var measure = k + data.measures.indexOf(spec.y[0]);
      categories = unique(data.rows.map(function (r) { return r[xi]; }));
      series = unique(data.rows.map(function (r) { return r[other]; })).map(function (name) {
        var values = categories.map(function () { return null; });
        data.rows.forEach(function (r, i) {
          if (r[other] === name) { values[categories.indexOf(r[xi])] = point(r[measure], data.hrefs[i]); }
        });
        return { name: name, type: kind, stack: kind === "bar" ? "total" : undefined,
                 data: values.map(function (v) { return v || point(0, null); }) };
      });
    } else {
      categories = data.rows.map(function (r) { return r[xi]; });
      series = spec.y.map(function (name) {
        var at = k + data.measures.indexOf(name);
        return { name: measureHeader(data, name), type: kind,
                 data: data.rows.map(function (r, i) { return point(r[at], data.hrefs[i]); }) };
      });
    }
    if (kind === "line" && categories.length === 1) {
      /* one month of data is one point, a dot too small to see: draw it big, with its value */
      series.forEach(function (serie) {
        serie.symbolSize = 12;
        serie.label = { show: true, position: "top",
                        formatter: function (p) { return number(p.value); } };
      });
    }
    var few = categories.length <= 12;
    var category = { type: "category", data: categories, inverse: !!spec.horizontal,
                     axisLabel: { interval: few ? 0 : "auto", hideOverlap: !few,
                                  rotate: !spec.horizontal && categories.length > 4 ? 30 : 0 } };
    var valueAxis = { type: "value" };
    return {
      tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: number },
      legend: { type: "scroll", bottom: 0 },
      /* a horizontal chart's last value label is centred on the right edge: room for it */
      grid: { left: 8, right: spec.horizontal ? 40 : 16, top: 24, bottom: 40, containLabel: true },
      xAxis: spec.horizontal ? valueAxis : category,
      yAxis: spec.horizontal ? category : valueAxis,
      series: series
    };
  }

  function slices(data, spec) {
    var k = data.keys.length;
    var at = k + data.measures.indexOf(spec.y[0]);
    var items = data.rows.map(function (r, i) {
      return { name: r.slice(0, k).join(" · "), value: r[at] === null ? 0 : Number(r[at]),
               href: data.hrefs[i] };
    });
    var serie = { name: measureHeader(data, spec.y[0]), data: items };
    if (spec.type === "funnel") {
      serie.type = "funnel";
      serie.sort = "none";
      serie.left = "10%";
      serie.width = "80%";
      serie.gap = 2;
      serie.label = { position: "inside",
                      formatter: function (p) { return p.name + ": " + number(p.value); } };
    } else {
      /* percentages inside the ring: outside labels get cut to "2..." on a phone */
      serie.type = "pie";
      serie.radius = ["35%", "70%"];
      serie.label = { position: "inside", formatter: "{d}%" };
      serie.labelLayout = { hideOverlap: true };
    }
    return { tooltip: { trigger: "item", renderMode: "richText", valueFormatter: number },
             legend: { type: "scroll", bottom: 0 }, series: [serie] };
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-report-chart"));
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var spec = data.chart;
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(spec.type === "pie" || spec.type === "funnel" ? slices(data, spec)
                                                                  : cartesian(data, spec));
    chart.on("click", function (params) {
      if (params.data && params.data.href) { window.location.assign(params.data.href); }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    element.setAttribute("data-drawn", "true");
  }

  function rowLinks() {
    document.querySelectorAll("tr[data-href]").forEach(function (row) {
      row.classList.add("clickable");
      row.addEventListener("click", function (event) {
        if (event.target.closest("a")) { return; }
        window.location.assign(row.getAttribute("data-href"));
      });
    });
  }

  function start() {
    document.querySelectorAll("[data-report-chart]").forEach(draw);
    rowLinks();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

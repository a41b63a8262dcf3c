// Reports: draw each <canvas data-chart="ID"> from the JSON in <script id="ID">.
// The numbers are also in the table beside every chart; without JavaScript
// the tables and CSV downloads still tell everything.
(() => {
  const COLORS = ["#2f6fb5", "#3b9b5a", "#d9822b", "#8e5bb5", "#c0392b", "#16a085"];
  const pct = (v) => (v === null || v === undefined ? "–" : (v * 100).toFixed(1) + "%");

  function ratesConfig(data) {
    // Each rate: a point at its value and a floating bar over its Wilson 95% interval.
    const datasets = [];
    data.series.forEach((s, i) => {
      const color = COLORS[i % COLORS.length];
      datasets.push({
        type: "bar", label: s.name + " (95% interval)", backgroundColor: color + "40",
        borderColor: color, borderWidth: 1, barPercentage: 0.5, grouped: true, order: 2,
        data: s.points.map((p) => (p.low === null ? null : [p.low * 100, p.high * 100])),
        points: s.points,
      });
      datasets.push({
        type: "line", label: s.name, showLine: false, pointRadius: 5, pointStyle: "rectRot",
        backgroundColor: color, borderColor: color, order: 1,
        data: s.points.map((p) => (p.value === null ? null : p.value * 100)),
        points: s.points,
      });
    });
    return {
      type: "bar",
      data: { labels: data.labels.map((l, i) => (data.small[i] ? l + " (small)" : l)), datasets },
      options: {
        scales: { y: { min: 0, max: 100, title: { display: true, text: "%" } } },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const p = ctx.dataset.points[ctx.dataIndex];
                return `${ctx.dataset.label}: ${pct(p.value)} (${p.count} of ${p.of}; 95% ${pct(p.low)}–${pct(p.high)})`;
              },
            },
          },
        },
      },
    };
  }

  function rankingConfig(data) {
    // Position on a reversed axis (1 at the top), clicks on the right, placements as bars.
    const placed = new Set(data.placed);
    return {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Average position", data: data.position, borderColor: COLORS[0], backgroundColor: COLORS[0], spanGaps: true, yAxisID: "y" },
          { label: "Clicks", data: data.clicks, borderColor: COLORS[1], backgroundColor: COLORS[1], spanGaps: true, yAxisID: "y1" },
          { type: "bar", label: "Link placed", data: data.labels.map((d) => (placed.has(d) ? 1 : null)), backgroundColor: COLORS[2] + "80", yAxisID: "y2", barPercentage: 0.3 },
        ],
      },
      options: {
        scales: {
          y: { reverse: true, title: { display: true, text: "position" } },
          y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "clicks" } },
          y2: { display: false, min: 0, max: 1 },
        },
      },
    };
  }

  function configFor(data) {
    if (data.kind === "rates") return ratesConfig(data);
    if (data.kind === "ranking") return rankingConfig(data);
    if (data.kind === "funnel") {
      return {
        type: "bar",
        data: { labels: data.labels, datasets: [{ label: "Prospects", data: data.values, backgroundColor: COLORS[0] }] },
        options: { indexAxis: "y", plugins: { legend: { display: false } } },
      };
    }
    if (data.kind === "weekly") {
      return {
        type: "line",
        data: {
          labels: data.labels,
          datasets: data.series.map((s, i) => ({
            label: s.name, data: s.values, borderColor: COLORS[i], backgroundColor: COLORS[i],
            yAxisID: i === 0 ? "y" : "y1", tension: 0.2,
          })),
        },
        options: {
          scales: {
            y: { beginAtZero: true, title: { display: true, text: "touches" } },
            y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "replies, links" } },
          },
        },
      };
    }
    if (data.kind === "doughnut") {
      return { type: "doughnut", data: { labels: data.labels, datasets: [{ data: data.values, backgroundColor: COLORS }] } };
    }
    return {
      type: "bar",
      data: { labels: data.labels, datasets: [{ data: data.values, backgroundColor: COLORS[0] }] },
      options: { plugins: { legend: { display: false } } },
    };
  }

  // "How is this counted?" links open the explanation they point at.
  function openTarget() {
    const target = location.hash && document.querySelector(location.hash);
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  window.addEventListener("hashchange", openTarget);

  document.addEventListener("DOMContentLoaded", () => {
    openTarget();
    if (typeof Chart === "undefined") return;
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      const config = configFor(JSON.parse(source.textContent));
      canvas.chart = new Chart(canvas, config);
      canvas.dataset.drawn = "yes";
    });
  });
})();

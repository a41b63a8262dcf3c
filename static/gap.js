// Linkgap gap pages: overlap chart, select all, bulk action fields, drag and drop uploads.
// Everything here is an enhancement: the pages work without it.
document.addEventListener("DOMContentLoaded", () => {
  // The overlap chart: data from the canvas's data-chart attribute (no inline script: CSP).
  const canvas = document.getElementById("overlap-chart");
  if (canvas && window.Chart) {
    const data = JSON.parse(canvas.dataset.chart);
    const colors = ["#d9534f", "#3b9b5a"];
    data.datasets.forEach((set, i) => { set.backgroundColor = colors[i % colors.length]; });
    new window.Chart(canvas, {
      type: "bar",
      data,
      options: {
        animation: false,
        responsive: true,
        scales: {
          x: { title: { display: true, text: "competitors linked" } },
          y: { title: { display: true, text: "referring domains" }, beginAtZero: true },
        },
      },
    });
  }

  // Select every prospect of the page.
  const all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", () => {
      document.querySelectorAll('input[name="prospect_id"][form="bulk"]').forEach((box) => {
        box.checked = all.checked;
      });
    });
  }

  // Show only the fields the chosen bulk action needs.
  const action = document.getElementById("bulk-action");
  if (action) {
    const sync = () => {
      document.querySelectorAll("#bulk [data-for-action]").forEach((label) => {
        const wanted = label.dataset.forAction.split(" ");
        label.hidden = !wanted.includes(action.value);
      });
    };
    action.addEventListener("change", sync);
    sync();
  }

  // Drag and drop export files onto a drop zone's file input.
  document.querySelectorAll("[data-dropzone]").forEach((zone) => {
    const input = zone.querySelector('input[type="file"]');
    const list = zone.querySelector("[data-dropped]");
    const show = () => {
      if (!list) return;
      list.replaceChildren(...Array.from(input.files).map((f) => {
        const item = document.createElement("li");
        item.textContent = `${f.name} (${Math.max(1, Math.round(f.size / 1024))} KiB)`;
        return item;
      }));
    };
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    }));
    ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => {
      zone.classList.remove("dragging");
    }));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
  });
});

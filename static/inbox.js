// Inbox keyboard: j/k (or arrows) move between messages, 1/2/3 or p/u/n mark the selected
// reply positive/neutral/negative with one keystroke, o or Enter opens it.
(() => {
  const OUTCOMES = { 1: "positive", p: "positive", 2: "neutral", u: "neutral", 3: "negative", n: "negative" };
  let selected = -1;

  const rows = () => Array.from(document.querySelectorAll("tr[data-message]"));

  function select(index, focus = true) {
    const all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => row.classList.toggle("selected", i === selected));
    if (!focus) return;
    all[selected].focus({ preventScroll: true });
    all[selected].scrollIntoView({ block: "nearest" });
  }

  function mark(row, outcome) {
    const url = row.dataset.outcomeUrl;
    if (!url || !window.htmx) return;
    const id = row.id;
    window.htmx
      .ajax("POST", url, { source: row, target: row, swap: "outerHTML", values: { outcome } })
      .then(() => {
        // The row was replaced: select the next message, ready for the next keystroke.
        const all = rows();
        const index = all.findIndex((r) => r.id === id);
        select(index >= 0 ? index + 1 : selected);
      });
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, select, textarea, [contenteditable]")) return;
    const all = rows();
    if (!all.length) return;
    const key = event.key;
    if (key === "j" || key === "ArrowDown") {
      select(selected + 1);
    } else if (key === "k" || key === "ArrowUp") {
      select(selected - 1);
    } else if (key in OUTCOMES) {
      if (selected < 0) select(0);
      mark(rows()[selected], OUTCOMES[key]);
    } else if (key === "o" || (key === "Enter" && target.matches && target.matches("tr[data-message]"))) {
      if (selected < 0) return;
      window.location.href = rows()[selected].dataset.href;
    } else {
      return;
    }
    event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", () => {
    // Clicking a row selects it, so the keys act on what was clicked. A click on a control
    // keeps its focus: moving focus to the row would blur the clicked button before the form
    // submits, and htmx sends the clicked button's name (the outcome) only while it is focused.
    document.body.addEventListener("click", (event) => {
      const row = event.target.closest && event.target.closest("tr[data-message]");
      if (!row) return;
      const control = event.target.closest("button, a, input, select, textarea, label, summary");
      select(rows().indexOf(row), !control);
    });
    if (rows().length && document.getElementById("inbox-table")) select(0);
  });
})();

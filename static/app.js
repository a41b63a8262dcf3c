// Linkgap: small progressive enhancements. Pages work without it.
document.addEventListener("DOMContentLoaded", () => {
  // Phone width: the Menu button opens the folded header.
  const toggle = document.querySelector("[data-navtoggle]");
  if (toggle) {
    toggle.addEventListener("click", () => {
      const open = toggle.closest(".topbar").classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
  // Tables with a header become stacked cards at phone width: each cell carries
  // its column's name. Re-run after htmx swaps new rows in.
  const labelTables = (root) => {
    root.querySelectorAll("main table").forEach((table) => {
      const heads = [...table.querySelectorAll("thead tr:last-child th")].map((th) =>
        th.querySelector("input") ? "" : th.textContent.trim());
      if (!heads.length) return;
      table.classList.add("stacked");
      table.querySelectorAll("tbody tr").forEach((row) => {
        let column = 0;
        [...row.children].forEach((cell) => {
          if (!cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[column] || "");
          column += cell.colSpan || 1;
        });
      });
    });
  };
  labelTables(document);
  document.body.addEventListener("htmx:afterSettle", () => labelTables(document));
  // htmx requests carry the CSRF token from the page's meta tag.
  const token = document.querySelector('meta[name="csrf-token"]');
  document.body.addEventListener("htmx:configRequest", (event) => {
    if (token) event.detail.headers["X-CSRFToken"] = token.content;
  });
  // Filters with data-autosubmit submit on change (the page's policy allows no
  // inline handlers). Without JavaScript their forms' buttons still work.
  document.querySelectorAll("[data-autosubmit]").forEach((input) => {
    input.addEventListener("change", () => input.form.submit());
  });
  // Forms with data-confirm ask before they submit (destructive actions).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});

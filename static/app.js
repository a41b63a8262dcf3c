// Linkgap: small progressive enhancements. Pages work without it.
document.addEventListener("DOMContentLoaded", () => {
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

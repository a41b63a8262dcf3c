// The sequence editor: the merge-field menu inserts its tag where the cursor was.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("sequence-form");
  if (!form) return;
  let last = form.querySelector("textarea");
  form.addEventListener("focusin", (event) => {
    const el = event.target;
    if (el.matches("textarea, input[type=text]")) last = el;
  });
  form.querySelectorAll("[data-insert]").forEach((button) => {
    button.addEventListener("click", () => {
      if (!last) return;
      const tag = button.dataset.insert;
      const start = last.selectionStart ?? last.value.length;
      const end = last.selectionEnd ?? start;
      last.value = last.value.slice(0, start) + tag + last.value.slice(end);
      last.focus();
      last.setSelectionRange(start + tag.length, start + tag.length);
      last.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });
});

// The enrollment page: the button counts the rows that will really be enrolled.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("enroll-form");
  if (!form) return;
  const boxes = () => form.querySelectorAll("input[name=prospect_id]:not([disabled])");
  const count = document.getElementById("enroll-count");
  const button = document.getElementById("enroll-button");
  const all = document.getElementById("enroll-all");
  const update = () => {
    const n = [...boxes()].filter((b) => b.checked).length;
    count.textContent = String(n);
    button.lastChild.textContent = n === 1 ? " prospect" : " prospects";
    button.disabled = n === 0;
    if (all) all.checked = n > 0 && n === boxes().length;
  };
  form.addEventListener("change", (event) => {
    if (event.target === all) boxes().forEach((b) => { b.checked = all.checked; });
    update();
  });
});

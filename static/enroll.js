// The enrollment page: the button counts the rows that will really be enrolled.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("enroll-form");
  if (!form) return;
  const boxes = () => form.querySelectorAll("input[type=checkbox][name=prospect_id]:not([disabled])");
  // Ready rows past the listed ones are sent as hidden fields: they count too.
  const unlisted = Number(document.getElementById("enroll-unlisted")?.dataset.count || 0);
  const count = document.getElementById("enroll-count");
  const button = document.getElementById("enroll-button");
  const all = document.getElementById("enroll-all");
  const update = () => {
    const ticked = [...boxes()].filter((b) => b.checked).length;
    const n = ticked + unlisted;
    count.textContent = String(n);
    button.lastChild.textContent = n === 1 ? " prospect" : " prospects";
    button.disabled = n === 0;
    if (all) all.checked = ticked > 0 && ticked === boxes().length;
  };
  form.addEventListener("change", (event) => {
    if (event.target === all) boxes().forEach((b) => { b.checked = all.checked; });
    update();
  });
});

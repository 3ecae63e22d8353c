// Small behaviours of the triage pages; everything works without them, only less smoothly.
(function () {
  "use strict";
  const dialog = () => document.getElementById("dialog");

  // Content loaded into the dialog opens it as a modal (focus moves in, Escape closes it).
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "dialog-body") {
      const d = dialog();
      if (!d.open) d.showModal();
      // After an error, the first invalid field the person can see; else the first field.
      const visible = (el) => el.getClientRects().length > 0;
      const invalid = [...d.querySelectorAll("[aria-invalid=true]")].find(visible);
      const alert = d.querySelector(".error[role=alert]");
      if (alert && !invalid) alert.setAttribute("tabindex", "-1");
      const first = invalid || alert ||
        d.querySelector("[autofocus], input:not([type=hidden]), select, textarea, button");
      if (first) first.focus();
    }
  });
  // A button that opens the dialog but is also a plain link or form submit without htmx.
  document.addEventListener("click", (event) => {
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      event.preventDefault();
      const d = dialog();
      if (d.open) d.close(); else history.back();
    }
  });
  document.addEventListener("htmx:configRequest", (event) => {
    // 400 answers carry the form with its errors: swap them in like any other answer.
  });
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status === 400 || event.detail.xhr.status === 403) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // The menu button of narrow screens folds the navigation open and shut.
  document.addEventListener("click", (event) => {
    const toggle = event.target.closest(".menu-toggle");
    if (!toggle) return;
    const menu = document.getElementById(toggle.getAttribute("aria-controls"));
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("open", open);
  });
  // "Select all on this page".
  document.addEventListener("change", (event) => {
    const all = event.target.closest("[data-select-all]");
    if (all) {
      const name = all.getAttribute("data-select-all");
      all.form.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => {
        box.checked = all.checked;
      });
      return;
    }
    // Filter forms apply as soon as a choice changes; typing waits for Enter.
    const form = event.target.closest("form[data-autosubmit]");
    if (form && event.target.tagName === "SELECT") form.requestSubmit();
  });
})();

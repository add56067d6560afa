// The portal's only script (no inline scripts: the Content-Security-Policy allows 'self' only).
"use strict";

// Copy buttons: <button data-copy="element-id">.
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    button.textContent = "Copied";
  });
});

// Polling (elements marked data-poll) makes no request while the tab is hidden; the next
// tick after the tab shows again refreshes it.
document.addEventListener("htmx:confirm", function (event) {
  if (document.hidden && event.target.closest("[data-poll]")) event.preventDefault();
});

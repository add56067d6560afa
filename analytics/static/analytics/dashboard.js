// The dashboard's one behaviour, in a file so the page needs no inline script (Content-Security-Policy):
// choosing another session shows it at once.
document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});

// Keyboard help only; every page works without it.
// A form shown again with errors puts the focus on the first wrong field.
document.addEventListener("DOMContentLoaded", function () {
  var wrong = document.querySelector("[aria-invalid=true], .has-error input, .has-error select");
  if (wrong) { wrong.focus(); }
  var back = document.querySelector("[data-back]");
  if (back) {
    back.addEventListener("click", function (event) {
      event.preventDefault();
      history.back();
    });
  }
});

// followup: the little JavaScript the pages use. Everything works without it.
// A button with data-confirm asks before its form is sent (withdrawing consent,
// applying a schedule change): these cannot be undone by pressing Back.
document.addEventListener("submit", function (event) {
  var button = event.submitter || event.target.querySelector("[data-confirm]");
  var question = button && button.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

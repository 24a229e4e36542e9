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

// A table wider than the screen scrolls inside its own box (app.css): that box takes the
// keyboard focus, so it can be scrolled without a mouse (WCAG 2.1.1; axe-core's
// scrollable-region-focusable). Checked again when the window changes size.
function scrollableByKeyboard() {
  document.querySelectorAll(".table, .report table").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth) {
      box.setAttribute("tabindex", "0");
    } else {
      box.removeAttribute("tabindex");
    }
  });
}
document.addEventListener("DOMContentLoaded", scrollableByKeyboard);
window.addEventListener("resize", scrollableByKeyboard);
// A select with data-refuses="NAME" disables, in the select named NAME, the options whose
// data-refused-with is its value (Outcomes: "completed vs left early" cannot count from
// completion), and moves the choice off a disabled option. The server does the same.
document.addEventListener("change", function (event) {
  var chooser = event.target;
  var name = chooser.getAttribute && chooser.getAttribute("data-refuses");
  var other = name && chooser.form && chooser.form.elements[name];
  if (!other) {
    return;
  }
  Array.prototype.forEach.call(other.options, function (option) {
    var refused = option.getAttribute("data-refused-with");
    option.disabled = refused !== null && refused === chooser.value;
  });
  if (other.selectedOptions[0] && other.selectedOptions[0].disabled) {
    var instead = other.querySelector("option[data-instead]:not([disabled])");
    other.value = instead ? instead.value : "";
  }
});

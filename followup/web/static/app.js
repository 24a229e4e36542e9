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

// --- instrument questionnaire: skip rules while filling in ------------------------------
// An item with data-show-if="answer_ITEM" is asked only when that earlier item's answer is
// one of data-show-any (space-separated codes) or above data-show-above (a number; a
// frequency band's midpoint is its option's data-number). A hidden item is disabled, so
// it is not sent; the server applies the same rule (followup.scoring) and stores it as
// not_applicable. Without JavaScript every item is shown with its rule in words.
var MISSING_ANSWERS = ["dont_know", "refused", "not_asked", "not_applicable"];

function instrumentAnswer(form, name) {
  var field = form.elements[name];
  if (!field) {
    return { value: "", number: NaN };
  }
  var chosen = null;
  if (field.tagName === "SELECT") {
    chosen = field.disabled ? null : field.selectedOptions[0];
  } else if (typeof field.length === "number") {
    chosen = Array.prototype.find.call(field, function (radio) {
      return radio.checked && !radio.disabled;
    });
  } else if (!field.disabled) {
    return { value: field.value, number: parseFloat(field.value) };
  }
  if (!chosen || !chosen.value) {
    return { value: "", number: NaN };
  }
  var number = chosen.getAttribute("data-number");
  return { value: chosen.value, number: number === null ? parseFloat(chosen.value) : parseFloat(number) };
}

function applySkipRules(form) {
  // In the order asked: an item hidden here hides the items that depend on it.
  form.querySelectorAll(".instrument [data-show-if]").forEach(function (item) {
    var answer = instrumentAnswer(form, item.getAttribute("data-show-if"));
    var shown = false;
    if (answer.value && MISSING_ANSWERS.indexOf(answer.value) < 0) {
      var above = item.getAttribute("data-show-above");
      if (above !== null) {
        shown = answer.number > parseFloat(above);
      } else {
        shown = item.getAttribute("data-show-any").split(" ").indexOf(answer.value) >= 0;
      }
    }
    item.hidden = !shown;
    item.querySelectorAll("input, select, textarea").forEach(function (control) {
      control.disabled = !shown;
    });
  });
}

function skipRulesOf(element) {
  var form = element && element.closest && element.closest("form");
  if (form && form.querySelector(".instrument [data-show-if]")) {
    applySkipRules(form);
  }
}
document.addEventListener("change", function (event) {
  skipRulesOf(event.target);
});
document.addEventListener("input", function (event) {
  skipRulesOf(event.target);
});
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".instrument").forEach(skipRulesOf);
});

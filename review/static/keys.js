// Keyboard shortcuts of the review app. Every element with data-key="K" is pressed (a button or
// link clicked, a field focused) when K is typed outside a text field; Escape leaves a field.
// The page lists the same keys, so what is shown is what works. No inline script: the strict
// Content-Security-Policy forbids it.
(function () {
  "use strict";
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
    if (typing(event.target) || event.key.length !== 1) { return; }
    var selector = '[data-key="' + (event.key === '"' || event.key === "\\" ? "" : event.key) + '"]';
    var element = document.querySelector(selector);
    if (!element) { return; }
    event.preventDefault();
    if (element.tagName === "TEXTAREA" || element.tagName === "INPUT" || element.tagName === "SELECT") {
      element.focus();
    } else if (element.tagName === "BUTTON" && element.form && !element.form.reportValidity()) {
      return;
    } else {
      element.click();
    }
  });
}());

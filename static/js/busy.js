// Long acts say that they are working (the CSB's examination, I 1, and decision, I 4, take a while).
// A form with data-busy="<text>": on submit its buttons are disabled, so a second press cannot send the
// act again while the first runs, and the text goes into the form's aria-live region
// ([data-busy-status]), so a screen reader announces it too. The act's answer is a redirect to its
// result page. Without JavaScript the form works the same, without the message. Loaded as a file from
// this site: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  function reset(form) {
    form.removeAttribute("aria-busy");
    form.querySelectorAll("button").forEach(function (button) { button.disabled = false; });
    var status = form.querySelector("[data-busy-status]");
    if (status) { status.textContent = ""; }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-busy")) { return; }
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    form.setAttribute("aria-busy", "true");
    var status = form.querySelector("[data-busy-status]");
    if (status) { status.textContent = form.getAttribute("data-busy"); }
    // After the submission has started: a button disabled before it would not be sent with the form.
    window.setTimeout(function () {
      form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
    }, 0);
  });

  // Back to this page from the browser's cache: the form can be used again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { document.querySelectorAll("form[data-busy]").forEach(reset); }
  });
}());

// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";

  // Booking form: show the repetition details only when a repetition is chosen.
  function toggleRecurrence() {
    var details = document.getElementById("recurrence-details");
    var checked = document.querySelector('input[name="repeat"]:checked');
    if (!details || !checked) return;
    var value = checked.value;
    details.hidden = value === "none";
    document.querySelectorAll(".weekly-only").forEach(function (el) {
      el.hidden = value === "monthly";
    });
    document.querySelectorAll(".monthly-only").forEach(function (el) {
      el.hidden = value !== "monthly";
    });
  }

  // Search form: show either the date or the weekday fields.
  function toggleMode() {
    var checked = document.querySelector('input[name="mode"]:checked');
    if (!checked) return;
    document.querySelectorAll(".mode-date").forEach(function (el) {
      el.hidden = checked.value !== "date";
    });
    document.querySelectorAll(".mode-weekly").forEach(function (el) {
      el.hidden = checked.value !== "weekly";
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.name === "repeat") toggleRecurrence();
    if (event.target.name === "mode") toggleMode();
  });

  // Move focus to the error summary, or to the preview, so screen readers announce it.
  function focusFirst() {
    var target = document.getElementById("error-summary") || document.getElementById("preview-title");
    if (target) target.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    toggleRecurrence();
    toggleMode();
    focusFirst();
  });
})();

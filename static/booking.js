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

  // Weekly search: the number of weeks or the last date, whichever "until when" asks for.
  function toggleWeeklyEnd() {
    var checked = document.querySelector('input[name="weekly_end"]:checked');
    if (!checked) return;
    document.querySelectorAll(".weekly-weeks").forEach(function (el) {
      el.hidden = checked.value !== "weeks";
    });
    document.querySelectorAll(".weekly-date").forEach(function (el) {
      el.hidden = checked.value !== "date";
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.name === "repeat") toggleRecurrence();
    if (event.target.name === "mode") toggleMode();
    if (event.target.name === "weekly_end") toggleWeeklyEnd();
  });

  // Move focus to the error summary, or to the preview or the search results (the form's
  // action ends in #results-title, which browsers focus by themselves), so screen readers
  // announce it; on a phone it scrolls there.
  function focusFirst() {
    var target = document.getElementById("error-summary") || document.getElementById("preview-title") ||
      (window.location.hash === "#results-title" && document.getElementById("results-title"));
    if (target) target.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    toggleRecurrence();
    toggleMode();
    toggleWeeklyEnd();
    focusFirst();
  });
})();

// The console's own script (no inline scripts: the content security policy forbids them).
// - The board: the tab's title counts emergencies nobody has taken; the waiting clocks
//   tick; a sound (turned on once per shift: browsers play sound only after a click)
//   sounds for a new emergency and again every 30 s while one waits.
// - The sign-in page: page snapshots htmx may have kept in this tab are cleared.
(function () {
  "use strict";
  var REPEAT_MS = 30000;
  if (document.getElementById("signin")) {
    try { window.sessionStorage.clear(); } catch (e) { /* private mode */ }
  }
  var board = document.getElementById("board");
  if (!board) { return; }
  var button = document.getElementById("sound-toggle");
  var on = window.localStorage.getItem("yinling-sound") === "on";
  var audio = null;
  var seen = null;
  var lastBeep = 0;

  function label() {
    if (button) { button.textContent = on ? "提示音：开（点一下关）" : "开启提示音"; }
  }

  function beep() {
    if (!on) { return; }
    lastBeep = Date.now();
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    [0, 0.35, 0.7].forEach(function (start) {
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.3;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start(audio.currentTime + start);
      tone.stop(audio.currentTime + start + 0.25);
    });
  }

  function waiting() {
    return Array.prototype.map.call(
      document.querySelectorAll("article.alert.open, article.alert.unconfirmed"),
      function (card) { return card.dataset.request; });
  }

  function look() {
    var ids = waiting();
    var fresh = seen !== null && ids.some(function (id) { return seen.indexOf(id) < 0; });
    seen = ids;
    document.title = (ids.length ? "(" + ids.length + ") " : "") + "紧急求助 · 银龄通";
    if (fresh) { beep(); }
  }

  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll("[data-since]").forEach(function (clock) {
      var s = Math.max(0, Math.floor(now - Number(clock.dataset.since)));
      var text = s < 60 ? s + "秒" : s < 3600 ? Math.floor(s / 60) + "分钟"
        : Math.floor(s / 3600) + "小时" + Math.floor((s % 3600) / 60) + "分";
      clock.textContent = "已 " + text;
    });
    if (on && waiting().length && Date.now() - lastBeep > REPEAT_MS) { beep(); }
  }

  if (button) {
    button.addEventListener("click", function () {
      on = !on;
      window.localStorage.setItem("yinling-sound", on ? "on" : "off");
      label();
      if (on) { beep(); }
    });
  }
  label();
  look();
  window.setInterval(tick, 1000);
  document.body.addEventListener("htmx:afterSwap", look);
})();

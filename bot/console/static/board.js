// The emergency board: a sound and the tab's title when a new emergency nobody has taken
// appears. Browsers play sound only after a click, so a duty officer turns it on once per
// shift ("开启提示音"); the choice is kept in this browser.
(function () {
  "use strict";
  var seen = null;
  var button = document.getElementById("sound-toggle");
  var on = window.localStorage.getItem("yinling-sound") === "on";
  var audio = null;

  function label() {
    if (button) { button.textContent = on ? "提示音：开" : "开启提示音"; }
  }

  function beep() {
    if (!on) { return; }
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    [0, 0.35, 0.7].forEach(function (start) {
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.25;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start(audio.currentTime + start);
      tone.stop(audio.currentTime + start + 0.2);
    });
  }

  function look() {
    var open = document.querySelectorAll("article.alert.open, article.alert.unconfirmed");
    var ids = Array.prototype.map.call(open, function (card) { return card.dataset.request; });
    var fresh = seen !== null && ids.some(function (id) { return seen.indexOf(id) < 0; });
    seen = ids;
    document.title = (ids.length ? "(" + ids.length + ") " : "") + "紧急求助 · 银龄通";
    if (fresh) { beep(); }
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
  document.body.addEventListener("htmx:afterSwap", look);
})();

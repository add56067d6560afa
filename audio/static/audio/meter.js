// The live audio meter page (audio/templates/audio/meter.html): a file, not an inline script, so the
// page works under the Content-Security-Policy's `script-src 'self'`. The page passes its URLs and
// CSRF token as data attributes of this script's tag.
(function () {
  "use strict";
  var config = document.currentScript.dataset;
  var URL_LEVEL = config.levelUrl, URL_START = config.startUrl, URL_STOP = config.stopUrl;
  var CSRF = config.csrf;
  var CLIP_HOLD_MS = 3000, STALE_MS = 1500;
  var $ = function (id) { return document.getElementById(id); };
  var busy = false, lastClipAt = 0, lastStamp = null, lastStampSeen = 0, listening = false;
  function pct(db) { return Math.max(0, Math.min(100, (db + 60) / 60 * 100)); }
  function showStatus(body, lv) {
    var now = Date.now();
    if (lv && lv.timestamp !== lastStamp) { lastStamp = lv.timestamp; lastStampSeen = now; }
    if (!body.isListening) {
      $("status").textContent = "Not listening.";
    } else if (!lv) {
      $("status").textContent = "Listening — waiting for the first level (is sample_audio --follow running?)";
    } else if (now - lastStampSeen > STALE_MS) {
      $("status").textContent = "Listening — no new level for " + Math.round((now - lastStampSeen) / 1000) + " s";
    } else {
      $("status").textContent = "Listening — " + lv.timestamp;
    }
    listening = !!body.isListening;
    $("start").disabled = listening;
    $("stop").disabled = !listening;
  }
  function show(body) {
    var lv = body.level;
    showStatus(body, lv);
    $("session").textContent = body.sessionId || "–";
    var level = lv ? lv.audioLevel : 0;
    $("bar").style.width = level + "%";
    $("meter").setAttribute("aria-valuenow", String(level));
    $("peakmark").style.left = (lv ? pct(lv.peakDbfs) : 0) + "%";
    $("peakmark").hidden = !lv;
    $("level").textContent = lv ? level.toFixed(1) : "–";
    $("level").dataset.level = lv ? String(level) : "";
    $("rms").textContent = lv ? lv.rmsDbfs.toFixed(2) : "–";
    $("peak").textContent = lv ? lv.peakDbfs.toFixed(2) : "–";
    if (lv && lv.clip) { lastClipAt = Date.now(); }
    var clipping = lv && Date.now() - lastClipAt < CLIP_HOLD_MS;
    $("clip").textContent = lv ? (clipping ? "CLIP" : "no") : "–";
    $("clip").className = "v " + (lv ? (clipping ? "clip-on" : "clip-off") : "");
    $("meter").classList.toggle("clipping", !!clipping);
  }
  function poll() {
    if (busy) { return; }
    busy = true;
    fetch(URL_LEVEL, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(show)
      .catch(function (e) { $("status").textContent = "Cannot read the level: " + e.message; })
      .then(function () { busy = false; });
  }
  function post(url) {
    $("start").disabled = $("stop").disabled = true;
    fetch(url, { method: "POST", credentials: "same-origin",
                 headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": CSRF },
                 body: JSON.stringify({ timestamp: new Date().toISOString() }) })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) { throw new Error(b.detail || r.status); } return b; }); })
      .then(function (b) { $("status").textContent = b.message; })
      .catch(function (e) { $("status").textContent = "Could not do that: " + e.message; })
      .then(poll);
  }
  $("start").addEventListener("click", function () { post(URL_START); });
  $("stop").addEventListener("click", function () { post(URL_STOP); });
  poll();
  setInterval(poll, 100);
})();

/* The live meter: reads /api/listen/level ten times a second, but only while a session is listening and
   the tab is visible. Idle, hidden or refused (401/403), it sends nothing: it checks again when the tab
   comes back, when a button is pressed, or when "Check again" is clicked. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var cfg = document.body.dataset;
  var POLL_MS = 100, CLIP_HOLD_MS = 3000, STALE_MS = 1500;
  var busy = false, timer = null, refused = false, listening = false;
  var lastClipAt = 0, lastStamp = null, lastStampSeen = 0;

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
    $("check").hidden = listening;
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

  function refuse(status) {
    refused = true;
    clearTimeout(timer);
    $("start").disabled = $("stop").disabled = true;
    $("check").hidden = true;
    $("status").textContent = status === 401 ? "Signed out: sign in again to see the meter."
                                             : "This account may not read this tenant's level.";
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (listening && !refused && !document.hidden) { timer = setTimeout(poll, POLL_MS); }
  }

  function poll() {
    if (busy || refused) { return; }
    busy = true;
    fetch(cfg.urlLevel, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) { refuse(r.status); return null; }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (body) { if (body) { show(body); } })
      .catch(function (e) {
        listening = false;  // an error ends the loop; "Check again" starts it
        $("check").hidden = false;
        $("status").textContent = "Cannot read the level: " + e.message;
      })
      .then(function () { busy = false; schedule(); });
  }

  function post(url) {
    $("start").disabled = $("stop").disabled = true;
    fetch(url, { method: "POST", credentials: "same-origin",
                 headers: { "Content-Type": "application/json", "Accept": "application/json",
                            "X-CSRFToken": cfg.csrf },
                 body: JSON.stringify({ timestamp: new Date().toISOString() }) })
      .then(function (r) {
        if (r.status === 401) { refuse(r.status); return null; }
        return r.json().then(function (b) { if (!r.ok) { throw new Error(b.detail || r.status); } return b; });
      })
      .then(function (b) { if (b) { $("status").textContent = b.message; } })
      .catch(function (e) { $("status").textContent = "Could not do that: " + e.message; })
      .then(poll);
  }

  if (cfg.access !== "yes") { return; }
  $("start").addEventListener("click", function () { post(cfg.urlStart); });
  $("stop").addEventListener("click", function () { post(cfg.urlStop); });
  $("check").addEventListener("click", poll);
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { clearTimeout(timer); timer = null; } else { poll(); }
  });
  poll();
})();

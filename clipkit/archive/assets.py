"""The archive's script: search, themes, the player's cue sync and the editor's panel."""

from __future__ import annotations

ASSETS_JS = r"""
(function () {
  "use strict";
  // Captions: a <track> file loads on any static host; from file:// some browsers refuse it,
  // so its cues are also in the page and added by script when the file cannot load.
  document.querySelectorAll("[data-cues]").forEach(function (media) {
    var track = media.querySelector("track");
    var cues = JSON.parse(document.getElementById(media.dataset.cues).textContent);
    function fallback() {
      if (media.dataset.fallback) return;
      media.dataset.fallback = "1";
      var tt = media.addTextTrack("captions", track ? track.label : "Captions", track ? track.srclang : "en");
      cues.forEach(function (c) { tt.addCue(new VTTCue(c[0], c[1], c[2])); });
      tt.mode = "showing";
    }
    if (!track) { fallback(); return; }
    var failed = function () { track.track.mode = "disabled"; fallback(); };
    track.addEventListener("error", failed);
    if (track.readyState === 3) failed();  // it failed before this script ran
    else track.track.mode = "showing";
  });
  // Transcript lines seek the story's player.
  var player = document.getElementById("player");
  function seek(t) {
    if (!player) return;
    player.currentTime = t;
    var p = player.play(); if (p && p.catch) p.catch(function () {});
  }
  document.querySelectorAll("button.ts").forEach(function (b) {
    b.addEventListener("click", function () { seek(parseFloat(b.dataset.t)); });
  });
  if (player) {
    var lines = Array.prototype.slice.call(document.querySelectorAll(".line"));
    player.addEventListener("timeupdate", function () {
      var now = player.currentTime, current = null;
      lines.forEach(function (l) { if (parseFloat(l.dataset.t) <= now) current = l; });
      lines.forEach(function (l) { l.classList.toggle("current", l === current); });
    });
    var m = /t=([0-9.]+)/.exec(location.hash);
    if (m) player.addEventListener("loadedmetadata", function () { player.currentTime = parseFloat(m[1]); }, { once: true });
  }
  // The storyteller's sign-off page (clipkit review --storyteller): approve or decline each extract.
  document.querySelectorAll(".signoff button[data-state]").forEach(function (b) {
    b.addEventListener("click", function () {
      var item = b.closest("[data-slug]"), out = item.querySelector("output");
      fetch("/api/signoff", { method: "POST", headers: { "Content-Type": "application/json" },
                              body: JSON.stringify({ slug: item.dataset.slug, state: b.dataset.state }) })
        .then(function (r) { return r.json(); })
        .then(function (j) { out.textContent = j.ok ? j.message : "Not saved: " + j.error; item.dataset.state = j.ok ? b.dataset.state : item.dataset.state; })
        .catch(function () { out.textContent = "Not saved: the review server is not running."; });
    });
  });
  // Editor mode: selected words become an extract's in/out points, saved as a plan row.
  var editor = document.getElementById("editor");
  if (editor) {
    var chosen = null, stopAt = null;
    function fmt(t) { var m = Math.floor(t / 60), s = (t - 60 * m).toFixed(2); return m + ":" + (s < 10 ? "0" : "") + s; }
    function pick() {
      var sel = window.getSelection();
      if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
      var range = sel.getRangeAt(0);
      var words = Array.prototype.filter.call(document.querySelectorAll(".transcript .w"),
        function (w) { return range.intersectsNode(w); });
      if (!words.length) return;
      var first = words[0], last = words[words.length - 1];
      chosen = { start: parseFloat(first.dataset.s), end: parseFloat(last.dataset.e),
                 text: words.map(function (w) { return w.textContent; }).join(" ") };
      document.getElementById("ed-in").textContent = fmt(chosen.start);
      document.getElementById("ed-out").textContent = fmt(chosen.end);
      document.getElementById("ed-len").textContent = (chosen.end - chosen.start).toFixed(1) + " s";
      document.getElementById("ed-text").textContent = chosen.text;
    }
    document.addEventListener("mouseup", pick);
    document.addEventListener("keyup", pick);
    document.getElementById("ed-play").addEventListener("click", function () {
      if (!chosen || !player) return;
      stopAt = chosen.end; seek(chosen.start);
    });
    if (player) player.addEventListener("timeupdate", function () {
      if (stopAt !== null && player.currentTime >= stopAt) { player.pause(); stopAt = null; }
    });
    document.getElementById("ed-save").addEventListener("click", function () {
      var status = document.getElementById("ed-status");
      if (!chosen) { status.textContent = "Select some words of the transcript first."; return; }
      var row = { source: editor.dataset.source, start: chosen.start, end: chosen.end,
                  title: document.getElementById("ed-title").value,
                  description: document.getElementById("ed-desc").value,
                  tags: document.getElementById("ed-tags").value };
      if (!row.title.trim()) { status.textContent = "Give the extract a title."; return; }
      if (location.protocol.indexOf("http") === 0) {
        fetch("/api/rows", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(row) })
          .then(function (r) { return r.json(); })
          .then(function (j) { status.textContent = j.ok ? "Saved: " + j.row : "Not saved: " + j.error; })
          .catch(function () { status.textContent = "Not saved: the review server is not running."; });
      } else {  // a static page: the row to paste into plan.csv
        var line = [row.source, fmt(row.start), fmt(row.end), row.title, row.description, row.tags]
          .map(function (v) {
            v = String(v);
            if (/^'*[=+\-@\t\r]/.test(v)) v = "'" + v;  // a spreadsheet must not run it as a formula
            return /[",\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
          }).join(",");
        var a = document.createElement("a");
        a.href = URL.createObjectURL(new Blob([line + "\n"], { type: "text/csv" }));
        a.download = "plan-row.csv"; a.click();
        status.textContent = "Downloaded plan-row.csv: paste its line into plan.csv.";
      }
    });
  }
  // Theme links on the index show only the stories of that theme.
  var cards = document.querySelectorAll(".stories li[data-themes]");
  function byTheme() {
    var m = /theme=([^&]+)/.exec(location.hash), theme = m ? decodeURIComponent(m[1]) : null, shown = 0;
    cards.forEach(function (li) {
      var on = !theme || JSON.parse(li.dataset.themes).indexOf(theme) >= 0;
      li.hidden = !on; if (on) shown++;
    });
    var status = document.getElementById("theme-status");
    if (status) status.textContent = theme ? shown + (shown === 1 ? " story" : " stories") + " about " + theme : "";
  }
  if (cards.length) { window.addEventListener("hashchange", byTheme); byTheme(); }
  // Search over every transcript (index page).
  var box = document.getElementById("search"), out = document.getElementById("results");
  if (box && out && window.CLIPKIT_INDEX) {
    function norm(s) { return s.toLowerCase().replace(/[\u2019']/g, "'").replace(/[^\p{L}\p{N}' ]+/gu, " ").replace(/\s+/g, " ").trim(); }
    box.addEventListener("input", function () {
      var q = norm(box.value);
      out.textContent = "";
      if (q.length < 2) return;
      var found = 0;
      window.CLIPKIT_INDEX.forEach(function (story) {
        story.lines.forEach(function (line) {
          if (found >= 50 || norm(line[1]).indexOf(q) < 0) return;
          found++;
          var li = document.createElement("li"), a = document.createElement("a");
          a.href = story.page + "#t=" + line[0];
          a.textContent = story.title + " — " + line[2];
          li.appendChild(a);
          li.appendChild(document.createTextNode(": " + line[1]));
          out.appendChild(li);
        });
      });
      var status = document.getElementById("results-status");
      status.textContent = found ? found + " result" + (found > 1 ? "s" : "") : "No results";
    });
  }
})();
"""

// Dengbao: small enhancements. Every form works without this file.
(function () {
  'use strict';

  // Grading wizard: show the resulting grade as soon as a degree changes. The server renders
  // the result panel (same template, same language) and we swap it in.
  var form = document.getElementById('wizard-form');
  if (form && window.fetch && window.DOMParser) {
    var url = form.getAttribute('data-preview');
    var seq = 0;
    var refresh = function () {
      var mine = ++seq;
      var body = new URLSearchParams(new FormData(form));
      body.delete('action');
      fetch(url, { method: 'POST', body: body, credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null || mine !== seq) { return; }
          var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('grade-result');
          var old = document.getElementById('grade-result');
          if (fresh && old) { old.replaceWith(document.importNode(fresh, true)); }
        })
        .catch(function () { /* the Preview button still works */ });
    };
    var selects = form.querySelectorAll('select[data-harm]');
    for (var i = 0; i < selects.length; i++) { selects[i].addEventListener('change', refresh); }
  }

  // The feed URL is shown once: select it for copying.
  var feed = document.getElementById('feed-url');
  if (feed) { feed.addEventListener('focus', function () { feed.select(); }); }
})();

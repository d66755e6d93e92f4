// Live updates of a community page (progressive enhancement: without this script the page is complete).
// The server says which sections changed; each is fetched again as HTML and swapped in place.
(function () {
  'use strict';
  var body = document.body;
  var live = body.getAttribute('data-live');
  if (!live || !window.EventSource || !window.XMLHttpRequest || !document.querySelector) { return; }
  var fp = body.getAttribute('data-fp') || '';
  var base = live.replace(/\/live(\?.*)?$/, '');
  var query = live.indexOf('?') >= 0 ? live.slice(live.indexOf('?')) : '';
  var status = document.getElementById('live-status');
  var names = { overview: '概况与评级', notices: '公开事项', finances: '经费收支', elections: '选举', meetings: '会议与表决', topics: '议事协商' };

  var clearTimer;
  function announce(text) {
    if (!status) { return; }
    status.textContent = text;
    clearTimeout(clearTimer);
    clearTimer = setTimeout(function () { status.textContent = ''; }, 5000);
  }

  function refresh(name) {
    var old = document.getElementById('sec-' + name);
    if (!old) { return; }
    var xhr = new XMLHttpRequest();
    xhr.open('GET', base + '/s/' + encodeURIComponent(name) + query);
    xhr.onload = function () {
      if (xhr.status !== 200) { return; }
      var holder = document.createElement('div');
      holder.innerHTML = xhr.responseText;
      var fresh = holder.querySelector('#sec-' + name);
      var current = document.getElementById('sec-' + name);
      if (!fresh || !current) { return; }
      fresh.className += ' updated';
      current.parentNode.replaceChild(fresh, current);
      announce((names[name] || name) + '已更新');
    };
    xhr.send();
  }

  var es = new EventSource(live + (live.indexOf('?') >= 0 ? '&' : '?') + 'since=' + encodeURIComponent(fp));
  es.addEventListener('update', function (ev) {
    var d;
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    if (d.fp) { fp = d.fp; }
    if (d.freshness) {
      var f = document.getElementById('freshness');
      if (f) { f.textContent = d.freshness; }
    }
    for (var i = 0; d.sections && i < d.sections.length; i++) { refresh(d.sections[i]); }
  });
  window.ledgerLive = es; // for tests: the stream's readyState
}());

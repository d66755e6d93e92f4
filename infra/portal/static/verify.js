// Verifies, in the browser and with Web Crypto only, that the event at a $all position with a given hash
// is in the ledger's transparency log: the checkpoint's Ed25519 note signature with the log's verifier
// key, then the RFC 9162 inclusion proof from the event's leaf to the signed root.
(function () {
  'use strict';
  var enc = new TextEncoder();
  var api = '/api/v1/public/log/';

  function b64(s) { var b = atob(s), out = new Uint8Array(b.length); for (var i = 0; i < b.length; i++) { out[i] = b.charCodeAt(i); } return out; }
  function hex(s) {
    if (!/^[0-9a-f]{64}$/.test(s)) { throw new Error('事件哈希应为 64 位小写十六进制'); }
    var out = new Uint8Array(32);
    for (var i = 0; i < 32; i++) { out[i] = parseInt(s.substr(2 * i, 2), 16); }
    return out;
  }
  function concat() {
    var n = 0, i; for (i = 0; i < arguments.length; i++) { n += arguments[i].length; }
    var out = new Uint8Array(n), o = 0;
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], o); o += arguments[i].length; }
    return out;
  }
  function equal(a, b) { if (a.length !== b.length) { return false; } for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) { return false; } } return true; }
  function sha256(b) { return crypto.subtle.digest('SHA-256', b).then(function (d) { return new Uint8Array(d); }); }
  function get(path) {
    return fetch(path).then(function (r) {
      if (!r.ok) { return r.text().then(function (t) { throw new Error(path + ': ' + r.status + ' ' + t); }); }
      return r;
    });
  }

  // A note verifier key: name+hash+base64(0x01 || Ed25519 public key); hash is the first 4 bytes of
  // SHA-256(name || "\n" || 0x01 || key), as golang.org/x/mod/sumdb/note makes it.
  function parseKey(vkey) {
    vkey = vkey.trim();
    var i = vkey.indexOf('+'), j = vkey.indexOf('+', i + 1); // the base64 key may itself hold '+'
    if (i <= 0 || j < 0) { throw new Error('日志公钥格式不对'); }
    var parts = [vkey.slice(0, i), vkey.slice(i + 1, j), vkey.slice(j + 1)];
    var raw = b64(parts[2]);
    if (raw.length !== 33 || raw[0] !== 1) { throw new Error('日志公钥不是 Ed25519 公钥'); }
    return sha256(concat(enc.encode(parts[0] + '\n'), raw)).then(function (h) {
      var id = ((h[0] << 24) >>> 0) + (h[1] << 16) + (h[2] << 8) + h[3];
      if (('00000000' + id.toString(16)).slice(-8) !== parts[1]) { throw new Error('日志公钥的校验值不对'); }
      return { name: parts[0], id: h.slice(0, 4), key: raw.slice(1) };
    });
  }

  // The checkpoint note: its text, and the signature line of the log's key, verified.
  function openCheckpoint(note, k) {
    var cut = note.indexOf('\n\n');
    if (cut < 0) { throw new Error('检查点格式不对'); }
    var text = note.slice(0, cut + 1), sig = null;
    note.slice(cut + 2).split('\n').forEach(function (line) {
      var m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (m && m[1] === k.name) { var raw = b64(m[2]); if (equal(raw.slice(0, 4), k.id)) { sig = raw.slice(4); } }
    });
    if (!sig) { throw new Error('检查点上没有这把日志公钥的签名'); }
    return crypto.subtle.importKey('raw', k.key, { name: 'Ed25519' }, false, ['verify']).then(function (key) {
      return crypto.subtle.verify({ name: 'Ed25519' }, key, sig, enc.encode(text));
    }).then(function (ok) {
      if (!ok) { throw new Error('检查点的签名不成立'); }
      var lines = text.split('\n');
      return { origin: lines[0], size: parseInt(lines[1], 10), root: b64(lines[2]) };
    });
  }

  // RFC 9162 section 2.1.3.2: the inclusion proof of leaf index in a tree of size leads to root.
  function verifyInclusion(index, size, leafHash, proof, root) {
    if (index >= size) { return Promise.resolve(false); }
    var fn = index, sn = size - 1, r = Promise.resolve(leafHash), one = new Uint8Array([1]);
    proof.forEach(function (p) {
      r = r.then(function (cur) {
        if (cur === null || sn === 0) { return null; }
        var step;
        if (fn % 2 === 1 || fn === sn) {
          step = sha256(concat(one, p, cur));
          if (fn % 2 === 0) { while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
        } else {
          step = sha256(concat(one, cur, p));
        }
        fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
        return step;
      });
    });
    return r.then(function (cur) { return cur !== null && sn === 0 && equal(cur, root); });
  }

  function verify(position, hash, vkey) {
    var leaf = hex(hash), k, cp;
    return (vkey ? Promise.resolve(vkey) : get(api + 'key').then(function (r) { return r.text(); })).then(function (v) {
      document.getElementById('key').value = v.trim();
      return parseKey(v);
    }).then(function (key) {
      k = key;
      return get(api + 'checkpoint').then(function (r) { return r.text(); });
    }).then(function (note) { return openCheckpoint(note, k); }).then(function (c) {
      cp = c;
      return get(api + 'inclusion?position=' + encodeURIComponent(position) + '&tree_size=' + c.size).then(function (r) { return r.json(); });
    }).then(function (ip) {
      if (ip.leaf !== hash) { throw new Error('日志中这个位置的事件哈希是 ' + ip.leaf + '，与输入的不同'); }
      return sha256(concat(new Uint8Array([0]), leaf)).then(function (lh) {
        return verifyInclusion(ip.leaf_index, cp.size, lh, ip.proof.map(b64), cp.root);
      }).then(function (ok) {
        if (!ok) { throw new Error('收录证明不成立'); }
        return '已核验：这条事件收录于第 ' + cp.size + ' 号检查点（' + cp.origin + '），第 ' + ip.leaf_index + ' 号叶子，未被改动。';
      });
    });
  }

  var form = document.getElementById('verify-form'), out = document.getElementById('result');
  function run() {
    out.textContent = '核验中…';
    out.className = '';
    verify(document.getElementById('position').value.trim(), document.getElementById('hash').value.trim(), document.getElementById('key').value.trim())
      .then(function (msg) { out.textContent = msg; out.className = 'verified'; })
      .catch(function (err) { out.textContent = '未通过核验：' + err.message; out.className = 'failed'; });
  }
  form.addEventListener('submit', function (e) { e.preventDefault(); run(); });
  var q = new URLSearchParams(location.search);
  if (q.get('position')) { document.getElementById('position').value = q.get('position'); }
  if (q.get('hash')) { document.getElementById('hash').value = q.get('hash'); }
  if (q.get('key')) { document.getElementById('key').value = q.get('key'); }
  if (q.get('position') && q.get('hash')) { run(); }
}());

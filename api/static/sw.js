// Keeps the farmer's pages (/f) on the phone for a weak signal. Pages come from the network
// first and, with no signal (or none in 6 s), as last seen; the script, manifest and icons from
// here. A form sent with no signal is kept (IndexedDB: its fields and key) and sent when the
// signal returns: a page's "online", Background Sync, or the next page that loads. A kept form
// is the account's that filled it in (its token starts with the account's tag): it is sent only
// while that account is signed in, and held back while another one, or nobody, is.
const V = '__VERSION__';
const PAGES = 'pages';
const old = new Set();
// Forms sent that no page has said so yet: told to the next page open, or the next to open.
let token, again, news = [], busy = Promise.resolve();
// The account a form token names: its tag before the dot.
const acct = (t) => (t || '').split('.')[0];

const ours = (u) => u.origin === location.origin && /^\/f(\/|$)/.test(u.pathname);

oninstall = (e) => e.waitUntil(caches.open('shell-' + V)
  .then((c) => c.addAll(['/static/f.js?v=' + V, '/f/manifest.webmanifest', '/static/icon-192.png', '/static/icon-512.png']))
  .then(() => skipWaiting()));

onactivate = (e) => e.waitUntil(caches.keys()
  .then((ks) => Promise.all(ks.filter((k) => /^shell-/.test(k) && k !== 'shell-' + V).map((k) => caches.delete(k))))
  .then(() => clients.claim()));

onfetch = (e) => {
  const r = e.request;
  const u = new URL(r.url);
  if (r.mode === 'navigate' && ours(u)) e.respondWith(r.method === 'GET' ? page(e) : post(r));
  else if (r.method === 'GET' && u.origin === location.origin && /^\/(static\/|f\/manifest)/.test(u.pathname)) {
    e.respondWith(caches.match(r).then((c) => c || fetch(r).catch(() => caches.match(r, { ignoreSearch: true }))));
  }
};

async function page(e) {
  const r = e.request;
  const cache = await caches.open(PAGES);
  const net = fetch(r).then((res) => {
    if (res.ok && res.type === 'basic' && ours(new URL(res.url))) {
      cache.put(r.url, res.clone());
      // Whoever is signed in now, as the page just sent says, before anything kept is sent.
      res.clone().text().then((h) => {
        token = (/name="csrf" value="([^"]+)"/.exec(h) || [])[1] || token;
        flush();
      });
    }
    return res;
  });
  const kept = await cache.match(r.url, { ignoreVary: true });
  const none = () => new Response('<meta name="viewport" content="width=device-width"><p style="font:18px sans-serif;padding:16px">没有信号，这一页还没存在手机上。<a href="/f" style="display:block;padding:12px 0">回到我的商品</a>', { status: 503, headers: { 'content-type': 'text/html; charset=utf-8' } });
  if (!kept) return net.catch(none);
  const fallback = () => (old.add(e.resultingClientId), kept);
  net.catch(() => {});
  return Promise.race([net, new Promise((ok) => setTimeout(ok, 6000))]).then((res) => res || fallback(), fallback);
}

async function post(r) {
  const copy = r.clone();
  try {
    return await fetch(r);
  } catch {
    const form = await copy.formData();
    await store('readwrite', (s) => s.put({
      key: form.get('key') || '' + Math.random(),
      url: r.url,
      multi: /^multipart/.test(r.headers.get('content-type')),
      fields: [...form],
      what: form.get('_what'),
      at: Date.now(),
    }));
    registration.sync?.register('send').catch(() => {});
    return Response.redirect(r.referrer && ours(new URL(r.referrer)) ? r.referrer : '/f', 303);
  }
}

function store(mode, f) {
  return new Promise((ok, no) => {
    const q = indexedDB.open('shanhuo', 1);
    q.onupgradeneeded = () => q.result.createObjectStore('w', { keyPath: 'key' });
    q.onerror = () => no(q.error);
    q.onsuccess = () => {
      const db = q.result;
      const tx = db.transaction('w', mode);
      const req = f(tx.objectStore('w'));
      tx.oncomplete = () => { db.close(); ok(req.result); };
      tx.onerror = () => { db.close(); no(tx.error); };
    };
  });
}

const waiting = () => store('readonly', (s) => s.getAll()).then((all) => all.sort((a, b) => a.at - b.at));

async function tell(to) {
  const items = (await waiting()).map(({ fields, ...i }) => i);
  const all = to ? [to] : await clients.matchAll();
  // None open (the next is still loading): what was sent waits for it.
  const sent = all.length ? news.splice(0) : [];
  for (const c of all) c.postMessage({ items, sent, old: to && old.delete(to.id) });
}

// Sends what waits, oldest first, and stops at the first with no signal; resolves with how
// many still wait. One send at a time, each after the one before: one asked for after a page
// said who is signed in reads the waiting forms afresh, with that account.
const flush = () => (busy = busy.then(send, send));

async function send() {
  let left = 0;
  for (const it of await waiting()) {
    if (it.refused) continue;
    // Another account's form, or no page has said who is signed in: held until its own is.
    const held = !token || acct(token) !== acct((it.fields.find(([k]) => k === 'csrf') || [])[1]);
    if (held !== !!it.held) await store('readwrite', (s) => s.put({ ...it, held }));
    if (held) {
      left++;
      continue;
    }
    const body = it.multi ? new FormData() : new URLSearchParams();
    for (const [k, v] of it.fields) body.append(k, k === 'csrf' && token || v);
    let res;
    try {
      res = await fetch(it.url, { method: 'POST', body });
    } catch {
      // No signal after all (a page may say "online" before the worker has it): tried again.
      clearTimeout(again);
      again = setTimeout(flush, 3e3);
      left++;
      break;
    }
    // Signed out, or signed in anew since the page said who: held until a page says again.
    const login = new URL(res.url).pathname.startsWith('/login') || res.status === 403;
    if (login || res.status >= 500) {
      if (res.status === 403) token = null;
      it.login = login;
      await store('readwrite', (s) => s.put(it));
      left++;
      break;
    }
    if (res.ok && res.redirected) {
      await store('readwrite', (s) => s.delete(it.key));
      if (ours(new URL(res.url))) (await caches.open(PAGES)).put(res.url, res.clone());
      news.push({ what: it.what, href: res.url });
    } else {
      // Refused: the page says why in its alert.
      it.refused = (/role="alert">([^<]*)/.exec(await res.text()) || [0, '?'])[1];
      await store('readwrite', (s) => s.put(it));
    }
  }
  await tell();
  return left;
}

onmessage = (e) => {
  const d = e.data;
  if (d.hello) token = d.csrf || token;
  if (d.out) token = null;
  e.waitUntil(store('readwrite', (s) => s.delete(d.drop || ''))
    .then(flush)
    // Told after the forms were weighed against who this page says is signed in: never another
    // account's form as if it were theirs.
    .then(() => tell(d.hello && e.source)));
};

onsync = (e) => {
  if (e.tag === 'send') e.waitUntil(flush().then((left) => { if (left) throw left; }));
};

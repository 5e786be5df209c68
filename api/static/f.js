// The farmer's pages on a weak signal. Photos are shrunk on the phone (long side 1600 px,
// JPEG) and sent with a progress bar; forms sent with no signal are kept by the service
// worker (/f/sw.js) and listed here until they are sent; another account's kept forms are
// held back, and said so, until it signs in again. Without this script every form still works
// as a plain form.
(() => {
  const zh = !document.documentElement.lang.startsWith('en');
  const t = (c, e) => (zh ? c : e);
  const sw = navigator.serviceWorker;
  let old = false, sent = [], items = [];
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    e.textContent = text || '';
    e.className = cls || '';
    return e;
  };
  const tell = (m) => sw && sw.ready.then((r) => r.active.postMessage(m));
  const hello = () => tell({ hello: 1, csrf: (document.querySelector('[name=csrf]') || {}).value });
  const kept = () => items.filter((i) => !i.refused && !i.held);

  // What is still waiting on the phone, what was refused and why, and what was sent.
  function show(d) {
    items = d.items || items;
    sent = sent.concat(d.sent || []);
    // Something was sent: the signal is back, and the page's own links open what is new.
    old = (old || d.old) && !sent.length;
    const main = document.querySelector('main');
    const box = document.getElementById('waiting') || el('section', '', 'card');
    if (!box.id) main.insertBefore(box, main.querySelector(':scope>h1+*') || main.firstChild);
    box.id = 'waiting';
    box.setAttribute('role', 'status');
    box.replaceChildren();
    if (old) box.append(el('p', t('没有信号，这是上次打开时的样子', 'No signal: as last seen'), 'note'));
    if (kept().length) {
      box.append(el('h2', kept().some((i) => i.login)
        ? t('请先登录，登录后自动发送', 'Sign in again to send')
        : t('没有信号，已存在手机上，有信号时自动发送', 'No signal: kept here, sent when it returns')));
      const ul = el('ul');
      for (const i of kept()) ul.append(el('li', i.what));
      box.append(ul);
    }
    const n = items.filter((i) => !i.refused && i.held).length;
    // Another account's forms: how many, never what they say.
    if (n) box.append(el('p', t('有 ' + n + ' 张表是另一个账号填的，还没发出去。那个账号在这部手机上登录后会自动发送。', n + ' forms of another account wait for it to sign in here.'), 'alert'));
    for (const i of items.filter((i) => i.refused)) {
      const p = el('div', t('没有发出去：', 'Not sent: ') + i.what + ' (' + new DOMParser().parseFromString(i.refused, 'text/html').body.textContent + ') ', 'alert');
      const b = el('button', t('知道了', 'OK'), 'plain');
      b.onclick = () => tell({ drop: i.key });
      p.append(b);
      box.append(p);
    }
    for (const s of sent) {
      const a = el('a', t('查看', 'Open'), 'more');
      a.href = s.href;
      box.append(el('p', t('有信号了，已发送：', 'Sent: ') + s.what + ' '), a);
    }
    box.hidden = !box.childElementCount;
  }

  if (sw) {
    sw.register('/f/sw.js', { scope: '/f' }).catch(() => {});
    sw.onmessage = (e) => show(e.data);
    sw.oncontrollerchange = hello;
    ononline = hello;
    hello();
  }
  // A page put in place of the form below is not in history: going back loads the page again.
  onpopstate = () => location.reload();

  // The form in its own words, for the waiting list: its button, then what was chosen and typed.
  function summary(f) {
    const parts = [];
    for (const e of f.elements) {
      if (!e.name || /hidden|checkbox|submit/.test(e.type)) continue;
      const v = e.tagName === 'SELECT' ? e.value && e.selectedOptions[0].text
        : e.type === 'file' ? e.files.length && t('照片', 'photo') : e.value.trim();
      if (v) parts.push(v);
    }
    return (f.querySelector('button').textContent + '：' + parts.join(' ')).slice(0, 80);
  }

  async function shrink(file) {
    const img = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const k = Math.min(1, 1600 / Math.max(img.width, img.height));
    const c = el('canvas');
    c.width = Math.round(img.width * k);
    c.height = Math.round(img.height * k);
    const g = c.getContext('2d');
    g.imageSmoothingQuality = 'high';
    g.drawImage(img, 0, 0, c.width, c.height);
    const blob = await new Promise((ok) => c.toBlob(ok, 'image/jpeg', 0.8));
    return blob.size < file.size ? new File([blob], 'photo.jpg', { type: 'image/jpeg' }) : file;
  }

  async function upload(f, input) {
    const bar = el('progress');
    const note = el('p', t('正在把照片变小…', 'Shrinking the photo…'), 'note');
    const button = f.querySelector('button');
    bar.max = 100;
    bar.style.cssText = 'width:100%;height:20px';
    button.disabled = true;
    button.after(note, bar);
    note.scrollIntoView({ block: 'center' });
    let file = input.files[0];
    try {
      file = await shrink(file);
    } catch {
      // A photo the phone cannot open here goes as it is: the server reads it.
    }
    const data = new FormData(f);
    data.set(input.name, file);
    const x = new XMLHttpRequest();
    x.open('POST', f.action);
    x.responseType = 'document';
    x.upload.onprogress = (p) => {
      bar.value = (100 * p.loaded) / p.total;
      note.textContent = p.loaded < p.total ? t('正在上传照片 ', 'Uploading ') + Math.round(bar.value) + '%' : t('照片已发出，正在保存…', 'Sent, saving…');
    };
    x.onload = () => {
      const page = x.response;
      if (!page || !new URL(x.responseURL).pathname.startsWith('/f')) return location.assign(x.responseURL);
      document.title = page.title;
      document.body.replaceWith(document.adoptNode(page.body));
      if (x.status < 300 && x.responseURL !== location.href) history.pushState(null, '', x.responseURL);
      scrollTo(0, 0);
      show({});
    };
    // No signal: the small photo goes as the plain form, which the phone keeps until it can.
    x.onerror = () => {
      const d = new DataTransfer();
      d.items.add(file);
      input.files = d.files;
      f.submit();
    };
    x.send(data);
  }

  document.addEventListener('submit', (e) => {
    const f = e.target;
    if (f.method !== 'post') return;
    if (f.getAttribute('action') === '/logout') {
      e.preventDefault();
      // The pages kept go with the sign-in; forms not yet sent stay, held for this account.
      tell({ out: 1 });
      caches.delete('pages').finally(() => f.submit());
      return;
    }
    f.append(Object.assign(el('input'), { type: 'hidden', name: '_what', value: summary(f) }));
    const input = f.querySelector('[type=file]');
    if (input && input.files.length && window.createImageBitmap) {
      e.preventDefault();
      upload(f, input);
    }
  });
})();

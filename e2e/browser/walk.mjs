// Walks each role's main path through the pages in headless Chromium at a phone's size
// (360 × 740), asserting on what the pages show, saving a screenshot of each step and
// measuring what each page weighs.
//
//   node walk.mjs SHANHUO_BINARY
//
// The server runs on its demo county (../demo_server.py). Chromium is Debian's
// (/usr/bin/chromium, or CHROMIUM_PATH); without it the walk fails. Screenshots go to
// WALK_SCREENSHOTS, else ./screenshots beside this file; the folder is printed.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = path.resolve(process.env.WALK_SCREENSHOTS || path.join(here, 'screenshots'));
const PHONE = { width: 360, height: 740 };
/// Each page's HTML with its CSS and scripts stays under this, before compression: every page,
/// the farmer's and the buyer's on a village's weak signal, the officials' in a township office.
const PAGE_BUDGET = 30 * 1024;
/// All the scripts the pages load (and the farmer's service worker), together.
const SCRIPT_BUDGET = 10 * 1024;

const binary = process.argv[2];
if (!binary) {
  console.error('usage: node walk.mjs SHANHUO_BINARY');
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  console.error(`Chromium is not at ${CHROMIUM}: install Debian's chromium package (or set CHROMIUM_PATH)`);
  process.exit(1);
}

/** Starts the demo server; resolves with its description once it is up. */
function startDemo() {
  const child = spawn('python3', [path.join(here, '..', 'demo_server.py'), binary], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`the demo server stopped (exit ${code})`)));
    lines.once('line', (line) => resolve({ child, demo: JSON.parse(line) }));
  });
}

const weights = [];
/** Every script a page loaded, by address, with its size before compression. */
const scripts = new Map();

/** Bytes of `url` as the server sends it with `accept-encoding` (none: as it is), read raw. */
function onWire(url, cookie, encoding) {
  return new Promise((resolve, reject) => {
    const headers = { cookie, 'accept-language': 'zh-CN', 'accept-encoding': encoding };
    http.get(url, { headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => { bytes += chunk.length; });
      res.on('end', () => resolve(bytes));
    }).on('error', reject);
  });
}

/**
 * Counts what a page weighs: its HTML with its CSS and scripts, before compression and as
 * brotli sends them (fetched again, raw, with the page's cookies), and the images it loaded.
 */
function weigh(page) {
  const seen = [];
  page.on('response', (response) => seen.push(response));
  return async (name) => {
    const loaded = seen.splice(0);
    let images = 0;
    for (const response of loaded) {
      if (response.status() >= 300 && response.status() < 400) continue;
      if (response.request().resourceType() !== 'image') continue;
      const body = await response.body().catch(() => null);
      if (body) images += body.length;
    }
    const url = page.url().replace(/#.*$/, '');
    // Ours only: inside WeChat a page also loads WeChat's own JS-SDK, which WeChat serves.
    const own = await page.evaluate(() => [...document.querySelectorAll('script[src], link[rel=stylesheet]')]
      .map((e) => e.src || e.href).filter((u) => u.startsWith(location.origin)));
    const cookie = (await page.context().cookies(url)).map((c) => `${c.name}=${c.value}`).join('; ');
    let plain = 0;
    let gzip = 0;
    let wire = 0;
    for (const part of [url, ...own]) {
      const size = await onWire(part, cookie, 'identity');
      plain += size;
      gzip += await onWire(part, cookie, 'gzip');
      wire += await onWire(part, cookie, 'br');
      if (part !== url) scripts.set(part.replace(/\?.*$/, ''), size);
    }
    weights.push({ name, path: new URL(url).pathname, own: plain, gzip, wire, images });
    console.log(`  ${name}: ${(plain / 1024).toFixed(1)} KB, gzip ${(gzip / 1024).toFixed(1)} KB, br ${(wire / 1024).toFixed(1)} KB`);
  };
}

async function shoot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function json(demo, method, route, body, token) {
  const response = await fetch(`${demo.base}/api/v1${route}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${route}: ${response.status} ${text}`);
  return text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text;
}

async function lastCode(demo, phone) {
  const response = await fetch(`${demo.gateway}/codes/${phone}`);
  assert.ok(response.ok, `no code was texted to ${phone}`);
  return (await response.json()).code;
}

/** Signs in through the pages, as a phone does: number, texted code. */
async function signIn(page, demo, phone) {
  await page.waitForURL(/\/login/);
  await page.fill('#phone', phone);
  await page.click('button[type=submit]');
  await page.waitForSelector('#code, [role=alert]');
  if (await page.locator('[role=alert]').count()) {
    throw new Error(`no code was sent to ${phone}: ${await page.locator('[role=alert]').innerText()}`);
  }
  await page.fill('#code', await lastCode(demo, phone));
  await page.click('form[action="/login"] button[type=submit]');
}

/**
 * Through the API, as the demo farmer's app would: a genuine item code of their goods, as
 * printed on a label, and one of their listings on sale, for the buyer to order.
 */
async function prepare(demo) {
  await json(demo, 'POST', '/auth/sms/send', { phone: demo.farmer });
  const texted = await lastCode(demo, demo.farmer);
  const { access_token: token } = await json(demo, 'POST', '/auth/login/sms', { phone: demo.farmer, code: texted });
  const [category] = await json(demo, 'GET', '/categories');
  const today = new Date().toISOString().slice(0, 10);
  const batch = await json(demo, 'POST', '/batches', { category_id: category.id, quantity: 100, produced_on: today }, token);
  const run = await json(demo, 'POST', `/batches/${batch.id}/code-runs`, { count: 3 }, token);
  const csv = await json(demo, 'GET', `/batches/${batch.id}/code-runs/${run.id}/codes`, undefined, token);
  const mine = await json(demo, 'GET', '/my/listings?limit=100', undefined, token);
  const onSale = mine.items.find((l) => l.status === 'on_sale' && l.stock >= l.min_order);
  assert.ok(onSale, 'the demo farmer has goods on sale');
  await sellerSaysHowToPay(demo, token);
  const [code, revoked, copied] = csv.trim().split('\n').slice(1).map((line) => line.split(',')[1]);
  // A label lost from the roll, taken out of use: scanning it says not to eat.
  await json(demo, 'POST', '/trace/revocations', { code: revoked, reason: '标签丢失，已作废' }, token);
  // A label copied onto many packages: scanned far more often than one parcel is.
  for (let i = 0; i < 21; i += 1) {
    await json(demo, 'GET', `/trace/${copied}`);
  }
  return { code, revoked, copied, listing: onSale };
}

/**
 * Asserts that no text on the page is drawn smaller than 12 px (SVG text as scaled on the
 * screen) and that every visible link and button is at least 44 × 44 px, at the phone's size.
 */
async function checkSizes(page, name) {
  const problems = await page.evaluate(() => {
    const found = [];
    const visible = (e) => {
      const r = e.getBoundingClientRect();
      const style = getComputedStyle(e);
      return r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const e = node.parentElement;
      if (!node.textContent.trim() || !e || !visible(e) || e.closest('style, script, title')) continue;
      let px = parseFloat(getComputedStyle(e).fontSize);
      const svg = e.closest('svg');
      if (svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width) {
        px *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
      }
      if (px < 12) found.push(`text "${node.textContent.trim().slice(0, 20)}" at ${px.toFixed(1)} px`);
    }
    for (const e of document.querySelectorAll('a[href], button')) {
      if (!visible(e)) continue;
      const r = e.getBoundingClientRect();
      if (r.width < 44 || r.height < 44) {
        found.push(`${e.tagName.toLowerCase()} "${e.textContent.trim().slice(0, 20)}" is ${r.width.toFixed(0)} × ${r.height.toFixed(0)} px`);
      }
    }
    return found;
  });
  assert.deepEqual(problems, [], `${name}: too small at 360 × 740`);
}

async function buyer(browser, demo, { code, revoked, copied, listing }) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  const weighed = weigh(page);

  // The front door leads to the goods, to verifying a code and to signing in.
  const home = await page.goto(`${demo.base}/`);
  assert.match(home.headers()['content-type'], /text\/html/);
  for (const href of ['/m', '/login?next=/f', '/login?next=/o']) {
    assert.ok((await page.locator(`main a[href="${href}"]`).count()) >= 1, `the front door leads to ${href}`);
  }
  await weighed('anyone: front door');
  await shoot(page, 'home');
  const missing = await page.goto(`${demo.base}/no/such/page`);
  assert.equal(missing.status(), 404);
  assert.match(await page.locator('h1').innerText(), /找不到这个页面/);
  await shoot(page, 'not-found');

  await page.goto(`${demo.base}/m`);
  assert.ok((await page.locator('a.cell').count()) > 0, 'the market shows listings');
  await page.waitForLoadState('networkidle');
  await weighed('buyer: browse');
  await shoot(page, 'buyer-browse');

  await page.locator('a.cell').first().click();
  await page.waitForURL(/\/m\/listings\/\d+/);
  await page.waitForLoadState('networkidle');
  assert.match(await page.locator('.price').first().innerText(), /¥\d+\.\d\d\//);
  await weighed('buyer: listing');
  await shoot(page, 'buyer-listing');

  // Typed from the label in its printed groups, in lower case.
  await page.goto(`${demo.base}/m/trace`);
  await page.fill('#code', code.toLowerCase().replace(/(.{4})/g, '$1 ').trim());
  await page.click('form.filter button[type=submit]');
  await page.waitForURL(new RegExp(`/t/${code}$`));
  const verdict = page.locator('.verdict');
  assert.ok(await verdict.evaluate((e) => e.classList.contains('ok')), 'a genuine code is shown as genuine');
  assert.match(await verdict.innerText(), /正品|真/);
  assert.equal(await page.locator('footer').count(), 1, "a genuine code's page names where its records come from");
  assert.equal(await page.locator('a[href="/m/trace"]').count(), 1, 'another code can be verified');
  await weighed('buyer: trace page');
  await shoot(page, 'buyer-trace');

  // Copied: amber. Revoked: red, with the reason and what to do.
  await page.goto(`${demo.base}/t/${copied}`);
  assert.ok(await page.locator('.verdict').evaluate((e) => e.classList.contains('warn')), 'an over-scanned code is amber');
  assert.match(await page.locator('main').innerText(), /标签可能被复制/);
  await shoot(page, 'buyer-trace-caution');
  await page.goto(`${demo.base}/t/${revoked}`);
  assert.ok(await page.locator('.verdict').evaluate((e) => e.classList.contains('bad')), 'a revoked code is red');
  assert.match(await page.locator('main').innerText(), /请勿食用，请联系卖家退款/);
  assert.match(await page.locator('main').innerText(), /标签丢失/);
  await shoot(page, 'buyer-trace-danger');

  // Reporting the problem to the goods' village.
  await page.click(`a[href="/t/${revoked}/report"]`);
  await page.fill('#what', '包装上的码扫出来说已作废');
  await page.fill('#phone', '138 0013 8000');
  await shoot(page, 'buyer-report-form');
  await page.click('form[action$="/report"] button[type=submit]');
  await page.waitForURL(/\/report\?sent=1$/);
  assert.match(await page.locator('main').innerText(), /已收到/);
  await shoot(page, 'buyer-report-sent');

  const forged = code.slice(0, -1) + (code.endsWith('A') ? 'B' : 'A');
  await page.goto(`${demo.base}/t/${forged}`);
  assert.ok(await page.locator('.verdict').evaluate((e) => e.classList.contains('bad')), 'a forged code is refused');
  assert.match(await page.locator('main').innerText(), /这不是本县发放的溯源码，可能是假冒/);
  assert.equal(await page.locator('footer').count(), 0, "a forged code's page names no producer's records");
  await weighed('buyer: forged code');
  await shoot(page, 'buyer-trace-forged');

  // The audit trail's signed checkpoints are public: anyone may read and keep them.
  await page.goto(`${demo.base}/audit`);
  assert.match(await page.locator('body').innerText(), /检查点/);
  await weighed('anyone: audit checkpoints');
  await shoot(page, 'public-audit');

  // Ordering signs the buyer in by texted code, then comes back to the form.
  await page.goto(`${demo.base}/m/listings/${listing.id}`);
  await page.click(`a[href="/m/listings/${listing.id}/order"]`);
  await signIn(page, demo, demo.buyer);
  await page.waitForURL(new RegExp(`/m/listings/${listing.id}/order$`));
  await weighed('buyer: order form');
  await shoot(page, 'buyer-order-form');
  await page.fill('#name', '王小明');
  await page.fill('#phone', '138 0013 8000');
  await page.selectOption('#city', '440300');
  await page.fill('#address', '广东省深圳市南山区科技园 1 号');
  await page.click('form[action$="/order"] button[type=submit]');
  await page.waitForURL(/\/m\/orders#order-\d+$/);
  const orderId = page.url().match(/order-(\d+)$/)[1];
  const card = page.locator(`#order-${orderId}`);
  assert.match(await card.innerText(), /待付款/);
  assert.match(await card.innerText(), new RegExp(listing.title));
  await buyerReadsHowToPay(card);
  await weighed('buyer: my orders');
  await shoot(page, 'buyer-orders');
  await context.close();
  return orderId;
}

async function farmer(browser, demo, _prepared, orderId) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  const weighed = weigh(page);

  await page.goto(`${demo.base}/f`);
  await shoot(page, 'farmer-sign-in');
  await signIn(page, demo, demo.farmer);
  await page.waitForURL(/\/f$/);
  assert.equal(await page.locator('h1').innerText(), '我的商品');
  const before = await page.locator('a.cell').count();
  assert.ok(before > 0, "the demo farmer's goods are listed");
  await page.waitForLoadState('networkidle');
  await weighed('farmer: my goods');
  await shoot(page, 'farmer-listings');

  // A photo as a phone's camera would give it: one of the demo's JPEGs.
  const cover = await page.locator('a.cell img[src]').first().getAttribute('src');
  const photo = Buffer.from(await (await fetch(`${demo.base}${cover.replace(/\/240$/, '/720')}`)).arrayBuffer());

  await page.click('a.button');
  await page.waitForURL(/\/f\/listings\/new$/);
  await weighed('farmer: new-listing form');
  await shoot(page, 'farmer-new-listing');

  // A price that is not a number: the form comes back saying so, and nothing is listed.
  await page.selectOption('#category', { index: 1 });
  await page.fill('#title', '高山土豆 10斤装');
  await page.fill('#price', '十二块');
  await page.fill('#stock', '50');
  await page.click('form[action="/f/listings/new"] button[type=submit]');
  await page.waitForSelector('[role=alert]');
  assert.match(await page.locator('[role=alert]').innerText(), /价格/);
  assert.equal(await page.inputValue('#title'), '高山土豆 10斤装', 'what was typed is kept');
  await shoot(page, 'farmer-new-listing-refused');

  // Full-width digits, as a Chinese keyboard types them, are read as numbers.
  await page.fill('#price', '２５．５');
  await page.setInputFiles('#photo', { name: 'potato.jpg', mimeType: 'image/jpeg', buffer: photo });
  await page.click('form[action="/f/listings/new"] button[type=submit]');
  await page.waitForURL(/\/f\/listings\/\d+$/);
  const id = page.url().match(/(\d+)$/)[1];
  assert.equal(await page.locator('h1').innerText(), '高山土豆 10斤装');
  assert.equal(await page.inputValue('#price'), '25.50');
  assert.equal(await page.locator('.badge').first().innerText(), '在售');
  assert.equal(await page.locator('.chips img').count(), 1, 'the photo is on the listing');
  await page.waitForLoadState('networkidle');
  await weighed('farmer: a listing');
  await shoot(page, 'farmer-listing');

  await page.fill('#price', '26');
  await page.fill('#stock', '40');
  await page.click(`form[action="/f/listings/${id}"] button`);
  await page.waitForURL(new RegExp(`/f/listings/${id}$`));
  assert.equal(await page.inputValue('#price'), '26');
  assert.equal(await page.inputValue('#stock'), '40');

  const buyerView = await fetch(`${demo.base}/m/listings/${id}`);
  assert.equal(buyerView.status, 200, 'buyers see the new listing');
  assert.match(await buyerView.text(), /¥26\.00\/斤|¥26\.00\//);

  await page.click(`form[action="/f/listings/${id}/status"] button`);
  await page.waitForURL(new RegExp(`/f/listings/${id}$`));
  assert.equal(await page.locator('.badge').first().innerText(), '已下架');
  assert.equal((await fetch(`${demo.base}/m/listings/${id}`)).status, 404, 'off the shelf, buyers no longer see it');

  await page.goto(`${demo.base}/f`);
  assert.equal(await page.locator('a.cell').count(), before + 1, 'exactly one listing was added');

  // The buyer's order: payment received, then shipped.
  await page.click('nav.tabs a[href="/f/orders"]');
  const order = page.locator(`#order-${orderId}`);
  assert.match(await order.innerText(), /待付款/);
  await order.locator('form[action$="/pay"] button').click();
  await page.waitForURL(new RegExp(`/f/orders#order-${orderId}$`));
  await shipWithWaybill(page, orderId);
  assert.match(await page.locator(`#order-${orderId}`).innerText(), /已发货/);
  await weighed('farmer: orders');
  await shoot(page, 'farmer-orders');

  // A harvest: recorded, packed, given 24 codes whose label sheet downloads.
  await page.click('nav.tabs a[href="/f/batches"]');
  await page.selectOption('#category', { index: 1 });
  await page.fill('#quantity', '200');
  await page.click('form[action="/f/batches"] button[type=submit]');
  await page.waitForURL(/\/f\/batches\/\d+$/);
  await page.selectOption('#kind', 'packed');
  await page.fill('#place', '村合作社仓库');
  await page.click('form[action$="/events"] button');
  await page.waitForURL(/\/f\/batches\/\d+$/);
  assert.match(await page.locator('.timeline').innerText(), /包装/);
  await page.click('form[action$="/codes"] button');
  await page.waitForURL(/\/f\/batches\/\d+$/);
  const sheet = page.locator('a[href$="/labels.pdf"]').first();
  const pdf = await page.request.get(`${demo.base}${await sheet.getAttribute('href')}`);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');
  await weighed('farmer: a batch');
  await shoot(page, 'farmer-batch');

  await page.click('nav.tabs a[href="/f/income"]');
  assert.match(await page.locator('h1').innerText(), /年家庭收入/);
  await weighed('farmer: income');
  await shoot(page, 'farmer-income');
  await context.close();
}

/** DevTools' "Slow 3G": 2 s round trip, 400 kbit/s each way. */
const SLOW_3G = { offline: false, latency: 2000, downloadThroughput: (400 * 1000) / 8, uploadThroughput: (400 * 1000) / 8 };
/** A 12-megapixel photo over slow 3G reaches its listing within this, shrunk on the phone. */
const PHOTO_BUDGET_MS = 15_000;

/**
 * An EXIF block (APP1) as a phone camera writes it: orientation 6 (turned: rotate 90°
 * clockwise to view) and where it was taken (GPS latitude and longitude).
 */
function exifSegment() {
  const tiff = Buffer.alloc(140);
  let at = 0;
  const u16 = (v) => { tiff.writeUInt16LE(v, at); at += 2; };
  const u32 = (v) => { tiff.writeUInt32LE(v, at); at += 4; };
  const entry = (tag, type, count, value) => { u16(tag); u16(type); u32(count); u32(value); };
  tiff.write('II', 0); at = 2; u16(42); u32(8);
  // IFD0 at 8: orientation, and where the GPS directory is (8 + 30 = 38).
  u16(2); entry(0x0112, 3, 1, 6); entry(0x8825, 4, 1, 38); u32(0);
  // The GPS directory: N 29°55'51.6", E 107°44'20.4"; its numbers after it (38 + 54 = 92).
  u16(4);
  entry(0x0001, 2, 2, 0x4e); entry(0x0002, 5, 3, 92);
  entry(0x0003, 2, 2, 0x45); entry(0x0004, 5, 3, 116);
  u32(0);
  for (const [n, d] of [[29, 1], [55, 1], [516, 10], [107, 1], [44, 1], [204, 10]]) { u32(n); u32(d); }
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff.subarray(0, at)]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/**
 * A photo as a 12-megapixel phone camera takes it: 4000 × 3000 JPEG (about 4 MB, drawn by the
 * browser with a camera's grain), held sideways with EXIF orientation 6, and GPS tags.
 */
async function twelveMegapixelPhoto(page) {
  const base64 = await page.evaluate(async () => {
    const [w, h] = [4000, 3000];
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const g = canvas.getContext('2d');
    const image = g.createImageData(w, h);
    const d = image.data;
    let s = 0x9e3779b9;
    for (let y = 0, i = 0; y < h; y += 1) {
      for (let x = 0; x < w; x += 1, i += 4) {
        s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
        const grain = ((s >>> 0) % 24) - 12;
        const wave = (Math.sin(x / 37) + Math.cos(y / 53)) * 30;
        d[i] = (x * 160) / w + 60 + wave + grain;
        d[i + 1] = (y * 150) / h + 70 - wave / 2 + grain;
        d[i + 2] = 110 + wave / 3 + grain;
        d[i + 3] = 255;
      }
    }
    g.putImageData(image, 0, 0);
    const blob = await new Promise((ok) => canvas.toBlob(ok, 'image/jpeg', 0.92));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  });
  const jpeg = Buffer.from(base64, 'base64');
  return Buffer.concat([jpeg.subarray(0, 2), exifSegment(), jpeg.subarray(2)]);
}

/**
 * The farmer's pages with a weak signal, in one sign-in: a batch recorded with no signal is
 * kept on the phone and sent, once, when the signal returns; a camera photo is shrunk on the
 * phone and sent over slow 3G with a progress bar. Returns the photo's upload time.
 */
async function farmerOnWeakSignal(browser, demo) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`${demo.base}/f/batches`);
  await signIn(page, demo, demo.farmer);
  await page.waitForURL(/\/f\/batches$/);
  // Once the service worker has taken over, every farmer's page opened is kept on the phone.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.goto(`${demo.base}/f`);
  await page.goto(`${demo.base}/f/batches`);
  assert.ok(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)), 'the service worker keeps the farmer pages');
  const manifest = await page.request.get(`${demo.base}/f/manifest.webmanifest`);
  assert.equal((await manifest.json()).start_url, '/f');
  const worker = await page.request.get(`${demo.base}/f/sw.js`);
  assert.match(worker.headers()['content-type'], /javascript/);
  assert.equal(worker.headers()['cache-control'], 'no-cache');
  scripts.set(`${demo.base}/f/sw.js`, await onWire(`${demo.base}/f/sw.js`, '', 'identity'));

  await offlineBatch(context, page, demo);
  await heldForItsAccount(page, demo);
  const photo = await slowPhoto(context, page, demo);
  await context.close();
  return photo;
}

/** A batch recorded with the network off: waiting on the phone, then sent once. */
async function offlineBatch(context, page, demo) {
  const quantity = '4321';
  const ours = () => page.locator('a.cell').filter({ hasText: ` ${quantity} ` }).count();
  const before = await ours();
  await page.selectOption('#category', { index: 1 });
  await page.fill('#quantity', quantity);
  await context.setOffline(true);
  await page.click('form[action="/f/batches"] button[type=submit]');
  const waiting = page.locator('#waiting');
  await waiting.getByText('没有信号，已存在手机上，有信号时自动发送').waitFor();
  assert.match(await waiting.innerText(), new RegExp(`登记批次：.*${quantity}`), 'the kept batch is listed');
  await shoot(page, 'farmer-offline-batch-waiting');

  // Another page opens as it was last seen, and says so; the batch is still waiting.
  await page.goto(`${demo.base}/f`);
  assert.equal(await page.locator('h1').innerText(), '我的商品');
  await waiting.getByText('没有信号，这是上次打开时的样子').waitFor();
  assert.match(await waiting.innerText(), new RegExp(quantity));
  await shoot(page, 'farmer-offline-goods');

  await context.setOffline(false);
  await waiting.getByText('有信号了，已发送').waitFor({ timeout: 15_000 });
  assert.doesNotMatch(await waiting.innerText(), /已存在手机上/, 'nothing is left waiting');
  await shoot(page, 'farmer-offline-batch-sent');
  await page.goto(`${demo.base}/f/batches`);
  assert.equal(await ours(), before + 1, 'the batch kept on the phone was recorded exactly once');
}

/**
 * A batch kept with no signal is the account's that recorded it: signed out when the signal
 * returns, it waits; another farmer signed in on the phone sees it held back, not sent under
 * their name; its own farmer signs in again and it is recorded, once.
 */
async function heldForItsAccount(page, demo) {
  const quantity = '4322';
  const ours = () => page.locator('a.cell').filter({ hasText: ` ${quantity} ` }).count();
  await page.goto(`${demo.base}/f/batches`);
  const before = await ours();
  await page.selectOption('#category', { index: 1 });
  await page.fill('#quantity', quantity);
  const context = page.context();
  await context.setOffline(true);
  await page.click('form[action="/f/batches"] button[type=submit]');
  const waiting = page.locator('#waiting');
  await waiting.getByText('没有信号，已存在手机上，有信号时自动发送').waitFor();

  // The sign-in lapses while out of signal: back in signal, the batch waits for a sign-in.
  await context.clearCookies();
  await context.setOffline(false);
  await waiting.getByText('请先登录，登录后自动发送').waitFor({ timeout: 15_000 });
  await shoot(page, 'farmer-offline-signed-out');

  // Another farmer signs in on the same phone: the batch is held back, and said so.
  await page.goto(`${demo.base}/f`);
  await signIn(page, demo, demo.other_farmer);
  await page.waitForURL(/\/f$/);
  await waiting.getByText('有 1 张表是另一个账号填的，还没发出去').waitFor({ timeout: 15_000 });
  assert.doesNotMatch(await waiting.innerText(), new RegExp(quantity), 'another account\'s form is not shown');
  await shoot(page, 'farmer-offline-held-for-other-account');
  await page.goto(`${demo.base}/f/batches`);
  assert.equal(await ours(), 0, 'nothing was recorded under the other farmer');

  // The other farmer signs out; the batch's own farmer signs in again, and it is sent once.
  await page.goto(`${demo.base}/f`);
  await page.click('form[action="/logout"] button');
  await page.waitForURL(/\/(login|m)/);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await page.goto(`${demo.base}/f`);
  await signIn(page, demo, demo.farmer);
  await page.waitForURL(/\/f$/);
  await waiting.getByText('有信号了，已发送').waitFor({ timeout: 15_000 });
  await shoot(page, 'farmer-offline-sent-after-sign-in');
  await page.goto(`${demo.base}/f/batches`);
  assert.equal(await ours(), before + 1, 'the held batch was recorded exactly once, under its own farmer');
}

/** Sends `photo` on the new-listing form over slow 3G; resolves with the milliseconds taken. */
async function listWithPhoto(page, demo, photo, title, { plain = false } = {}) {
  await page.goto(`${demo.base}/f/listings/new`);
  await page.selectOption('#category', { index: 1 });
  await page.fill('#title', title);
  await page.fill('#price', '18');
  await page.fill('#stock', '30');
  await page.setInputFiles('#photo', { name: 'IMG_20261206_0815.jpg', mimeType: 'image/jpeg', buffer: photo });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', SLOW_3G);
  let upload = null;
  const posted = (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/f/listings/new')) upload = request;
  };
  page.on('request', posted);
  const started = Date.now();
  if (plain) {
    // The plain form's upload is a navigation of over a minute: sent without waiting on it.
    await page.locator('form[action="/f/listings/new"]').evaluate((form) => { setTimeout(() => form.requestSubmit()); });
  } else {
    await page.click('form[action="/f/listings/new"] button[type=submit]');
  }
  await page.waitForURL(/\/f\/listings\/\d+$/, { timeout: 180_000, waitUntil: 'commit' });
  await page.locator('.chips img').first().waitFor({ timeout: 30_000 });
  const took = Date.now() - started;
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await cdp.detach();
  page.off('request', posted);
  const sent = upload ? (await upload.sizes()).requestBodySize : 0;
  assert.equal(await page.locator('h1').innerText(), title);
  return { took, sent };
}

/**
 * The 12-megapixel photo over slow 3G, shrunk on the phone, with the progress bar seen on the
 * way; it arrives upright and without its GPS. With WALK_PHOTO_BEFORE=1 the same photo is also
 * sent as a plain form, as without the script (this takes over a minute).
 */
async function slowPhoto(context, page, demo) {
  const photo = await twelveMegapixelPhoto(page);
  assert.ok(photo.length > 3_000_000, `a camera-sized photo (${photo.length} bytes)`);
  const progress = page.waitForFunction(() => /正在上传照片 \d+%/.test(document.querySelector('main').innerText), null, { timeout: 60_000, polling: 50 });
  const sending = listWithPhoto(page, demo, photo, '高山核桃 5斤装');
  await progress;
  await shoot(page, 'farmer-photo-uploading');
  const { took, sent } = await sending;
  await shoot(page, 'farmer-photo-listed');
  const thumb = page.locator('.chips img').first();
  await thumb.evaluate((img) => img.complete || new Promise((ok) => { img.onload = ok; }));
  const [w, h] = await thumb.evaluate((img) => [img.naturalWidth, img.naturalHeight]);
  assert.ok(w < h, `the sideways photo stands upright (${w} × ${h})`);
  const original = await page.request.get(`${demo.base}${(await thumb.getAttribute('src')).replace(/\/240$/, '/original')}`);
  assert.ok(!(await original.body()).includes(Buffer.from('Exif')), 'no EXIF (GPS) is kept');
  assert.ok(took < PHOTO_BUDGET_MS, `the photo took ${took} ms over slow 3G, over ${PHOTO_BUDGET_MS}`);

  let before = null;
  if (process.env.WALK_PHOTO_BEFORE) {
    // A page the service worker does not keep, sending the form itself: no script runs.
    const plain = await context.newPage();
    await plain.route('**/static/f.js*', (route) => route.abort());
    await context.serviceWorkers().at(0)?.evaluate(() => self.registration.unregister());
    before = (await listWithPhoto(plain, demo, photo, '高山核桃 5斤装（原图）', { plain: true })).took;
    await plain.close();
  }
  return { took, sent, before, bytes: photo.length };
}

async function townshipOfficial(browser, demo) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  const weighed = weigh(page);

  await page.goto(`${demo.base}/o/cases`);
  await signIn(page, demo, demo.officials.township_official);
  await page.waitForURL(/\/o\/cases$/);
  const first = page.locator('section.card').first();
  const id = (await first.getAttribute('id')).replace('case-', '');
  const before = await first.locator('.badge').innerText();
  await weighed('official: cases waiting');
  await shoot(page, 'township-cases');

  // The next step, by its button: the case moves on (or leaves the list when the next
  // step is someone else's).
  await first.locator('form button:not(.plain)').first().click();
  await page.waitForURL(new RegExp(`/o/cases\\?done=${id}$`));
  assert.equal(await page.locator('[role=alert]').count(), 0, 'the step was taken');
  assert.match(await page.locator('[role=status]').innerText(), new RegExp(`第 ${id} 号`), 'the page says what happened');
  await shoot(page, 'township-case-step-taken');
  const after = page.locator(`#case-${id} .badge`);
  if (await after.count()) assert.notEqual(await after.innerText(), before);

  await page.locator('section.card a[href^="/o/households/"]').first().click();
  await page.waitForURL(/\/o\/households\/\d+/);
  assert.match(await page.locator('main').innerText(), /年度评估/);
  assert.match(await page.locator('main').innerText(), /人均纯收入/);
  await weighed('official: a household');
  await shoot(page, 'township-household');

  await page.click('nav.tabs a[href="/o/stats"]');
  assert.match(await page.locator('main').innerText(), /产什么、产多少/);
  assert.match(await page.locator('main').innerText(), /卖到哪里/);
  await weighed('official: production and sales');
  await shoot(page, 'township-stats');
  await context.close();
}

/**
 * The public notice board, with no sign-in, at a phone's size: the county's list (with the
 * signed audit checkpoints), a village's board, the objection form filled in and sent with
 * the texted code, and the notice afterwards, stopped while it is checked again.
 */
async function noticeBoard(browser, demo) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  const weighed = weigh(page);

  await page.goto(`${demo.base}/notices`);
  const county = await page.locator('main').innerText();
  assert.match(county, /全县/);
  assert.match(county, /北京时间/);
  assert.doesNotMatch(county, /UTC/);
  await checkSizes(page, 'public: notice board');
  await weighed('public: notice board');
  await shoot(page, 'notices-1-county');

  const objection = page.locator('a[href^="/notices/objection/"]').first();
  assert.equal(await objection.count(), 1, 'a running notice takes objections');
  const section = objection.locator('xpath=ancestor::section');
  const village = (await section.locator('p.note').first().innerText()).split(' · ')[0];
  const href = await objection.getAttribute('href');

  await objection.click();
  await page.waitForURL(new RegExp(`${href}$`));
  assert.match(await page.locator('main').innerText(), /提出异议|异议理由/);
  await shoot(page, 'notices-2-objection-form');

  const phone = '13700009001';
  await page.fill('#phone', phone);
  await page.fill('#reason', '村里的路还没有硬化到每个组，雨天还是走不了');
  await page.click('button[name=step][value=send]');
  await page.waitForSelector('[role=status]');
  assert.equal(await page.inputValue('#reason'), '村里的路还没有硬化到每个组，雨天还是走不了', 'the reason stays as typed');
  await page.fill('#code', await lastCode(demo, phone));
  await shoot(page, 'notices-3-objection-filled');
  await page.click('button[name=step][value=object]');
  await page.waitForSelector('.card[role=status]');
  assert.match(await page.locator('main').innerText(), /异议已收到/);
  await checkSizes(page, 'public: objection taken');
  await weighed('public: objection taken');
  await shoot(page, 'notices-4-objection-taken');

  // Back on the village's board: the notice stopped while it is checked again.
  await page.click('a.more');
  await page.waitForURL(/\/notices\/\d{12}$/);
  const board = await page.locator('main').innerText();
  assert.match(board, new RegExp(village));
  assert.match(board, /公示已中止/);
  await checkSizes(page, 'public: village notice board');
  await weighed('public: village notice board');
  await shoot(page, 'notices-5-village-after');
  await context.close();
}

/**
 * The officials' help and visits: a household's page with its forms, help recorded (refused
 * first, and kept as typed), a visit recorded; then the area's monitoring figures.
 */
async function helpAndVisits(browser, demo) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  const weighed = weigh(page);

  await page.goto(`${demo.base}/o/cases`);
  await signIn(page, demo, demo.officials.township_official);
  await page.waitForURL(/\/o\/cases$/);
  const helpLink = page.locator('section.card a[href$="/help"]').first();
  assert.equal(await helpLink.count(), 1, 'a case links to its household\'s help and visits');
  assert.match(await helpLink.innerText(), /帮扶 \d+ 条，走访 \d+ 次/);
  await helpLink.click();
  await page.waitForURL(/\/o\/households\/\d+\/help$/);
  assert.match(await page.locator('main').innerText(), /帮扶责任人/);
  await checkSizes(page, 'official: help and visits');
  await weighed('official: help and visits');
  await shoot(page, 'help-1-page');

  // An amount that is no amount: refused beside the field, everything kept as typed.
  await page.selectOption('#kind', 'public_welfare_job');
  await page.fill('#amount', '六百');
  await page.fill('#note', '护林员公益岗位，每月 600 元');
  await page.click('form[action$="/help#help"] button[type=submit]');
  await page.waitForSelector('.alert.at');
  assert.match(await page.locator('.alert.at').first().innerText(), /金额请填/);
  assert.equal(await page.inputValue('#note'), '护林员公益岗位，每月 600 元');
  await page.locator('.alert.at').first().scrollIntoViewIfNeeded();
  await shoot(page, 'help-2-refused-kept');
  await page.fill('#amount', '600');
  await page.click('form[action$="/help#help"] button[type=submit]');
  await page.waitForURL(/\/help#help$/);
  assert.match(await page.locator('main').innerText(), /公益岗位/);

  await page.fill('#findings', '户主在家，公益岗位已上岗；孩子上学正常，住房安全');
  await page.click('form[action$="/visits#visits"] button[type=submit]');
  await page.waitForURL(/\/help#visits$/);
  const after = await page.locator('main').innerText();
  assert.match(after, /公益岗位已上岗/);
  assert.match(after, /\d{4}年\d{1,2}月\d{1,2}日/);
  await shoot(page, 'help-3-recorded');

  await context.close();

  // The county's figures, where the demo's monitored households are counted.
  const county = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const countyPage = await county.newPage();
  const countyWeighed = weigh(countyPage);
  await countyPage.goto(`${demo.base}/o/monitoring/figures`);
  await signIn(countyPage, demo, demo.officials.county_official);
  await countyPage.waitForURL(/\/o\/monitoring\/figures$/);
  const figures = await countyPage.locator('main').innerText();
  assert.match(figures, /在监测户\s+[1-9]\d* 户/, 'the demo county has households under monitoring');
  assert.match(figures, /脱贫不稳定户/);
  assert.match(figures, /按乡镇/);
  await checkSizes(countyPage, 'official: monitoring figures');
  await countyWeighed('official: monitoring figures');
  await shoot(countyPage, 'monitoring-figures');
  await county.close();
}

/**
 * Return-to-poverty monitoring at 360 × 740: the village cadre reads the warnings of their
 * village (why each household, in plain Chinese) and starts an identification by its button;
 * a farmer asks for monitoring in their own words, is refused without a kind of hardship
 * (the words kept), then sends it.
 */
async function monitoringWalk(browser, demo) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  const weighed = weigh(page);
  await page.goto(`${demo.base}/o/monitoring`);
  await signIn(page, demo, demo.officials.village_cadre);
  await page.waitForURL(/\/o\/monitoring$/);
  const main = await page.locator('main').innerText();
  assert.match(main, /年监测标准：人均 \d+ 元/);
  assert.doesNotMatch(main, /UTC|undefined/);
  await checkSizes(page, 'official: monitoring warnings');
  await weighed('official: monitoring warnings');
  await shoot(page, 'cadre-monitoring-warnings');
  const cards = page.locator('section.card');
  if (await cards.count()) {
    assert.match(await cards.first().locator('li').first().innerText(), /[\u4e00-\u9fff]/);
    await cards.first().locator('button[type=submit]').click();
    await page.waitForURL(/\/o\/monitoring\?year=\d+&started=\d+$/);
    assert.match(await page.locator('[role=status]').innerText(), /已开始识别/);
    await shoot(page, 'cadre-monitoring-started');
  }
  await context.close();

  const farmerContext = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const f = await farmerContext.newPage();
  const farmerWeighed = weigh(f);
  await f.goto(`${demo.base}/f/monitoring`);
  await signIn(f, demo, demo.farmer);
  await f.waitForURL(/\/f\/monitoring$/);
  assert.match(await f.locator('main').innerText(), /发生了什么/);
  await farmerWeighed('farmer: ask for monitoring');
  await shoot(f, 'farmer-monitoring-form');
  const words = '三月份老伴住院做手术，花了三万多，报销后还欠两万';
  await f.fill('#what', words);
  await f.click('form[action="/f/monitoring"] button[type=submit]');
  await f.waitForSelector('[role=alert]');
  assert.match(await f.locator('[role=alert]').first().innerText(), /哪一类困难/);
  const said = await f.locator('[role=alert]').first().boundingBox();
  assert.ok(said.y >= 0 && said.y + said.height <= 740, 'why it was refused is on the first screen');
  assert.equal(await f.inputValue('#what'), words, 'the words are kept');
  await shoot(f, 'farmer-monitoring-refused');
  await f.check('input[name=risk][value=illness]');
  await f.click('form[action="/f/monitoring"] button[type=submit]');
  await f.waitForLoadState('networkidle');
  if (/sent=\d+$/.test(f.url())) {
    assert.match(await f.locator('p.advice[role=status]').innerText(), /申请已收到/);
  } else {
    // The demo household may be monitored already: said plainly, the words kept.
    assert.match(await f.locator('[role=alert]').first().innerText(), /已经在监测中/);
    assert.equal(await f.inputValue('#what'), words);
  }
  await shoot(f, 'farmer-monitoring-sent');
  await farmerContext.close();
}

/** The seller's own words on how buyers pay them, until a payment provider verifies payments. */
const HOW_TO_PAY = '微信转账给 139 0000 0001，备注订单号';

/** Through the API, as the farmer's app would: how buyers pay this seller. */
async function sellerSaysHowToPay(demo, token) {
  const saved = await json(demo, 'PUT', '/my/payment-instructions', { instructions: HOW_TO_PAY }, token);
  assert.equal(saved.instructions, HOW_TO_PAY);
}

/** Just after ordering, the buyer's card says who sells, how to reach them and how to pay. */
async function buyerReadsHowToPay(card) {
  const text = await card.innerText();
  assert.match(text, /卖家/);
  assert.ok(text.includes(HOW_TO_PAY), `the seller's payment instructions are shown: ${text}`);
  assert.ok((await card.locator('a[href^="tel:"]').count()) > 0, 'the seller can be called');
}

/** The farmer ships with a carrier and a waybill: a mistyped number first, refused and kept. */
async function shipWithWaybill(page, orderId) {
  const form = () => page.locator(`#order-${orderId} form[action$="/ship"]`);
  await form().locator('select[name=carrier]').selectOption('zto');
  await form().locator('input[name=waybill]').fill('7831 2345');
  await form().locator('button').click();
  await page.waitForSelector('[role=alert]');
  assert.match(await page.locator('[role=alert]').innerText(), /中通快递的运单号是 12 到 15 位数字/);
  assert.equal(await form().locator('input[name=waybill]').inputValue(), '7831 2345', 'the number typed is kept');
  assert.equal(await form().locator('select[name=carrier]').inputValue(), 'zto', 'the carrier chosen is kept');
  // The shot shows the waybill field with the refusal beside it, on the phone's screen.
  const said = form().locator('[role=alert]');
  await said.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  for (const [what, seen] of [['the waybill field', form().locator('input[name=waybill]')], ['the refusal beside it', said]]) {
    const box = await seen.boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= PHONE.height, `${what} is on the screen: ${JSON.stringify(box)}`);
  }
  await shoot(page, 'farmer-ship-refused');
  await form().locator('input[name=waybill]').fill('7831 2345 6789');
  await form().locator('button').click();
  await page.waitForURL(new RegExp(`/f/orders#order-${orderId}$`));
  assert.match(await page.locator(`#order-${orderId}`).innerText(), /中通快递 · 运单号 783123456789/);
}

/** The buyer, signed in again, follows the parcel: carrier, waybill number, tracking link. */
async function buyerFollowsTheParcel(browser, demo, orderId) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  const weighed = weigh(page);
  await page.goto(`${demo.base}/m/orders`);
  await signIn(page, demo, demo.buyer);
  await page.waitForURL(/\/m\/orders$/);
  const card = page.locator(`#order-${orderId}`);
  await card.scrollIntoViewIfNeeded();
  const text = await card.innerText();
  assert.match(text, /已发货/);
  assert.match(text, /中通快递 · 运单号 783123456789/);
  assert.doesNotMatch(text, /怎么付款/, 'paid: the payment instructions are gone');
  const track = card.locator('a.track');
  assert.equal(await track.getAttribute('href'), 'https://m.kuaidi100.com/result.jsp?nu=783123456789');
  const box = await track.boundingBox();
  assert.ok(box.height >= 44, `the tracking link is a tap target (${box.height} px)`);
  assert.equal(await card.locator('form[action$="/deliver"] button').innerText(), '确认收货');
  await weighed('buyer: a shipped order');
  await shoot(page, 'buyer-order-shipped');
  await context.close();
}

async function countyOfficial(browser, demo) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  const weighed = weigh(page);

  await page.goto(`${demo.base}/o`);
  await signIn(page, demo, demo.officials.county_official);
  await page.waitForURL(/\/o$/);
  const text = await page.locator('main').innerText();
  assert.match(text, /\/ 162/, 'the villages goal is shown');
  assert.match(text, /135,000/, 'the people goal is shown');
  assert.ok((await page.locator('main svg').count()) >= 3, 'progress bars and charts are drawn');
  assert.ok((await page.locator('svg[role=img][aria-label]').count()) >= 3, 'charts are labelled');
  assert.doesNotMatch(text, /UTC/, 'times are Beijing time');
  await checkSizes(page, '/o');
  await weighed('official: county dashboard');
  await shoot(page, 'county-dashboard');
  await page.screenshot({ path: path.join(SHOTS, 'county-dashboard-full.png'), fullPage: true });
  const growth = page.locator('section.card').filter({ hasText: '年度目标' });
  assert.equal(await growth.locator('svg polyline[stroke-dasharray]').count(), 1, 'the yearly plan is drawn');
  await growth.screenshot({ path: path.join(SHOTS, 'county-progress-over-time.png') });

  const township = page.locator('ol.bl a[href^="/o?area="]').first();
  const name = (await township.locator('b').textContent()).trim();
  await township.click();
  await page.waitForURL(/\/o\?area=\d+/);
  assert.ok((await page.locator('h1').innerText()).startsWith(name.replace('…', '')), 'a township opens');
  await weighed('official: township dashboard');
  await shoot(page, 'township-dashboard');

  await page.goto(`${demo.base}/o/villages`);
  assert.ok((await page.locator('ol.rank li').count()) > 0, 'villages are ranked');
  await weighed('official: villages ranked');
  await shoot(page, 'county-villages');

  // A ranked village opens its own page.
  await page.locator('ol.rank a[href^="/o/villages/"]').first().click();
  await page.waitForURL(/\/o\/villages\/\d{12}$/);
  assert.match(await page.locator('main').innerText(), /产什么、产多少/);
  await checkSizes(page, '/o/villages/{code}');
  await weighed('official: a village');
  await shoot(page, 'county-village');
  await page.screenshot({ path: path.join(SHOTS, 'county-village-full.png'), fullPage: true });

  // Production and sales: units apart, largest first, a product by province table.
  await page.goto(`${demo.base}/o/stats`);
  const stats = await page.locator('main').innerText();
  assert.match(stats, /产什么、产多少/);
  assert.match(stats, /哪块地产得多/);
  assert.ok((await page.locator('table.shares').count()) > 0, 'where each product sells');
  assert.match(stats, /\d,\d{3}/, 'thousands apart');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `nothing is cut off at the right (${overflow} px too wide)`);
  await checkSizes(page, '/o/stats');
  await weighed('official: county stats');
  await shoot(page, 'county-stats');
  await page.screenshot({ path: path.join(SHOTS, 'county-stats-full.png'), fullPage: true });

  // The buyer's report waits in the area's list; answered, it is closed and the page says so.
  await page.goto(`${demo.base}/o/reports`);
  const report = page.locator('section.card').filter({ hasText: '已作废' }).first();
  await report.locator('input[name=answer]').fill('已核实：该码随标签卷遗失作废，已联系买家退款');
  await report.locator('button').click();
  await page.waitForURL(/\/o\/reports\?closed=\d+$/);
  assert.match(await page.locator('main').innerText(), /已答复并关闭反馈/);
  await weighed('official: buyers reports');
  await shoot(page, 'county-reports');

  // A farmer's pages are not an official's.
  const refused = await page.goto(`${demo.base}/f`);
  assert.equal(refused.status(), 403);
  await context.close();
}

/**
 * Opens pages over DevTools' "Slow 3G" (2 s round trip, 400 kbit/s each way) and reads how long
 * they took from the browser's own navigation timing.
 */
async function slowNetwork(browser, demo, paths) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 2000,
    downloadThroughput: (400 * 1000) / 8,
    uploadThroughput: (400 * 1000) / 8,
  });
  const timings = [];
  for (const route of paths) {
    await page.goto(`${demo.base}${route}`, { waitUntil: 'load', timeout: 120_000 });
    const [nav] = await page.evaluate(() => performance.getEntriesByType('navigation').map((n) => n.toJSON()));
    timings.push({ route, ready: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, bytes: nav.transferSize });
  }
  await context.close();
  return timings;
}

// ---- The farmer's forms that forgive: plots with their crops, a batch from a plot of another
// crop, revoking and recalling with a reason and a tick, a listing change and a new listing
// refused with what was typed kept, and cancelling a buyer's order with a reason. Each refused
// form is photographed with its input kept.
async function farmerForms(browser, demo, prepared) {
  // Through the API: a buyer's order of the farmer's goods, for the farmer to cancel.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await json(demo, 'POST', '/auth/sms/send', { phone: demo.buyer });
  const buyerCode = await lastCode(demo, demo.buyer);
  const { access_token: buyerToken } = await json(demo, 'POST', '/auth/login/sms', { phone: demo.buyer, code: buyerCode });
  const order = await json(demo, 'POST', '/orders', {
    listing_id: prepared.listing.id, quantity: prepared.listing.min_order, province_code: '510000',
    city_code: '510100', address: '武侯区人民南路 4 段 9 号', recipient_name: '张三', recipient_phone: demo.buyer,
  }, buyerToken);

  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`${demo.base}/f/plots`);
  await signIn(page, demo, demo.farmer);
  await page.waitForURL(/\/f\/plots$/);
  assert.equal(await page.locator('h1').innerText(), '我的地块');

  // A plot whose area is words: refused beside the area, the name and crop kept.
  const tangerine = page.locator('label.check', { hasText: '红橘' }).locator('input');
  await page.fill('#name', '河边 3号地');
  await page.fill('#area', '一亩半');
  await tangerine.check();
  await page.click('form[action="/f/plots"] button[type=submit]');
  await page.waitForSelector('.alert.at');
  assert.match(await page.locator('.alert.at').innerText(), /面积请填数字/);
  assert.equal(await page.inputValue('#name'), '河边 3号地');
  assert.ok(await tangerine.isChecked(), 'the crop ticked is kept');
  await page.locator('#area').scrollIntoViewIfNeeded();
  await shoot(page, 'forms-plot-refused');
  await page.fill('#area', '1.5');
  await page.click('form[action="/f/plots"] button[type=submit]');
  await page.waitForURL(/\/f\/plots$/);
  assert.match(await page.locator('a.cell', { hasText: '河边 3号地' }).innerText(), /红橘/);
  await shoot(page, 'forms-plots');
  await checkSizes(page, 'the plots page');

  // A walnut batch from the tangerine plot: refused, naming what the plot grows.
  await page.click('nav.tabs a[href="/f/batches"]');
  await page.selectOption('#category', { label: '核桃' });
  await page.selectOption('#plot', { label: '河边 3号地（红橘）' });
  await page.fill('#quantity', '120');
  await page.click('form[action="/f/batches"] button[type=submit]');
  await page.waitForSelector('.alert.at');
  assert.equal(await page.locator('.alert.at').innerText(), '这块地种的是红橘，不能登记核桃批次');
  assert.equal(await page.inputValue('#quantity'), '120');
  await page.locator('#plot').scrollIntoViewIfNeeded();
  await shoot(page, 'forms-batch-refused-crop');

  // Tangerines from it are taken; codes, then a label's code revoked and the batch recalled.
  await page.selectOption('#category', { label: '红橘' });
  await page.click('form[action="/f/batches"] button[type=submit]');
  await page.waitForURL(/\/f\/batches\/\d+$/);
  await page.click('form[action$="/codes"] button');
  await page.waitForURL(/\/f\/batches\/\d+$/);
  await page.fill('#item', '99');
  await page.fill('#revoke_reason', '标签丢失');
  await page.check('input[name=revoke_confirm]');
  await page.click('form[action$="/revocations"] button');
  await page.waitForSelector('.alert.at');
  assert.match(await page.locator('.alert.at').innerText(), /第 99 号溯源码还没有生成/);
  assert.equal(await page.inputValue('#revoke_reason'), '标签丢失');
  await page.locator('#item').scrollIntoViewIfNeeded();
  await shoot(page, 'forms-revoke-refused');
  await page.fill('#item', '2');
  await page.check('input[name=revoke_confirm]');
  await page.click('form[action$="/revocations"] button');
  await page.waitForURL(/\/f\/batches\/\d+#revoked$/);
  assert.match(await page.locator('#revoked + p').innerText(), /No\.2（标签丢失）/);

  // The recall's box left unticked: the browser holds the form; without that check the server
  // refuses, keeping the reason.
  await page.fill('#recall_reason', '抽检农残超标');
  await page.click('form[action$="/recall"] button');
  assert.ok(page.url().match(/\/f\/batches\/\d+#revoked$/), 'an unticked recall is not sent');
  await page.locator('input[name=recall_confirm]').evaluate((box) => box.removeAttribute('required'));
  await page.click('form[action$="/recall"] button');
  await page.waitForSelector('.alert.at');
  assert.match(await page.locator('.alert.at').innerText(), /请勾选“我确认召回”/);
  assert.equal(await page.inputValue('#recall_reason'), '抽检农残超标');
  await page.locator('#recall_reason').scrollIntoViewIfNeeded();
  await shoot(page, 'forms-recall-refused');
  await page.check('input[name=recall_confirm]');
  await page.click('form[action$="/recall"] button');
  await page.waitForURL(/\/f\/batches\/\d+$/);
  assert.match(await page.locator('.alert.bad').innerText(), /召回，原因：抽检农残超标/);
  await shoot(page, 'forms-batch-recalled');

  // A listing's price refused: the price and stock typed stay, not the saved ones.
  await page.goto(`${demo.base}/f/listings/${prepared.listing.id}`);
  await page.fill('#price', '0');
  await page.fill('#stock', '35');
  await page.click(`form[action="/f/listings/${prepared.listing.id}"] button`);
  await page.waitForSelector('.alert.at');
  assert.equal(await page.inputValue('#price'), '0');
  assert.equal(await page.inputValue('#stock'), '35');
  await shoot(page, 'forms-listing-refused');

  // A new listing with a photo refused: all typed kept, the photo asked for again.
  await page.goto(`${demo.base}/f/listings/new`);
  await page.selectOption('#category', { label: '红橘' });
  await page.fill('#title', '河边红橘 10斤装');
  await page.fill('#price', '35');
  await page.fill('#stock', '十箱');
  const jpeg = Buffer.from(await (await fetch(`${demo.base}/api/v1/trace/${prepared.code}/qr.png`)).arrayBuffer());
  await page.setInputFiles('#photo', { name: 'orange.png', mimeType: 'image/png', buffer: jpeg });
  await page.click('form[action="/f/listings/new"] button[type=submit]');
  await page.waitForSelector('.alert.at');
  assert.equal(await page.inputValue('#title'), '河边红橘 10斤装');
  assert.equal(await page.inputValue('#stock'), '十箱');
  assert.match(await page.locator('main').innerText(), /请重新选择照片/);
  await shoot(page, 'forms-new-listing-refused-photo');

  // Cancelling the buyer's order: a confirmation page asks why; without it, nothing happens.
  await page.goto(`${demo.base}/f/orders`);
  const card = page.locator(`#order-${order.id}`);
  assert.match(await card.innerText(), /四川省 成都市 武侯区人民南路 4 段 9 号/);
  await card.locator('a[href$="/cancel"]').click();
  await page.waitForURL(new RegExp(`/f/orders/${order.id}/cancel$`));
  await page.fill('#reason', '这批红橘坏了几个，不发了，抱歉');
  await page.locator('input[name=confirm]').evaluate((box) => box.removeAttribute('required'));
  await page.click(`form[action="/f/orders/${order.id}/cancel"] button`);
  await page.waitForSelector('.alert.at');
  assert.equal(await page.inputValue('#reason'), '这批红橘坏了几个，不发了，抱歉');
  await shoot(page, 'forms-cancel-refused');
  await checkSizes(page, 'the cancel page');
  await page.check('input[name=confirm]');
  await page.click(`form[action="/f/orders/${order.id}/cancel"] button`);
  await page.waitForURL(new RegExp(`/f/orders#order-${order.id}$`));
  assert.match(await page.locator(`#order-${order.id}`).innerText(), /取消原因：这批红橘坏了几个/);
  await context.close();

  // The buyer reads why.
  const buyerContext = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const buyerPage = await buyerContext.newPage();
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await buyerPage.goto(`${demo.base}/m/orders`);
  await signIn(buyerPage, demo, demo.buyer);
  await buyerPage.waitForURL(/\/m\/orders/);
  const mine = buyerPage.locator(`#order-${order.id}`);
  assert.match(await mine.innerText(), /取消原因：这批红橘坏了几个，不发了，抱歉/);
  await mine.scrollIntoViewIfNeeded();
  await shoot(buyerPage, 'forms-buyer-sees-cancel-reason');
  await buyerContext.close();
}
// ---- end of the farmer's forms that forgive

/** WeChat's own browser on an Android phone, as its user agent says. */
const WECHAT_UA = 'Mozilla/5.0 (Linux; Android 10; V2031A Build/QP1A.190711.020) AppleWebKit/537.36 '
  + '(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 '
  + 'MicroMessenger/8.0.47.2560(0x28002F35) NetType/4G Language/zh_CN';
/**
 * WeChat's JS-SDK as a page inside WeChat meets it (the real one talks to the WeChat app):
 * what the page configures, asks the scanner for and sets as its share card is kept on `window`.
 */
const JSSDK_STAND_IN = 'window.wx={config:(c)=>{window.wxConfig=c},ready:(f)=>f(),'
  + 'scanQRCode:(o)=>{window.wxScan=o},updateAppMessageShareData:(d)=>{window.wxShare=d},'
  + 'updateTimelineShareData:(d)=>{window.wxTimeline=d}}';

async function weChatPage(browser) {
  const context = await browser.newContext({ viewport: PHONE, userAgent: WECHAT_UA, locale: 'zh-CN' });
  await context.route('https://res.wx.qq.com/**', (route) => route.fulfill({ contentType: 'text/javascript', body: JSSDK_STAND_IN }));
  return { context, page: await context.newPage() };
}

/**
 * Inside WeChat (its user agent, the Official Account's stand-in): a buyer is signed in by
 * WeChat's authorisation with no texted code and a listing sets its share card; a farmer signs
 * in by texted code once, which binds their WeChat, then scans one of their labels (the page's
 * scan callback given the label's address), lands on the batch at that item and records that
 * it was shipped.
 */
async function insideWeChat(browser, demo, { listing }) {
  await fetch(`${demo.wechat}/as/walk-buyer`);
  const buyer = await weChatPage(browser);
  const texted = await fetch(`${demo.gateway}/codes/${demo.buyer}`).then((r) => r.ok && r.json());
  // WeChat's authorisation address ends in #wechat_redirect, which the browser keeps through
  // the redirects back.
  await buyer.page.goto(`${demo.base}/m/orders`);
  await buyer.page.waitForURL(/\/m\/orders(#.*)?$/);
  assert.equal(await buyer.page.locator('h1').innerText(), '我的订单');
  const after = await fetch(`${demo.gateway}/codes/${demo.buyer}`).then((r) => r.ok && r.json());
  assert.deepEqual(after, texted, 'no code texted: WeChat said who the buyer is');
  await shoot(buyer.page, 'wechat-01-buyer-signed-in');
  await buyer.page.goto(`${demo.base}/m/listings/${listing.id}`);
  await buyer.page.waitForFunction(() => window.wxShare && window.wxTimeline);
  const card = await buyer.page.evaluate(() => ({ share: window.wxShare, config: window.wxConfig }));
  assert.equal(card.share.title, listing.title);
  assert.equal(card.share.link, `${demo.base}/m/listings/${listing.id}`);
  assert.match(card.share.imgUrl, /\/api\/v1\/photos\/[0-9a-f]+\/240$/);
  assert.ok(card.config.signature && card.config.jsApiList.includes('scanQRCode'), JSON.stringify(card.config));
  await shoot(buyer.page, 'wechat-02-listing-share-card');
  await buyer.context.close();

  // The farmer's batch and a label of it, through the API as their app would.
  const phone = demo.wechat_farmer;
  await json(demo, 'POST', '/auth/sms/send', { phone });
  const { access_token: token } = await json(demo, 'POST', '/auth/login/sms', { phone, code: await lastCode(demo, phone) });
  const [category] = await json(demo, 'GET', '/categories');
  const today = new Date().toISOString().slice(0, 10);
  const batch = await json(demo, 'POST', '/batches', { category_id: category.id, quantity: 40, produced_on: today }, token);
  const run = await json(demo, 'POST', `/batches/${batch.id}/code-runs`, { count: 2 }, token);
  const csv = await json(demo, 'GET', `/batches/${batch.id}/code-runs/${run.id}/codes`, undefined, token);
  const code = csv.trim().split('\n')[2].split(',')[1];
  await json(demo, 'POST', `/batches/${batch.id}/events`, { kind: 'packed', occurred_at: new Date().toISOString() }, token);
  const label = `${demo.base.toUpperCase()}/T/${code}`;

  await fetch(`${demo.wechat}/as/walk-farmer`);
  const farmer = await weChatPage(browser);
  const { page } = farmer;
  const measure = weigh(page);
  await page.goto(`${demo.base}/f/batches`);
  // WeChat does not know this farmer yet: a texted code once, and WeChat is bound.
  await page.waitForURL(/\/login\?.*wechat=first/);
  await shoot(page, 'wechat-03-farmer-first-time');
  await new Promise((done) => setTimeout(done, 1100));
  await signIn(page, demo, phone);
  await page.waitForURL(/\/f\/batches(#.*)?$/);
  await page.waitForFunction(() => window.shanhuoScanned && window.wxConfig);
  assert.ok(await page.locator('#scan-photo').isHidden(), 'inside WeChat the scan button opens WeChat\'s scanner');
  await shoot(page, 'wechat-04-farmer-scan-button');
  await page.click('#scan button[type=submit]');
  await page.waitForFunction(() => window.wxScan);
  await page.evaluate((text) => window.wxScan.success({ resultStr: text }), label);
  await page.waitForURL(new RegExp(`/f/batches/${batch.id}\\?item=2`));
  assert.match(await page.locator('.alert[role=status]').innerText(), /扫到的标签：No\.2/);
  const note = await page.locator('.alert[role=status]').boundingBox();
  assert.ok(note.y >= 0 && note.y + note.height <= 740, 'the scanned label\'s note is on the screen, above the step');
  assert.equal(await page.locator('#kind').inputValue(), 'shipped', 'packed already: shipping is next');
  await shoot(page, 'wechat-05-farmer-scanned-label');
  await measure('wechat: batch at a scanned label');
  await page.click('form#step button[type=submit]');
  await page.waitForURL(new RegExp(`/f/batches/${batch.id}$`));
  assert.match(await page.locator('.timeline').innerText(), /发货/);
  await shoot(page, 'wechat-06-farmer-recorded-shipped');
  await farmer.context.close();

  // WeChat signs the farmer in from now on, in a fresh browser, with no code.
  const again = await weChatPage(browser);
  await again.page.goto(`${demo.base}/f/batches`);
  await again.page.waitForURL(/\/f\/batches(#.*)?$/);
  await again.context.close();
}

/** The county's date (Beijing) `days` from today, as a date field takes it. */
function countyDay(days = 0) {
  return new Date(Date.now() + 8 * 3600e3 + days * 86400e3).toISOString().slice(0, 10);
}

/**
 * The compliance certificate (承诺达标合格证): the farmer records a pesticide sprayed on a
 * tangerine plot, is refused a certificate for a harvest inside its interval (told the first day
 * allowed, the form as typed), issues one for a harvest on time, prints it (the PDF drawn to a
 * PNG by poppler's pdftoppm beside the screenshots), and a buyer finds it from the scan page.
 */
async function certificateWalk(browser, demo) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const page = await context.newPage();
  const weighed = weigh(page);
  await page.goto(`${demo.base}/f/inputs`);
  await signIn(page, demo, demo.farmer);
  await page.waitForURL(/\/f\/inputs$/);
  const categories = await (await fetch(`${demo.base}/api/v1/categories`)).json();
  const tangerine = categories.find((c) => c.code === 'red_tangerine');

  // A plot of tangerines.
  await page.goto(`${demo.base}/f/plots`);
  await page.fill('#name', '橘子坡');
  await page.fill('#area', '2');
  await page.check(`input[name="crop_${tangerine.id}"]`);
  await page.click('form[action="/f/plots"] button[type=submit]');
  await page.waitForURL(/\/f\/plots/);

  // Sprayed 20 days ago with a pesticide whose interval is 14 days.
  await page.goto(`${demo.base}/f/inputs`);
  const plotValue = await page.locator('#plot option', { hasText: '橘子坡' }).first().getAttribute('value');
  await page.selectOption('#kind', 'pesticide');
  await page.selectOption('#plot', plotValue);
  await page.fill('#product_name', '吡虫啉可湿性粉剂');
  await page.fill('#registration_no', 'PD20080001');
  await page.fill('#dose', '每亩 30 克兑水 15 公斤');
  await page.fill('#method', '喷雾');
  await page.fill('#applied_on', countyDay(-20));
  await page.fill('#interval_days', '14');
  await page.click('form[action="/f/inputs"] button[type=submit]');
  await page.waitForURL(/\/f\/inputs#input-\d+$/);
  assert.match(await page.locator('.cells').last().innerText(), /吡虫啉可湿性粉剂/);
  await checkSizes(page, 'farmer: farm inputs');
  await weighed('farmer: farm inputs');
  await shoot(page, 'certificate-1-input-recorded');

  /** Records a tangerine batch from the plot harvested on `day`; answers its page's address. */
  const harvest = async (day) => {
    await page.goto(`${demo.base}/f/batches`);
    await page.selectOption('#category', String(tangerine.id));
    await page.selectOption('#plot', plotValue);
    await page.fill('#quantity', '200');
    await page.fill('#produced_on', day);
    await page.click('form[action="/f/batches"] button[type=submit]');
    await page.waitForURL(/\/f\/batches\/\d+$/);
    return page.url();
  };

  // Harvested 10 days ago: inside the interval. Refused, saying the first day allowed; the
  // form keeps what was typed.
  await harvest(countyDay(-10));
  await page.click('a[href$="/certificate"]');
  await page.waitForURL(/\/certificate$/);
  await page.check('input[name=basis][value=own_promise]');
  await page.fill('#issuer_name', '张大山');
  await page.click('form[action$="/certificate"] button[type=submit]');
  await page.waitForSelector('[role=alert]');
  const refusal = await page.locator('[role=alert]').first().innerText();
  assert.ok(refusal.includes(countyDay(-6)), `the refusal names the first day allowed: ${refusal}`);
  assert.equal(await page.inputValue('#issuer_name'), '张大山', 'what was typed is kept');
  assert.ok(await page.isChecked('input[name=basis][value=own_promise]'));
  await checkSizes(page, 'farmer: certificate refused');
  await shoot(page, 'certificate-2-refused-too-early');

  // Harvested today, after the interval: issued.
  const batchUrl = await harvest(countyDay(0));
  const code = (await page.locator('.cell span[style*="monospace"]').innerText()).trim();
  await page.click('a[href$="/certificate"]');
  await page.waitForURL(/\/certificate$/);
  await page.check('input[name=basis][value=quality_control]');
  await page.click('form[action$="/certificate"] button[type=submit]');
  await page.waitForURL(/\/certificate$/);
  const issued = page.locator('a.cell[href^="/m/certificates/"]');
  assert.equal(await issued.count(), 1, 'the certificate is issued');
  const certificatePath = await issued.getAttribute('href');
  await checkSizes(page, 'farmer: certificate issued');
  await weighed('farmer: certificate');
  await shoot(page, 'certificate-3-issued');

  // Printed: the PDF label, and the same label as a picture, saved beside the screenshots.
  const pdfHref = await page.locator('a[href*="/label.pdf?size=70x50"]').getAttribute('href');
  const pdf = await page.request.get(`${demo.base}${pdfHref}`);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');
  const pdfFile = path.join(SHOTS, 'certificate-4-label-70x50.pdf');
  writeFileSync(pdfFile, await pdf.body());
  // The PDF itself drawn as a picture by poppler, as a printer would draw it: 70 x 50 mm at
  // 100 dpi is 276 x 197 pixels.
  execFileSync('pdftoppm', ['-png', '-r', '100', '-singlefile', pdfFile, path.join(SHOTS, 'cert-label-pdf')]);
  const rendered = readFileSync(path.join(SHOTS, 'cert-label-pdf.png'));
  assert.equal(rendered.subarray(1, 4).toString(), 'PNG', 'pdftoppm drew the label');
  const [width, height] = [rendered.readUInt32BE(16), rendered.readUInt32BE(20)];
  assert.ok(Math.abs(width - 276) <= 1 && Math.abs(height - 197) <= 1, `the label is 70 x 50 mm: ${width} x ${height}`);
  const pngHref = await page.locator('a[href*="/label.png"]').getAttribute('href');
  const png = await page.request.get(`${demo.base}${pngHref}`);
  assert.equal(png.headers()['content-type'], 'image/png');
  writeFileSync(path.join(SHOTS, 'certificate-4-label-70x50.png'), await png.body());
  assert.ok(batchUrl);
  await context.close();

  // The buyer scans the batch's code: the 合格证 section leads to the certificate.
  const buyerContext = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const buyerPage = await buyerContext.newPage();
  const buyerWeighed = weigh(buyerPage);
  await buyerPage.goto(`${demo.base}/t/${code}`);
  const section = buyerPage.locator(`a.cell[href="${certificatePath}"]`);
  assert.equal(await section.count(), 1, 'the scan page shows the certificate');
  assert.match(await buyerPage.locator('main').innerText(), /吡虫啉可湿性粉剂/);
  await checkSizes(buyerPage, 'buyer: scan with certificate');
  await buyerWeighed('buyer: scan with certificate');
  await section.scrollIntoViewIfNeeded();
  await shoot(buyerPage, 'certificate-5-scan-page');
  await section.click();
  await buyerPage.waitForURL(new RegExp(`${certificatePath}$`));
  assert.match(await buyerPage.locator('main').innerText(), /承诺达标合格证[\s\S]*红橘[\s\S]*质量安全控制符合要求/);
  await checkSizes(buyerPage, 'buyer: certificate');
  await buyerWeighed('buyer: certificate');
  await shoot(buyerPage, 'certificate-6-certificate-page');
  await buyerContext.close();
}

async function main() {
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  const { child, demo } = await startDemo();
  let slow = [];
  let photo = null;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    // Made first: the farmer's phone may be texted a sign-in code only once a second.
    const prepared = await prepare(demo);
    console.log('walking as the buyer');
    const orderId = await buyer(browser, demo, prepared);
    console.log('walking inside WeChat');
    await insideWeChat(browser, demo, prepared);
    console.log('walking as the county official');
    await countyOfficial(browser, demo);
    console.log('walking as the township official');
    await townshipOfficial(browser, demo);
    console.log('walking the public notice board and an objection');
    await noticeBoard(browser, demo);
    console.log("walking the officials' help and visits and the monitoring figures");
    await helpAndVisits(browser, demo);
    console.log('walking as the farmer');
    await farmer(browser, demo, prepared, orderId);
    console.log('walking as the buyer following the parcel');
    await buyerFollowsTheParcel(browser, demo, orderId);
    console.log("walking the farmer's forms that forgive");
    await farmerForms(browser, demo, prepared);
    console.log('walking the compliance certificate: a pesticide, too early, on time, printed, scanned');
    await certificateWalk(browser, demo);
    console.log('walking return-to-poverty monitoring: the cadre\'s warnings, a farmer\'s application');
    await monitoringWalk(browser, demo);
    console.log('walking as the farmer with a weak signal');
    photo = await farmerOnWeakSignal(browser, demo);
    console.log('opening the public pages over a slow 3G network');
    slow = await slowNetwork(browser, demo, [
      '/m',
      `/m/listings/${prepared.listing.id}`,
      `/t/${prepared.code}`,
      '/m/trace',
      '/login',
    ]);
  } finally {
    await browser.close();
    child.stdin.end();
  }
  console.log(`\npage weights (HTML with its CSS and scripts, as it is (budget ${PAGE_BUDGET / 1024} KB) and as gzip and brotli send it; images apart):`);
  for (const w of weights) {
    console.log(`  ${w.name.padEnd(30)} ${(w.own / 1024).toFixed(1).padStart(6)} KB  gzip ${(w.gzip / 1024).toFixed(1).padStart(5)} KB  br ${(w.wire / 1024).toFixed(1).padStart(5)} KB   images ${(w.images / 1024).toFixed(1).padStart(6)} KB   ${w.path}`);
  }
  const over = weights.filter((w) => w.own >= PAGE_BUDGET).map((w) => `${w.name} weighs ${w.own} bytes`);
  assert.deepEqual(over, [], `pages over ${PAGE_BUDGET} bytes`);
  console.log('\nscripts (as they are):');
  for (const [url, size] of scripts) console.log(`  ${(size / 1024).toFixed(1).padStart(6)} KB   ${new URL(url).pathname}`);
  const scriptTotal = [...scripts.values()].reduce((a, b) => a + b, 0);
  console.log(`  ${(scriptTotal / 1024).toFixed(1).padStart(6)} KB   together (budget ${SCRIPT_BUDGET / 1024} KB)`);
  assert.ok(scriptTotal < SCRIPT_BUDGET, `the scripts weigh ${scriptTotal} bytes together, over ${SCRIPT_BUDGET}`);
  if (photo) {
    console.log(`\na 12-megapixel photo (4000 × 3000, ${(photo.bytes / 1e6).toFixed(1)} MB) over slow 3G, shrunk on the phone${photo.sent ? ` to ${(photo.sent / 1024).toFixed(0)} KB` : ''}: ${(photo.took / 1000).toFixed(1)} s to its listing`);
    if (photo.before !== null) console.log(`  the same photo as a plain form, without the script: ${(photo.before / 1000).toFixed(1)} s`);
  }
  console.log('\nover slow 3G (2 s round trip, 400 kbit/s), from the browser\'s navigation timing:');
  for (const t of slow) {
    console.log(`  ${t.route.padEnd(36)} readable ${(t.ready / 1000).toFixed(1).padStart(5)} s   loaded ${(t.load / 1000).toFixed(1).padStart(5)} s   ${(t.bytes / 1024).toFixed(1)} KB on the wire`);
  }
  console.log(`\nscreenshots (360 × 740): ${SHOTS}`);
  console.log('browser walk: every role\'s path passed');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

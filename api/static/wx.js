// Inside WeChat: the JS-SDK, signed by the server (/wx/config), for the scan form (WeChat's own
// scanner) and the share card (the page's og: tags). Elsewhere it does nothing: the scan form
// sends a photo of the label, and the og: tags make the card.
(() => {
  if (!/MicroMessenger/.test(navigator.userAgent)) return;
  const q = (s) => document.querySelector(s), m = (p) => (q('meta[property="og:' + p + '"]') || {}).content, f = q('form[data-go]');
  // What the scanner read opens where the scan form says.
  window.shanhuoScanned = (t) => f && location.assign(f.dataset.go + encodeURIComponent(t));
  if (f) {
    for (const e of f.querySelectorAll('input[type=file],label')) e.hidden = true;
    f.onsubmit = (e) => { e.preventDefault(); wx.scanQRCode({ needResult: 1, success: (r) => shanhuoScanned(r.resultStr) }); };
  }
  const s = document.createElement('script');
  s.src = 'https://res.wx.qq.com/open/js/jweixin-1.6.0.js';
  s.onload = () => fetch('/wx/config?url=' + encodeURIComponent(location.href.split('#')[0])).then((r) => r.json()).then((c) => {
    c.jsApiList = ['scanQRCode', 'updateAppMessageShareData', 'updateTimelineShareData'];
    wx.config(c);
    const d = { title: m('title'), desc: m('description'), link: m('url'), imgUrl: m('image') };
    if (d.title) wx.ready(() => { wx.updateAppMessageShareData(d); wx.updateTimelineShareData(d); });
  });
  document.head.append(s);
})();

// The sandbox's web inbox. Builds every element with textContent (never
// innerHTML), so nothing a sender wrote can become markup here; a message's
// HTML is only ever shown in a sandboxed iframe from its own URL. The list is
// kept live by polling /inbox/api/messages?since=<latest> once a second (one
// request at a time, at most ROWS rows on the page).
'use strict';
(function () {
  const POLL_MS = 1000;
  const ROWS = 300;
  const state = { latest: 0, selected: 0, gen: 0, timer: 0, dirty: true };
  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function filters() {
    const p = new URLSearchParams();
    for (const k of ['q', 'mailbox', 'rcpt']) {
      const v = $(k).value.trim();
      if (v) p.set(k, v);
    }
    return p;
  }

  async function getJSON(url) {
    const r = await fetch(url, { cache: 'no-store', credentials: 'same-origin' });
    if (!r.ok) throw new Error(url + ': ' + r.status);
    return r.json();
  }

  function when(ts) {
    const d = new Date(ts);
    return isNaN(d) ? ts : d.toLocaleTimeString();
  }

  function row(m, fresh) {
    const tr = el('tr', null, fresh ? 'new' : '');
    tr.dataset.id = m.id;
    tr.appendChild(el('td', when(m.ts)));
    const svc = el('td');
    svc.appendChild(el('span', m.api, 'svc'));
    tr.appendChild(svc);
    tr.appendChild(el('td', m.from || m.mailbox));
    tr.appendChild(el('td', m.to || m.cc || m.bcc));
    tr.appendChild(el('td', m.subject || '(no subject)'));
    tr.appendChild(el('td', m.attachments ? m.attachments : ''));
    if (m.id === state.selected) tr.classList.add('selected');
    tr.addEventListener('click', () => open(m.id));
    return tr;
  }

  function setStatus(text, cls) {
    const s = $('status');
    s.textContent = text;
    s.className = 'status ' + cls;
  }

  function showCount(n) {
    const body = $('list').tBodies[0];
    $('empty').hidden = body.rows.length > 0;
    $('count').textContent = n + (n === 1 ? ' message' : ' messages');
  }

  // The whole list again (start, filter change, the sandbox was reset).
  async function reload() {
    const gen = ++state.gen;
    const p = filters();
    p.set('limit', String(ROWS));
    const data = await getJSON('/inbox/api/messages?' + p);
    if (gen !== state.gen) return;
    const body = $('list').tBodies[0];
    body.replaceChildren(...data.messages.map((m) => row(m, false)));
    state.latest = data.latest;
    showCount(data.count);
  }

  // Only what came since the last answer, put on top.
  async function poll() {
    const gen = state.gen;
    const p = filters();
    p.set('since', String(state.latest));
    p.set('limit', String(ROWS));
    const data = await getJSON('/inbox/api/messages?' + p);
    if (gen !== state.gen) return;
    if (data.latest < state.latest) return reload(); // the sandbox was reset
    const body = $('list').tBodies[0];
    for (let i = data.messages.length - 1; i >= 0; i--) body.insertBefore(row(data.messages[i], true), body.firstChild);
    while (body.rows.length > ROWS) body.deleteRow(-1);
    state.latest = data.latest;
    if (data.messages.length) showCount(body.rows.length);
  }

  // One request at a time: a whole list when the filters changed (or at
  // start), else what is new; then the next one after POLL_MS.
  let running = false;
  async function tick() {
    running = true;
    try {
      if (state.dirty) {
        state.dirty = false;
        await reload();
      } else {
        await poll();
      }
      setStatus('live', 'live');
    } catch (e) {
      setStatus('sandbox unreachable', 'down');
    }
    running = false;
    state.timer = setTimeout(tick, state.dirty ? 0 : POLL_MS);
  }

  function meta(dl, name, value) {
    if (!value) return;
    dl.appendChild(el('dt', name));
    dl.appendChild(el('dd', value));
  }

  function fmtSize(n) {
    return n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(1) + ' MiB';
  }

  async function open(id) {
    state.selected = id;
    for (const tr of $('list').tBodies[0].rows) tr.classList.toggle('selected', Number(tr.dataset.id) === id);
    const box = $('detail');
    let m;
    try {
      m = await getJSON('/inbox/api/messages/' + encodeURIComponent(id));
    } catch (e) {
      box.hidden = false;
      $('detail-subject').textContent = 'This message is no longer kept (the inbox holds the most recent ones).';
      return;
    }
    if (state.selected !== id) return;
    box.hidden = false;
    $('detail-subject').textContent = m.subject || '(no subject)';
    const dl = $('detail-meta');
    dl.replaceChildren();
    meta(dl, 'Service', m.api);
    meta(dl, 'Mailbox', m.mailbox);
    meta(dl, 'From', m.from);
    meta(dl, 'To', m.to);
    meta(dl, 'Cc', m.cc);
    meta(dl, 'Bcc', m.bcc);
    meta(dl, 'Received', m.ts);
    meta(dl, 'Size', fmtSize(m.size));
    meta(dl, 'Request id', m.request_id);
    meta(dl, 'Message key', m.key);
    if (m.content_cut) meta(dl, 'Note', 'Part of the content was over inbox.max_message_bytes and is not kept.');

    const hb = $('html-box');
    hb.replaceChildren();
    if (m.html_url) {
      const f = document.createElement('iframe');
      f.setAttribute('sandbox', ''); // no scripts, no same origin, no navigation of the page
      f.setAttribute('referrerpolicy', 'no-referrer');
      f.setAttribute('title', 'HTML body');
      f.id = 'html-frame';
      f.src = m.html_url;
      hb.appendChild(f);
    } else {
      hb.appendChild(el('p', 'No HTML body.', 'muted'));
    }
    $('text').textContent = m.text || '(no text body)';

    const ul = $('attachments');
    ul.replaceChildren();
    for (const a of m.attachment_list) {
      const li = el('li');
      const label = (a.name || a.file_name) + ' (' + a.content_type + ', ' + fmtSize(a.size) + (a.inline ? ', inline' : '') + ')';
      if (a.url) {
        const link = el('a', label);
        link.href = a.url;
        link.setAttribute('download', a.file_name);
        li.appendChild(link);
      } else {
        li.textContent = label + ' - not kept';
      }
      ul.appendChild(li);
    }
    if (!m.attachment_list.length) ul.appendChild(el('li', 'None.', 'muted'));

    const hist = $('history').tBodies[0];
    hist.replaceChildren();
    for (const ev of m.history) {
      const tr = el('tr');
      tr.appendChild(el('td', ev.ts));
      tr.appendChild(el('td', ev.status || 'connection cut'));
      tr.appendChild(el('td', ev.code));
      tr.appendChild(el('td', ev.retry_after_ms ? ev.retry_after_ms + ' ms' : ''));
      hist.appendChild(tr);
    }
    if (!m.history.length) {
      const tr = el('tr');
      const td = el('td', 'None: every answer around it was a success.', 'muted');
      td.colSpan = 4;
      tr.appendChild(td);
      hist.appendChild(tr);
    }

    const hdrs = $('headers').tBodies[0];
    hdrs.replaceChildren();
    for (const h of m.headers) {
      const tr = el('tr');
      tr.appendChild(el('td', h.name));
      tr.appendChild(el('td', h.value));
      hdrs.appendChild(tr);
    }
  }

  let debounce = 0;
  function onFilter() {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      state.dirty = true;
      if (!running) {
        clearTimeout(state.timer);
        tick();
      }
    }, 250);
  }

  document.addEventListener('DOMContentLoaded', () => {
    for (const k of ['q', 'mailbox', 'rcpt']) $(k).addEventListener('input', onFilter);
    $('filters').addEventListener('submit', (e) => e.preventDefault());
    state.dirty = true;
    tick();
  });
})();

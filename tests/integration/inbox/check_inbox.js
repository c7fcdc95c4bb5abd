// The sandbox's web inbox in headless chromium (test_sandbox_inbox.sh).
// Prints one "ok   NAME" or "FAIL NAME: why" line per check; exits non-zero
// when the browser or a step breaks. Environment: SG_CHROMIUM, SG_SANDBOX_URL,
// SG_CA, SG_SENDGATE, SG_BROWSER_HOME (its .pki/nssdb trusts the sandbox's
// CA), SG_ARTEFACTS, SG_TMP, SENDGATE_REDIS_URL and the
// sandbox's SENDGATE_SANDBOX_SMTP_HVE.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { execFileSync } = require('child_process');
const puppeteer = require('puppeteer-core');

const SBX = process.env.SG_SANDBOX_URL;
const TMP = process.env.SG_TMP;
const WAIT_MS = 30000; // the longest any one thing may take to show
let fails = 0;

function check(name, ok, why) {
  if (ok) console.log('ok   ' + name);
  else {
    fails++;
    console.log('FAIL ' + name + (why !== undefined ? ': ' + why : ''));
  }
}

// Loopback server counting every request a hostile body might make.
function counter() {
  const hits = [];
  const srv = http.createServer((req, res) => {
    hits.push(req.url);
    res.end('counted');
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, hits, port: srv.address().port })));
}

function send(args) {
  const out = execFileSync(process.env.SG_SENDGATE, ['send', '--wait', '--timeout', '60', ...args], {
    env: process.env,
    encoding: 'utf8',
    timeout: 90000,
  });
  if (!/SENT/.test(out)) throw new Error('not SENT: ' + out);
}

// One message to the sandbox's HVE SMTP host (STARTTLS verified against the CA, AUTH LOGIN).
function sendSmtp(subject) {
  const [host, port] = process.env.SENDGATE_SANDBOX_SMTP_HVE.split(':');
  const py = `
import smtplib, ssl, sys
from email.message import EmailMessage
m = EmailMessage()
m['From'] = 'hve@contoso.com'
m['To'] = 'smtp-rcpt@contoso.com'
m['Subject'] = sys.argv[4]
m['X-Via'] = 'smtplib'
m.set_content('Plain text over SMTP.')
m.add_alternative('<p>HTML over <b>SMTP</b></p>', subtype='html')
m.add_attachment(b'smtp attachment bytes', maintype='application', subtype='octet-stream', filename='smtp.bin')
ctx = ssl.create_default_context(cafile=sys.argv[3])
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=30) as s:
    s.starttls(context=ctx)
    s.login('hve@contoso.com', 'sandbox-hve-password')
    s.send_message(m)
`;
  execFileSync('python3', ['-c', py, host, port, process.env.SG_CA, subject], { timeout: 60000 });
}

async function rowWith(page, text) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('#list tbody tr')].some((tr) => tr.textContent.includes(t)),
    { timeout: WAIT_MS },
    text
  );
}

async function rowTexts(page) {
  return page.$$eval('#list tbody tr', (rows) => rows.map((r) => r.textContent));
}

async function setFilter(page, id, value) {
  await page.$eval('#' + id, (e) => {
    e.value = '';
  });
  if (value) await page.type('#' + id, value);
  else await page.$eval('#' + id, (e) => e.dispatchEvent(new Event('input')));
}

// Waits until every row contains |want| and at least |min| rows show.
async function filtered(page, want, min) {
  try {
    await page.waitForFunction(
      (w, n) => {
        const rows = [...document.querySelectorAll('#list tbody tr')];
        return rows.length >= n && rows.every((r) => r.textContent.includes(w));
      },
      { timeout: WAIT_MS },
      want,
      min
    );
    return true;
  } catch (e) {
    return false;
  }
}

async function openRow(page, text) {
  await page.evaluate((t) => {
    const tr = [...document.querySelectorAll('#list tbody tr')].find((r) => r.textContent.includes(t));
    tr.click();
  }, text);
  await page.waitForFunction((t) => document.getElementById('detail-subject').textContent.includes(t), { timeout: WAIT_MS }, text);
}

async function main() {
  const { srv, hits, port } = await counter();
  const root = process.getuid && process.getuid() === 0;
  const browser = await puppeteer.launch({
    executablePath: process.env.SG_CHROMIUM,
    headless: true,
    // Chromium's own sandbox cannot run as root; a user keeps it.
    args: [...(root ? ['--no-sandbox'] : []), '--user-data-dir=' + path.join(TMP, 'chromium'), '--no-first-run'],
    env: { ...process.env, HOME: process.env.SG_BROWSER_HOME },
    timeout: 60000,
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    const consoleErrors = [];
    // Errors of the page's own script (the hostile frame's blocked attempts
    // are logged too, from other URLs).
    page.on('console', (m) => {
      if (m.type() === 'error' && /\/inbox\/app\.js/.test((m.location() || {}).url || '')) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    const resp = await page.goto(SBX + '/inbox', { waitUntil: 'load', timeout: WAIT_MS });
    check('page loads over verified TLS', resp.status() === 200, resp.status());
    const csp = resp.headers()['content-security-policy'] || '';
    check('page CSP forbids inline script', /script-src 'self';/.test(csp) && !/unsafe/.test(csp), csp);
    await page.waitForFunction(() => document.getElementById('status').textContent === 'live', { timeout: WAIT_MS });
    check('page polls the sandbox', true);
    await page.evaluate(() => {
      window.__same_page = 42; // gone if the page reloads
    });
    const original = await page.title();

    // The list fills as jobs are sent, without a reload.
    const att = path.join(TMP, 'report.csv');
    fs.writeFileSync(att, 'id,amount\n1,42\n');
    send(['--from', 'sender-1@contoso.com', '--to', 'Alice <alice@example.com>', '--subject', 'Inbox graph one',
      '--text', 'Hello over Graph.', '--header', 'X-Order: inbox-1', '--attach', att + ':text/csv']);
    await rowWith(page, 'Inbox graph one');
    check('graph message appears live', true);
    send(['--backend', 'acs', '--from', 'DoNotReply@contoso.com', '--to', 'bob@example.net', '--subject', 'Inbox acs two',
      '--text', 'Hello over ACS.', '--html', '<p>Hello <b>ACS</b></p>']);
    await rowWith(page, 'Inbox acs two');
    check('acs message appears live', true);
    sendSmtp('Inbox smtp three');
    await rowWith(page, 'Inbox smtp three');
    check('smtp message appears live', true);
    const rows = await rowTexts(page);
    check('newest first', rows[0].includes('Inbox smtp three') && rows[2].includes('Inbox graph one'), rows.slice(0, 3).join(' | '));
    check('no reload happened', (await page.evaluate(() => window.__same_page)) === 42 && navigations === 1, navigations);

    // Filters.
    await setFilter(page, 'mailbox', 'DoNotReply');
    check('filter by mailbox', await filtered(page, 'Inbox acs two', 1));
    check('filter by mailbox hides others', (await rowTexts(page)).length === 1, (await rowTexts(page)).length);
    await setFilter(page, 'mailbox', '');
    await setFilter(page, 'rcpt', 'alice@');
    check('filter by recipient', await filtered(page, 'Inbox graph one', 1));
    check('filter by recipient hides others', (await rowTexts(page)).length === 1, (await rowTexts(page)).length);
    await setFilter(page, 'rcpt', '');
    await setFilter(page, 'q', 'SMTP THREE');
    check('filter by subject (any case)', await filtered(page, 'Inbox smtp three', 1));
    await setFilter(page, 'q', '');
    check('filters cleared', await filtered(page, '', 3));

    // One message: headers, text, attachment.
    await openRow(page, 'Inbox graph one');
    const detail = await page.evaluate(() => ({
      meta: document.getElementById('detail-meta').textContent,
      headers: document.getElementById('headers').textContent,
      text: document.getElementById('text').textContent,
      links: [...document.querySelectorAll('#attachments a')].map((a) => ({ href: a.getAttribute('href'), download: a.getAttribute('download'), text: a.textContent })),
    }));
    check('message shows its mailbox', detail.meta.includes('sender-1@contoso.com'), detail.meta);
    check('message shows its custom header', detail.headers.includes('X-Order') && detail.headers.includes('inbox-1'), detail.headers);
    check('message shows its recipient header', detail.headers.includes('alice@example.com'), detail.headers);
    check('message shows its text', detail.text === 'Hello over Graph.', detail.text);
    check('attachment link', detail.links.length === 1 && detail.links[0].download === 'report.csv', JSON.stringify(detail.links));
    const dl = await page.evaluate(async (href) => {
      const r = await fetch(href);
      return { status: r.status, type: r.headers.get('content-type'), disp: r.headers.get('content-disposition'), body: await r.text() };
    }, detail.links[0].href);
    check('attachment downloads its bytes', dl.status === 200 && dl.body === 'id,amount\n1,42\n', JSON.stringify(dl));
    check('attachment is a download', dl.disp === 'attachment; filename="report.csv"' && dl.type === 'application/octet-stream', JSON.stringify(dl));

    await openRow(page, 'Inbox smtp three');
    const smtp = await page.evaluate(() => ({
      headers: document.getElementById('headers').textContent,
      text: document.getElementById('text').textContent,
      atts: document.getElementById('attachments').textContent,
      frame: !!document.getElementById('html-frame'),
    }));
    check('smtp message: its own header fields', smtp.headers.includes('X-Via') && smtp.headers.includes('smtplib'), smtp.headers);
    check('smtp message: text part', smtp.text.includes('Plain text over SMTP.'), smtp.text);
    check('smtp message: attachment', smtp.atts.includes('smtp.bin'), smtp.atts);
    check('smtp message: html part in a frame', smtp.frame);

    // Throttling history: a mailbox the sandbox throttles hard.
    send(['--from', 'slow@contoso.com', '--to', 'c@example.com', '--subject', 'Inbox slow a', '--text', 'a']);
    send(['--from', 'slow@contoso.com', '--to', 'c@example.com', '--subject', 'Inbox slow b', '--text', 'b']);
    await rowWith(page, 'Inbox slow b');
    await openRow(page, 'Inbox slow b');
    const hist = await page.$eval('#history', (t) => t.textContent);
    check('history shows the 429 its mailbox got', hist.includes('429') && hist.includes('TooManyRequests'), hist);
    await openRow(page, 'Inbox graph one');
    const quiet = await page.$eval('#history', (t) => t.textContent);
    check('history of another mailbox has none', !quiet.includes('429'), quiet);

    // A hostile HTML body runs nothing.
    const c = 'http://127.0.0.1:' + port;
    const hostile = `<html><head><meta http-equiv="refresh" content="0;url=${c}/refresh">
<script>top.__pwned = 1; try { parent.document.title = 'pwned'; } catch (e) {} document.title = 'pwned'; fetch('${c}/script'); fetch('/inbox/api/messages?pwned=1');</script>
<base href="${c}/base/"></head>
<body><p id="visible">Hostile body shown inert</p>
<img src="x" onerror="top.__pwned = 2; fetch('${c}/onerror')">
<img src="${c}/img">
<a id="jslink" href="javascript:top.__pwned=3;fetch('${c}/jslink')">click me</a>
<iframe src="${c}/iframe"></iframe>
<svg onload="fetch('${c}/svg')"></svg>
<form action="${c}/form"><button id="btn">go</button></form>
<div style="background:url(${c}/css)">styled</div>
</body></html>`;
    const hf = path.join(TMP, 'hostile.html');
    fs.writeFileSync(hf, hostile);
    send(['--from', 'sender-2@contoso.com', '--to', 'victim@example.com', '--subject', 'Inbox hostile', '--html-file', hf]);
    await rowWith(page, 'Inbox hostile');
    await openRow(page, 'Inbox hostile');
    const fh = await page.waitForSelector('#html-frame', { timeout: WAIT_MS });
    const sandboxAttr = await page.$eval('#html-frame', (f) => f.getAttribute('sandbox'));
    check('html frame sandboxed (no allow-*)', sandboxAttr === '', sandboxAttr);
    const frame = await fh.contentFrame();
    // Failures here are reported and the checks below still run: they say
    // what a hostile body managed to do.
    let shown = '';
    try {
      await frame.waitForSelector('#visible', { timeout: 10000 });
      shown = await frame.$eval('#visible', (e) => e.textContent);
      await frame.click('#jslink');
      await frame.click('#btn');
    } catch (e) {
      // a click that does nothing is fine; a missing body is checked next
    }
    check('hostile body is shown', shown === 'Hostile body shown inert', shown);
    const htmlResp = await page.evaluate(async () => {
      const u = document.getElementById('html-frame').getAttribute('src');
      const r = await fetch(u);
      return r.headers.get('content-security-policy');
    });
    check('html CSP: no script, sandbox', /default-src 'none'/.test(htmlResp) && /sandbox$/.test(htmlResp) && !/script-src/.test(htmlResp), htmlResp);
    // Give anything that could run time to run: two poll rounds of the page.
    await new Promise((r) => setTimeout(r, 2500));
    check('no script marked the page', (await page.evaluate(() => window.__pwned)) === undefined);
    check('title unchanged', (await page.title()) === original, await page.title());
    check('hostile body fetched nothing', hits.length === 0, hits.join(' '));
    check('frame still the message', await frame.$('#visible').then((e) => e !== null, () => false));
    check('page unchanged', (await page.evaluate(() => window.__same_page)) === 42 && navigations === 1, navigations);
    check('no errors from the page script', consoleErrors.length === 0, consoleErrors.join(' | '));

    fs.mkdirSync(process.env.SG_ARTEFACTS, { recursive: true });
    const shot = path.join(process.env.SG_ARTEFACTS, 'inbox.png');
    await page.screenshot({ path: shot, fullPage: false });
    check('screenshot saved', fs.statSync(shot).size > 1000);
  } finally {
    await browser.close();
    srv.close();
  }
}

main().then(
  () => process.exit(fails ? 1 : 0),
  (e) => {
    console.log('FAIL browser session: ' + (e && e.stack ? e.stack.split('\n')[0] : e));
    console.error(e);
    process.exit(1);
  }
);

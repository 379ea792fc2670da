import { createHash } from 'node:crypto';
import { FEEDBACK_COMMENT_MAX, NPS_SCORES } from './feedback.ts';

/**
 * The survey page a link opens (GET /feedback/{token}): self-contained HTML, the chosen score
 * preselected, an optional comment and a submit button whose script POSTs JSON to the same path.
 * Opening it records nothing. The page loads nothing else; its one style sheet and one script are
 * allowed by hash in the Content-Security-Policy, so nothing injected could run.
 */

const STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
fieldset{border:0;padding:0;margin:1rem 0;display:flex;flex-wrap:wrap;gap:.25rem}
label.score{display:inline-block}
label.score input{position:absolute;opacity:0}
label.score span{display:inline-block;min-width:2.2rem;padding:.5rem 0;text-align:center;border:1px solid #888;border-radius:4px;cursor:pointer}
label.score input:checked+span{background:#1f5fbf;color:#fff;border-color:#1f5fbf}
label.score input:focus-visible+span{outline:2px solid #1f5fbf;outline-offset:2px}
.scale{display:flex;justify-content:space-between;font-size:small;color:#555}
textarea{width:100%;min-height:6rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1.5rem}
#status{margin-top:1rem;font-weight:bold}`;

const SCRIPT = `const form=document.getElementById('survey');const status=document.getElementById('status');
form.addEventListener('submit',async(event)=>{event.preventDefault();
const data=new FormData(form);const score=data.get('score');
if(score===null){status.textContent='Please choose a score from 0 to 10.';return;}
const comment=String(data.get('comment')||'').trim();const button=form.querySelector('button');
button.disabled=true;status.textContent='Sending…';
try{const response=await fetch(location.pathname,{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(comment?{score:Number(score),comment}:{score:Number(score)})});
const answer=await response.json().catch(()=>({}));
if(response.ok){form.hidden=true;status.textContent='Thank you! Your answer has been recorded.';return;}
status.textContent=(answer.error&&answer.error.message)||'Something went wrong; please try again.';
button.disabled=[401,404,409,410].includes(response.status);}
catch{status.textContent='We could not be reached; please try again.';button.disabled=false;}});`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The response headers of every survey page: nothing but its own style and script, not cached, no referrer. */
export const FEEDBACK_PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src ${hash(STYLE)}; script-src ${hash(SCRIPT)}; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-robots-tag': 'noindex',
};

/** Text as HTML text or attribute value. */
export const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const page = (title: string, body: string, script = false) =>
  [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    body,
    script ? `<script>${SCRIPT}</script>` : '',
    '</body></html>',
  ].join('\n');

/** The form: `score` preselected when the link carried one. */
export function feedbackFormPage(orderId: string, score?: number): string {
  const choices = NPS_SCORES.map(
    (n) =>
      `<label class="score"><input type="radio" name="score" value="${n}"${n === score ? ' checked' : ''} required><span>${n}</span></label>`,
  ).join('');
  return page(
    'How did we do?',
    [
      '<h1>How did we do?</h1>',
      `<p>Your order ${escapeHtml(orderId)} has been delivered.</p>`,
      '<form id="survey">',
      '<p><strong>How likely are you to recommend us to a friend or colleague?</strong></p>',
      `<fieldset aria-label="Score from 0 (not at all likely) to 10 (extremely likely)">${choices}</fieldset>`,
      '<div class="scale"><span>0 = not at all likely</span><span>10 = extremely likely</span></div>',
      `<p><label for="comment">Anything you would like to tell us? (optional)</label><br><textarea id="comment" name="comment" maxlength="${FEEDBACK_COMMENT_MAX}"></textarea></p>`,
      '<button type="submit">Send my answer</button>',
      '</form>',
      '<p id="status" role="status"></p>',
      '<noscript><p>Sending the answer needs JavaScript.</p></noscript>',
    ].join('\n'),
    true,
  );
}

/** A page that only tells something: the link is not valid, has expired, or was answered. */
export function feedbackMessagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

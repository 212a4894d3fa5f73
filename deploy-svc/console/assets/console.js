// shapin console: copy buttons, busy forms, and the live view of running
// builds (polls /api/builds while a shown build is queued or running).
// Plain browser JavaScript, no dependencies; pages work without it.
'use strict';

(function () {
  const kPollMs = 2000;
  const kActive = new Set(['queued', 'running']);

  function copyText(text, button) {
    const done = () => {
      const old = button.textContent;
      button.textContent = 'copied';
      setTimeout(() => { button.textContent = old; }, 1200);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => {});
      return;
    }
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); done(); } catch (e) { /* nothing to do */ }
    area.remove();
  }

  function badge(cell, word) {
    cell.textContent = '';
    if (!word) { cell.textContent = '-'; return; }
    const span = document.createElement('span');
    span.className = `badge badge-${word}`;
    span.textContent = word;
    cell.appendChild(span);
  }

  // Updates one build's fields in place from its JSON.
  function applyBuild(root, b) {
    const row = root.querySelector(`[data-build-id="${CSS.escape(b.build_id)}"]`) ||
      (root.dataset.buildId === b.build_id ? root : null);
    if (!row) return;
    row.dataset.state = b.state;
    const field = (name) => row.querySelector(`[data-field="${name}"]`);
    if (field('state')) badge(field('state'), b.state);
    if (field('outcome')) badge(field('outcome'), b.outcome);
    if (field('phase')) field('phase').textContent = b.phase;
    if (field('duration')) field('duration').textContent = b.duration;
    if (field('error')) field('error').textContent = b.error;
  }

  function activeRows(root) {
    const rows = root.matches('[data-build-id]') ? [root]
      : Array.from(root.querySelectorAll('[data-build-id]'));
    return rows.filter((r) => kActive.has(r.dataset.state));
  }

  function live(root) {
    const status = document.createElement('p');
    status.className = 'live-status';
    root.insertAdjacentElement('beforebegin', status);
    let timer = null;
    async function poll() {
      timer = null;
      try {
        const res = await fetch(root.dataset.live, {
          credentials: 'same-origin', headers: { Accept: 'application/json' },
        });
        if (res.status === 401) { status.textContent = 'signed out: reload to sign in'; return; }
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = await res.json();
        for (const b of body.builds) applyBuild(root, b);
        status.textContent = `updated ${new Date().toLocaleTimeString()}`;
      } catch (err) {
        status.textContent = `live update failed (${err.message}); retrying`;
      }
      schedule();
    }
    function schedule() {
      if (activeRows(root).length === 0) {
        status.textContent = status.textContent ? `${status.textContent}; nothing running` : '';
        return;
      }
      if (!timer) timer = setTimeout(poll, kPollMs);
    }
    if (activeRows(root).length) status.textContent = 'updating live';
    schedule();
  }

  document.addEventListener('click', (ev) => {
    const button = ev.target.closest('button.copy[data-copy]');
    if (button) copyText(button.dataset.copy, button);
  });
  document.addEventListener('submit', (ev) => {
    const button = ev.target.querySelector('button[data-busy-text]');
    if (!button) return;
    // One rollback per click: the page answers when the rollout is done.
    setTimeout(() => { button.disabled = true; button.textContent = button.dataset.busyText; }, 0);
  });
  document.addEventListener('DOMContentLoaded', () => {
    document.querySelectorAll('[data-live]').forEach(live);
  });
})();
